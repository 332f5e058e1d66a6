"""A baseline tracker for scoring without a model: detections linked frame to frame by IoU.

>>> det = MOTAnnotations.from_rows([[1, -1, 0, 0, 10, 10], [1, -1, 50, 0, 10, 10],
...                                 [2, -1, 51, 0, 10, 10], [2, -1, 1, 1, 10, 10],
...                                 [3, -1, 30, 0, 10, 10]])
>>> link_detections(det).track_id.tolist()
[1, 2, 2, 1, 3]
"""

from __future__ import annotations

import numpy as np

from vsdmot.data.mot import MOTAnnotations
from vsdmot.utils.boxes import box_iou, ltwh_to_xyxy


def link_detections(det: MOTAnnotations, min_iou: float = 0.5) -> MOTAnnotations:
    """Greedy frame-to-frame IoU linking of detections into tracks (ids from 1): a detection
    continues the track of the previous frame's box it overlaps most (pairs taken in order
    of IoU, at least ``min_iou``, each previous box once); otherwise it starts a track."""
    ids = np.zeros(len(det), dtype=np.int64)
    next_id = 1
    prev_idx = np.zeros(0, dtype=np.int64)
    for f in np.unique(det.frame):
        cur_idx = np.flatnonzero(det.frame == f)
        taken: set[int] = set()
        if prev_idx.size:
            iou = box_iou(ltwh_to_xyxy(det.boxes[cur_idx]), ltwh_to_xyxy(det.boxes[prev_idx]))
            for flat in np.argsort(-iou, axis=None):
                i, j = np.unravel_index(flat, iou.shape)
                if iou[i, j] < min_iou:
                    break
                if ids[cur_idx[i]] == 0 and int(j) not in taken:
                    ids[cur_idx[i]] = ids[prev_idx[j]]
                    taken.add(int(j))
        for i in cur_idx:
            if ids[i] == 0:
                ids[i] = next_id
                next_id += 1
        prev_idx = cur_idx
    out = det.select(np.arange(len(det)))
    out.track_id = ids
    return out
