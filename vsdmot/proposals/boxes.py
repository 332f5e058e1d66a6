"""Box arithmetic for proposals: IoU, non-maximum suppression, matching against ground truth.

Boxes are ``x1, y1, x2, y2`` in pixels; proposal rows add a score column.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N, >=4)`` and ``(M, >=4)`` xyxy boxes, shape ``(N, M)``.

    >>> iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30]]))
    array([[0.33333333, 0.        ]])
    """
    a = np.asarray(a, dtype=np.float64)[:, :4].reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64)[:, :4].reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(proposals: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the rows of ``(P, 5)`` proposals kept by greedy NMS, best score first.

    >>> p = np.array([[0, 0, 10, 10, 0.9], [1, 0, 11, 10, 0.8], [50, 50, 60, 60, 0.7]])
    >>> nms(p, 0.5).tolist()
    [0, 2]
    """
    order = np.argsort(-proposals[:, 4], kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        if order.size == 1:
            break
        ious = iou_matrix(proposals[i : i + 1], proposals[order[1:]])[0]
        order = order[1:][ious <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def match_count(pred: np.ndarray, gt: np.ndarray, iou_threshold: float = 0.5) -> int:
    """Number of one-to-one matches (Hungarian on IoU) with IoU >= ``iou_threshold``.

    Precision is ``matches / len(pred)``, recall ``matches / len(gt)``.

    >>> match_count(np.array([[0, 0, 10, 10], [0, 0, 9, 10]]), np.array([[0, 0, 10, 10]]))
    1
    """
    if len(pred) == 0 or len(gt) == 0:
        return 0
    iou = iou_matrix(pred, gt)
    rows, cols = linear_sum_assignment(-iou)
    return int(np.sum(iou[rows, cols] >= iou_threshold))
