"""Person-like sprites with a per-object look: clothes colours, a torso pattern, a gait.

A sprite fills its box the way a pedestrian fills a MOT box: head on top,
torso with a textured top, arms and legs that swing with the gait phase.
Colours are BGR ``uint8`` (OpenCV's order), like every frame in vsdmot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

Color = tuple[int, int, int]

PATTERNS = ("solid", "hstripes", "vstripes", "checker", "dots", "two_tone", "logo")
#: torso texture tile, rows x cols (resized to the torso each frame)
TILE_SHAPE = (56, 40)
_SKIN = ((172, 200, 238), (120, 160, 215), (90, 125, 180), (60, 85, 130), (45, 60, 95))
_HAIR = ((20, 20, 25), (30, 45, 70), (40, 80, 130), (90, 150, 200), (150, 150, 155))
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


@dataclass(frozen=True, eq=False)
class Appearance:
    """How one object looks. ``texture`` is its torso tile (``TILE_SHAPE`` + 3 channels)."""

    skin: Color
    hair: Color
    top: Color
    bottom: Color
    shoes: Color
    pattern: str
    texture: np.ndarray
    bag: Color | None


def _hsv_color(
    rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float]
) -> Color:
    hsv = np.array(
        [[[rng.uniform(0, 180), rng.uniform(*sat) * 255, rng.uniform(*val) * 255]]], dtype=np.uint8
    )
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def _jitter_color(rng: np.random.Generator, color: Color, std: float) -> Color:
    c = np.clip(np.asarray(color, dtype=np.float64) + rng.normal(0.0, std, 3), 0, 255)
    return int(c[0]), int(c[1]), int(c[2])


def make_texture(pattern: str, base: Color, accent: Color, rng: np.random.Generator) -> np.ndarray:
    """A torso tile of ``pattern`` in two colours, with fabric noise.

    >>> t = make_texture("vstripes", (0, 0, 0), (255, 255, 255), np.random.default_rng(0))
    >>> t.shape, t.dtype.name
    ((56, 40, 3), 'uint8')
    """
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}; choose from {', '.join(PATTERNS)}")
    rows, cols = TILE_SHAPE
    yy, xx = np.mgrid[0:rows, 0:cols]
    period = int(rng.integers(6, 14))
    if pattern == "solid":
        sel = np.zeros((rows, cols), bool)
    elif pattern == "hstripes":
        sel = (yy // (period // 2)) % 2 == 1
    elif pattern == "vstripes":
        sel = (xx // (period // 2)) % 2 == 1
    elif pattern == "checker":
        sel = ((yy // period) + (xx // period)) % 2 == 1
    elif pattern == "dots":
        sel = ((yy % period) - period / 2) ** 2 + ((xx % period) - period / 2) ** 2 < (
            period / 4
        ) ** 2
    elif pattern == "two_tone":
        sel = yy > rng.uniform(0.3, 0.7) * rows
    else:  # logo: a block on the chest
        sel = (abs(yy - rows * 0.35) < rows * 0.15) & (abs(xx - cols / 2) < cols * 0.25)
    tile = np.where(sel[..., None], np.asarray(accent), np.asarray(base)).astype(np.float32)
    tile += rng.normal(0.0, 7.0, tile.shape).astype(np.float32)
    return np.clip(tile, 0, 255).astype(np.uint8)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """A random look; different draws are distinct in colour and pattern."""
    top = _hsv_color(rng, (0.25, 0.95), (0.25, 0.95))
    accent = _hsv_color(rng, (0.0, 0.9), (0.1, 1.0))
    pattern = PATTERNS[int(rng.integers(len(PATTERNS)))]
    return Appearance(
        skin=_jitter_color(rng, _SKIN[int(rng.integers(len(_SKIN)))], 8.0),
        hair=_jitter_color(rng, _HAIR[int(rng.integers(len(_HAIR)))], 8.0),
        top=top,
        bottom=_hsv_color(rng, (0.0, 0.7), (0.1, 0.7)),
        shoes=_hsv_color(rng, (0.0, 0.4), (0.05, 0.4)),
        pattern=pattern,
        texture=make_texture(pattern, top, accent, rng),
        bag=_hsv_color(rng, (0.0, 0.6), (0.1, 0.5)) if rng.random() < 0.3 else None,
    )


def _poly(img: np.ndarray, mask: np.ndarray, pts: list[tuple[float, float]], color: Color) -> None:
    p = np.rint(np.asarray(pts) * _ONE).astype(np.int32)
    cv2.fillConvexPoly(img, p, color, cv2.LINE_AA, _SHIFT)
    cv2.fillConvexPoly(mask, p, 255, cv2.LINE_8, _SHIFT)


def _ellipse(
    img: np.ndarray,
    mask: np.ndarray,
    center: tuple[float, float],
    axes: tuple[float, float],
    color: Color,
    arc: tuple[float, float] = (0.0, 360.0),
) -> None:
    c = (round(center[0] * _ONE), round(center[1] * _ONE))
    a = (max(round(axes[0] * _ONE), 1), max(round(axes[1] * _ONE), 1))
    cv2.ellipse(img, c, a, 0.0, arc[0], arc[1], color, -1, cv2.LINE_AA, _SHIFT)
    cv2.ellipse(mask, c, a, 0.0, arc[0], arc[1], 255, -1, cv2.LINE_8, _SHIFT)


def _limb(
    img: np.ndarray,
    mask: np.ndarray,
    top: tuple[float, float],
    bottom: tuple[float, float],
    w_top: float,
    w_bottom: float,
    color: Color,
) -> None:
    (x0, y0), (x1, y1) = top, bottom
    _poly(
        img,
        mask,
        [
            (x0 - w_top / 2, y0),
            (x0 + w_top / 2, y0),
            (x1 + w_bottom / 2, y1),
            (x1 - w_bottom / 2, y1),
        ],
        color,
    )


def draw_person(
    app: Appearance, width: int, height: int, phase: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sprite ``(height, width, 3)`` uint8 and its boolean mask, gait at ``phase`` radians.

    >>> from numpy.random import default_rng
    >>> img, mask = draw_person(sample_appearance(default_rng(1)), 40, 100, 0.0)
    >>> img.shape, mask.shape, bool(0.3 < mask.mean() < 0.8)
    ((100, 40, 3), (100, 40), True)
    """
    if width < 1 or height < 1:
        raise ValueError(f"sprite size {width}x{height} must be at least 1x1")
    img = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    swing = math.sin(phase)
    # Back leg and arm first, so the near ones overlap them.
    _draw_legs(img, mask, app, swing)
    _draw_arms(img, mask, app, swing)
    if app.bag is not None:
        w, h = float(width), float(height)
        _poly(
            img,
            mask,
            [(0.1 * w, 0.22 * h), (0.35 * w, 0.22 * h), (0.35 * w, 0.45 * h), (0.05 * w, 0.45 * h)],
            app.bag,
        )
    _draw_torso(img, mask, app)
    _draw_head(img, mask, app)
    # Round the body with a horizontal shading profile (lit from the front).
    profile = 0.78 + 0.22 * np.sin(np.linspace(0.15, math.pi - 0.15, width, dtype=np.float32))
    shaded = img.astype(np.float32) * profile[None, :, None]
    return shaded.astype(np.uint8), mask > 0


