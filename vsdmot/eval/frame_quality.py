"""Per-frame quality scores checked against degradation labels: labelled frames from a
``vsdmot degrade`` copy (``quality.csv``), the DSWR quality head fitted on them and run as
the tracker runs it, a plain sharpness reference, and a scorer that records failures.

>>> frame = np.zeros((480, 640, 3), np.uint8)
>>> model_view(frame, 384, 640).shape
(384, 512, 3)
>>> tuple(unit_rgb(frame[:2, :3]).shape)
(3, 2, 3)
>>> laplacian_variance(frame)
0.0
>>> scorer = FrameScorer("sharpness", False, lambda: laplacian_variance)
>>> scorer.score([frame, frame], "here").tolist()  # lower is better: negated
[-0.0, -0.0]
>>> broken = FrameScorer("broken", True, lambda: lambda f: 1 / 0)
>>> broken.score([frame], "there") is None, broken.errors
(True, {'there': 'ZeroDivisionError: division by zero'})
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from vsdmot.data.preprocess import resize_size
from vsdmot.data.sequence import MOTSequence
from vsdmot.semantics import QualityConfig, QualityHead, fit_quality_head
from vsdmot.semantics.distill import TrainHistory

log = logging.getLogger(__name__)


@dataclass
class Labelled:
    """Frames of one degraded sequence with their ``quality.csv`` labels."""

    name: str
    types: str
    frames: list[np.ndarray] = field(default_factory=list)  # BGR uint8, native size
    severity: list[float] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)


def read_labelled(
    seq_dir: Path, stride: int = 1, frames: tuple[int, int] | None = None
) -> Labelled:
    """Every ``stride``-th frame of a degraded sequence (of ``frames`` = (first, last),
    default all, counted from the first) and its severity and quality labels."""
    with open(seq_dir / "quality.csv", newline="", encoding="utf-8") as f:
        rows = {int(r["frame"]): r for r in csv.DictReader(f)}
    seq = MOTSequence(seq_dir)
    first, last = frames or (1, len(seq))
    out = Labelled(seq.name, rows[first]["types"])
    try:
        for t in range(first, last + 1, stride):
            out.frames.append(seq.frame(t))
            out.severity.append(float(rows[t]["severity"]))
            out.quality.append(float(rows[t]["quality"]))
    finally:
        seq.frames.close()
    return out


def model_view(frame_bgr: np.ndarray, short_side: int, max_side: int) -> np.ndarray:
    """The frame resized as the runtime tracker resizes it (``INTER_AREA``, BGR uint8)."""
    h, w = frame_bgr.shape[:2]
    size = resize_size(w, h, short_side, max_side)
    return cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)


def unit_rgb(frame_bgr: np.ndarray) -> torch.Tensor:
    """``(3, H, W)`` float RGB in ``[0, 1]``."""
    rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0)


class LabelledBatches:
    """Re-iterable shuffled ``(unit-RGB frames, labels)`` batches; a new order per pass."""

    def __init__(self, frames: list[np.ndarray], labels: list[float], size: int, seed: int):
        self.frames, self.labels = frames, np.asarray(labels, np.float32)
        self.size, self.seed, self.passes = min(size, len(frames)), seed, 0

    def __iter__(self) -> Iterator[tuple[list[torch.Tensor], torch.Tensor]]:
        order = np.random.default_rng([self.seed, self.passes]).permutation(len(self.frames))
        self.passes += 1
        for i in range(0, len(order) - self.size + 1, self.size):
            idx = order[i : i + self.size]
            yield [unit_rgb(self.frames[j]) for j in idx], torch.from_numpy(self.labels[idx])


def train_quality_head(
    frames: list[np.ndarray], labels: list[float], steps: int, batch_size: int, seed: int
) -> tuple[QualityHead, TrainHistory]:
    """A fresh quality head (seeded) fitted on BGR frames and their quality labels with
    :func:`~vsdmot.semantics.distill.fit_quality_head`'s defaults; returned in eval mode."""
    torch.manual_seed(seed)
    head = QualityHead(QualityConfig())
    batches = LabelledBatches(frames, labels, batch_size, seed)
    history = fit_quality_head(head, batches, steps, seed=seed, progress=False)
    return head.eval(), history


def head_scorer(head: QualityHead, short_side: int, max_side: int) -> Callable[[np.ndarray], float]:
    """``q_t`` of one BGR frame, resized as the tracker does, without temporal smoothing."""

    @torch.inference_mode()
    def score(frame_bgr: np.ndarray) -> float:
        x = head.prepare([unit_rgb(model_view(frame_bgr, short_side, max_side))])
        return float(head.predict(x)[0])

    return score


def laplacian_variance(frame_bgr: np.ndarray) -> float:
    """Variance of the Laplacian of the luma: a plain sharpness measure (higher = sharper)."""
    luma = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(luma, cv2.CV_64F).var())


@dataclass
class FrameScorer:
    """A named per-frame score built on first use; failures are kept per data set (to be
    reported, not hidden) and the time per frame is accumulated."""

    name: str
    higher_is_better: bool
    make: Callable[[], Callable[[np.ndarray], float]]
    fn: Callable[[np.ndarray], float] | None = None
    errors: dict[str, str] = field(default_factory=dict)  # data set -> error
    seconds: float = 0.0
    calls: int = 0

    def score(self, frames: list[np.ndarray], where: str) -> np.ndarray | None:
        """Scores oriented so that higher = better quality; ``None`` if it failed ``where``."""
        if where in self.errors:
            return None
        try:
            if self.fn is None:
                self.fn = self.make()
            start = time.perf_counter()
            raw = np.array([self.fn(f) for f in frames], np.float64)
            self.seconds += time.perf_counter() - start
            self.calls += len(frames)
        except Exception as exc:  # reported by the caller, not hidden
            first = (str(exc).splitlines() or [""])[0]
            self.errors[where] = f"{type(exc).__name__}: {first}"
            log.warning("%s fails on %s: %s", self.name, where, self.errors[where])
            return None
        return raw if self.higher_is_better else -raw
