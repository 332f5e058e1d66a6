"""Fog, rain and contrast loss.

==============  ==================================================  ==============================
type            parameter (severity 0 / 1 / 2 / 3 / 4 / 5)          fixed per sequence
==============  ==================================================  ==============================
``fog``         scattering beta: 0 / .6 / 1.0 / 1.5 / 2.1 / 2.8      depth map (horizon row +
                                                                     smooth noise), airlight A
``rain``        drop density: 0 / .15 / .3 / .5 / .75 / 1           streak angle, streak length,
                streak opacity: 0 / .35 / .45 / .55 / .65 / .75      max drop count
                veil (haze): 0 / .03 / .06 / .09 / .12 / .15
``contrast``    contrast factor c: 1 / .6 / .45 / .32 / .22 / .14    --
==============  ==================================================  ==============================

Fog follows the atmospheric scattering model ``I = J t + A (1 - t)`` with
transmission ``t = exp(-beta d)``; the depth proxy ``d`` in [0, 1] is 1 above a
random horizon row, falls linearly to the bottom of the frame, and is
perturbed by smooth (bicubically up-sampled) noise. The fog is static for a
constant severity.

Rain draws new drop positions every frame from the frame RNG (a drop crosses
the view within a few frames, so consecutive frames show different streaks);
the direction and length of the streaks are fixed per sequence. Contrast loss
pulls every pixel towards the frame mean: ``x' = m + c (x - m)``.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from vsdmot.degrade.base import (
    STAGE_SCENE,
    Degradation,
    interp_param,
    register,
    to_float,
    to_uint8,
)

FOG_BETA = (0.0, 0.6, 1.0, 1.5, 2.1, 2.8)
RAIN_DENSITY = (0.0, 0.15, 0.3, 0.5, 0.75, 1.0)
RAIN_OPACITY = (0.0, 0.35, 0.45, 0.55, 0.65, 0.75)
RAIN_VEIL = (0.0, 0.03, 0.06, 0.09, 0.12, 0.15)
CONTRAST_FACTOR = (1.0, 0.6, 0.45, 0.32, 0.22, 0.14)

#: Drops at density 1 per 640 x 480 pixels.
RAIN_MAX_DROPS = 1500


def depth_proxy(
    rng: np.random.Generator, size: tuple[int, int], horizon: float, roughness: float = 0.15
) -> np.ndarray:
    """Relative scene depth in [0, 1] (1 = far) for a ground-level camera.

    ``horizon`` is the row (fraction of the height) above which everything is
    far; smooth noise of amplitude ``roughness`` breaks the straight gradient
    the way buildings and trees do.
    """
    w, h = size
    rows = np.arange(h, dtype=np.float32)[:, None] / max(h - 1, 1)
    ramp = np.clip(1.0 - (rows - horizon) / max(1.0 - horizon, 1e-6) * 0.85, 0.15, 1.0)
    coarse = rng.normal(0.0, roughness, size=(6, 8)).astype(np.float32)
    smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(ramp + smooth, 0.0, 1.0).astype(np.float32)


@register
class Fog(Degradation):
    """Homogeneous fog through the atmospheric scattering model."""

    name = "fog"
    stage = STAGE_SCENE

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        horizon = float(rng.uniform(0.2, 0.5))
        self._depth = depth_proxy(rng, frame_size, horizon)
        gray = float(rng.uniform(0.75, 0.95))
        tint = float(rng.uniform(0.0, 0.04))  # fog is slightly bluish more often than not
        self._airlight = np.array([gray + tint, gray, gray - tint], dtype=np.float32)
        return {
            "horizon": round(horizon, 4),
            "airlight_bgr": [round(float(a), 4) for a in self._airlight],
            "depth_mean": round(float(self._depth.mean()), 4),
        }

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        beta = interp_param(severity, FOG_BETA)
        t = np.exp(-beta * self._depth)[:, :, None]
        return to_uint8(to_float(frame) * t + self._airlight * (1.0 - t))


@register
class Rain(Degradation):
    """Rain streaks with a per-sequence direction, plus the veil that rain adds."""

    name = "rain"
    stage = STAGE_SCENE

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        w, h = frame_size
        angle = float(np.clip(rng.normal(0.0, 12.0), -30.0, 30.0))  # degrees from vertical
        length = float(rng.uniform(14.0, 26.0)) * self.scale()
        return {
            "angle_deg": round(angle, 3),
            "length_px": round(length, 3),
            "max_drops": round(RAIN_MAX_DROPS * w * h / (640 * 480)),
        }

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        h, w = frame.shape[:2]
        n = round(interp_param(severity, RAIN_DENSITY) * self.params["max_drops"])
        theta = np.radians(self.params["angle_deg"])
        direction = np.array([np.sin(theta), np.cos(theta)], dtype=np.float64)
        # Drops start above/left of the view too, so streaks enter across the borders.
        starts = rng.uniform([-0.1 * w, -0.1 * h], [w, h], size=(n, 2))
        lengths = self.params["length_px"] * rng.uniform(0.6, 1.4, size=(n, 1))
        ends = starts + lengths * direction
        # Three brightness groups: one polylines call each instead of one call per drop.
        group = rng.integers(0, 3, size=n)
        layer = np.zeros((h, w), dtype=np.float32)
        thickness = max(1, round(self.scale()))
        for g, level in enumerate((0.6, 0.8, 1.0)):
            sel = group == g
            segs = np.stack([starts[sel], ends[sel]], axis=1)
            segs = np.round(segs * 16).astype(np.int32)  # 4 fractional bits: sub-pixel positions
            cv2.polylines(layer, list(segs), False, level, thickness, cv2.LINE_AA, shift=4)
        layer = cv2.GaussianBlur(layer, (0, 0), 0.6 * self.scale())
        alpha = (interp_param(severity, RAIN_OPACITY) * np.clip(layer, 0, 1))[:, :, None]
        veil = interp_param(severity, RAIN_VEIL)
        img = to_float(frame) * (1.0 - veil) + 0.6 * veil
        return to_uint8(img * (1.0 - alpha) + 0.9 * alpha)


@register
class Contrast(Degradation):
    """Global contrast loss towards the frame's mean intensity."""

    name = "contrast"
    stage = STAGE_SCENE

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        c = interp_param(severity, CONTRAST_FACTOR)
        img = to_float(frame)
        mean = img.mean()
        return to_uint8(mean + c * (img - mean))
