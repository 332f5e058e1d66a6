"""The runtime tracker around :class:`~vsdmot.models.tracker.VSDMOT`.

The model only scores and refines queries; birth, survival, death and ids are
decided here, per video instance (MOTIP's split between detector and tracking
logic). Every frame:

1. the frame, its proposals and the live track queries go through the model;
2. optionally (``anchor_iou > 0``, the default) each track query is
   *re-anchored*: matched one-to-one (Hungarian on IoU) to the refined box of a
   proposal query of the same frame, whose box it then takes, here and as next
   frame's reference. The model's own box regression for track queries needs
   far more training than a CPU budget gives to follow fast motion, while
   proposal queries sit on the detector's boxes; anchoring keeps identities on
   the query path and localisation on the proposal path. With anchoring, each
   track's reference box is moved by the velocity of its anchored history
   before the decoder (a motion prior), and a track that finds no anchor (a
   missed detection, an occlusion) coasts on that prediction, so it is still in
   the right place when its object reappears;
3. a track query whose score is at least ``keep_thresh`` (and, with anchoring,
   that found an anchor) is *seen*: it is reported and its miss counter
   resets; otherwise it is *missed*, kept as a silent query for up to
   ``miss_tolerance`` frames (occlusion), then killed;
4. a proposal or learnable query scoring at least ``birth_thresh`` that does
   not duplicate a reported track (IoU <= ``dedup_iou``) is born with a new id;
5. the surviving queries go through the query interaction module and become
   next frame's track queries, capped at ``max_tracks`` (highest scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from vsdmot.data.preprocess import normalize_frame, resize_frame, resize_size
from vsdmot.models.box_ops import box_cxcywh_to_xyxy, box_iou
from vsdmot.models.tracker import PROPOSAL, VSDMOT, TrackQueries
from vsdmot.tracking.base import FrameTracks, Tracker


@dataclass(frozen=True)
class TrackerParams:
    """Runtime decisions of :class:`QueryTracker` (see the module docstring)."""

    birth_thresh: float = 0.2
    """Score a new (proposal or learnable) query needs to start a track. Low because a
    briefly trained model under-scores proposals of objects it has lost: 0.2 was the best
    of 0.15-0.5 on held-out generated validation sequences (see docs/model-card.md)."""
    keep_thresh: float = 0.4
    """Score a track query needs to be reported on a frame."""
    miss_tolerance: int = 10
    """Frames a track query may stay below ``keep_thresh`` before it is killed."""
    dedup_iou: float = 0.7
    """A newborn overlapping a reported track more than this is a duplicate, not a birth."""
    anchor_iou: float = 0.4
    """Re-anchor track queries on proposal queries overlapping them at least this much
    (0 disables: pure end-to-end query propagation; see the module docstring)."""
    velocity_momentum: float = 0.5
    """Smoothing of the per-track velocity (from anchored boxes) that carries unanchored
    tracks forward; only used with anchoring."""
    max_tracks: int = 100
    """Cap on live track queries, so memory stays bounded on long videos."""
    proposal_min_score: float = 0.05
    """Proposals below this score are not given to the model."""
    input_short_side: int = 384
    """Frames are resized so the shorter side has this many pixels..."""
    input_max_side: int = 640
    """...and the longer side at most this many."""

    def __post_init__(self) -> None:
        if not 0 <= self.keep_thresh <= 1 or not 0 <= self.birth_thresh <= 1:
            raise ValueError("birth_thresh and keep_thresh must be in [0, 1]")
        if self.miss_tolerance < 0 or self.max_tracks < 1:
            raise ValueError("miss_tolerance must be >= 0 and max_tracks >= 1")


def frame_to_tensor(frame_bgr: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """BGR uint8 frame -> ``(1, 3, H, W)`` model input at ``size`` (w, h), as in training."""
    return normalize_frame(resize_frame(frame_bgr, size)).unsqueeze(0)


def proposals_to_model(proposals: np.ndarray, width: int, height: int) -> torch.Tensor:
    """``(P, 5)`` pixel x1, y1, x2, y2, score -> normalised cx, cy, w, h, score."""
    p = np.asarray(proposals, dtype=np.float32).reshape(-1, 5)
    x1, x2 = np.clip(p[:, 0], 0, width), np.clip(p[:, 2], 0, width)
    y1, y2 = np.clip(p[:, 1], 0, height), np.clip(p[:, 3], 0, height)
    out = np.stack(
        [
            (x1 + x2) / 2 / width,
            (y1 + y2) / 2 / height,
            (x2 - x1) / width,
            (y2 - y1) / height,
            np.clip(p[:, 4], 0, 1),
        ],
        axis=1,
    )
    return torch.from_numpy(out[(out[:, 2] > 0) & (out[:, 3] > 0)])


class QueryTracker(Tracker):
    """Online tracker: one instance per video, ids from 1, state reset by :meth:`reset`."""

    def __init__(
        self,
        model: VSDMOT,
        params: TrackerParams | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model.eval().to(device)
        self.params = params or TrackerParams()
        self.device = torch.device(device)
        self.reset()

    def reset(self) -> None:
        self._queries: TrackQueries | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._misses = np.zeros(0, dtype=np.int64)
        self._velocity = np.zeros((0, 2))  # normalised centre motion per frame, per track
        self._next_id = 1
        semantic = getattr(self.model, "semantic_branch", None)
        if semantic is not None and hasattr(semantic, "reset"):
            semantic.reset()  # temporal smoothing of q_t restarts per video

    @torch.no_grad()
    def update(self, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
        p = self.params
        height, width = frame.shape[:2]
        size = resize_size(width, height, p.input_short_side, p.input_max_side)
        image = frame_to_tensor(frame, size).to(self.device)
        mask = torch.zeros(1, size[1], size[0], dtype=torch.bool, device=self.device)
        props = proposals_to_model(proposals, width, height)
        props = props[props[:, 4] >= p.proposal_min_score].to(self.device)

        out = self.model.inference_step(image, mask, props, self._predicted_queries())
        scores = out.logits.sigmoid().cpu().numpy()
        boxes = box_cxcywh_to_xyxy(out.boxes).cpu().numpy() * [width, height, width, height]
        n_track = out.num_track

        anchored, anchor_queries = self._anchor(out, boxes, n_track)
        velocity = self._carry_forward(out, anchored, n_track)
        boxes = box_cxcywh_to_xyxy(out.boxes).cpu().numpy() * [width, height, width, height]

        # Track queries: seen, missed (kept silently) or killed.
        track_scores = scores[:n_track]
        seen = track_scores >= p.keep_thresh
        if p.anchor_iou > 0:
            seen &= anchored
        misses = np.where(seen, 0, self._misses + 1)
        alive = misses <= p.miss_tolerance

        # New queries: births, minus duplicates of tracks reported on this frame
        # (and minus proposals that anchored a track).
        new_scores = scores[n_track:].copy()
        new_scores[anchor_queries - n_track] = 0.0
        candidates = np.flatnonzero(new_scores >= p.birth_thresh) + n_track
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        taken = boxes[:n_track][seen]
        born: list[int] = []
        for q in candidates:
            if len(taken):
                iou, _ = box_iou(torch.from_numpy(boxes[q : q + 1]), torch.from_numpy(taken))
                if float(iou.max()) > p.dedup_iou:
                    continue
            born.append(int(q))
            taken = np.concatenate([taken, boxes[q : q + 1]])

        keep_idx = np.concatenate([np.flatnonzero(alive), np.asarray(born, dtype=np.int64)])
        ids = np.concatenate(
            [self._ids[alive], np.arange(self._next_id, self._next_id + len(born))]
        )
        self._next_id += len(born)
        kept_misses = np.concatenate([misses[alive], np.zeros(len(born), dtype=np.int64)])
        kept_velocity = np.concatenate([velocity[alive], np.zeros((len(born), 2))])
        if len(keep_idx) > p.max_tracks:
            order = np.argsort(-scores[keep_idx], kind="stable")[: p.max_tracks]
            keep_idx, ids, kept_misses = keep_idx[order], ids[order], kept_misses[order]
            kept_velocity = kept_velocity[order]

        keep = torch.zeros(len(scores), dtype=torch.bool, device=self.device)
        keep[torch.from_numpy(keep_idx)] = True
        # next_track_queries keeps query order, so reorder our bookkeeping the same way.
        order = np.argsort(keep_idx, kind="stable")
        self._ids, self._misses = ids[order], kept_misses[order]
        self._velocity = kept_velocity[order]
        self._queries = self.model.next_track_queries(out, keep)

        report = kept_misses == 0
        extras = _semantic_extras(out.semantic)
        return FrameTracks.from_xyxy(
            ids[report], boxes[keep_idx[report]], scores[keep_idx[report]], **extras
        )

    def _anchor(self, out, boxes_xyxy: np.ndarray, n_track: int) -> tuple[np.ndarray, np.ndarray]:
        """Match track queries to proposal queries; copy the anchors' boxes into ``out``.

        Returns which track queries found an anchor, and the anchoring queries' indices.
        """
        anchored = np.zeros(n_track, dtype=bool)
        none = np.zeros(0, dtype=np.int64)
        props = np.flatnonzero(out.kinds.cpu().numpy() == PROPOSAL)
        if self.params.anchor_iou <= 0 or n_track == 0 or len(props) == 0:
            return anchored, none
        iou, _ = box_iou(
            torch.from_numpy(boxes_xyxy[:n_track]), torch.from_numpy(boxes_xyxy[props])
        )
        rows, cols = linear_sum_assignment(-iou.numpy())
        ok = iou.numpy()[rows, cols] >= self.params.anchor_iou
        rows, cols = rows[ok], props[cols[ok]]
        anchored[rows] = True
        out.boxes[torch.from_numpy(rows)] = out.boxes[torch.from_numpy(cols)]
        return anchored, cols

    def _predicted_queries(self) -> TrackQueries | None:
        """Track queries with reference boxes moved by each track's velocity."""
        q = self._queries
        if q is None or self.params.anchor_iou <= 0 or len(q) == 0:
            return q
        ref = q.ref_boxes.clone()
        ref[:, :2] = (ref[:, :2] + ref.new_tensor(self._velocity)).clamp(0, 1)
        return TrackQueries(q.embed, ref)

    def _carry_forward(self, out, anchored: np.ndarray, n_track: int) -> np.ndarray:
        """Update velocities from anchored boxes; unanchored tracks coast on the prediction.

        Returns the new per-track velocities (normalised centre motion per frame).
        """
        velocity = self._velocity[:n_track].copy()
        if self.params.anchor_iou <= 0 or n_track == 0 or self._queries is None:
            return velocity
        last = self._queries.ref_boxes[:n_track, :2].cpu().numpy()  # last frame's boxes
        centres = out.boxes[:n_track, :2].cpu().numpy()
        m = self.params.velocity_momentum
        velocity[anchored] = m * velocity[anchored] + (1 - m) * (centres - last)[anchored]
        coast = np.flatnonzero(~anchored)
        if len(coast):
            predicted = np.clip(last[coast] + velocity[coast], 0, 1)
            out.boxes[torch.from_numpy(coast), :2] = out.boxes.new_tensor(predicted)
        return velocity


def _semantic_extras(semantic) -> dict[str, float]:
    if semantic is None:
        return {}
    extras: dict[str, float] = {}
    if semantic.quality is not None:
        extras["quality"] = float(semantic.quality.reshape(-1)[0])
    if semantic.weight is not None:
        extras["weight"] = float(semantic.weight.mean())
    return extras
