"""OpenCV's HOG + linear-SVM people detector as a proposal source (no extra dependency).

Three things make the raw detector usable as a tracker's proposals:

- **Upscaling.** The detector's window is 64x128 pixels, so people shorter
  than about 100 px are never found; the frame is enlarged by ``upscale``
  first (boxes are mapped back). 1.5 roughly doubles recall on PETS09-S2L1.
- **Tightening.** The window frames a person with wide margins (the INRIA
  training crops): measured against MOT15 ground truth, the person fills
  about 50 % of the window's width and 78 % of its height, centred slightly
  above its middle. Raw windows rarely reach IoU 0.5 with a ground-truth
  box; tightened ones usually do (see ``benchmarks/results/proposals.md``).
- **Scores.** The SVM margin ``m`` (unbounded) is squashed to ``[0, 1]`` by
  a logistic ``1 / (1 + exp(-(m - center) / temperature))``; the defaults put
  0.5 at margin 1.0, above which precision on MOT15 is about 0.95.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from vsdmot.proposals.base import ProposalSource, as_proposals, empty_proposals
from vsdmot.proposals.boxes import nms

#: Person extent inside a HOG window (fractions of the window), measured on MOT15.
HOG_PERSON_WIDTH = 0.50
HOG_PERSON_HEIGHT = 0.78
HOG_PERSON_SHIFT = -0.035  # vertical offset of the person's centre, in window heights
#: The default people detector's window (width, height) in pixels.
HOG_WINDOW = (64, 128)


def squash_margin(margin: np.ndarray, center: float = 1.0, temperature: float = 0.5) -> np.ndarray:
    """Map SVM margins to ``[0, 1]`` scores with a logistic.

    >>> squash_margin(np.array([0.0, 1.0, 2.0])).round(3).tolist()
    [0.119, 0.5, 0.881]
    """
    z = (np.asarray(margin, dtype=np.float64) - center) / temperature
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def tighten_boxes(
    boxes: np.ndarray,
    width: float = HOG_PERSON_WIDTH,
    height: float = HOG_PERSON_HEIGHT,
    shift: float = HOG_PERSON_SHIFT,
) -> np.ndarray:
    """Shrink xyxy detector windows to the person they frame.

    >>> tighten_boxes(np.array([[0.0, 0.0, 64.0, 128.0]]), 0.5, 0.75, 0.0).tolist()
    [[16.0, 16.0, 48.0, 112.0]]
    """
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + shift * h
    return np.stack(
        [cx - width * w / 2, cy - height * h / 2, cx + width * w / 2, cy + height * h / 2], axis=1
    )


class HOGPeopleProposals(ProposalSource):
    """People proposals from ``cv2.HOGDescriptor_getDefaultPeopleDetector``.

    Args:
        upscale: enlarge the frame by this factor before detection so small
            people fit the 64x128 window (cost grows with its square).
        win_stride: window step in pixels (smaller: more boxes, slower).
        scale: pyramid step between detection scales (smaller: slower).
        padding: border added around the frame, in pixels.
        hit_threshold: minimum SVM margin of a window.
        nms_iou: IoU above which a lower-scored box is suppressed.
        min_score: minimum squashed score of a returned box.
        tighten: shrink windows to the person's extent (see module doc).
        score_center, score_temperature: the margin-to-score logistic.
    """

    def __init__(
        self,
        *,
        upscale: float = 1.5,
        win_stride: int = 8,
        scale: float = 1.1,
        padding: int = 8,
        hit_threshold: float = 0.0,
        nms_iou: float = 0.4,
        min_score: float = 0.0,
        tighten: bool = True,
        score_center: float = 1.0,
        score_temperature: float = 0.5,
    ) -> None:
        numbers = {
            "upscale": upscale,
            "win_stride": win_stride,
            "scale": scale,
            "padding": padding,
            "hit_threshold": hit_threshold,
            "nms_iou": nms_iou,
            "min_score": min_score,
            "score_center": score_center,
            "score_temperature": score_temperature,
        }
        for key, value in numbers.items():
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"HOG option {key}={value!r} must be a finite number")
        if not (upscale > 0 and scale > 1.0 and win_stride > 0 and score_temperature > 0):
            raise ValueError(
                "HOG needs upscale > 0, scale > 1, win_stride > 0 and score_temperature > 0; "
                f"got upscale={upscale}, scale={scale}, win_stride={win_stride}, "
                f"score_temperature={score_temperature}"
            )
        self.upscale = float(upscale)
        self.win_stride = int(win_stride)
        self.scale = float(scale)
        self.padding = int(padding)
        self.hit_threshold = float(hit_threshold)
        self.nms_iou = float(nms_iou)
        self.min_score = float(min_score)
        self.tighten = bool(tighten)
        self.score_center = float(score_center)
        self.score_temperature = float(score_temperature)
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    @property
    def name(self) -> str:
        return "hog"

    @property
    def params(self) -> dict[str, Any]:
        return {
            "upscale": self.upscale,
            "win_stride": self.win_stride,
            "scale": self.scale,
            "padding": self.padding,
            "hit_threshold": self.hit_threshold,
            "nms_iou": self.nms_iou,
            "min_score": self.min_score,
            "tighten": self.tighten,
            "score_center": self.score_center,
            "score_temperature": self.score_temperature,
        }

    def __call__(self, frame_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        h, w = frame_bgr.shape[:2]
        img = frame_bgr
        if not math.isclose(self.upscale, 1.0):
            img = cv2.resize(
                frame_bgr,
                (round(w * self.upscale), round(h * self.upscale)),
                interpolation=cv2.INTER_LINEAR,
            )
        if img.shape[0] < HOG_WINDOW[1] or img.shape[1] < HOG_WINDOW[0]:
            # OpenCV aborts the process on images smaller than its detection window.
            return empty_proposals()
        rects, margins = self._hog.detectMultiScale(
            img,
            hitThreshold=self.hit_threshold,
            winStride=(self.win_stride, self.win_stride),
            padding=(self.padding, self.padding),
            scale=self.scale,
        )
        if len(rects) == 0:
            return empty_proposals()
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4) / self.upscale
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        if self.tighten:
            boxes = tighten_boxes(boxes)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        scores = squash_margin(np.ravel(margins), self.score_center, self.score_temperature)
        props = np.concatenate([boxes, scores[:, None]], axis=1)
        props = props[(scores >= self.min_score) & (boxes[:, 2] > boxes[:, 0])]
        if len(props) == 0:
            return empty_proposals()
        return as_proposals(props[nms(props, self.nms_iou)])
