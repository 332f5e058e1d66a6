"""Clean frames degraded by each single type at fixed severities, seen as the tracker sees
them, with their quality labels; and how a per-frame quality score ranks them, per type.

This is the data of the real-frame quality checks (``benchmarks/bench_quality_real.py``):
the frames of a real sequence, each degraded by every single type at severities such as
1..5 (and left clean once), at the tracker's input size. The label is the one
``vsdmot degrade`` writes to ``quality.csv`` (:func:`~vsdmot.degrade.quality.quality_label`:
``1 - severity / 5`` for one type, 1 for a clean frame). Everything stays in memory: a
graded set is a few thousand small frames, and writing a degraded copy per type and
severity to disk would only be read back once.

>>> seq = np.full((48, 64, 3), 120, np.uint8)
>>> g = grade_frames([(1, seq), (2, seq)], "SEQ", ["gaussian_noise"], [1, 5], (32, 48), seed=0)
>>> g.types, g.severity.tolist(), g.label.tolist()
(['clean', 'clean', 'gaussian_noise', 'gaussian_noise', 'gaussian_noise', 'gaussian_noise'], \
[0.0, 0.0, 1.0, 1.0, 5.0, 5.0], [1.0, 1.0, 0.8, 0.8, 0.0, 0.0])
>>> g.views[0].shape
(32, 43, 3)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade import Degrader
from vsdmot.degrade.base import sequence_key
from vsdmot.eval.frame_quality import model_view
from vsdmot.eval.rank import srocc

#: The type name of the undegraded frames of a graded set.
CLEAN = "clean"


@dataclass
class GradedFrames:
    """Frames at the tracker's view (BGR uint8), each with its type, severity and label."""

    views: list[np.ndarray] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    frame: list[int] = field(default_factory=list)
    severities: list[float] = field(default_factory=list)
    labels: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def severity(self) -> np.ndarray:
        return np.asarray(self.severities, np.float64)

    @property
    def label(self) -> np.ndarray:
        return np.asarray(self.labels, np.float64)

    def add(self, view: np.ndarray, kind: str, t: int, severity: float, label: float) -> None:
        self.views.append(view)
        self.types.append(kind)
        self.frame.append(int(t))
        self.severities.append(float(severity))
        self.labels.append(float(label))


def grade_frames(
    frames: Sequence[tuple[int, np.ndarray]],
    name: str,
    types: Sequence[str],
    severities: Sequence[float],
    sizes: tuple[int, int],
    seed: int,
) -> GradedFrames:
    """``frames`` (``(number, BGR)`` of one sequence called ``name``) clean once, then
    degraded by each of ``types`` at each of ``severities``, at the tracker's view
    ``sizes`` = (shorter side, longest side).

    Each type is set up once (degrade seed ``seed + i`` for the ``i``-th type, the
    sequence key of ``name``), so its fixed parameters (a blur's direction, a fog's
    layer) stay the same across severities and only the strength changes. Clip-level
    types (``codec``) compress ``frames`` as one clip.
    """
    out = GradedFrames()
    for t, img in frames:
        out.add(model_view(img, *sizes), CLEAN, t, 0.0, 1.0)
    if not frames:
        return out
    h, w = frames[0][1].shape[:2]
    for i, kind in enumerate(types):
        degrader = Degrader(kind, (w, h), seed=seed + i, key=sequence_key(name))
        for s in severities:
            for t, img in zip((t for t, _ in frames), _degraded(degrader, frames, s),
                              strict=True):  # fmt: skip
                out.add(model_view(img, *sizes), kind, t, s, degrader.quality(s))
    return out


def _degraded(degrader: Degrader, frames: Sequence[tuple[int, np.ndarray]], severity: float):
    if degrader.needs_clip:
        return degrader.stream([img for _, img in frames], [severity] * len(frames),
                               start=frames[0][0])  # fmt: skip
    return (degrader.frame(img, t, severity) for t, img in frames)


def read_frames(seq_dir: Path, numbers: Sequence[int]) -> list[tuple[int, np.ndarray]]:
    """Frames ``numbers`` (1-based) of the sequence folder ``seq_dir``, BGR uint8."""
    seq = MOTSequence(seq_dir)
    try:
        return [(int(t), seq.frame(int(t))) for t in numbers]
    finally:
        seq.frames.close()


def spread(first: int, last: int, count: int) -> list[int]:
    """``count`` frame numbers spread evenly over ``first..last`` (all of them if fewer).

    >>> spread(1, 600, 4), spread(1, 3, 10)
    ([1, 201, 400, 600], [1, 2, 3])
    """
    if last < first:
        raise ValueError(f"empty frame range {first}-{last}")
    if count >= last - first + 1:
        return list(range(first, last + 1))
    return sorted({round(float(v)) for v in np.linspace(first, last, count)})


@dataclass(frozen=True)
class TypeRanking:
    """How a score ranks the frames of one type (with the clean frames): Spearman
    correlation with the label, and the median score at each severity (0 = clean)."""

    type: str
    spearman: float
    medians: dict[float, float]

    def falls(self) -> bool:
        """Whether the medians fall strictly as the severity rises."""
        values = [self.medians[s] for s in sorted(self.medians)]
        return all(a > b for a, b in itertools.pairwise(values))


def rank_by_type(
    scores: np.ndarray, graded: GradedFrames, levels: Sequence[float] = (0, 1, 3, 5)
) -> list[TypeRanking]:
    """One :class:`TypeRanking` per degradation type of ``graded``, in first-seen order;
    each ranks that type's frames together with the clean ones.

    >>> g = GradedFrames()
    >>> for s, q in [(0, 1.0), (0, 1.0), (1, 0.8), (3, 0.4), (5, 0.0)]:
    ...     g.add(np.zeros((1, 1, 3), np.uint8), "clean" if s == 0 else "fog", 1, s, q)
    >>> r = rank_by_type(np.array([0.9, 0.9, 0.7, 0.5, 0.1]), g)[0]
    >>> r.type, r.spearman, r.medians, r.falls()
    ('fog', 1.0, {0: 0.9, 1: 0.7, 3: 0.5, 5: 0.1}, True)
    """
    scores = np.asarray(scores, np.float64)
    if len(scores) != len(graded):
        raise ValueError(f"{len(scores)} scores for {len(graded)} frames")
    kinds = np.asarray(graded.types)
    severity, label = graded.severity, graded.label
    rows = []
    for kind in dict.fromkeys(k for k in graded.types if k != CLEAN):
        use = (kinds == kind) | (kinds == CLEAN)
        medians = {s: _median(scores[use & (severity == s)]) for s in levels}
        rows.append(TypeRanking(kind, srocc(scores[use], label[use]), medians))
    return rows


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if len(values) else float("nan")
