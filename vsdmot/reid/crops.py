"""Box crops of a frame, resized to a fixed size: the input of every crop embedder.

>>> frame = np.zeros((40, 30, 3), np.uint8); frame[10:30, 5:15] = 255
>>> c = box_crops(frame, np.array([[5, 10, 15, 30], [-5, -5, 2, 2]]), (8, 4))
>>> c.shape, int(c[0].min()), int(c[1].max())
((2, 8, 4, 3), 255, 0)
>>> box_crops(frame, np.array([[5, 10, 15, 30]]), (8, 4), margin=0.5)[0, 0, 0].tolist()
[0, 0, 0]
"""

from __future__ import annotations

import cv2
import numpy as np


def pixel_windows(boxes_xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Integer ``(left, top, right, bottom)`` windows of the boxes clipped to the frame,
    each at least one pixel wide and high."""
    b = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    left = np.clip(np.floor(b[:, 0]), 0, width - 1)
    top = np.clip(np.floor(b[:, 1]), 0, height - 1)
    right = np.clip(np.ceil(b[:, 2]), left + 1, width)
    bottom = np.clip(np.ceil(b[:, 3]), top + 1, height)
    return np.stack([left, top, right, bottom], axis=1).astype(np.int64)


def box_crops(
    frame_bgr: np.ndarray, boxes_xyxy: np.ndarray, size: tuple[int, int], margin: float = 0.0
) -> np.ndarray:
    """``(N, h, w, 3)`` RGB uint8 crops of the boxes (``size`` = (h, w)), each box first
    grown by ``margin`` of its width and height on every side (training crops keep a
    margin so that they can be shifted without leaving the object)."""
    b = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4).copy()
    grow = (b[:, 2:] - b[:, :2]) * margin
    b[:, :2] -= grow
    b[:, 2:] += grow
    height, width = frame_bgr.shape[:2]
    out = np.zeros((len(b), size[0], size[1], 3), dtype=np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(pixel_windows(b, width, height)):
        crop = frame_bgr[y1:y2, x1:x2, ::-1]
        shrink = crop.shape[0] > size[0] or crop.shape[1] > size[1]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out[i] = cv2.resize(np.ascontiguousarray(crop), (size[1], size[0]), interpolation=interp)
    return out
