"""The HSV colour histogram of a box crop: a cheap appearance cue that noise and blur
barely move.

>>> frame = np.zeros((20, 20, 3), np.uint8); frame[:, 10:] = (0, 0, 255)
>>> e = colour_histogram(frame, np.array([[0, 0, 10, 20], [10, 0, 20, 20], [0, 0, 9, 9]]))
>>> e.shape, np.round(e @ e.T, 3).tolist()
((3, 512), [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
"""

from __future__ import annotations

import cv2
import numpy as np

from vsdmot.reid.crops import pixel_windows

BINS = 8  # per channel: 8 x 8 x 8 = 512-d


def colour_histogram(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """HSV 8 x 8 x 8 histogram of each crop (at its own size), square-rooted and
    unit-normalised: ``(N, 512)``."""
    height, width = frame.shape[:2]
    out = np.zeros((len(np.asarray(boxes).reshape(-1, 4)), BINS**3), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(pixel_windows(boxes, width, height)):
        hsv = cv2.cvtColor(np.ascontiguousarray(frame[y1:y2, x1:x2]), cv2.COLOR_BGR2HSV)
        h = cv2.calcHist([hsv], [0, 1, 2], None, [BINS] * 3, [0, 180, 0, 256, 0, 256]).ravel()
        h = np.sqrt(h / max(h.sum(), 1.0))
        out[i] = h / max(np.linalg.norm(h), 1e-12)
    return out
