"""``association=botsort``: BoT-SORT's core from ``trackers``, the model's evidence on top.

Identities, the width/height Kalman filter, camera-motion compensation, the two
score stages and the lifecycle are ``trackers``' :class:`BoTSORTTracker`, unchanged.
The model runs on every frame with the proposals and one track query per live
BoT-SORT track (MOTRv2-style: the query follows the track it stands for), and adds
evidence as *detections*, so the core never needs to know about it:

* ``rescore``: a detection's confidence blends the detector's score with the
  model's objectness for it (the proposal query's score, or the score of the
  track query that holds the same object: a MOTR-trained model scores a proposal
  low when a track query already has it);
* ``refine_boxes``: detections take the model's refined boxes;
* ``query_keep``: a track query that still scores at least this where no proposal
  is (the detector missed the person) becomes a detection of its own refined box;
* ``appearance_weight``: in the first (high-score) stage, the similarity of a track
  and a detection that overlap blends IoU with the cosine between the track's
  appearance bank and the detection's embedding (the model's embedding head), with
  a weight scaled by the detection's confidence and, with ``appearance_dswr``, by the
  frame's quality estimate q_t: appearance counts least where it is least reliable.
  Boxes that do not overlap are never matched by appearance alone.

With all four off (``rescore=0``, ``refine_boxes=off``, ``query_keep=1``,
``appearance_weight=0``) the tracks are plain BoT-SORT's on the same proposals, row
for row (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import supervision as sv
import torch
from trackers.core.botsort.tracker import BoTSORTTracker
from trackers.core.botsort.tracklet import BoTSORTTracklet
from trackers.utils.iou import BIoU

from vsdmot.models.box_ops import box_cxcywh_to_xyxy
from vsdmot.models.tracker import PROPOSAL, VSDMOT, FrameOutput, TrackQueries
from vsdmot.tracking.base import FrameTracks, detections_to_frame_tracks
from vsdmot.tracking.embedders import Embedder
from vsdmot.tracking.params import TrackerParams
from vsdmot.tracking.query_tracker import blend_unit, model_inputs, semantic_extras
from vsdmot.tracking.reupdate import replay_gap
from vsdmot.utils.boxes import box_iou


class _Tracklet(BoTSORTTracklet):
    """A BoT-SORT tracklet that remembers the detection box it last took, so the engine
    can tell which query a track came from, and (``reupdate``) the filter state it had
    then, for OC-SORT's re-update when it is found after a gap."""

    def __init__(self, initial_bbox: np.ndarray, reupdate: bool = False, **kwargs) -> None:
        super().__init__(initial_bbox=initial_bbox, **kwargs)
        self.observation = np.array(initial_bbox, dtype=np.float64)
        self.query_row = -1  # its row among the stored track queries (-1: it has none)
        self.out_row = -1  # its row among this frame's model outputs (-1: not given)
        self.embedding: np.ndarray | None = None  # unit appearance bank (EMA)
        self._observed = self.state_estimator.get_state() if reupdate else None

    def update(self, bbox: np.ndarray) -> None:
        if self._observed is not None:
            replay_gap(self, self._observed, self.observation, bbox)
        super().update(bbox)
        self.observation = np.array(bbox, dtype=np.float64)
        if self._observed is not None:
            self._observed = self.state_estimator.get_state()


@dataclass
class _Looks:
    """This frame's detections' appearance, for the core's first stage."""

    xyxy: np.ndarray  # (D, 4) float32, the detections handed to the core
    embeddings: np.ndarray  # (D, E) unit rows (zero: none)
    weights: np.ndarray  # (D,) appearance weight of each detection (0: none)

    def columns(self, boxes: np.ndarray) -> np.ndarray:
        """Row of each of ``boxes`` (a subset of the detections, as the core splits them)."""
        same = (boxes.astype(np.float32)[:, None, :] == self.xyxy[None, :, :]).all(axis=2)
        return same.argmax(axis=1)


