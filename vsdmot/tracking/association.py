"""Association strategies of the runtime tracker: which track takes which detection.

After the model has scored and refined every query of a frame, an
:class:`Associator` matches the live tracks to the frame's *detections* (the
proposal queries, with the model's refined boxes and the detector's scores) and says which
tracks count as seen. Strategies are registered by name in
:data:`ASSOCIATORS` (the ``association`` setting), like MOTIP's assignment
protocols:

* ``fused`` (default) -- ByteTrack-style two stages by detection score. Stage 1
  matches high-scoring detections with a similarity that blends *motion*
  (IoU with the motion model's prediction, or with the track query's own refined
  box, whichever is higher) and *appearance* (cosine between the track's
  embedding bank and the detection's embedding from the model's embedding head).
  The appearance weight is ``appearance_weight * q_t`` with DSWR (the frame's
  quality estimate: appearance is trusted less on a poor frame) or
  ``appearance_weight`` without. A lost track may be re-identified by appearance
  alone within its miss buffer. Stage 2 matches the remaining active tracks to
  low-scoring detections by IoU. Every matched track is seen; optionally
  (``query_keep``) so is an unmatched one whose own query still scores high near its
  prediction.
* ``anchor`` -- the original rule: Hungarian on IoU between the track queries'
  refined boxes and the detections', at least ``anchor_iou``; a matched track is
  seen if its own query scores at least ``keep_thresh``.
* ``e2e`` -- no matching: a track is seen when its query scores at least
  ``keep_thresh`` (the model alone, MOTR-style).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment

from vsdmot.tracking.params import AppearanceParams, MatchingParams, TrackerParams
from vsdmot.utils.boxes import box_iou


@dataclass
class FrameEvidence:
    """What the model and the motion models say about one frame (boxes: pixel xyxy)."""

    track_boxes: np.ndarray  # (T, 4) the track queries' refined boxes
    track_scores: np.ndarray  # (T,)
    predicted: np.ndarray  # (T, 4) motion predictions
    track_misses: np.ndarray  # (T,) frames since each track was last seen
    det_boxes: np.ndarray  # (D, 4) refined boxes of the proposal queries
    det_scores: np.ndarray  # (D,) the detector's scores of the proposals
    track_embeddings: np.ndarray | None = None  # (T, E) unit rows (the tracks' banks)
    det_embeddings: np.ndarray | None = None  # (D, E) unit rows
    quality: float | None = None  # q_t, when the model estimates it

    @property
    def num_tracks(self) -> int:
        return len(self.track_boxes)


@dataclass
class Association:
    """Matches as ``(M, 2)`` rows of ``[track, detection]`` and which tracks are seen."""

    matches: np.ndarray
    seen: np.ndarray  # (T,) bool
    coast: bool = True
    """Unseen tracks move with their motion prediction (else they keep the query's box)."""
    embedding_updates: np.ndarray | None = None
    """Matches (rows of ``matches``) confident enough to update the track's appearance bank."""


class Associator(Protocol):
    def associate(self, ev: FrameEvidence) -> Association: ...

    def appearance_weight(self, quality: float | None) -> float | None:
        """The share appearance similarity gets on a frame of quality ``quality``;
        ``None`` for a strategy that never uses appearance."""
        ...


def hungarian(similarity: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """One-to-one matches ``(M, 2)`` maximising total similarity over ``allowed`` pairs.

    >>> s = np.array([[0.9, 0.8], [0.85, 0.1]])
    >>> hungarian(s, s > 0.5).tolist()
    [[0, 1], [1, 0]]
    """
    if similarity.size == 0 or not allowed.any():
        return np.zeros((0, 2), dtype=np.int64)
    cost = np.where(allowed, -similarity, 1e6)
    rows, cols = linear_sum_assignment(cost)
    ok = allowed[rows, cols]
    return np.stack([rows[ok], cols[ok]], axis=1).astype(np.int64)


class QueryOnlyAssociator:
    """``e2e``: the model's track queries alone decide (no detection is matched)."""

    def __init__(self, keep_thresh: float) -> None:
        self.keep_thresh = keep_thresh

    def appearance_weight(self, quality: float | None) -> None:
        """No appearance: the queries' own scores and boxes decide."""
        return None

    def associate(self, ev: FrameEvidence) -> Association:
        return Association(
            matches=np.zeros((0, 2), dtype=np.int64),
            seen=ev.track_scores >= self.keep_thresh,
            coast=False,
        )


class AnchorAssociator:
    """``anchor``: IoU between the track queries' and the detections' refined boxes."""

    def __init__(self, anchor_iou: float, keep_thresh: float) -> None:
        self.anchor_iou = anchor_iou
        self.keep_thresh = keep_thresh

    def appearance_weight(self, quality: float | None) -> None:
        """No appearance: the queries' own scores and boxes decide."""
        return None

    def associate(self, ev: FrameEvidence) -> Association:
        iou = box_iou(ev.track_boxes, ev.det_boxes)
        matches = hungarian(iou, iou >= self.anchor_iou)
        seen = np.zeros(ev.num_tracks, dtype=bool)
        seen[matches[:, 0]] = True
        seen &= ev.track_scores >= self.keep_thresh
        return Association(matches, seen, coast=True, embedding_updates=seen[matches[:, 0]])


class FusedAssociator:
    """``fused``: two stages by score, motion blended with quality-weighted appearance.

    Reads the matching and appearance settings (:mod:`vsdmot.tracking.params`, the one
    place their defaults and meanings live).
    """

    def __init__(self, matching: MatchingParams, appearance: AppearanceParams) -> None:
        self.s = matching
        self.look = appearance

    def appearance_weight(self, quality: float | None) -> float:
        """``appearance_weight * q_t`` with DSWR (and a q_t), else ``appearance_weight``.

        >>> a = FusedAssociator(MatchingParams(), AppearanceParams(0.4, appearance_dswr=True))
        >>> a.appearance_weight(0.5), a.appearance_weight(None)
        (0.2, 0.4)
        """
        return self.look.effective_weight(quality)

    def associate(self, ev: FrameEvidence) -> Association:
        s = self.s
        n_track = ev.num_tracks
        motion = box_iou(ev.predicted, ev.det_boxes)
        if s.query_box_cue:
            motion = np.maximum(motion, box_iou(ev.track_boxes, ev.det_boxes))
        appearance = None
        if ev.track_embeddings is not None and ev.det_embeddings is not None:
            appearance = np.clip(ev.track_embeddings @ ev.det_embeddings.T, 0.0, 1.0)

        high = ev.det_scores >= s.high_thresh
        low = (ev.det_scores >= s.low_thresh) & ~high

        # Stage 1: every track against the high-scoring detections.
        allowed = (motion >= s.match_iou) & high[None, :]
        similarity = motion
        if appearance is not None:
            w = self.appearance_weight(ev.quality)
            similarity = (1 - w) * motion + w * appearance
            lost = ev.track_misses > 0
            allowed |= lost[:, None] & (appearance >= s.reid_cos) & high[None, :]
        first = hungarian(similarity, allowed)

        # Stage 2: the remaining active tracks against the low-scoring detections.
        free_t = np.ones(n_track, dtype=bool)
        free_t[first[:, 0]] = False
        active = free_t & (ev.track_misses == 0)
        allowed2 = (motion >= s.low_match_iou) & active[:, None] & low[None, :]
        second = hungarian(motion, allowed2)

        matches = np.concatenate([first, second]).astype(np.int64)
        seen = np.zeros(n_track, dtype=bool)
        seen[matches[:, 0]] = True
        if s.query_keep < 1.0 and n_track:
            stays = np.diag(box_iou(ev.track_boxes, ev.predicted)) >= 0.5
            seen |= (ev.track_misses == 0) & (ev.track_scores >= s.query_keep) & stays
        updates = np.concatenate([np.ones(len(first), bool), np.zeros(len(second), bool)])
        return Association(matches, seen, coast=True, embedding_updates=updates)


#: Association strategies by name (the ``association`` setting). Each factory takes the
#: tracker's settings and reads the groups it needs.
ASSOCIATORS = {
    "fused": lambda p: FusedAssociator(p.matching, p.appearance),
    "anchor": lambda p: (
        AnchorAssociator(p.matching.anchor_iou, p.lifecycle.keep_thresh)
        if p.matching.anchor_iou > 0
        else QueryOnlyAssociator(p.lifecycle.keep_thresh)
    ),
    "e2e": lambda p: QueryOnlyAssociator(p.lifecycle.keep_thresh),
}


def build_associator(params: TrackerParams) -> Associator:
    """The registered strategy ``association`` configured from ``params``."""
    name = params.matching.association
    if name not in ASSOCIATORS:
        choices = sorted([*ASSOCIATORS, "botsort"])  # botsort: its own engine (query_botsort)
        raise ValueError(f"unknown association {name!r}; choose from {choices}")
    return ASSOCIATORS[name](params)
