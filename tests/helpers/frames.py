"""Generated textured frames and their degradations (semantic tests).

Frames are float32 ``(H, W, 3)`` in ``[0, 1]``. :func:`degrade` runs the library's own ops
(:mod:`vsdmot.degrade`) on them, except for blur: the library sizes its blur kernels for
640-pixel frames, which leaves a 64-pixel test frame nearly untouched, so ``gaussian_blur``
is a Gaussian of a size that suits these frames.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vsdmot.degrade import create
from vsdmot.degrade.base import interp_param, to_float, to_uint8

#: Gaussian blur sigma (pixels of a 64-pixel frame) at severities 0..5.
BLUR = (0.0, 0.8, 1.3, 1.9, 2.7, 3.6)
KINDS = ("gaussian_noise", "gaussian_blur", "low_light", "fog")


def make_frame(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """A float32 (H, W, 3) frame in [0, 1]: smooth background, stripes, 2-4 shapes."""
    grid = rng.uniform(0.1, 0.9, (4, 4, 3)).astype(np.float32)
    img = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta, freq = rng.uniform(0, np.pi), rng.uniform(0.3, 0.9)
    stripes = 0.12 * np.sin(freq * (np.cos(theta) * xx + np.sin(theta) * yy))
    img = img + stripes[..., None] * rng.uniform(0.3, 1.0, 3).astype(np.float32)
    for _ in range(rng.integers(2, 5)):
        color = tuple(float(c) for c in rng.uniform(0, 1, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(size // 10, size // 4))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, color, -1)
        else:
            cv2.rectangle(img, (x - r, y - r), (x + r, y + r // 2), color, -1)
    return np.clip(img, 0, 1).astype(np.float32)


def degrade(img: np.ndarray, kind: str, sev: float, rng: np.random.Generator | None) -> np.ndarray:
    """``img`` degraded by ``kind`` at severity ``sev`` in [0, 5] (0 = identity)."""
    if kind == "gaussian_blur":
        sigma = interp_param(sev, BLUR)
        out = cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0 else img
        return np.clip(out, 0, 1).astype(np.float32)
    rng = rng if rng is not None else np.random.default_rng(0)
    op = create(kind)
    op.setup(rng, (img.shape[1], img.shape[0]))
    return to_float(op.apply(to_uint8(img), sev, rng))


def to_tensor(frames) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()