class _Core(BoTSORTTracker):
    """``trackers``' BoT-SORT whose new tracklets are :class:`_Tracklet` (its own spawn
    rule, written again only to construct that class), and whose first-stage similarity
    blends in appearance when the engine hands it :class:`_Looks`."""

    looks: _Looks | None = None
    reupdate = False  # OC-SORT's re-update for the tracklets it spawns
    _stage = 0

    def update(self, detections: sv.Detections, frame=None, timestamp=None) -> sv.Detections:
        self._stage = 0
        return super().update(detections, frame=frame, timestamp=timestamp)

    def _get_iou_matrix(self, tracklets, detections, tracklet_boxes_by_id) -> np.ndarray:
        iou = super()._get_iou_matrix(tracklets, detections, tracklet_boxes_by_id)
        self._stage += 1
        looks = self.looks
        if self._stage != 1 or looks is None or not iou.size:
            return iou
        known = np.array([t.embedding is not None for t in tracklets])
        if not known.any():
            return iou
        cols = looks.columns(np.asarray(detections))
        banks = np.stack([t.embedding if t.embedding is not None
                          else np.zeros(looks.embeddings.shape[1]) for t in tracklets])  # fmt: skip
        cosine = np.clip(banks @ looks.embeddings[cols].T, 0.0, 1.0)
        weight = np.where(known[:, None] & (iou > 0), looks.weights[cols][None, :], 0.0)
        return (1 - weight) * iou + weight * cosine

    def _spawn_new_tracks(self, detection_boxes, confidences, unmatched_high_local,
                          high_indices, out_det_indices, out_tracker_ids,
                          is_first_frame=False) -> None:  # fmt: skip
        for det_local_idx in unmatched_high_local:
            global_idx = int(high_indices[det_local_idx])
            out_det_indices.append(global_idx)
            if float(confidences[global_idx]) < self.track_activation_threshold:
                out_tracker_ids.append(-1)
                continue
            tracklet = _Tracklet(detection_boxes[global_idx], reupdate=self.reupdate,
                                 state_estimator_class=self.state_estimator_class)  # fmt: skip
            if is_first_frame and self.instant_first_frame_activation:
                tracklet.tracker_id = self._allocate_tracker_id()
            self.tracks.append(tracklet)
            out_tracker_ids.append(tracklet.tracker_id)


def build_core(params: TrackerParams) -> _Core:
    """BoT-SORT configured from vsdmot's settings (``miss_tolerance`` counted in frames)."""
    life, match = params.lifecycle, params.matching
    core = _Core(
        lost_track_buffer=life.miss_tolerance,
        frame_rate=30.0,  # the buffer is in 30 fps frames: this makes it plain frames
        track_activation_threshold=life.birth_thresh,
        minimum_consecutive_frames=life.min_hits,
        minimum_iou_threshold_first_assoc=match.match_iou,
        minimum_iou_threshold_second_assoc=match.low_match_iou,
        minimum_iou_threshold_unconfirmed_assoc=params.evidence.unconfirmed_iou,
        high_conf_det_threshold=match.high_thresh,
        enable_cmc=params.movement.cmc,
        cmc_downscale=params.movement.cmc_downscale,
        iou=BIoU(buffer_ratio=match.iou_buffer),  # buffer 0 is plain IoU, exactly
    )
    core.reupdate = match.reupdate
    return core


