"""Association strategies and motion models of the runtime tracker, on hand-made evidence."""

from __future__ import annotations

import numpy as np
import pytest

from vsdmot.tracking.association import (
    AnchorAssociator,
    FrameEvidence,
    FusedAssociator,
    QueryOnlyAssociator,
    build_associator,
)
from vsdmot.tracking.motion import build_motion
from vsdmot.tracking.params import MotionParams, TrackerParams
from vsdmot.tracking.query_tracker import Track

A = np.array([0.0, 0.0, 10.0, 20.0])
B = np.array([30.0, 0.0, 40.0, 20.0])
UNIT = np.eye(2)


def _evidence(
    predicted, det_boxes, det_scores, *, misses=None, track_emb=None, det_emb=None, quality=None
) -> FrameEvidence:
    predicted = np.asarray(predicted, float).reshape(-1, 4)
    n = len(predicted)
    return FrameEvidence(
        track_boxes=predicted,
        track_scores=np.full(n, 0.9),
        predicted=predicted,
        track_misses=np.zeros(n, int) if misses is None else np.asarray(misses),
        det_boxes=np.asarray(det_boxes, float).reshape(-1, 4),
        det_scores=np.asarray(det_scores, float),
        track_embeddings=track_emb,
        det_embeddings=det_emb,
        quality=quality,
    )


def _fused(**settings) -> FusedAssociator:
    p = TrackerParams(**settings)
    return FusedAssociator(p.matching, p.appearance)


def test_fused_two_stages_by_score() -> None:
    fused = _fused(high_thresh=0.5, low_thresh=0.1, low_match_iou=0.5)
    # Track 0 meets a high detection, track 1 only a low one (still matched, stage 2),
    # and a detection below low_thresh matches nothing.
    ev = _evidence([A, B], [A + 1, B + 1, A + 100], [0.9, 0.3, 0.05])
    out = fused.associate(ev)
    assert sorted(out.matches.tolist()) == [[0, 0], [1, 1]]
    assert out.seen.tolist() == [True, True]
    # Only the confident (stage-1) match refreshes the appearance bank.
    assert out.embedding_updates.tolist() == [True, False]


def test_fused_low_detections_do_not_revive_lost_tracks() -> None:
    fused = _fused(high_thresh=0.5)
    out = fused.associate(_evidence([A], [A], [0.3], misses=[2]))
    assert len(out.matches) == 0 and out.seen.tolist() == [False]


def test_appearance_resolves_crossing_tracks_and_dswr_scales_it() -> None:
    # Two tracks predicted at the same place (crossing); detections there too. Motion
    # cannot tell them apart; appearance can.
    boxes = [A, A + np.array([0.0, 0.0, 0.0, 1.0])]
    track_emb = UNIT
    det_emb = UNIT[::-1].copy()  # detection 0 looks like track 1
    fused = _fused(appearance_weight=0.5, appearance_dswr=True)
    good = fused.associate(
        _evidence(boxes, boxes, [0.9, 0.9], track_emb=track_emb, det_emb=det_emb, quality=1.0)
    )
    assert sorted(good.matches.tolist()) == [[0, 1], [1, 0]]
    # q_t = 0: DSWR turns appearance off, motion alone decides (the slightly better IoU).
    blind = fused.associate(
        _evidence(boxes, boxes, [0.9, 0.9], track_emb=track_emb, det_emb=det_emb, quality=0.0)
    )
    assert sorted(blind.matches.tolist()) == [[0, 0], [1, 1]]
    # Without DSWR the constant weight keeps appearance on whatever q_t says.
    constant = _fused(appearance_weight=0.5, appearance_dswr=False).associate(
        _evidence(boxes, boxes, [0.9, 0.9], track_emb=track_emb, det_emb=det_emb, quality=0.0)
    )
    assert sorted(constant.matches.tolist()) == [[0, 1], [1, 0]]


def test_lost_track_is_reidentified_by_appearance_only() -> None:
    far = A + 200.0
    emb = np.array([[1.0, 0.0]])
    fused = _fused(reid_cos=0.8)
    lost = fused.associate(_evidence([A], [far], [0.9], misses=[3], track_emb=emb, det_emb=emb))
    assert lost.matches.tolist() == [[0, 0]]
    # An active track is not teleported by appearance: motion gates it.
    active = fused.associate(_evidence([A], [far], [0.9], track_emb=emb, det_emb=emb))
    assert len(active.matches) == 0
    # And a lost track is not re-identified by a different-looking detection.
    other = np.array([[0.0, 1.0]])
    stranger = fused.associate(
        _evidence([A], [far], [0.9], misses=[3], track_emb=emb, det_emb=other)
    )
    assert len(stranger.matches) == 0


