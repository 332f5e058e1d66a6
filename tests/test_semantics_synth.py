"""Generated textured frames with shapes, and small seeded degradations, for the semantic tests.

Severity tables follow the ImageNet-C spirit (0 = identity, 5 = worst); the learning tests
import :func:`make_frame` and :func:`degrade` from here.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

NOISE = (0.0, 0.04, 0.08, 0.13, 0.19, 0.27)
BLUR = (0.0, 0.8, 1.3, 1.9, 2.7, 3.6)
DARK = (1.0, 0.7, 0.5, 0.34, 0.22, 0.13)
FOG = (0.0, 0.25, 0.42, 0.57, 0.7, 0.82)
JPEG = (100, 45, 28, 18, 11, 7)
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


def _interp(table, sev: float) -> float:
    return float(np.interp(sev, np.arange(6), table))


def degrade(img: np.ndarray, kind: str, sev: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "gaussian_noise":
        out = img + rng.normal(0, _interp(NOISE, sev), img.shape).astype(np.float32)
    elif kind == "gaussian_blur":
        s = _interp(BLUR, sev)
        out = cv2.GaussianBlur(img, (0, 0), s) if s > 0 else img
    elif kind == "low_light":
        out = img**1.3 * _interp(DARK, sev) if sev > 0 else img
    elif kind == "fog":
        a = _interp(FOG, sev)
        out = (1 - a) * img + a * 0.75
    elif kind == "jpeg":
        q = int(_interp(JPEG, sev))
        ok, buf = cv2.imencode(".jpg", (img * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255
    else:
        raise ValueError(kind)
    return np.clip(out, 0, 1).astype(np.float32)


def to_tensor(frames) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()


# -- the generator's own checks: the learning tests rely on these properties -------------


def test_frames_are_seeded_and_varied() -> None:
    a = make_frame(np.random.default_rng(3))
    b = make_frame(np.random.default_rng(3))
    c = make_frame(np.random.default_rng(4))
    assert a.shape == (64, 64, 3) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.05


def test_degradations_are_monotone_in_severity() -> None:
    img = make_frame(np.random.default_rng(0))
    lap = lambda x: float(np.abs(cv2.Laplacian(x.mean(axis=2), cv2.CV_32F)).mean())  # noqa: E731
    for kind in (*KINDS, "jpeg"):
        errs = [
            float(np.abs(degrade(img, kind, s, np.random.default_rng(1)) - img).mean())
            for s in (0, 1, 3, 5)
        ]
        assert errs[0] < 1e-6 if kind != "jpeg" else errs[0] < 0.02, kind
        assert errs[1] < errs[2] < errs[3], (kind, errs)
    assert lap(degrade(img, "gaussian_blur", 4, None)) < 0.5 * lap(img)
