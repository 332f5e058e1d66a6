"""YOLOv3-tiny (Darknet, COCO) people proposals: the default detector for plain videos.

Spec: ``yolo[:size=512,score=0.1,nms=0.45,classes=person,letterbox=true,runtime=auto]``;
``cfg=PATH,weights=PATH[,names=PATH]`` selects other Darknet files (by
default the bundled YOLOv3-tiny, see :mod:`vsdmot.detection.files`);
``weights=DIR/detector.pt`` a detector adapted by ``vsdmot adapt-detector``.
``classes`` takes COCO names or ids joined by ``+`` (``person+bicycle``).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from vsdmot.detection.files import (
    BUNDLED,
    DarknetFiles,
    WeightsNotFoundError,
    bundled_detector,
    carrier_dir,
    load_darknet_files,
    load_detector_file,
    robust_detector_path,
)
from vsdmot.detection.yolo import DetectorOptions, YOLODetector, load_network
from vsdmot.proposals.base import ProposalError, ProposalSource, as_proposals, empty_proposals

log = logging.getLogger(__name__)


#: The detector ``yolo`` runs without ``weights=``: the YOLOv3-tiny adapted to low-quality
#: frames by ``vsdmot adapt-detector`` (shipped with vsdmot; BENCHMARKS.md), or ``original``.
DEFAULT_WEIGHTS = "robust"


def yolo_weights_available() -> bool:
    """Whether the default YOLO detector's weights are installed."""
    if DEFAULT_WEIGHTS == "robust":
        return robust_detector_path().is_file()
    return carrier_dir() is not None


def parse_classes(value: Any, names: tuple[str, ...]) -> tuple[int, ...]:
    """Class ids from ids or names (``"person+car"``, ``0``, ``[0, 2]``).

    >>> parse_classes("person+car", ("person", "bicycle", "car"))
    (0, 2)
    >>> parse_classes(1, ("person", "bicycle"))
    (1,)
    """
    items = value if isinstance(value, (list, tuple)) else str(value).split("+")
    out = []
    for item in items:
        text = str(item).strip()
        if text.lstrip("-").isdigit():
            out.append(int(text))
        elif text in names:
            out.append(names.index(text))
        else:
            raise ProposalError(f"unknown class {text!r}; use ids or names such as {names[:3]}")
    if not out:
        raise ProposalError("classes must name at least one class")
    return tuple(out)


class YOLOProposals(ProposalSource):
    """Person boxes (or other COCO classes) from a Darknet YOLO network.

    Args:
        size: network input, longer side in pixels (multiple of 32). 512 by default: AP50
            0.87 vs 0.83 at 416 on the ../shared sequences, and beside the model in the
            tracking pipeline it costs 2 % of the frame rate (BENCHMARKS.md).
        score: minimum ``objectness x class probability`` kept.
        nms: IoU above which a lower-scored box of the same class is dropped.
        classes: ids or names (``"person"``; ``"person+bicycle"``).
        letterbox: keep the aspect ratio (grey borders); ``False`` resizes to
            ``size x size`` as Darknet's own test mode does.
        runtime: ``auto`` (the measured fastest available), ``onnx``, ``opencv`` or ``torch``.
        threads: intra-op threads of the ONNX runtime (1: it runs beside the model).
        weights: ``robust`` (default: YOLOv3-tiny adapted to low-quality frames, shipped
            with vsdmot), ``original`` (the Darknet COCO weights), a detector file
            ``FILE.pt`` from ``vsdmot adapt-detector``, or Darknet weights with ``cfg=``.
        cfg, names: a Darknet cfg (and class names) for Darknet ``weights``.
    """

    def __init__(
        self,
        *,
        size: int = 512,
        score: float = 0.1,
        nms: float = 0.45,
        classes: Any = "person",
        letterbox: bool = True,
        runtime: str = "auto",
        threads: int = 1,
        cfg: str | Path | None = None,
        weights: str | Path | None = None,
        names: str | Path | None = None,
    ) -> None:
        if not isinstance(letterbox, bool) and letterbox not in (0, 1):
            raise ProposalError(f"yolo: letterbox must be true or false, not {letterbox!r}")
        files: DarknetFiles
        if weights is None and cfg is None:
            weights = DEFAULT_WEIGHTS
        if cfg is None and str(weights) in BUNDLED:
            files = bundled_detector(str(weights))
        elif weights is not None and cfg is None and str(weights).endswith(".pt"):
            files = load_detector_file(str(weights))  # from `vsdmot adapt-detector`
        elif cfg is None or weights is None:
            raise ProposalError(
                "yolo: give both cfg= and weights= (a Darknet pair), weights=FILE.pt "
                f"(from vsdmot adapt-detector), weights={'|'.join(BUNDLED)}, or neither"
            )
        else:
            names_path = None if names is None else str(names)
            files = load_darknet_files(str(cfg), str(weights), names_path)
        self.files = files
        net, class_names = load_network(files)
        options = DetectorOptions(
            size=int(size),
            score=float(score),
            nms=float(nms),
            classes=parse_classes(classes, class_names),
            letterbox=bool(letterbox),
        )
        try:
            self.detector = YOLODetector(
                net,
                files.cfg_text,
                options,
                runtime=runtime,
                threads=int(threads),
                names=class_names,
            )
        except ValueError as exc:
            raise ProposalError(f"yolo: {exc}") from exc

    @property
    def name(self) -> str:
        return "yolo"

    @property
    def params(self) -> dict[str, Any]:
        o = self.detector.options
        return {
            "size": o.size,
            "score": o.score,
            "nms": o.nms,
            "classes": list(o.classes),
            "letterbox": o.letterbox,
            "weights_sha256": self.files.sha256,
            "cfg_sha1": hashlib.sha1(self.files.cfg_text.encode()).hexdigest(),
        }

    def describe(self) -> str:
        o = self.detector.options
        return (
            f"yolo {self.files.describe()}, size {o.size}, score >= {o.score}, "
            f"{self.detector.runtime} runtime"
        )

    def __call__(self, frame_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        dets = self.detector(frame_bgr)
        if len(dets) == 0:
            return empty_proposals()
        return as_proposals(dets[:, :5])


__all__ = ["WeightsNotFoundError", "YOLOProposals", "parse_classes", "yolo_weights_available"]
