"""The simulated detector: error rates, their dependence on severity / visibility, seeding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from vsdmot.data.mot import MOTAnnotations
from vsdmot.data.synth import DetectorConfig, SynthConfig, render_sequence, simulate_detections
from vsdmot.utils.boxes import box_iou, ltwh_to_xyxy

SIZE = (640, 480)


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of two ``l, t, w, h`` box arrays."""
    return box_iou(ltwh_to_xyxy(a), ltwh_to_xyxy(b))


def match(
    gt: MOTAnnotations, det: MOTAnnotations, thr: float = 0.5
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-frame Hungarian matching on IoU: (gt hit mask, IoU of each gt's match, TP count)."""
    hit = np.zeros(len(gt), bool)
    best = np.zeros(len(gt))
    for f in np.unique(gt.frame):
        gi = np.flatnonzero(gt.frame == f)
        di = np.flatnonzero(det.frame == f)
        if len(di) == 0:
            continue
        m = pairwise_iou(gt.boxes[gi], det.boxes[di])
        r, c = linear_sum_assignment(-m)
        ok = m[r, c] >= thr
        hit[gi[r[ok]]] = True
        best[gi[r]] = m[r, c]
    return hit, best, int(hit.sum())


def random_gt(rng: np.random.Generator, n_frames: int = 200, n_tracks: int = 10) -> MOTAnnotations:
    """Boxes well inside a 640x480 image, heights 30-200 px, visibility uniform in [0, 1]."""
    rows = []
    for tid in range(1, n_tracks + 1):
        for f in range(1, n_frames + 1):
            h = rng.uniform(30, 200)
            w = 0.4 * h
            left = rng.uniform(5, SIZE[0] - w - 5)
            top = rng.uniform(5, SIZE[1] - h - 5)
            rows.append([f, tid, left, top, w, h, 1, 1, rng.uniform(0, 1)])
    return MOTAnnotations.from_rows(rows)


@pytest.fixture(scope="module")
def big_gt() -> MOTAnnotations:
    return random_gt(np.random.default_rng(123))


@pytest.fixture(scope="module")
def scene_gt() -> MOTAnnotations:
    cfg = SynthConfig(n_frames=80)
    gt = MOTAnnotations()
    for item in render_sequence(cfg, seed=5):
        gt = gt.concat(item.gt)
    return gt


def test_clean_recall_and_precision_on_generated_scene(scene_gt: MOTAnnotations) -> None:
    det = simulate_detections(scene_gt, SIZE, np.random.default_rng(0))
    hit, _, tp = match(scene_gt, det)
    recall, precision = hit.mean(), tp / len(det)
    assert 0.80 <= recall <= 0.97, recall
    assert 0.85 <= precision <= 0.98, precision
    assert np.all(det.track_id == -1)
    xyxy = det.boxes_xyxy()
    assert xyxy.min() >= 0 and np.all(xyxy[:, 2] <= SIZE[0]) and np.all(xyxy[:, 3] <= SIZE[1])


def test_recall_falls_and_jitter_grows_with_severity(big_gt: MOTAnnotations) -> None:
    n_frames = int(big_gt.frame.max())
    recalls, errors, n_dets = [], [], []
    for s in range(6):
        sev = np.full(n_frames, float(s))
        det = simulate_detections(big_gt, SIZE, np.random.default_rng(7), sev)
        hit, _, _ = match(big_gt, det)
        recalls.append(hit.mean())
        # Jitter from a low-threshold matching, so large errors still count.
        loose, best, _ = match(big_gt, det, thr=0.05)
        errors.append(1.0 - best[loose].mean())
        n_dets.append(len(det) - loose.sum())
    assert all(a > b for a, b in itertools.pairwise(recalls)), recalls
    assert all(a < b for a, b in itertools.pairwise(errors)), errors
    assert recalls[0] - recalls[5] > 0.3, recalls
    # Clutter grows with severity too (unmatched detections are false positives).
    assert n_dets[5] > n_dets[0], n_dets


def test_per_frame_severity_applies_to_its_own_frame(big_gt: MOTAnnotations) -> None:
    n_frames = int(big_gt.frame.max())
    sev = np.where(np.arange(1, n_frames + 1) % 2 == 0, 5.0, 0.0)
    det = simulate_detections(big_gt, SIZE, np.random.default_rng(1), sev)
    hit, _, _ = match(big_gt, det)
    even = big_gt.frame % 2 == 0
    assert hit[~even].mean() > hit[even].mean() + 0.2


def test_occluded_and_small_boxes_are_missed_more(big_gt: MOTAnnotations) -> None:
    det = simulate_detections(big_gt, SIZE, np.random.default_rng(2))
    hit, _, _ = match(big_gt, det)
    miss = ~hit
    low, high = big_gt.visibility < 0.4, big_gt.visibility > 0.9
    assert miss[low].mean() > 3 * miss[high].mean(), (miss[low].mean(), miss[high].mean())


def test_small_boxes_are_missed_more() -> None:
    rows = [
        [f, tid, 20 + 60 * tid, 150, 0.4 * h, h, 1, 1, 1.0]
        for f in range(1, 201)
        for tid, h in enumerate([20.0] * 4 + [150.0] * 4, start=1)
    ]
    gt = MOTAnnotations.from_rows(rows)
    miss = ~match(gt, simulate_detections(gt, SIZE, np.random.default_rng(5)))[0]
    small = gt.boxes[:, 3] < 40
    assert miss[small].mean() > 2 * miss[~small].mean() + 0.05, (miss[small].mean(), miss.mean())


def test_misses_come_in_runs() -> None:
    # Identical, half-visible boxes: only the per-track noise can correlate misses.
    n_frames, n_tracks = 300, 8
    rows = [
        [f, tid, 40 + 70 * tid, 100, 48, 120, 1, 1, 0.5]
        for tid in range(1, n_tracks + 1)
        for f in range(1, n_frames + 1)
    ]
    gt = MOTAnnotations.from_rows(rows)
    cfg = DetectorConfig(clutter_rate=0.0, duplicate_prob=0.0)
    det = simulate_detections(gt, SIZE, np.random.default_rng(3), config=cfg)
    miss = ~match(gt, det)[0]
    same_track = gt.track_id[1:] == gt.track_id[:-1]  # rows are in track, then frame order
    p_after_miss = miss[1:][miss[:-1] & same_track].mean()
    assert p_after_miss > 1.5 * miss.mean(), (p_after_miss, miss.mean())
    # Without the per-track noise, misses are independent.
    flat = DetectorConfig(clutter_rate=0.0, duplicate_prob=0.0, miss_track_noise=0.0)
    miss = ~match(gt, simulate_detections(gt, SIZE, np.random.default_rng(3), config=flat))[0]
    p_after_miss = miss[1:][miss[:-1] & same_track].mean()
    assert p_after_miss == pytest.approx(miss.mean(), abs=0.06)


def test_scores_separate_tp_from_fp_but_overlap(scene_gt: MOTAnnotations) -> None:
    det = simulate_detections(scene_gt, SIZE, np.random.default_rng(4))
    is_tp = np.zeros(len(det), bool)
    for f in np.unique(det.frame):
        di = np.flatnonzero(det.frame == f)
        gi = np.flatnonzero(scene_gt.frame == f)
        if len(gi) == 0:
            continue
        m = pairwise_iou(det.boxes[di], scene_gt.boxes[gi])
        r, c = linear_sum_assignment(-m)
        is_tp[di[r[m[r, c] >= 0.5]]] = True
    tp, fp = det.score[is_tp], det.score[~is_tp]
    assert len(fp) >= 10
    assert tp.mean() > fp.mean() + 0.2
    assert fp.max() > np.quantile(tp, 0.25)  # overlapping, as in real detectors
    assert np.all((det.score > 0) & (det.score < 1))


def test_reproducible_for_a_seed(big_gt: MOTAnnotations) -> None:
    a = simulate_detections(big_gt, SIZE, np.random.default_rng(9))
    b = simulate_detections(big_gt, SIZE, np.random.default_rng(9))
    c = simulate_detections(big_gt, SIZE, np.random.default_rng(10))
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.score, b.score)
    assert len(a) != len(c) or not np.array_equal(a.boxes, c.boxes)


def test_inactive_rows_are_not_detected() -> None:
    gt = MOTAnnotations.from_rows([[1, 1, 100, 100, 80, 200, 0, 1, 1.0]] * 1)
    cfg = DetectorConfig(clutter_rate=0.0)
    det = simulate_detections(gt, SIZE, np.random.default_rng(0), config=cfg)
    assert len(det) == 0


def test_bad_severity_is_rejected(big_gt: MOTAnnotations) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="entries"):
        simulate_detections(big_gt, SIZE, rng, np.zeros(3))
    with pytest.raises(ValueError, match="0, 5"):
        simulate_detections(big_gt, SIZE, rng, np.full(200, 6.0))
    with pytest.raises(ValueError, match="image_size"):
        simulate_detections(big_gt, (0, 480), rng)
