"""Draw tracks on frames: boxes, ids, short trails, a quality meter and a frame counter."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from vsdmot.render.colors import id_color

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_METER_W, _METER_H, _MARGIN = 150, 34, 8


class TrackRenderer:
    """Renders one video's tracks frame by frame (one instance per video).

    Trails (the last ``trail_length`` box centres of each id) live in the
    instance; an id unseen for ``forget_after`` frames loses its trail, so
    memory stays bounded on long videos. Colours depend on the id only
    (:func:`~vsdmot.render.colors.id_color`).

    Args:
        trail_length: centres kept per id (0 disables trails).
        thickness: box line width in pixels.
        font_scale: OpenCV font scale of the labels.
        show_counter: draw ``frame N`` in the top-left corner.
        forget_after: frames after which an unseen id's trail is dropped.
    """

    def __init__(
        self,
        trail_length: int = 20,
        *,
        thickness: int = 2,
        font_scale: float = 0.5,
        show_counter: bool = True,
        forget_after: int = 30,
    ) -> None:
        if trail_length < 0 or forget_after < 1:
            raise ValueError("trail_length must be >= 0 and forget_after >= 1")
        self.trail_length = int(trail_length)
        self.thickness = int(thickness)
        self.font_scale = float(font_scale)
        self.show_counter = show_counter
        self.forget_after = int(forget_after)
        self._trails: dict[int, deque[tuple[int, int]]] = {}
        self._last_seen: dict[int, int] = {}

    def reset(self) -> None:
        """Forget all trails (start of a new video)."""
        self._trails.clear()
        self._last_seen.clear()

    def trail(self, track_id: int) -> list[tuple[int, int]]:
        """The remembered centres of ``track_id``, oldest first."""
        return list(self._trails.get(int(track_id), ()))

    @staticmethod
    def meter_rect(size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``x1, y1, x2, y2`` of the quality meter in a frame of ``(width, height)``."""
        w, _ = size
        return w - _METER_W - _MARGIN, _MARGIN, w - _MARGIN, _MARGIN + _METER_H

    def draw(
        self,
        frame_bgr: np.ndarray,
        frame_index: int,
        boxes_xyxy: np.ndarray,
        ids: np.ndarray,
        *,
        scores: np.ndarray | None = None,
        quality: float | None = None,
        weight: float | np.ndarray | None = None,
    ) -> np.ndarray:
        """A copy of ``frame_bgr`` with the tracks of frame ``frame_index`` drawn.

        ``quality`` is the frame's q_t in ``[0, 1]`` and ``weight`` its fusion
        weight w_t (a per-channel vector is shown as its mean); the meter is
        drawn only when ``quality`` is given.
        """
        out = frame_bgr.copy()
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        ids = np.asarray(ids).reshape(-1).astype(np.int64)
        if len(boxes) != len(ids):
            raise ValueError(f"{len(boxes)} boxes but {len(ids)} ids")
        self._update_trails(frame_index, boxes, ids)
        for tid in self._trails:
            self._draw_trail(out, tid)
        for k, (box, tid) in enumerate(zip(boxes, ids, strict=True)):
            label = f"{tid}" if scores is None else f"{tid} {float(scores[k]):.2f}"
            self._draw_box(out, box, int(tid), label)
        if self.show_counter:
            self._draw_text_box(out, f"frame {frame_index}", (_MARGIN, _MARGIN))
        if quality is not None:
            self._draw_meter(out, float(quality), weight)
        return out

    # -- pieces

    def _update_trails(self, t: int, boxes: np.ndarray, ids: np.ndarray) -> None:
        if self.trail_length == 0:
            return
        for box, tid in zip(boxes, ids, strict=True):
            tid = int(tid)
            centre = (round((box[0] + box[2]) / 2), round((box[1] + box[3]) / 2))
            self._trails.setdefault(tid, deque(maxlen=self.trail_length)).append(centre)
            self._last_seen[tid] = t
        for tid in [i for i, seen in self._last_seen.items() if t - seen > self.forget_after]:
            del self._trails[tid], self._last_seen[tid]

    def _draw_trail(self, img: np.ndarray, tid: int) -> None:
        pts = self._trails[tid]
        color = id_color(tid)
        for a, b in zip(list(pts)[:-1], list(pts)[1:], strict=True):
            cv2.line(img, a, b, color, self.thickness, cv2.LINE_AA)

    def _draw_box(self, img: np.ndarray, box: np.ndarray, tid: int, label: str) -> None:
        color = id_color(tid)
        x1, y1, x2, y2 = (round(v) for v in box)
        cv2.rectangle(img, (x1, y1), (x2, y2), color, self.thickness)
        (tw, th), base = cv2.getTextSize(label, _FONT, self.font_scale, 1)
        top = max(0, y1 - th - base - 2)
        cv2.rectangle(img, (x1, top), (x1 + tw + 4, top + th + base + 2), color, cv2.FILLED)
        cv2.putText(
            img, label, (x1 + 2, top + th + 1), _FONT, self.font_scale, (0, 0, 0), 1, cv2.LINE_AA
        )

    def _draw_text_box(self, img: np.ndarray, text: str, origin: tuple[int, int]) -> None:
        (tw, th), base = cv2.getTextSize(text, _FONT, self.font_scale, 1)
        x, y = origin
        cv2.rectangle(img, (x, y), (x + tw + 8, y + th + base + 6), (0, 0, 0), cv2.FILLED)
        cv2.putText(
            img, text, (x + 4, y + th + 3), _FONT, self.font_scale, (255, 255, 255), 1, cv2.LINE_AA
        )

    def _draw_meter(
        self, img: np.ndarray, quality: float, weight: float | np.ndarray | None
    ) -> None:
        q = min(max(quality, 0.0), 1.0)
        x1, y1, x2, y2 = self.meter_rect((img.shape[1], img.shape[0]))
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 0), cv2.FILLED)
        # Bar from red (bad frame) to green (clean frame) on the lower half.
        bx1, by1, bx2, by2 = x1 + 4, y1 + _METER_H // 2 + 2, x2 - 4, y2 - 4
        cv2.rectangle(img, (bx1, by1), (bx2, by2), (80, 80, 80), 1)
        fill = bx1 + round(q * (bx2 - bx1))
        if fill > bx1:
            cv2.rectangle(
                img, (bx1, by1), (fill, by2), (0, round(255 * q), round(255 * (1 - q))), cv2.FILLED
            )
        text = f"q {q:.2f}"
        if weight is not None:
            text += f"  w {float(np.mean(weight)):.2f}"
        cv2.putText(img, text, (x1 + 4, y1 + 13), _FONT, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
