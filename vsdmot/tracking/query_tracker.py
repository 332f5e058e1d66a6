"""The runtime tracker around :class:`~vsdmot.models.tracker.VSDMOT`.

The model only scores, refines and embeds queries; birth, survival, death and ids
are decided here, per video instance (MOTIP's split between detector and tracking
logic). :meth:`QueryTracker.update` is a short orchestration of parts with one job
each:

1. **motion** (:mod:`vsdmot.tracking.motion`): each track's motion model predicts
   its box, which becomes the track query's reference box;
2. **model**: the frame, its proposals and the track queries go through the model
   (scores, refined boxes, appearance embeddings, the frame quality q_t);
3. **association** (:mod:`vsdmot.tracking.association`): the tracks are matched to
   the frame's detections (the proposal queries) and marked seen or missed;
4. **lifecycle**: a matched track takes its detection's box (the model's own box
   regression for track queries needs far more training than a CPU budget gives to
   follow fast motion, while proposal queries sit on the detector's boxes); a missed
   one coasts on its prediction for up to ``miss_tolerance`` frames (occlusion), then
   dies; a proposal or learnable query scoring at least ``birth_thresh`` that matched
   no track and does not duplicate a seen one (IoU <= ``dedup_iou``) is born with a
   new id;
5. the surviving queries go through the query interaction module and become the next
   frame's track queries, capped at ``max_tracks`` (highest scores).

All per-track state lives in one :class:`Track` object per track, kept in the same
order as the model's track queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vsdmot.data.preprocess import normalize_frame, resize_frame, resize_size
from vsdmot.models.box_ops import box_cxcywh_to_xyxy, box_xyxy_to_cxcywh
from vsdmot.models.tracker import PROPOSAL, VSDMOT, TrackQueries
from vsdmot.tracking.association import FrameEvidence, build_associator
from vsdmot.tracking.base import FrameTracks
from vsdmot.tracking.embedders import Embedder
from vsdmot.tracking.motion import MotionModel, MotionState, build_motion
from vsdmot.tracking.params import InputParams, TrackerParams
from vsdmot.utils.boxes import box_iou


def frame_to_tensor(frame_bgr: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """BGR uint8 frame -> ``(1, 3, H, W)`` model input at ``size`` (w, h), as in training."""
    return normalize_frame(resize_frame(frame_bgr, size)).unsqueeze(0)


def model_inputs(frame: np.ndarray, proposals: np.ndarray, p: InputParams, device: torch.device):
    """The model's inputs: the frame as in training, and the proposals it is given, with
    the indices (into ``proposals``) of those it is given."""
    height, width = frame.shape[:2]
    size = resize_size(width, height, p.input_short_side, p.input_max_side)
    image = frame_to_tensor(frame, size).to(device)
    mask = torch.zeros(1, size[1], size[0], dtype=torch.bool, device=device)
    props, valid = proposals_to_model(proposals, width, height, with_index=True)
    given = props[:, 4] >= p.proposal_min_score
    return image, mask, props[given].to(device), valid[given.numpy()]


def proposals_to_model(proposals: np.ndarray, width: int, height: int, with_index: bool = False):
    """``(P, 5)`` pixel x1, y1, x2, y2, score -> normalised cx, cy, w, h, score (boxes of
    no area dropped; ``with_index``: also the indices of the rows kept)."""
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
    valid = np.flatnonzero((out[:, 2] > 0) & (out[:, 3] > 0))
    kept = torch.from_numpy(out[valid])
    return (kept, valid) if with_index else kept


@dataclass
class Track:
    """Everything the tracker knows about one live track."""

    id: int
    motion: MotionState
    box: np.ndarray  # pixel xyxy on the last frame
    score: float
    misses: int = 0
    embedding: np.ndarray | None = None  # unit appearance bank (EMA of matched embeddings)
    hits: int = 1  # consecutive frames seen (the birth frame counts)
    confirmed: bool = False  # reported once: a confirmed track is reported whenever seen

    @property
    def tracker_id(self) -> int:
        """The id in ``trackers``' convention (from 0; -1 while on probation)."""
        return self.id - 1 if self.confirmed else -1

    def get_state_bbox(self) -> np.ndarray:
        return self.box

    def confirm(self, min_hits: int) -> bool:
        """Whether the track is reported on this frame (seen, and out of its probation)."""
        self.confirmed |= self.misses == 0 and self.hits >= min_hits
        return self.misses == 0 and self.confirmed

    def remember(self, embedding: np.ndarray | None, momentum: float) -> None:
        """Blend a new appearance embedding into the bank."""
        if embedding is not None:
            self.embedding = blend_unit(self.embedding, embedding, momentum)


