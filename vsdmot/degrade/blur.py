"""Motion and defocus blur.

Pixel sizes are given for a frame whose long side is 640 px and scale with
the frame (a 768 x 576 frame blurs 1.2 x longer).

==================  =================================================  ==========================
type                parameter (severity 0 / 1 / 2 / 3 / 4 / 5)         fixed per sequence
==================  =================================================  ==========================
``motion_blur``     line length px: 0 / 4 / 7 / 11 / 16 / 22            angle ~ U(0, 180) deg
``defocus_blur``    disk radius px: 0 / 1.5 / 2.5 / 3.5 / 5 / 7         --
==================  =================================================  ==========================

Kernels are anti-aliased (sub-pixel line samples, super-sampled disk
coverage), so blur grows continuously with severity instead of in integer
pixel steps.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import cv2
import numpy as np

from vsdmot.degrade.base import STAGE_OPTICS, Degradation, interp_param, register

MOTION_LENGTH = (0.0, 4.0, 7.0, 11.0, 16.0, 22.0)
DEFOCUS_RADIUS = (0.0, 1.5, 2.5, 3.5, 5.0, 7.0)


def line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """Normalised kernel of a centred line segment (camera shake along one direction).

    >>> k = line_kernel(5.0, 0.0)
    >>> k.shape, round(float(k.sum()), 6), bool(k[k.shape[0] // 2].sum() > 0.99)
    ((7, 7), 1.0, True)
    """
    half = max(length, 1.0) / 2.0
    size = 2 * math.ceil(half) + 1
    c = size // 2
    kernel = np.zeros((size, size), dtype=np.float64)
    n = max(2, math.ceil(length * 4) + 1)
    s = np.linspace(-length / 2.0, length / 2.0, n)
    theta = math.radians(angle_deg)
    xs, ys = c + s * math.cos(theta), c - s * math.sin(theta)
    # Bilinear splat: each sample spreads over its four neighbouring taps.
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    for dx, dy, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(kernel, (np.clip(y0 + dy, 0, size - 1), np.clip(x0 + dx, 0, size - 1)), w)
    return (kernel / kernel.sum()).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _disk_kernel_cached(radius_milli: int) -> np.ndarray:
    radius = radius_milli / 1000.0
    size = 2 * math.ceil(radius + 0.5) + 1
    c = size // 2
    ss = 8  # super-samples per pixel side: the coverage of each tap by the disk
    grid = (np.arange(size * ss) + 0.5) / ss - 0.5 - c
    inside = (grid[None, :] ** 2 + grid[:, None] ** 2) <= radius**2
    cover = inside.reshape(size, ss, size, ss).mean(axis=(1, 3))
    cover[c, c] = max(cover[c, c], 1e-6)  # a tiny radius degenerates to the identity
    return (cover / cover.sum()).astype(np.float32)


def disk_kernel(radius: float) -> np.ndarray:
    """Normalised anti-aliased disk (the point-spread function of an out-of-focus lens).

    >>> k = disk_kernel(3.0)
    >>> round(float(k.sum()), 6), k.shape
    (1.0, (9, 9))
    """
    # Cached on a rounded radius: schedules revisit the same values often.
    return _disk_kernel_cached(round(radius * 1000)).copy()


def convolve(frame: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter a uint8 frame with a float kernel (reflected borders), back to uint8."""
    out = cv2.filter2D(frame.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


@register
class MotionBlur(Degradation):
    """Linear motion blur; the direction is one per sequence (a shaking mount)."""

    name = "motion_blur"
    stage = STAGE_OPTICS

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        return {"angle_deg": round(float(rng.uniform(0.0, 180.0)), 3)}

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        length = interp_param(severity, MOTION_LENGTH) * self.scale()
        return convolve(frame, line_kernel(length, self.params["angle_deg"]))


@register
class DefocusBlur(Degradation):
    """Out-of-focus blur with a disk point-spread function."""

    name = "defocus_blur"
    stage = STAGE_OPTICS

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        radius = interp_param(severity, DEFOCUS_RADIUS) * self.scale()
        return convolve(frame, disk_kernel(radius))
