"""The steps of the Real-ESRGAN protocol on float images (BGR, ``float32``, about [0, 1]).

Blur and resize work in float and may overshoot [0, 1] (bicubic, sinc); noise clips
to [0, 1] as Real-ESRGAN does (``clip=True``), and JPEG clips before encoding.

>>> img = np.full((16, 16, 3), 0.5, np.float32)
>>> resize(img, (8, 4), "bicubic").shape
(4, 8, 3)
>>> float(np.ptp(jpeg(img, 50)))  # a flat image stays flat
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from vsdmot.degrade.base import to_float, to_uint8

#: Resampling modes of ``torch.nn.functional.interpolate`` and their OpenCV counterparts.
RESIZE_MODES: dict[str, int] = {
    "area": cv2.INTER_AREA,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
}


def blur(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter with ``kernel`` (reflected borders, as Real-ESRGAN's ``filter2D`` pads)."""
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def resize(img: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """Resample to ``size`` = ``(width, height)`` with one of :data:`RESIZE_MODES`."""
    if img.shape[1::-1] == tuple(size):
        return img
    return cv2.resize(img, size, interpolation=RESIZE_MODES[mode])


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG-compress (OpenCV, 4:2:0) and decode; the image is clipped and rounded first."""
    ok, buf = cv2.imencode(".jpg", to_uint8(img), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV failed to JPEG-encode a frame")
    return to_float(cv2.imdecode(buf, cv2.IMREAD_COLOR))


@dataclass(frozen=True)
class NoiseParams:
    """Drawn noise: Gaussian with ``sigma`` (in 0..255 units) or Poisson with ``scale``;
    ``gray``: the same noise on the three channels (luma noise)."""

    kind: str
    gray: bool
    sigma: float | None = None
    scale: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _gaussian(img: np.ndarray, p: NoiseParams, rng: np.random.Generator) -> np.ndarray:
    assert p.sigma is not None
    shape = img.shape[:2] + ((1,) if p.gray else (img.shape[2],))
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(p.sigma / 255.0)


def _poisson(img: np.ndarray, p: NoiseParams, rng: np.random.Generator) -> np.ndarray:
    """Photon noise whose photon count at white is the number of grey levels in use,
    rounded up to a power of two (Real-ESRGAN's rule), times ``scale``."""
    assert p.scale is not None
    base = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[..., None] if p.gray else img
    levels = to_uint8(base)
    used = int(np.count_nonzero(np.bincount(levels.ravel(), minlength=256)))
    vals = float(2 ** math.ceil(math.log2(max(used, 1))))
    clean = levels.astype(np.float32) / np.float32(255.0)
    noisy = rng.poisson(clean * vals).astype(np.float32) / np.float32(vals)
    return (noisy - clean) * np.float32(p.scale)


#: Noise generators by kind: ``(image, params, rng) -> noise`` broadcastable to the image.
NOISES: dict[str, Callable[[np.ndarray, NoiseParams, np.random.Generator], np.ndarray]] = {
    "gaussian": _gaussian,
    "poisson": _poisson,
}


def add_noise(img: np.ndarray, p: NoiseParams, rng: np.random.Generator) -> np.ndarray:
    """``img`` plus fresh noise from ``rng``, clipped to [0, 1]."""
    return np.clip(img + NOISES[p.kind](img, p, rng), 0.0, 1.0)