def test_anchor_needs_iou_and_an_own_score() -> None:
    ev = _evidence([A, B], [A, B + 8], [0.9, 0.9])
    ev.track_scores = np.array([0.9, 0.2])
    out = AnchorAssociator(anchor_iou=0.5, keep_thresh=0.4).associate(ev)
    assert out.matches.tolist() == [[0, 0]]  # B moved too far for IoU 0.5
    assert out.seen.tolist() == [True, False]
    e2e = QueryOnlyAssociator(keep_thresh=0.4).associate(ev)
    assert len(e2e.matches) == 0 and e2e.seen.tolist() == [True, False] and not e2e.coast


def test_registry_builds_every_strategy_and_anchor_zero_is_e2e() -> None:
    kinds = {
        name: type(build_associator(TrackerParams(association=name)))
        for name in ("fused", "anchor", "e2e")
    }
    assert kinds == {
        "fused": FusedAssociator,
        "anchor": AnchorAssociator,
        "e2e": QueryOnlyAssociator,
    }
    zero = build_associator(TrackerParams(association="anchor", anchor_iou=0.0))
    assert isinstance(zero, QueryOnlyAssociator)
    with pytest.raises(ValueError, match="association 'greedy'"):
        build_associator(TrackerParams(association="greedy"))
    with pytest.raises(ValueError, match="motion model 'teleport'"):
        build_motion(MotionParams(motion="teleport"), (1.0, 1.0))


@pytest.mark.parametrize("name", ["kalman", "velocity"])
def test_motion_models_follow_constant_velocity(name: str) -> None:
    state = build_motion(MotionParams(name, 0.5), (1000.0, 1000.0)).start(A)
    for t in range(1, 10):
        state.predict()
        state.update(A + np.array([5.0 * t, 0, 5.0 * t, 0]))
    # Two missed frames: the prediction keeps moving right.
    state.predict()
    state.update(None)
    pred = state.predict()
    assert pred[0] > 5.0 * 9 + 5.0, pred  # beyond the last seen position
    static = build_motion(MotionParams("static", 0.5), (1000.0, 1000.0)).start(A)
    static.update(A + 5)
    assert static.predict().tolist() == (A + 5).tolist()


def test_track_bank_is_a_unit_ema() -> None:
    track = Track(1, build_motion(MotionParams("static", 0.5), (1.0, 1.0)).start(A), A, 0.9)
    track.remember(np.array([1.0, 0.0]), 0.9)
    track.remember(np.array([0.0, 1.0]), 0.9)
    assert track.embedding is not None
    assert np.linalg.norm(track.embedding) == pytest.approx(1.0)
    assert track.embedding[0] > track.embedding[1] > 0  # the old look dominates


def test_settings_are_grouped_by_concern_and_typed_when_stored() -> None:
    from vsdmot.tracking.params import read_runtime_block, runtime_block

    p = TrackerParams(high_thresh=0.5, miss_tolerance=3, motion="static")
    assert (p.matching.high_thresh, p.lifecycle.miss_tolerance, p.movement.motion) == (
        0.5, 3, "static")  # fmt: skip
    assert TrackerParams(**p.flat()) == p
    with pytest.raises(ValueError, match="unknown tracker setting"):
        TrackerParams(speed=11)
    block = runtime_block({"miss_tolerance": 3})
    assert read_runtime_block(block, "m.pt") == {"miss_tolerance": 3}
    assert read_runtime_block({"miss_tolerance": 3}, "m.pt") == {"miss_tolerance": 3}  # v0
    with pytest.raises(ValueError, match="m.pt: unknown runtime setting"):
        read_runtime_block({"version": 1, "settings": {"speed": 1}}, "m.pt")
    with pytest.raises(ValueError, match="version 9"):
        read_runtime_block({"version": 9, "settings": {}}, "m.pt")
    with pytest.raises(ValueError, match="appearance_dswr='maybe' is not a bool"):
        read_runtime_block({"appearance_dswr": "maybe"}, "m.pt")
