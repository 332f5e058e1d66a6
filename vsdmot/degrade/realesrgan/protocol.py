"""Real-ESRGAN's second-order degradation: drawing its parameters and running it.

Two rounds of blur -> resize -> noise -> JPEG, then the final step: resize back to
the input size with a sinc filter, before or after the last JPEG (even odds). See
``docs/degradations.md`` for the ranges and the differences from Real-ESRGAN.

>>> p = draw_protocol(np.random.default_rng(0), Ranges())
>>> img = np.full((48, 64, 3), 0.5, np.float32)
>>> run_protocol(img, p, build_kernels(p), np.random.default_rng(1)).shape
(48, 64, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from vsdmot.degrade.realesrgan.kernels import KINDS, SINC, KernelParams, make_kernel
from vsdmot.degrade.realesrgan.ranges import OrderRanges, Ranges
from vsdmot.degrade.realesrgan.stages import (
    RESIZE_MODES,
    NoiseParams,
    add_noise,
    blur,
    jpeg,
    resize,
)

RESIZE_DIRECTIONS = ("up", "down", "keep")
#: The two orders of the final step (Real-ESRGAN found other orders draw twisted lines).
FINAL_ORDERS = ("resize_sinc_jpeg", "jpeg_resize_sinc")


@dataclass(frozen=True)
class ResizeParams:
    """A drawn resize: ``scale`` relative to the input frame, and the resampling mode."""

    direction: str
    scale: float
    mode: str


@dataclass(frozen=True)
class OrderParams:
    """One degradation order; ``blur`` is None when the order skips its blur. The second
    order's JPEG is part of the final step."""

    blur: KernelParams | None
    resize: ResizeParams
    noise: NoiseParams
    jpeg_quality: int

    def to_json(self) -> dict[str, Any]:
        return {
            "blur": None if self.blur is None else self.blur.to_json(),
            "resize": vars(self.resize).copy(),
            "noise": self.noise.to_json(),
            "jpeg_quality": self.jpeg_quality,
        }


@dataclass(frozen=True)
class ProtocolParams:
    """Everything drawn for one sequence; only the noise itself is drawn per frame."""

    first: OrderParams
    second: OrderParams
    final_sinc: KernelParams | None
    final_resize_mode: str
    final_order: str

    def to_json(self) -> dict[str, Any]:
        return {
            "first": self.first.to_json(),
            "second": self.second.to_json(),
            "final_sinc": None if self.final_sinc is None else self.final_sinc.to_json(),
            "final_resize_mode": self.final_resize_mode,
            "final_order": self.final_order,
        }


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _kernel_size(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.choice(np.arange(bounds[0], bounds[1] + 1, 2)))


