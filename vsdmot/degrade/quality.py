"""Quality labels and full-reference measurements against the clean frame.

The label that supervises the quality head is defined from the severity alone
(so it means the same for every type and scene): for one type at severity
``s`` it is ``1 - s / 5``; for several types applied together it is the
product over the types, each removing its own share of quality. PSNR and SSIM
to the clean frame are measured and recorded beside it for users who prefer a
signal-level label.

>>> quality_label(2.5, 1)
0.5
>>> quality_label(2.5, 2)
0.25
"""

from __future__ import annotations

import cv2
import numpy as np

from vsdmot.degrade.base import MAX_SEVERITY, check_severity

#: PSNR reported for identical frames (the true value is infinite).
PSNR_IDENTICAL = 100.0


def quality_label(severity: float, n_types: int = 1) -> float:
    """``(1 - severity / 5) ** n_types`` in [0, 1]; 1 is clean."""
    if n_types < 1:
        raise ValueError(f"n_types must be >= 1, got {n_types}")
    return float((1.0 - check_severity(severity) / MAX_SEVERITY) ** n_types)


def psnr(clean: np.ndarray, degraded: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (100 when identical).

    >>> a = np.zeros((4, 4, 3), np.uint8); b = a.copy(); b[0, 0, 0] = 255
    >>> round(psnr(a, b), 2)
    16.81
    """
    _same_shape(clean, degraded)
    mse = float(np.mean((clean.astype(np.float64) - degraded.astype(np.float64)) ** 2))
    if mse == 0.0:
        return PSNR_IDENTICAL
    return float(min(PSNR_IDENTICAL, 10.0 * np.log10(255.0**2 / mse)))


def ssim(clean: np.ndarray, degraded: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004) on the luma, Gaussian window sigma 1.5.

    >>> img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    >>> ssim(img, img)
    1.0
    """
    _same_shape(clean, degraded)
    x, y = _luma(clean), _luma(degraded)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * cxy + c2)
    den = (mx * mx + my * my + c1) * (vx + vy + c2)
    return round(float(np.mean(num / den)), 12)


def _luma(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img.astype(np.float64)


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
