"""The greedy IoU linker behind bench_eval.py's baseline predictions."""

from __future__ import annotations

from vsdmot.data.mot import MOTAnnotations
from vsdmot.eval.linking import link_detections


def test_links_by_highest_iou_and_starts_tracks_for_the_rest() -> None:
    det = MOTAnnotations.from_rows([
        [1, -1, 0, 0, 10, 10], [1, -1, 100, 0, 10, 10],
        # frame 2: two boxes near the first (the closer one wins it), one far away
        [2, -1, 4, 0, 10, 10], [2, -1, 1, 0, 10, 10], [2, -1, 200, 0, 10, 10],
        # frame 3: a gap for track 2; box at x=100 again is a new track, not track 2
        [3, -1, 2, 0, 10, 10], [3, -1, 100, 0, 10, 10],
    ])  # fmt: skip
    out = link_detections(det)
    assert out.track_id.tolist() == [1, 2, 3, 1, 4, 1, 5]
    assert out.boxes.tolist() == det.boxes.tolist()
    assert det.track_id.tolist() == [-1] * 7  # the input is left as it was


def test_min_iou_threshold() -> None:
    det = MOTAnnotations.from_rows([[1, -1, 0, 0, 10, 10], [2, -1, 5, 0, 10, 10]])  # IoU 1/3
    assert link_detections(det).track_id.tolist() == [1, 2]
    assert link_detections(det, min_iou=0.3).track_id.tolist() == [1, 1]
