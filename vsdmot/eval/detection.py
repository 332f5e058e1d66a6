"""Detection quality of boxes against ground truth: recall and precision at an operating
threshold (one-to-one Hungarian matching) and AP50 (VOC all-point, every box)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vsdmot.proposals.boxes import match_count
from vsdmot.utils.boxes import box_iou


def average_precision(per_frame: list[tuple[np.ndarray, np.ndarray]], iou: float = 0.5) -> float:
    """VOC all-point AP of ``(dets (N, 5), gt (M, 4))`` pairs: greedy by score, IoU >= ``iou``.

    >>> gt = np.array([[0, 0, 10, 10]])
    >>> average_precision([(np.array([[0, 0, 10, 10, .9], [50, 50, 60, 60, .8]]), gt)])
    1.0
    """
    scores, hits, n_gt = [], [], 0
    for dets, gt in per_frame:
        n_gt += len(gt)
        order = np.argsort(-dets[:, 4], kind="stable")
        taken = np.zeros(len(gt), dtype=bool)
        ious = box_iou(dets[order], gt) if len(gt) and len(dets) else None
        for k, i in enumerate(order):
            scores.append(float(dets[i, 4]))
            hit = False
            if ious is not None:
                cand = np.where(~taken, ious[k], -1.0)
                j = int(np.argmax(cand))
                if cand[j] >= iou:
                    taken[j] = hit = True
            hits.append(hit)
    if n_gt == 0 or not scores:
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.cumsum(np.asarray(hits)[order])
    recall = tp / n_gt
    precision = tp / np.arange(1, len(tp) + 1)
    # Precision envelope, then area under the step curve.
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    prev = np.concatenate([[0.0], recall[:-1]])
    return float(np.sum((recall - prev) * precision))


@dataclass(frozen=True)
class DetectionScore:
    """Recall and precision at the operating threshold, AP50 over every box."""

    recall: float
    precision: float
    ap50: float
    boxes: int  # kept at the operating threshold
    gt: int


def score_detections(
    per_frame: Sequence[tuple[np.ndarray, np.ndarray]], operating: float, iou: float = 0.5
) -> DetectionScore:
    """Score ``(dets (N, >=5) x1 y1 x2 y2 score, gt (M, 4))`` pairs of frames.

    >>> gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
    >>> s = score_detections([(np.array([[0, 0, 10, 10, .9], [50, 50, 60, 60, .2]]), gt)], 0.5)
    >>> s.recall, s.precision, s.ap50
    (0.5, 1.0, 0.5)
    """
    matched = found = total = 0
    for dets, gt in per_frame:
        kept = dets[dets[:, 4] >= operating]
        matched += match_count(kept[:, :4], gt, iou)
        found += len(kept)
        total += len(gt)
    return DetectionScore(
        recall=matched / max(total, 1),
        precision=matched / max(found, 1),
        ap50=average_precision([(d[:, :5], g) for d, g in per_frame], iou),
        boxes=found,
        gt=total,
    )
