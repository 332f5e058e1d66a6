"""Ultralytics YOLO as a proposal source (optional: ``pip install ultralytics``).

The package is imported only when this source is built, so vsdmot works
without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vsdmot.proposals.base import (
    MissingDependencyError,
    ProposalSource,
    as_proposals,
    empty_proposals,
)

#: COCO class id of "person" in YOLO models trained on COCO.
COCO_PERSON = 0

INSTALL_HINT = (
    "the 'ultralytics' proposal source needs the optional package ultralytics, which is "
    "not installed. Install it with `pip install ultralytics`; note that it also installs "
    "torchvision (and may pull a different torch build), so pin torch first if you rely on "
    "a specific one. Without it, use the built-in 'hog' proposals or a det.txt / proposal "
    "database."
)


class UltralyticsProposals(ProposalSource):
    """Boxes of one class (person by default) from an Ultralytics YOLO model.

    Args:
        model: weights name (``"yolov8n.pt"``, downloaded by Ultralytics) or a local path.
        conf: minimum confidence kept.
        iou: NMS IoU of the model.
        classes: class ids kept (COCO person = 0).
        imgsz: inference size.
        device: ``"cpu"``, ``"cuda:0"``... (``None``: Ultralytics' choice).
    """

    def __init__(
        self,
        model: str = "yolov8n.pt",
        *,
        conf: float = 0.1,
        iou: float = 0.7,
        classes: Sequence[int] = (COCO_PERSON,),
        imgsz: int = 640,
        device: str | None = None,
    ) -> None:
        try:
            from ultralytics import YOLO
        except ImportError as exc:
            raise MissingDependencyError(INSTALL_HINT) from exc
        self.model_name = str(model)
        self.conf = float(conf)
        self.iou = float(iou)
        self.classes = tuple(int(c) for c in classes)
        self.imgsz = int(imgsz)
        self.device = device
        self._model = YOLO(self.model_name)

    @property
    def name(self) -> str:
        return f"ultralytics:{self.model_name}"

    @property
    def params(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "conf": self.conf,
            "iou": self.iou,
            "classes": list(self.classes),
            "imgsz": self.imgsz,
        }

    def __call__(self, frame_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        # Ultralytics reads numpy input as BGR, OpenCV's order, so no conversion.
        results = self._model.predict(
            frame_bgr,
            conf=self.conf,
            iou=self.iou,
            classes=list(self.classes),
            imgsz=self.imgsz,
            device=self.device,
            verbose=False,
        )
        boxes = results[0].boxes
        if boxes is None or len(boxes) == 0:
            return empty_proposals()
        xyxy = _to_numpy(boxes.xyxy).reshape(-1, 4)
        conf = _to_numpy(boxes.conf).reshape(-1, 1)
        cls = _to_numpy(boxes.cls).reshape(-1)
        keep = np.isin(cls.astype(np.int64), self.classes)
        return as_proposals(np.concatenate([xyxy, conf], axis=1)[keep])


def _to_numpy(x: Any) -> np.ndarray:
    """A torch tensor (any device) or array as a float64 numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)
