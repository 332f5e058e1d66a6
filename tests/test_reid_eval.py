"""Re-identification metric and colour-histogram embedder on tiny synthetic frames."""

from __future__ import annotations

import numpy as np
import pytest

from vsdmot.data.mot import MOTAnnotations
from vsdmot.eval.reid import colour_histogram, match_ranks, sequence_ranks, summarise

COLOURS = {1: (0, 0, 255), 2: (255, 0, 0), 3: (0, 255, 0)}  # BGR red, blue, green people


def scene(order: list[int]) -> tuple[np.ndarray, list[list[float]]]:
    """A 40 x 60 frame with one 10 x 20 coloured person per id, left to right in ``order``."""
    frame = np.full((40, 60, 3), 128, np.uint8)
    boxes = []
    for slot, pid in enumerate(order):
        left = 5 + 20 * slot
        frame[10:30, left : left + 10] = COLOURS[pid]
        boxes.append([pid, left, 10, 10, 20])
    return frame, boxes


def synthetic(orders: list[list[int]]) -> tuple[dict[int, np.ndarray], MOTAnnotations]:
    frames, rows = {}, []
    for t, order in enumerate(orders, start=1):
        frames[t], boxes = scene(order)
        rows += [[t, pid, *ltwh] for pid, *ltwh in boxes]
    return frames, MOTAnnotations.from_rows(rows)


def centre(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """A position-only 'embedding': unit vectors at the box centre's angle."""
    angle = (boxes[:, 0] + boxes[:, 2]) / 2 / frame.shape[1] * np.pi / 2
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def test_colour_histogram_reidentifies_people_that_swap_places() -> None:
    frames, gt = synthetic([[1, 2, 3], [3, 1, 2], [2, 3, 1], [1, 2, 3]])
    ranks = sequence_ranks(frames, gt, colour_histogram, gap=1, stride=1)
    assert ranks == [1] * 9  # 3 query frames with a successor x 3 people
    assert summarise(ranks) == {"top1": 1.0, "mAP": 1.0, "queries": 9}


def test_position_embedding_fails_when_people_swap_places() -> None:
    frames, gt = synthetic([[1, 2, 3], [3, 1, 2]])
    ranks = sequence_ranks(frames, gt, centre, gap=1, stride=1)
    # each person moved one slot right (the last wrapped to the left): nearest is wrong;
    # person 1 is second nearest, person 3 (now at the far end) last
    assert len(ranks) == 3 and ranks[0] == 2 and ranks[2] == 3
    assert summarise(ranks)["top1"] == 0.0
    assert summarise(ranks)["mAP"] == pytest.approx((0.5 + 1 / ranks[1] + 1 / 3) / 3)


def test_stride_gap_and_small_galleries() -> None:
    frames, gt = synthetic([[1, 2], [1, 2], [2, 1], [1]])
    assert sequence_ranks(frames, gt, colour_histogram, gap=2, stride=1) == [1, 1]
    assert sequence_ranks(frames, gt, colour_histogram, gap=1, stride=2) == [1, 1]
    # frame 3 -> 4: a gallery of one object is skipped
    assert sequence_ranks(frames, gt, colour_histogram, gap=1, stride=3) == [1, 1]
    assert summarise([])["queries"] == 0 and np.isnan(summarise([])["top1"])


def test_match_ranks_ignores_queries_missing_from_the_gallery() -> None:
    e = np.eye(3)
    assert match_ranks(np.array([1, 2, 4]), e, np.array([2, 1, 3]), e) == [2, 2]