def _beta(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """Below or above 1 with even odds, uniform within each side (Real-ESRGAN's rule)."""
    return _uniform(rng, (bounds[0], 1.0) if rng.random() < 0.5 else (1.0, bounds[1]))


def draw_sinc(rng: np.random.Generator, size: int, final: bool = False) -> KernelParams:
    """A sinc kernel; the cut-off reaches down to pi/5 only for kernels of 13 taps and
    more (smaller ones cannot hold the wide low-pass), and to pi/3 for the final filter."""
    low = math.pi / 3 if final or size < 13 else math.pi / 5
    return KernelParams(SINC, size, omega_c=_uniform(rng, (low, math.pi)))


def draw_kernel(rng: np.random.Generator, r: OrderRanges) -> KernelParams:
    """A blur kernel of one order: sinc with ``sinc_prob``, else a kind of ``kernel_list``."""
    size = _kernel_size(rng, r.kernel_size_range)
    if rng.random() < r.sinc_prob:
        return draw_sinc(rng, size)
    kind = str(rng.choice(r.kernel_list, p=np.asarray(r.kernel_prob) / sum(r.kernel_prob)))
    family, isotropic = KINDS[kind]
    sigma_x = _uniform(rng, r.blur_sigma)
    sigma_y, theta = (sigma_x, 0.0) if isotropic else (
        _uniform(rng, r.blur_sigma), _uniform(rng, (-math.pi, math.pi))
    )  # fmt: skip
    beta_range = {"generalized": r.betag_range, "plateau": r.betap_range}.get(family)
    beta = None if beta_range is None else _beta(rng, beta_range)
    return KernelParams(kind, size, sigma_x, sigma_y, theta, beta)


def draw_resize(rng: np.random.Generator, r: OrderRanges) -> ResizeParams:
    direction = str(rng.choice(RESIZE_DIRECTIONS, p=np.asarray(r.resize_prob)))
    bounds = {"up": (1.0, r.resize_range[1]), "down": (r.resize_range[0], 1.0)}.get(direction)
    scale = 1.0 if bounds is None else _uniform(rng, bounds)
    return ResizeParams(direction, scale, str(rng.choice(tuple(RESIZE_MODES))))


def draw_noise(rng: np.random.Generator, r: OrderRanges) -> NoiseParams:
    if rng.random() < r.gaussian_noise_prob:
        sigma = _uniform(rng, r.noise_range)
        return NoiseParams("gaussian", bool(rng.random() < r.gray_noise_prob), sigma=sigma)
    scale = _uniform(rng, r.poisson_scale_range)
    return NoiseParams("poisson", bool(rng.random() < r.gray_noise_prob), scale=scale)


def draw_order(rng: np.random.Generator, r: OrderRanges, blur_prob: float = 1.0) -> OrderParams:
    kernel = draw_kernel(rng, r)
    applied = rng.random() < blur_prob
    return OrderParams(
        blur=kernel if applied else None,
        resize=draw_resize(rng, r),
        noise=draw_noise(rng, r),
        jpeg_quality=round(_uniform(rng, r.jpeg_range)),
    )


def draw_protocol(rng: np.random.Generator, ranges: Ranges) -> ProtocolParams:
    """One parameter set of the whole protocol."""
    first = draw_order(rng, ranges.order(1))
    second = draw_order(rng, ranges.order(2), ranges.second_blur_prob)
    final_size = _kernel_size(rng, ranges.kernel_size_range)
    final_sinc = draw_sinc(rng, final_size, final=True)
    use_sinc = rng.random() < ranges.final_sinc_prob
    return ProtocolParams(
        first=first,
        second=second,
        final_sinc=final_sinc if use_sinc else None,
        final_resize_mode=str(rng.choice(tuple(RESIZE_MODES))),
        final_order=str(rng.choice(FINAL_ORDERS)),
    )


@dataclass(frozen=True)
class Kernels:
    """The kernels of a parameter set, built once per sequence (None: not applied)."""

    first: np.ndarray | None
    second: np.ndarray | None
    final_sinc: np.ndarray | None


def build_kernels(p: ProtocolParams) -> Kernels:
    def build(k: KernelParams | None) -> np.ndarray | None:
        return None if k is None else make_kernel(k)

    return Kernels(build(p.first.blur), build(p.second.blur), build(p.final_sinc))


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` times ``scale``, truncated as ``torch`` does, at least one pixel."""
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def _order(
    img: np.ndarray,
    p: OrderParams,
    kernel: np.ndarray | None,
    size: tuple[int, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """Blur, resize to ``size``, noise (the JPEG of an order is applied by the caller)."""
    out = img if kernel is None else blur(img, kernel)
    out = resize(out, size, p.resize.mode)
    return add_noise(out, p.noise, rng)


def run_protocol(
    img: np.ndarray, p: ProtocolParams, kernels: Kernels, rng: np.random.Generator
) -> np.ndarray:
    """The degraded float image, at the size of ``img``; ``rng`` draws the noise only."""
    size = (img.shape[1], img.shape[0])
    # The first resize scales the current image; the second, like Real-ESRGAN's, is
    # relative to the output size, which here is the input size (no x4 reduction).
    out = _order(img, p.first, kernels.first, _scaled(size, p.first.resize.scale), rng)
    out = jpeg(out, p.first.jpeg_quality)
    out = _order(out, p.second, kernels.second, _scaled(size, p.second.resize.scale), rng)

    def back_and_sinc(x: np.ndarray) -> np.ndarray:
        x = resize(x, size, p.final_resize_mode)
        return x if kernels.final_sinc is None else blur(x, kernels.final_sinc)

    if p.final_order == "resize_sinc_jpeg":
        return jpeg(back_and_sinc(out), p.second.jpeg_quality)
    return back_and_sinc(jpeg(out, p.second.jpeg_quality))