class QueryBoTSORT:
    """The model's queries over BoT-SORT's identities; same contract as
    :class:`~vsdmot.tracking.query_tracker.QueryTracker` (``update(frame, proposals)``)."""

    def __init__(self, model: VSDMOT, params: TrackerParams, device: str = "cpu",
                 embedder: Embedder | None = None) -> None:  # fmt: skip
        """``embedder(frame, boxes_xyxy) -> (N, E)`` unit rows, when given, embeds the
        detections' crops instead of the model's embedding head."""
        self.model = model.eval().to(device)
        self.params = params
        self.device = torch.device(device)
        self.embedder = embedder
        self.reset()

    def reset(self) -> None:
        self.core = build_core(self.params)
        self._queries: TrackQueries | None = None
        semantic = getattr(self.model, "semantic_branch", None)
        if semantic is not None and hasattr(semantic, "reset"):
            semantic.reset()

    @property
    def tracks(self) -> list:
        return list(self.core.tracks)

    @torch.no_grad()
    def update(self, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
        proposals = np.asarray(proposals, dtype=np.float64).reshape(-1, 5)
        height, width = frame.shape[:2]
        scale = np.array([width, height, width, height], dtype=np.float64)
        image, mask, props, kept = model_inputs(frame, proposals, self.params.inputs, self.device)
        live = list(self.core.tracks)
        out = self.model.inference_step(image, mask, props, self._track_queries(live),
                                        semantic_fusion=self.params.inputs.semantic_fusion)
        scores = out.logits.sigmoid().cpu().numpy().astype(np.float64)
        boxes = box_cxcywh_to_xyxy(out.boxes).cpu().numpy().astype(np.float64) * scale
        dets, source = self._detections(proposals, kept, out, scores, boxes)
        embeddings = self._detection_embeddings(frame, dets, source, out)
        self.core.looks = self._looks(dets, source, embeddings, out)
        result = self.core.update(dets, frame=frame if self.params.movement.cmc else None)
        self._carry(out, source, dets, embeddings)
        tracks = detections_to_frame_tracks(result)
        extras = semantic_extras(out.semantic)
        if embeddings is not None:
            extras["appearance_weight"] = self.params.appearance.effective_weight(
                extras.get("quality")
            )
        tracks.extras.update(extras)
        return tracks

    def _track_queries(self, live: list) -> TrackQueries | None:
        """The stored queries of the live tracks that have one (in the core's order); each
        track learns its row among this frame's outputs."""
        with_query = [t for t in live if t.query_row >= 0]
        for t in live:
            t.out_row = -1
        for i, t in enumerate(with_query):
            t.out_row = i
        if self._queries is None or not with_query:
            return None
        rows = torch.tensor([t.query_row for t in with_query], dtype=torch.long)
        return TrackQueries(self._queries.embed[rows], self._queries.ref_boxes[rows])

    def _detections(self, proposals, kept, out: FrameOutput, scores, boxes):
        """The detections handed to the core, and which query each came from."""
        ev, n_track = self.params.evidence, out.num_track
        prop_rows = np.flatnonzero(out.kinds.cpu().numpy() == PROPOSAL)
        xyxy, conf = proposals[:, :4].copy(), proposals[:, 4].copy()
        source = np.full(len(proposals), -1, dtype=np.int64)
        source[kept] = prop_rows
        if len(kept) and (ev.rescore > 0 or ev.refine_boxes):
            objectness = scores[prop_rows].copy()
            if n_track:  # a track query holding the same object speaks for it
                overlap = box_iou(boxes[prop_rows], boxes[:n_track])
                held = np.where(overlap >= 0.5, scores[None, :n_track], 0.0).max(axis=1)
                objectness = np.maximum(objectness, held)
            conf[kept] = (1 - ev.rescore) * conf[kept] + ev.rescore * objectness
            if ev.refine_boxes:
                xyxy[kept] = boxes[prop_rows]
        extra = self._missed_by_detector(scores, boxes, n_track, xyxy)
        xyxy = np.concatenate([xyxy, boxes[extra]])
        conf = np.concatenate([conf, scores[extra]])
        source = np.concatenate([source, extra])
        return sv.Detections(xyxy=xyxy.astype(np.float32), confidence=conf.astype(np.float32),
                             class_id=np.zeros(len(xyxy), dtype=int)), source  # fmt: skip

    def _missed_by_detector(self, scores, boxes, n_track: int, det_xyxy) -> np.ndarray:
        """Track-query rows that still see their object where no proposal is."""
        keep = self.params.matching.query_keep
        if keep >= 1.0 or n_track == 0:
            return np.zeros(0, dtype=np.int64)
        confident = np.flatnonzero(scores[:n_track] >= keep)
        if len(det_xyxy) and len(confident):
            covered = box_iou(boxes[confident], det_xyxy).max(axis=1) >= 0.5
            confident = confident[~covered]
        return confident.astype(np.int64)

    def _confident(self, dets: sv.Detections) -> np.ndarray:
        """The detections of the first stage, the only ones whose appearance counts."""
        return np.asarray(dets.confidence) >= self.params.matching.high_thresh

    def _detection_embeddings(self, frame: np.ndarray, dets: sv.Detections, source: np.ndarray,
                              out: FrameOutput) -> np.ndarray | None:  # fmt: skip
        """One row per detection: the external embedder on its box, else the embedding of
        the query it came from (zero for a detection without one); None without either,
        or when appearance plays no part (no crop network pass for nothing)."""
        if self.params.appearance.appearance_weight <= 0:
            return None
        if self.embedder is not None:
            # Appearance counts for confident detections that came with a query (the first
            # stage, the banks' updates) only: a crop network pass on the others is wasted.
            used = self._confident(dets) & (source >= 0)
            if not used.any():
                return None
            crops = self.embedder(frame, dets.xyxy[used])
            rows = np.zeros((len(dets), crops.shape[1]), dtype=crops.dtype)
            rows[used] = crops
            return rows
        if out.embeddings is None:
            return None
        embeddings = out.embeddings.cpu().numpy()
        rows = np.zeros((len(source), embeddings.shape[1]), dtype=embeddings.dtype)
        rows[source >= 0] = embeddings[source[source >= 0]]
        return rows

    def _looks(self, dets: sv.Detections, source: np.ndarray, embeddings: np.ndarray | None,
               out: FrameOutput) -> _Looks | None:  # fmt: skip
        """Appearance for the core: each detection's embedding (one row per detection)
        and weight ``appearance_weight x confidence (x q_t with DSWR)``."""
        look = self.params.appearance
        if embeddings is None or not len(dets):  # None too when appearance has no weight
            return None
        has = source >= 0
        rows = np.where(has[:, None], embeddings, 0.0).astype(np.float64)
        quality = semantic_extras(out.semantic).get("quality")
        confidence = np.asarray(dets.confidence, dtype=np.float64)
        weight = look.effective_weight(quality) * confidence * has
        return _Looks(dets.xyxy.astype(np.float32), rows, np.clip(weight, 0.0, 1.0))

    def _carry(self, out: FrameOutput, source: np.ndarray, dets: sv.Detections,
               embeddings: np.ndarray | None) -> None:  # fmt: skip
        """Each live track's query for the next frame: the query of the detection it took
        on this frame, else its own track query; a confident detection's embedding (one
        row per detection) joins the appearance bank of the track that took it."""
        rows = []
        det_xyxy, momentum = dets.xyxy, self.params.appearance.embedding_momentum
        confident = self._confident(dets)
        for track in self.core.tracks:
            row = track.out_row  # its own track query on this frame, if it had one
            if track.time_since_update == 0:
                hit = np.flatnonzero((det_xyxy == track.observation.astype(np.float32)).all(1))
                if len(hit) and source[hit[0]] >= 0:
                    row = int(source[hit[0]])
                    if embeddings is not None and confident[hit[0]]:
                        track.embedding = blend_unit(track.embedding, embeddings[hit[0]],
                                                     momentum)  # fmt: skip
            track.query_row = len(rows) if row >= 0 else -1
            if row >= 0:
                rows.append(row)
        if not rows:
            self._queries = None
            return
        index = torch.tensor(rows, dtype=torch.long, device=out.hidden.device)
        self._queries = self.model.next_track_queries(out, index)
