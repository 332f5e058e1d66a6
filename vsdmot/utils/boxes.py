"""Box arithmetic on numpy arrays shared by evaluation, proposals and benchmarks."""

from __future__ import annotations

import numpy as np


def ltwh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """``left, top, width, height`` rows -> ``x1, y1, x2, y2`` rows (float64).

    >>> ltwh_to_xyxy(np.array([[1, 2, 3, 4]])).tolist()
    [[1.0, 2.0, 4.0, 6.0]]
    """
    b = np.asarray(boxes, dtype=np.float64)[:, :4].reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N, >=4)`` and ``(M, >=4)`` xyxy boxes, shape ``(N, M)``.

    Columns past the fourth (scores) are ignored. An inverted box has zero area, and a
    pair whose union is empty has IoU 0.

    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 3, 2], [5, 5, 6, 6]])).round(3)
    array([[0.333, 0.   ]])
    >>> box_iou(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape
    (0, 1)
    >>> box_iou(np.array([[0, 0, 0, 0]]), np.array([[0, 0, 0, 0]])).tolist()
    [[0.0]]
    """
    a = np.asarray(a, dtype=np.float64)[:, :4].reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64)[:, :4].reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
