"""The runtime-tracker contract: one object per video, ``update`` once per frame.

Results are typed per frame with TrackEval's field names (``tracker_ids``,
``tracker_dets`` in ``left, top, width, height`` pixels,
``tracker_confidences``) so they drop straight into MOTChallenge files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FrameTracks:
    """The live tracks a tracker reports for one frame.

    >>> t = FrameTracks(np.array([3]), np.array([[10., 20., 5., 8.]]), np.array([0.9]))
    >>> t.xyxy.tolist()
    [[10.0, 20.0, 15.0, 28.0]]
    >>> len(FrameTracks.empty())
    0
    """

    tracker_ids: np.ndarray  # (N,) int64, >= 1
    tracker_dets: np.ndarray  # (N, 4) float64: left, top, width, height
    tracker_confidences: np.ndarray  # (N,) float64
    extras: dict[str, object] = field(default_factory=dict)  # e.g. quality q_t, weight w_t

    def __post_init__(self) -> None:
        self.tracker_ids = np.asarray(self.tracker_ids, dtype=np.int64).reshape(-1)
        n = len(self.tracker_ids)
        self.tracker_dets = np.asarray(self.tracker_dets, dtype=np.float64).reshape(n, 4)
        self.tracker_confidences = np.asarray(self.tracker_confidences, np.float64).reshape(n)

    @classmethod
    def empty(cls) -> FrameTracks:
        return cls(np.zeros(0), np.zeros((0, 4)), np.zeros(0))

    @classmethod
    def from_xyxy(
        cls, ids: np.ndarray, xyxy: np.ndarray, scores: np.ndarray, **extras: object
    ) -> FrameTracks:
        xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        ltwh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        return cls(ids, ltwh, scores, dict(extras))

    @property
    def xyxy(self) -> np.ndarray:
        b = self.tracker_dets.copy()
        b[:, 2:] += b[:, :2]
        return b

    def __len__(self) -> int:
        return len(self.tracker_ids)


class Tracker(ABC):
    """One instance per video. Ids are allocated by the instance, starting at 1."""

    @abstractmethod
    def update(self, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
        """Consume one BGR frame and its ``(P, 5)`` proposals (x1, y1, x2, y2, score)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget all tracks and restart ids at 1 (call between videos)."""
