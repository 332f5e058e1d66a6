"""What a tracker reports for one frame, with TrackEval's field names.

Results are typed per frame with TrackEval's field names (``tracker_ids``,
``tracker_dets`` in ``left, top, width, height`` pixels,
``tracker_confidences``) so they drop straight into MOTChallenge files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import supervision as sv


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


def detections_to_proposals(detections: sv.Detections) -> np.ndarray:
    """``sv.Detections`` -> ``(P, 5)`` x1, y1, x2, y2, score (score 1 when absent)."""
    n = len(detections)
    conf = detections.confidence if detections.confidence is not None else np.ones(n)
    return np.column_stack([np.asarray(detections.xyxy, np.float64).reshape(n, 4), conf])


def proposals_to_detections(proposals: np.ndarray) -> sv.Detections:
    """``(P, 5)`` x1, y1, x2, y2, score -> ``sv.Detections`` of one class."""
    p = np.asarray(proposals, dtype=np.float64).reshape(-1, 5)
    return sv.Detections(
        xyxy=p[:, :4].astype(np.float32),
        confidence=p[:, 4].astype(np.float32),
        class_id=np.zeros(len(p), dtype=int),
    )


def frame_tracks_to_detections(tracks: FrameTracks) -> sv.Detections:
    """Reported tracks -> ``sv.Detections`` with ``trackers``' 0-based ids."""
    out = proposals_to_detections(
        np.column_stack([tracks.xyxy, tracks.tracker_confidences]).reshape(-1, 5)
    )
    out.tracker_id = tracks.tracker_ids - 1
    out.metadata = dict(tracks.extras)
    return out


def detections_to_frame_tracks(out: sv.Detections) -> FrameTracks:
    """A ``trackers`` result -> reported tracks with MOTChallenge ids (from 1).

    Tracks still on probation (``tracker_id == -1``) are not reported.
    """
    ids = np.asarray(out.tracker_id if out.tracker_id is not None else [], dtype=np.int64)
    keep = ids >= 0
    conf = out.confidence if out.confidence is not None else np.ones(len(ids))
    extras = dict(getattr(out, "metadata", None) or {})
    return FrameTracks.from_xyxy(ids[keep] + 1, out.xyxy[keep], np.asarray(conf)[keep], **extras)
