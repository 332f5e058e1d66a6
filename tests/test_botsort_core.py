"""``association=botsort``: vsdmot with its evidence off is BoT-SORT, row for row; each
piece of evidence is a switch that changes the tracks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.sequences import generated_dataset

from vsdmot.data.sequence import MOTSequence
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.registry import build_tracker
from vsdmot.tracking.run import track_frames

#: BoT-SORT's own defaults in vsdmot's names (miss_tolerance in frames at 30 fps).
BOTSORT_DEFAULTS = ("birth_thresh=0.7,min_hits=2,match_iou=0.2,low_match_iou=0.5,"
                    "high_thresh=0.6,miss_tolerance=30,unconfirmed_iou=0.3,"
                    "cmc_downscale=2")  # fmt: skip
EVIDENCE_OFF = "rescore=0,refine_boxes=off,query_keep=1.0,appearance_weight=0"


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> MOTSequence:
    root = generated_dataset(tmp_path_factory.mktemp("core") / "data", sequences=1, frames=30)
    return MOTSequence(root / "SYNTH-0000")


def _track(spec: str, seq: MOTSequence):
    tracker = build_tracker(spec, frame_rate=seq.info.frame_rate)
    return track_frames(tracker, seq, DetFileProposals(seq.det_path), progress=False).results


def test_evidence_off_is_botsort_row_for_row(sequence: MOTSequence, tiny_weights: Path) -> None:
    ours = _track(f"vsdmot:weights={tiny_weights},association=botsort,{BOTSORT_DEFAULTS},"
                  f"{EVIDENCE_OFF}", sequence)  # fmt: skip
    theirs = _track("botsort", sequence)
    assert len(theirs.frame) > 50  # it tracks something
    np.testing.assert_array_equal(ours.frame, theirs.frame)
    np.testing.assert_array_equal(ours.track_id, theirs.track_id)
    np.testing.assert_array_equal(ours.boxes, theirs.boxes)


def test_cmc_downscale_reaches_the_flow_and_is_refused_without_cmc(tiny_weights: Path) -> None:
    tracker = build_tracker(f"vsdmot:weights={tiny_weights},association=botsort,cmc_downscale=3")
    assert tracker.core.core.cmc.downscale == 3
    with pytest.raises(ValueError, match="cmc_downscale has no effect with cmc=False"):
        build_tracker(f"vsdmot:weights={tiny_weights},association=botsort,cmc=off,"
                      "cmc_downscale=3")  # fmt: skip


@pytest.fixture(scope="module")
def evidence_off() -> Callable[[str, MOTSequence], Any]:
    """Tracks with every piece of evidence off, run once per spec for the module."""
    done: dict[str, Any] = {}

    def run(spec: str, seq: MOTSequence) -> Any:
        if spec not in done:
            done[spec] = _track(spec, seq)
        return done[spec]

    return run


@pytest.mark.parametrize(
    "evidence", ["rescore=0.8", "refine_boxes=on", "query_keep=0.05", "appearance_weight=0.9"]
)
def test_each_piece_of_evidence_changes_the_tracks(
    sequence: MOTSequence, tiny_weights: Path, evidence: str, evidence_off
) -> None:
    # The untrained tiny model never scores its track queries above BoT-SORT's floor of
    # 0.1, so a track query can only keep its track with the shipped model; appearance
    # needs a trained embedding head too.
    trained = evidence.startswith(("query_keep", "appearance"))
    weights = "" if trained else f"weights={tiny_weights},"
    base = f"vsdmot:{weights}association=botsort,{BOTSORT_DEFAULTS}"
    off = evidence_off(f"{base},{EVIDENCE_OFF}", sequence)
    key = evidence.split("=")[0]
    others = ",".join(x for x in EVIDENCE_OFF.split(",") if not x.startswith(key))
    on = _track(f"{base},{others},{evidence}", sequence)
    same = (len(on.frame) == len(off.frame) and np.array_equal(on.boxes, off.boxes)
            and np.array_equal(on.track_id, off.track_id))  # fmt: skip
    assert not same, evidence
    assert (on.track_id >= 1).all()


def _core(**settings):
    from vsdmot.tracking.params import TrackerParams
    from vsdmot.tracking.query_botsort import build_core

    return build_core(TrackerParams(association="botsort", cmc=False, birth_thresh=0.5,
                                    min_hits=1, **settings))  # fmt: skip


def _det(*boxes):
    import supervision as sv

    xyxy = np.array(boxes, dtype=np.float32).reshape(-1, 4)
    return sv.Detections(xyxy=xyxy, confidence=np.full(len(xyxy), 0.9, np.float32))


def _ids(core, boxes) -> list[int]:
    return core.update(_det(*boxes)).tracker_id.tolist()


def test_buffered_iou_keeps_a_box_that_jumped_clear_of_its_track() -> None:
    """A box whose next position no longer overlaps its last one: plain IoU starts a new
    track, a 0.3 buffer (C-BIoU) keeps the one it has."""
    path = [[100, 100, 120, 160], [124, 100, 144, 160]]  # 4 px clear on the second frame
    plain, buffered = _core(match_iou=0.1), _core(match_iou=0.1, iou_buffer=0.3)
    for box in path:
        plain.update(_det(box)), buffered.update(_det(box))
    assert len(plain.tracks) == 2 and len(buffered.tracks) == 1
    (track,) = buffered.tracks
    np.testing.assert_allclose(track.observation, path[1])


def test_reupdate_is_the_filter_fed_the_straight_path_through_the_gap() -> None:
    """After a gap, OC-SORT's re-update leaves the filter exactly where it would be had the
    straight path between the two real observations been observed frame by frame."""
    from vsdmot.tracking.query_botsort import _Tracklet

    box = lambda x: np.array([x, 100.0, x + 30, 190])  # noqa: E731
    replayed, fed, blind = (_Tracklet(box(100), reupdate=r) for r in (True, False, False))
    for t in range(1, 4):
        for tracklet in (replayed, fed, blind):
            tracklet.predict()
            tracklet.update(box(100 + 6 * t))
    gap, last, new = 7, 118.0, 132.0
    for i in range(1, gap + 1):
        for tracklet in (replayed, fed, blind):
            tracklet.predict()
        if i < gap:
            fed.update(box(last + (new - last) * i / gap))
    for tracklet in (replayed, fed, blind):
        tracklet.update(box(new))
    state = {k: t.state_estimator.kf.state.ravel() for k, t in
             (("replayed", replayed), ("fed", fed), ("blind", blind))}  # fmt: skip
    np.testing.assert_allclose(state["replayed"], state["fed"], atol=1e-9)
    # BoT-SORT's filter trusts an observation after blind predictions so much that the
    # velocity moves little (0.03 px/frame here), but it moves.
    assert abs(state["blind"][4] - state["fed"][4]) > 0.01
    assert replayed.time_since_update == 0 and replayed.number_of_successful_updates == 5
