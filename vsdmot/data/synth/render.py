"""Backgrounds and frame compositing with exact per-object visibility.

The background is drawn once per sequence on the world canvas (smooth
multi-octave noise, a ground plane below a band of buildings, markings
converging to a vanishing point, a few objects); each frame crops the
camera's window from it, pastes the walkers far-to-near and adds sensor noise
and a small brightness flicker. Visibility comes from an id buffer filled in
the same depth order, so it is exactly what the picture shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vsdmot.data.synth.scene import SynthConfig

_GROUNDS = ((95, 100, 105), (120, 150, 165), (70, 120, 85), (60, 62, 66), (140, 140, 135))
_WALLS = ((150, 160, 175), (90, 110, 150), (170, 170, 165), (110, 120, 125), (60, 80, 120))


def _smooth_noise(
    rng: np.random.Generator, size: tuple[int, int], cells: tuple[int, ...], amps: tuple[float, ...]
) -> np.ndarray:
    """Sum of bicubically upsampled white noise octaves, float32 ``(H, W)``."""
    width, height = size
    out = np.zeros((height, width), np.float32)
    for cell, amp in zip(cells, amps, strict=True):
        small = rng.standard_normal((height // cell + 3, width // cell + 3)).astype(np.float32)
        big = cv2.resize(
            small, (width + 3 * cell, height + 3 * cell), interpolation=cv2.INTER_CUBIC
        )
        out += amp * big[cell : cell + height, cell : cell + width]
    return out


def _pick(rng: np.random.Generator, palette: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    base = np.asarray(palette[int(rng.integers(len(palette)))], dtype=np.float32)
    return np.clip(base + rng.normal(0.0, 12.0, 3), 0, 255).astype(np.float32)


def make_background(config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """The world canvas for one sequence, BGR uint8 of ``config.canvas_size``."""
    width, height = config.canvas_size
    horizon = int(config.pad + (config.walk_top - 0.07) * config.height)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:horizon] = _pick(rng, _WALLS)
    canvas[horizon:] = _pick(rng, _GROUNDS)
    if config.ground_gradient:
        rows = np.arange(height, dtype=np.float32)
        ramp = 0.8 + 0.35 * np.clip((rows - horizon) / max(height - horizon, 1), 0, 1)
        canvas[horizon:] *= ramp[horizon:, None, None]
    _draw_buildings(canvas, horizon, rng)
    _draw_markings(canvas, horizon, rng)
    _draw_objects(canvas, horizon, config.n_shapes, rng)
    return _finish_surface(canvas, rng)


def _draw_buildings(canvas: np.ndarray, horizon: int, rng: np.random.Generator) -> None:
    """Buildings along the horizon, some with windows."""
    width = canvas.shape[1]
    x = -int(rng.integers(0, 60))
    while x < width:
        bw = int(rng.integers(60, 220))
        top = int(rng.uniform(0.0, 0.8) * horizon)
        color = _pick(rng, _WALLS)
        cv2.rectangle(canvas, (x, top), (x + bw, horizon), color.tolist(), -1)
        if rng.random() < 0.6:
            win = (color * rng.uniform(0.4, 0.7)).tolist()
            step = int(rng.integers(14, 26))
            for wy in range(top + 8, horizon - 12, step):
                for wx in range(x + 8, x + bw - 12, step):
                    cv2.rectangle(canvas, (wx, wy), (wx + step // 2, wy + step // 2), win, -1)
        x += bw + int(rng.integers(0, 30))


def _draw_markings(canvas: np.ndarray, horizon: int, rng: np.random.Generator) -> None:
    """Markings converging to a vanishing point above the horizon."""
    height, width = canvas.shape[:2]
    vp = (rng.uniform(0.3, 0.7) * width, horizon - rng.uniform(20, 120))
    mark = (canvas[-1, width // 2] * rng.uniform(1.15, 1.5)).clip(0, 255).tolist()
    for xb in rng.uniform(-0.5, 1.5, int(rng.integers(2, 6))) * width:
        x0 = vp[0] + (xb - vp[0]) * (horizon - vp[1]) / (height - vp[1])
        cv2.line(
            canvas,
            (int(x0), horizon),
            (int(xb), height),
            mark,
            int(rng.integers(2, 6)),
            cv2.LINE_AA,
        )


def _draw_objects(canvas: np.ndarray, horizon: int, n: int, rng: np.random.Generator) -> None:
    """Scattered objects: benches, bushes, bollards, manholes."""
    height, width = canvas.shape[:2]
    for _ in range(n):
        cx, cy = rng.uniform(0, width), rng.uniform(horizon, height)
        scale = 0.4 + 0.8 * (cy - horizon) / max(height - horizon, 1)
        color = _pick(rng, _GROUNDS + _WALLS).tolist()
        if rng.random() < 0.5:
            axes = (int(rng.uniform(10, 45) * scale), int(rng.uniform(6, 25) * scale))
            cv2.ellipse(canvas, (int(cx), int(cy)), axes, 0.0, 0, 360, color, -1, cv2.LINE_AA)
        else:
            bw, bh = rng.uniform(15, 80) * scale, rng.uniform(5, 30) * scale
            cv2.rectangle(canvas, (int(cx), int(cy - bh)), (int(cx + bw), int(cy)), color, -1)


def _finish_surface(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Smooth brightness and tint variation, grain and a slight blur, as uint8."""
    height, width = canvas.shape[:2]
    lum = _smooth_noise(rng, (width, height), (96, 24, 6), (14.0, 8.0, 4.0))
    tint = _smooth_noise(rng, (width, height), (128,), (6.0,))
    canvas += lum[..., None]
    canvas[..., 0] += tint
    canvas[..., 2] -= tint
    canvas += rng.normal(0.0, 3.0, canvas.shape).astype(np.float32)
    canvas = cv2.GaussianBlur(canvas, (3, 3), 0.7)
    return np.clip(canvas, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Placed:
    """A sprite at integer image position ``(left, top)``; ``mask`` is boolean."""

    left: int
    top: int
    sprite: np.ndarray
    mask: np.ndarray
    depth: float  # feet y: larger is nearer to the camera


class FrameRenderer:
    """Composites frames of one sequence; noise comes from its own generator."""

    def __init__(self, config: SynthConfig, background: np.ndarray, rng: np.random.Generator):
        expected = (config.canvas_size[1], config.canvas_size[0], 3)
        if background.shape != expected:
            raise ValueError(f"background shape {background.shape}, expected {expected}")
        self.cfg = config
        self.background = background
        self.rng = rng
        # A small pool of noise fields, cropped at random offsets per frame:
        # per-pixel fresh noise would cost more than all the drawing.
        self._margin = 16
        shape = (config.height + self._margin, config.width + self._margin, 3)
        self._noise: list[tuple[np.ndarray, np.ndarray]] = []
        for _ in range(3):
            n = np.rint(rng.normal(0.0, config.sensor_noise, shape)).astype(np.int16)
            self._noise.append(
                (np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8))
            )
        self._gain = 1.0

    def _shadow(self, img: np.ndarray, p: Placed) -> None:
        h, w = p.sprite.shape[:2]
        cx, cy = p.left + w / 2, p.top + h
        ax, ay = 0.55 * w, 0.06 * h + 1
        x0, x1 = max(int(cx - ax), 0), min(int(cx + ax) + 1, img.shape[1])
        y0, y1 = max(int(cy - ay), 0), min(int(cy + ay) + 1, img.shape[0])
        if x0 >= x1 or y0 >= y1:
            return
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.ellipse(m, (int(cx - x0), int(cy - y0)), (int(ax), int(ay)), 0.0, 0, 360, 1, -1)
        region = img[y0:y1, x0:x1]
        region[m > 0] = (region[m > 0] * 0.6).astype(np.uint8)

    def render(
        self, camera: tuple[int, int], placed: list[Placed]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame (BGR uint8), and per item of ``placed`` its visible and in-frame fractions.

        The visible fraction is (mask pixels shown in the frame) / (all mask
        pixels): it drops with occlusion by nearer objects and with
        truncation at the image border. The in-frame fraction ignores
        occlusion (zero: the object is entirely outside the picture).
        """
        cfg = self.cfg
        cx, cy = int(camera[0]), int(camera[1])
        img = self.background[cy : cy + cfg.height, cx : cx + cfg.width].copy()
        ids = np.zeros((cfg.height, cfg.width), np.int16)
        order = sorted(range(len(placed)), key=lambda k: placed[k].depth)
        for k in order:
            self._shadow(img, placed[k])
        for k in order:
            p = placed[k]
            h, w = p.mask.shape
            x0, y0 = max(p.left, 0), max(p.top, 0)
            x1, y1 = min(p.left + w, cfg.width), min(p.top + h, cfg.height)
            if x0 >= x1 or y0 >= y1:
                continue
            sub = p.mask[y0 - p.top : y1 - p.top, x0 - p.left : x1 - p.left]
            img[y0:y1, x0:x1][sub] = p.sprite[y0 - p.top : y1 - p.top, x0 - p.left : x1 - p.left][
                sub
            ]
            ids[y0:y1, x0:x1][sub] = k + 1
        visibility = np.zeros(len(placed))
        in_frame = np.zeros(len(placed))
        for k, p in enumerate(placed):
            total = int(p.mask.sum())
            h, w = p.mask.shape
            x0, y0 = max(p.left, 0), max(p.top, 0)
            x1, y1 = min(p.left + w, cfg.width), min(p.top + h, cfg.height)
            if total and x0 < x1 and y0 < y1:
                visibility[k] = np.count_nonzero(ids[y0:y1, x0:x1] == k + 1) / total
                sub = p.mask[y0 - p.top : y1 - p.top, x0 - p.left : x1 - p.left]
                in_frame[k] = np.count_nonzero(sub) / total
        return self._finish(img), visibility, in_frame

    def _finish(self, img: np.ndarray) -> np.ndarray:
        cfg, rng = self.cfg, self.rng
        if cfg.flicker > 0:
            # Mean-reverting gain: lighting drifts, it does not jump.
            self._gain = 1.0 + 0.8 * (self._gain - 1.0) + rng.normal(0.0, cfg.flicker)
            img = cv2.convertScaleAbs(img, alpha=self._gain)
        if cfg.sensor_noise > 0:
            pos, neg = self._noise[int(rng.integers(len(self._noise)))]
            ox, oy = (int(v) for v in rng.integers(0, self._margin, 2))
            crop = (slice(oy, oy + cfg.height), slice(ox, ox + cfg.width))
            img = cv2.subtract(cv2.add(img, pos[crop]), neg[crop])
        return img