def blend_unit(bank: np.ndarray | None, embedding: np.ndarray, momentum: float) -> np.ndarray:
    """A track's appearance bank after one more unit embedding: the embedding itself for
    a new bank, else the renormalised moving average (``momentum`` on the old bank).

    >>> blend_unit(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.5).round(3).tolist()
    [0.707, 0.707]
    """
    if bank is None:
        return embedding.copy()
    mixed = momentum * bank + (1 - momentum) * embedding
    return mixed / max(float(np.linalg.norm(mixed)), 1e-12)


class QueryTracker:
    """Online tracker: one instance per video, ids from 1, state reset by :meth:`reset`."""

    def __init__(
        self,
        model: VSDMOT,
        params: TrackerParams | None = None,
        device: str | torch.device = "cpu",
        embedder: Embedder | None = None,
    ) -> None:
        """``embedder(frame, boxes_xyxy) -> (N, E)`` unit rows, when given, replaces the
        model's embedding head as the appearance cue (the ``appearance_embedder`` setting,
        :mod:`vsdmot.tracking.embedders`)."""
        self.model = model.eval().to(device)
        self.params = params or TrackerParams()
        self.device = torch.device(device)
        self.associator = build_associator(self.params)
        self.embedder = embedder
        # Built once here as well as per frame size: the Kalman model imports `trackers`
        # (about a second), which belongs to start-up, not to the first frame (where a
        # Ctrl-C could land inside that import).
        build_motion(self.params.movement, (1.0, 1.0))
        self.reset()

    def reset(self) -> None:
        self._queries: TrackQueries | None = None
        self._tracks: list[Track] = []
        self._next_id = 1
        self._frame_size = (1.0, 1.0)
        self._motion: MotionModel | None = None
        semantic = getattr(self.model, "semantic_branch", None)
        if semantic is not None and hasattr(semantic, "reset"):
            semantic.reset()  # temporal smoothing of q_t restarts per video

    @property
    def tracks(self) -> tuple[Track, ...]:
        """The live tracks (seen and missed), in the order of the model's track queries."""
        return tuple(self._tracks)

    @torch.no_grad()
    def update(self, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
        p = self.params
        height, width = frame.shape[:2]
        if self._motion is None or self._frame_size != (width, height):
            self._frame_size = (float(width), float(height))
            self._motion = build_motion(p.movement, self._frame_size)
        scale = np.array([width, height, width, height], dtype=np.float64)
        image, mask, props = self._inputs(frame, proposals)
        predicted = np.array([t.motion.predict() for t in self._tracks]).reshape(-1, 4)

        out = self.model.inference_step(image, mask, props, self._queries_at(predicted, scale),
                                        semantic_fusion=p.inputs.semantic_fusion)
        scores = out.logits.sigmoid().cpu().numpy().astype(np.float64)
        boxes = box_cxcywh_to_xyxy(out.boxes).cpu().numpy().astype(np.float64) * scale
        n_track = out.num_track
        embeddings = self._embeddings(frame, out, boxes)
        dets = np.flatnonzero(out.kinds.cpu().numpy() == PROPOSAL)
        extras = semantic_extras(out.semantic)
        if embeddings is not None:
            look = self.associator.appearance_weight(extras.get("quality"))
            if look is not None:
                extras["appearance_weight"] = look

        assoc = self.associator.associate(
            FrameEvidence(
                track_boxes=boxes[:n_track],
                track_scores=scores[:n_track],
                predicted=predicted,
                track_misses=np.array([t.misses for t in self._tracks], dtype=np.int64),
                det_boxes=boxes[dets],
                # The detector's own confidence: the model scores a proposal low when a
                # track query already holds its object (MOTR-style training), so its score
                # says "new object", not "object here".
                det_scores=props[:, 4].cpu().numpy().astype(np.float64),
                track_embeddings=self._banks(),
                det_embeddings=None if embeddings is None else embeddings[dets],
                quality=extras.get("quality"),
            )
        )
        self._advance(assoc, boxes, scores, embeddings, dets, predicted)
        born = self._births(assoc, boxes, scores, embeddings, dets, n_track)
        self._keep(out, scores, n_track, born)

        seen = [t for t in self._tracks if t.confirm(self.params.lifecycle.min_hits)]
        return FrameTracks.from_xyxy(
            np.array([t.id for t in seen], dtype=np.int64),
            np.array([t.box for t in seen]).reshape(-1, 4),
            np.array([t.score for t in seen]),
            **extras,
        )

    # -- the steps ------------------------------------------------------------------------

    def _inputs(self, frame: np.ndarray, proposals: np.ndarray):
        image, mask, props, _ = model_inputs(frame, proposals, self.params.inputs, self.device)
        return image, mask, props

    def _embeddings(self, frame: np.ndarray, out, boxes: np.ndarray) -> np.ndarray | None:
        """Appearance of every query: the model's head, or the external embedder on the
        crops of the new (proposal and learnable) queries."""
        if self.embedder is None:
            return None if out.embeddings is None else out.embeddings.cpu().numpy()
        new = self.embedder(frame, boxes[out.num_track :])
        return np.concatenate([np.zeros((out.num_track, new.shape[1]), new.dtype), new])

    def _queries_at(self, predicted: np.ndarray, scale: np.ndarray) -> TrackQueries | None:
        """The track queries, with their reference boxes at the motion predictions."""
        q = self._queries
        if q is None or len(q) == 0:
            return q
        xyxy = torch.from_numpy(predicted / scale).to(q.ref_boxes)
        ref = box_xyxy_to_cxcywh(xyxy)
        ref[:, :2] = ref[:, :2].clamp(0, 1)
        ref[:, 2:] = ref[:, 2:].clamp(1e-4, 1)
        return TrackQueries(q.embed, ref)

    def _banks(self) -> np.ndarray | None:
        if not self._tracks or any(t.embedding is None for t in self._tracks):
            return None
        return np.stack([t.embedding for t in self._tracks])  # type: ignore[misc]

    def _advance(self, assoc, boxes, scores, embeddings, dets, predicted) -> None:
        """Matched tracks take their detection; missed ones coast or keep the query's box."""
        momentum = self.params.appearance.embedding_momentum
        matched = dict(zip(assoc.matches[:, 0].tolist(), assoc.matches[:, 1].tolist(), strict=True))
        updates = assoc.embedding_updates
        confident = set(assoc.matches[updates, 0].tolist()) if updates is not None else set(matched)
        for row, track in enumerate(self._tracks):
            own_score = float(scores[row])
            if row in matched:
                det = dets[matched[row]]
                track.box = boxes[det].copy()
                track.motion.update(track.box)
                track.score = max(own_score, float(scores[det]))
                if embeddings is not None and row in confident:
                    track.remember(embeddings[det], momentum)
            elif assoc.coast and not assoc.seen[row]:
                track.box = predicted[row].copy()
                track.motion.update(None)
                track.score = own_score
            else:  # seen by its own query (or e2e: the query's box is the track's box)
                track.box = boxes[row].copy()
                track.motion.update(track.box)
                track.score = own_score
            track.misses = 0 if assoc.seen[row] else track.misses + 1
            track.hits = track.hits + 1 if assoc.seen[row] else 0

    def _births(self, assoc, boxes, scores, embeddings, dets, n_track) -> list[tuple[int, Track]]:
        """New tracks from unmatched proposal and learnable queries (query index, track)."""
        p = self.params.lifecycle
        momentum = self.params.appearance.embedding_momentum
        # A mask, not zeroed scores: with birth_thresh 0 a zeroed track query would be born.
        free = np.ones(len(scores), dtype=bool)
        free[:n_track] = False
        free[dets[assoc.matches[:, 1]]] = False  # a detection that a track took
        candidates = np.flatnonzero(free & (scores >= p.birth_thresh))
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        taken = [t.box for t in self._tracks if t.misses == 0]
        motion = self._motion
        assert motion is not None
        born: list[tuple[int, Track]] = []
        for q in candidates:
            box = boxes[q]
            if taken and box_iou(box[None], np.array(taken)).max() > p.dedup_iou:
                continue
            track = Track(self._next_id, motion.start(box), box.copy(), float(scores[q]))
            track.remember(None if embeddings is None else embeddings[q], momentum)
            self._next_id += 1
            born.append((int(q), track))
            taken.append(box)
        return born

    def _keep(self, out, scores, n_track: int, born: list[tuple[int, Track]]) -> None:
        """Drop dead tracks, cap the rest, and carry their queries to the next frame."""
        p = self.params.lifecycle
        rows = [(r, t) for r, t in enumerate(self._tracks) if t.misses <= p.miss_tolerance]
        kept = rows + born
        if len(kept) > p.max_tracks:
            order = np.argsort([-scores[q] for q, _ in kept], kind="stable")[: p.max_tracks]
            kept = [kept[i] for i in order]
        kept.sort(key=lambda item: item[0])  # next_track_queries keeps query order
        keep = torch.zeros(len(scores), dtype=torch.bool, device=self.device)
        keep[torch.tensor([q for q, _ in kept], dtype=torch.long)] = True
        self._tracks = [t for _, t in kept]
        self._queries = self.model.next_track_queries(out, keep)


def semantic_extras(semantic) -> dict[str, float]:
    if semantic is None:
        return {}
    extras: dict[str, float] = {}
    if semantic.quality is not None:
        extras["quality"] = float(semantic.quality.reshape(-1)[0])
    if semantic.weight is not None:
        extras["weight"] = float(semantic.weight.mean())
    return extras
