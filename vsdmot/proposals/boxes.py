"""Box arithmetic for proposals: non-maximum suppression, matching against ground truth.

Boxes are ``x1, y1, x2, y2`` in pixels; proposal rows add a score column.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from vsdmot.utils.boxes import box_iou


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
        ious = box_iou(proposals[i : i + 1], proposals[order[1:]])[0]
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
    iou = box_iou(pred, gt)
    rows, cols = linear_sum_assignment(-iou)
    return int(np.sum(iou[rows, cols] >= iou_threshold))
