"""Runtime tracker decisions (birth / keep / kill / ids / cap) with a scripted model.

The scripted model stands in for :class:`VSDMOT` so that the tracker's own logic
is tested exactly; the learned model is exercised in the learning tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from trackers import ByteTrackTracker

from vsdmot.models.tracker import FrameOutput, TrackQueries
from vsdmot.tracking.base import FrameTracks
from vsdmot.tracking.params import TrackerParams
from vsdmot.tracking.query_tracker import QueryTracker, proposals_to_model
from vsdmot.tracking.registry import build_tracker, step
from vsdmot.tracking.run import track_frames

W, H = 200, 100
BOXES = {  # object key -> x1, y1, x2, y2 (static, far apart)
    1: (10, 10, 40, 80),
    2: (80, 10, 110, 80),
    3: (150, 10, 180, 80),
}


def _norm(box: tuple[float, ...]) -> list[float]:
    x1, y1, x2, y2 = box
    return [(x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H]


class ScriptedModel(torch.nn.Module):
    """Scores a track query 0.9 when its object is visible this frame, else 0.1.

    Proposal queries score their proposal's score; one learnable query scores ~0.
    A track query remembers its object in ``embed[:, 0]``.
    """

    def __init__(self, visible: dict[int, set[int]]) -> None:
        super().__init__()
        self.visible = visible  # frame -> visible object keys
        self.frame = 0
        self.semantic_branch = None

    def _key_of(self, box: torch.Tensor) -> int:
        cx = float(box[0]) * W
        return min(BOXES, key=lambda k: abs((BOXES[k][0] + BOXES[k][2]) / 2 - cx))

    def inference_step(self, image, mask, proposals, tracks, semantic_fusion=True):
        self.frame += 1
        keys, scores, boxes = [], [], []
        for k in [] if tracks is None else tracks.embed[:, 0].long().tolist():
            keys.append(k)
            scores.append(0.9 if k in self.visible[self.frame] else 0.1)
            boxes.append(_norm(BOXES[k]))
        n_track = len(keys)
        for p in proposals:
            keys.append(self._key_of(p))
            scores.append(float(p[4]))
            boxes.append(p[:4].tolist())
        keys.append(0)
        scores.append(0.001)
        boxes.append([0.5, 0.5, 0.1, 0.1])
        s = torch.tensor(scores).clamp(1e-4, 1 - 1e-4)
        kinds = torch.tensor([0] * n_track + [1] * len(proposals) + [2])
        hidden = torch.zeros(len(keys), 4)
        hidden[:, 0] = torch.tensor(keys, dtype=torch.float32)
        return FrameOutput(
            logits=torch.log(s / (1 - s)),
            boxes=torch.tensor(boxes),
            hidden=hidden,
            kinds=kinds,
            num_track=n_track,
        )

    def next_track_queries(self, out: FrameOutput, keep: torch.Tensor) -> TrackQueries:
        return TrackQueries(out.hidden[keep], out.boxes[keep])


def _proposals(keys: set[int], score: float = 0.9) -> np.ndarray:
    return np.array([[*BOXES[k], score] for k in sorted(keys)]).reshape(-1, 5)


def _run(visible: dict[int, set[int]], proposed: dict[int, set[int]], params: TrackerParams):
    tracker = QueryTracker(ScriptedModel(visible), params)  # type: ignore[arg-type]
    frame = np.zeros((H, W, 3), np.uint8)
    return tracker, [tracker.update(frame, _proposals(proposed[t])) for t in sorted(visible)]


def _ids_by_key(tracks: FrameTracks) -> dict[int, int]:
    centres = (tracks.xyxy[:, 0] + tracks.xyxy[:, 2]) / 2
    key = {round((b[0] + b[2]) / 2): k for k, b in BOXES.items()}
    return {key[round(c)]: int(i) for c, i in zip(centres, tracks.tracker_ids, strict=True)}


MODES = [dict(association="fused"), dict(association="anchor", motion="velocity")]
"""The default strategy and the original one (anchor + velocity prior)."""
LEGACY = dict(association="anchor", motion="velocity")


@pytest.mark.parametrize("mode", MODES, ids=["fused", "anchor"])
def test_identity_survives_occlusion_and_births_are_not_duplicated(mode) -> None:
    # Object 1 everywhere except frames 4-6 (occluded: no proposal, low track score);
    # object 2 appears at frame 3. Proposals for tracked objects keep coming.
    visible = {
        t: ({1} if t not in (4, 5, 6) else set()) | ({2} if t >= 3 else set()) for t in range(1, 11)
    }
    params = TrackerParams(miss_tolerance=5, input_short_side=64, input_max_side=128, **mode)
    _, frames = _run(visible, visible, params)
    ids = [_ids_by_key(f) for f in frames]
    assert ids[0] == {1: 1}
    assert ids[2] == {1: 1, 2: 2}
    assert ids[4] == {2: 2}  # object 1 silent while occluded, not reported
    assert ids[6] == {1: 1, 2: 2}  # and comes back with its id
    assert all(len(f) == len(set(f.tracker_ids.tolist())) for f in frames)
    assert max(max(i.values()) for i in ids if i) == 2  # no duplicate births


@pytest.mark.parametrize("mode", MODES, ids=["fused", "anchor"])
def test_track_is_killed_after_miss_tolerance_and_reborn_with_new_id(mode) -> None:
    visible = {t: ({1} if t <= 2 or t >= 7 else set()) for t in range(1, 9)}
    params = TrackerParams(miss_tolerance=2, input_short_side=64, input_max_side=128, **mode)
    tracker, frames = _run(visible, visible, params)
    assert _ids_by_key(frames[0]) == {1: 1}
    assert _ids_by_key(frames[6]) == {1: 2}  # the old query died after 2 misses
    assert len(tracker.tracks) == 1

    tracker.reset()
    out = tracker.update(np.zeros((H, W, 3), np.uint8), _proposals({3}))
    assert out.tracker_ids.tolist() == [1]  # ids restart per video


@pytest.mark.parametrize("mode", MODES, ids=["fused", "anchor"])
def test_low_score_proposals_do_not_give_birth_and_cap_holds(mode) -> None:
    visible = {1: {1, 2, 3}, 2: {1, 2, 3}}
    params = TrackerParams(birth_thresh=0.95, input_short_side=64, input_max_side=128, **mode)
    _, frames = _run(visible, visible, params)
    assert all(len(f) == 0 for f in frames)

    params = TrackerParams(max_tracks=2, input_short_side=64, input_max_side=128, **mode)
    tracker, frames = _run(visible, visible, params)
    assert len(tracker.tracks) == 2 and len(frames[-1]) == 2


def test_two_instances_do_not_share_ids() -> None:
    params = TrackerParams(input_short_side=64, input_max_side=128)
    frame = np.zeros((H, W, 3), np.uint8)
    a = QueryTracker(ScriptedModel({1: {1}}), params)  # type: ignore[arg-type]
    b = QueryTracker(ScriptedModel({1: {2}}), params)  # type: ignore[arg-type]
    assert a.update(frame, _proposals({1})).tracker_ids.tolist() == [1]
    assert b.update(frame, _proposals({2})).tracker_ids.tolist() == [1]


def test_proposals_are_normalised_and_clipped() -> None:
    p = proposals_to_model(np.array([[-10, 0, 50, 50, 1.5], [5, 5, 5, 9, 0.5]]), 100, 50)
    assert p.shape == (1, 5)  # the zero-width box is dropped
    np.testing.assert_allclose(p[0].numpy(), [0.25, 0.5, 0.5, 1.0, 1.0], atol=1e-6)


def test_track_frames_keeps_numbering_over_skipped_frames() -> None:
    tracker = build_tracker("bytetrack:minimum_consecutive_frames=1", frame_rate=25)
    box = np.array([[10, 10, 40, 80, 0.9]])
    frames = [(t, None if t == 3 else np.zeros((H, W, 3), np.uint8)) for t in range(1, 6)]
    run = track_frames(tracker, frames, lambda f, t: box, progress=False)
    assert run.skipped == [3] and run.frames == 4
    assert 3 not in run.results.frame.tolist()
    assert set(run.results.frame.tolist()) <= {1, 2, 4, 5}
    assert set(run.results.track_id.tolist()) == {1}


@pytest.mark.parametrize("name", ["bytetrack", "ocsort", "botsort", "sort", "cbiou"])
def test_peers_report_mot_ids_from_one(name: str) -> None:
    tracker = build_tracker(name, frame_rate=25)
    frame = np.zeros((H, W, 3), np.uint8)
    seen: set[int] = set()
    for t in range(8):
        out = step(tracker, frame, np.array([[10 + t, 10, 40 + t, 80, 0.9]]))
        seen |= set(out.tracker_ids.tolist())
    assert seen == {1}


class LazyModel(torch.nn.Module):
    """A model whose track queries never move (like an undertrained one) and score 0.9;
    proposal queries sit on their proposals."""

    semantic_branch = None

    def inference_step(self, image, mask, proposals, tracks, semantic_fusion=True):
        n_track = 0 if tracks is None else len(tracks.ref_boxes)
        boxes = [] if tracks is None else [tracks.ref_boxes]
        boxes.append(proposals[:, :4])
        boxes_t = torch.cat(boxes)
        scores = torch.tensor([0.9] * n_track + proposals[:, 4].tolist())
        return FrameOutput(
            logits=torch.log(scores / (1 - scores)),
            boxes=boxes_t,
            hidden=torch.zeros(len(boxes_t), 4),
            kinds=torch.tensor([0] * n_track + [1] * len(proposals)),
            num_track=n_track,
        )

    def next_track_queries(self, out: FrameOutput, keep: torch.Tensor) -> TrackQueries:
        return TrackQueries(out.hidden[keep], out.boxes[keep])


@pytest.mark.parametrize(("anchor_iou", "follows"), [(0.5, True), (0.0, False)])
def test_anchoring_keeps_a_lazy_track_on_its_object(anchor_iou: float, follows: bool) -> None:
    params = TrackerParams(anchor_iou=anchor_iou, input_short_side=64, input_max_side=128, **LEGACY)
    tracker = QueryTracker(LazyModel(), params)  # type: ignore[arg-type]
    frame = np.zeros((H, W, 3), np.uint8)
    outs = []
    for t in range(8):  # the object walks 4 px per frame: after 7 frames IoU with t=0 is < 0.3
        box = np.array([[10 + 4 * t, 10, 30 + 4 * t, 80, 0.9]])
        outs.append(tracker.update(frame, box))
    last = {int(i): box for i, box in zip(outs[-1].tracker_ids, outs[-1].xyxy, strict=True)}
    if follows:  # one identity throughout, on the object
        assert all(o.tracker_ids.tolist() == [1] for o in outs)
        assert abs(last[1][0] - 38) < 0.5
    else:  # track 1 stays where it was born and the object is re-born as a duplicate
        assert abs(last[1][0] - 10) < 0.5
        assert max(last) > 1


@pytest.mark.parametrize(("momentum", "same_id"), [(0.5, True), (1.0, False)])
def test_unanchored_track_coasts_with_its_velocity(momentum: float, same_id: bool) -> None:
    # 8 px per frame, detections missing on frames 5-8: without carrying the track forward
    # (momentum 1 keeps velocity 0) the object reappears 40 px away from its track.
    params = TrackerParams(
        velocity_momentum=momentum, input_short_side=64, input_max_side=128, **LEGACY
    )
    tracker = QueryTracker(LazyModel(), params)  # type: ignore[arg-type]
    frame = np.zeros((H, W, 3), np.uint8)
    ids = []
    for t in range(12):
        box = np.array([[10 + 8 * t, 10, 30 + 8 * t, 80, 0.9]])
        out = tracker.update(frame, box[:0] if 5 <= t <= 8 else box)
        ids.append(out.tracker_ids.tolist())
    assert ids[4] == [1] and all(i == [] for i in ids[5:9])  # silent while unseen
    assert (ids[11] == [1]) is same_id


def test_overlapped_detection_gives_the_same_tracks_and_raises_in_order() -> None:
    """Detecting in a worker thread ahead of the tracker changes nothing but speed."""
    frames = [(t, np.zeros((H, W, 3), np.uint8)) for t in range(1, 9)]

    def detect(frame: np.ndarray, t: int) -> np.ndarray:
        return np.array([[10 + 3 * t, 10, 40 + 3 * t, 80, 0.9], [100, 20, 130, 90, 0.8]])

    runs = [
        track_frames(
            build_tracker("bytetrack", frame_rate=25),
            iter(frames),
            detect,
            progress=False,
            overlap=overlap,
        )
        for overlap in (False, True)
    ]
    np.testing.assert_array_equal(runs[0].results.boxes, runs[1].results.boxes)
    np.testing.assert_array_equal(runs[0].results.track_id, runs[1].results.track_id)

    def failing(frame: np.ndarray, t: int) -> np.ndarray:
        if t == 5:
            raise RuntimeError("detector broke on frame 5")
        return detect(frame, t)

    seen: list[int] = []

    class Recorder(ByteTrackTracker):
        def update(self, detections, frame=None, timestamp=None):
            seen.append(len(seen) + 1)
            return super().update(detections)

    with pytest.raises(RuntimeError, match="frame 5"):
        track_frames(Recorder(), iter(frames), failing, progress=False)
    assert seen == [1, 2, 3, 4]  # every frame before the failure was tracked, in order


@pytest.mark.parametrize("shorter", [96, 240])  # shrinking and enlarging
def test_runtime_preprocessing_is_trainings(shorter: int) -> None:
    from vsdmot.data.augment import eval_transform
    from vsdmot.data.clips import to_tensor
    from vsdmot.data.preprocess import resize_size
    from vsdmot.tracking.query_tracker import frame_to_tensor

    frame = (np.random.default_rng(0).random((120, 160, 3)) * 255).astype(np.uint8)
    transform = eval_transform(160, 120, shorter, 1000)
    train_input = to_tensor(transform.apply_image(frame), transform)
    size = resize_size(160, 120, shorter, 1000)
    assert torch.equal(frame_to_tensor(frame, size)[0], train_input)


@pytest.mark.parametrize("query_keep", [1.0, 0.8])
def test_fused_kalman_follows_a_lazy_model_and_bridges_a_gap(query_keep: float) -> None:
    """The default (fused association, Kalman motion) keeps one id on a walking object whose
    detections stop for four frames, although the model's track queries never move. With
    ``query_keep`` off the track is silent in the gap; with it, the confident track query
    (this model scores 0.9 wherever it looks) keeps reporting it on the predicted path."""
    params = TrackerParams(
        input_short_side=64, input_max_side=128, miss_tolerance=10, query_keep=query_keep
    )
    tracker = QueryTracker(LazyModel(), params)  # type: ignore[arg-type]
    frame = np.zeros((H, W, 3), np.uint8)
    ids, boxes = [], []
    for t in range(14):
        box = np.array([[10 + 8 * t, 10, 30 + 8 * t, 80, 0.9]])
        out = tracker.update(frame, box[:0] if 6 <= t <= 9 else box)
        ids.append(out.tracker_ids.tolist())
        boxes.append(out.xyxy)
    assert ids[5] == [1] and ids[13] == [1]
    if query_keep < 1.0:
        assert all(i == [1] for i in ids[6:10])
        assert abs(boxes[9][0, 0] - (10 + 8 * 9)) < 8  # on the object's path, not left behind
    else:
        assert all(i == [] for i in ids[6:10])
    assert len(tracker.tracks) == 1 and tracker.tracks[0].misses == 0