def _size(img: np.ndarray) -> tuple[float, float]:
    return float(img.shape[1]), float(img.shape[0])


def _draw_legs(img: np.ndarray, mask: np.ndarray, app: Appearance, swing: float) -> None:
    w, h = _size(img)
    cx = w / 2
    hip_y, foot_y = 0.53 * h, 0.97 * h
    for side in (-1.0, 1.0):
        foot_x = cx + side * 0.12 * w + side * swing * 0.22 * w
        _limb(
            img,
            mask,
            (cx + side * 0.13 * w, hip_y),
            (foot_x, foot_y),
            0.24 * w,
            0.16 * w,
            app.bottom,
        )
        _ellipse(img, mask, (foot_x + 0.02 * w, foot_y), (0.1 * w, 0.03 * h), app.shoes)


def _draw_arms(img: np.ndarray, mask: np.ndarray, app: Appearance, swing: float) -> None:
    w, h = _size(img)
    cx = w / 2
    shoulder_y, hand_y = 0.19 * h, 0.52 * h
    for side in (-1.0, 1.0):
        hand_x = cx + side * 0.38 * w - side * swing * 0.08 * w
        _limb(
            img,
            mask,
            (cx + side * 0.33 * w, shoulder_y),
            (hand_x, hand_y),
            0.17 * w,
            0.12 * w,
            app.top,
        )
        _ellipse(img, mask, (hand_x, hand_y), (0.07 * w, 0.025 * h), app.skin)


def _draw_torso(img: np.ndarray, mask: np.ndarray, app: Appearance) -> None:
    """The texture tile stretched over a trapezoid."""
    w, h = _size(img)
    height, width = img.shape[:2]
    t0, t1 = int(0.16 * h), max(int(0.57 * h), int(0.16 * h) + 1)
    x0, x1 = int(0.14 * w), max(int(0.86 * w), int(0.14 * w) + 1)
    torso = np.zeros((height, width), np.uint8)
    scratch = np.zeros((height, width, 3), np.uint8)
    _poly(scratch, torso, [(0.17 * w, t0), (0.83 * w, t0), (0.76 * w, t1), (0.24 * w, t1)], app.top)
    tile = cv2.resize(app.texture, (x1 - x0, t1 - t0), interpolation=cv2.INTER_LINEAR)
    region = torso[t0:t1, x0:x1] > 0
    img[t0:t1, x0:x1][region] = tile[region]
    mask[t0:t1, x0:x1][region] = 255


def _draw_head(img: np.ndarray, mask: np.ndarray, app: Appearance) -> None:
    """Head with hair on its upper half."""
    w, h = _size(img)
    cx = w / 2
    _ellipse(img, mask, (cx, 0.09 * h), (0.15 * w, 0.075 * h), app.skin)
    _ellipse(img, mask, (cx, 0.08 * h), (0.155 * w, 0.07 * h), app.hair, arc=(180.0, 360.0))
