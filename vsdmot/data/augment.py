"""Clip-consistent augmentation: one set of parameters, applied to every frame of a clip.

Geometry is crop (in source pixels) -> resize -> horizontal flip. Boxes are
transformed in continuous coordinates and returned normalised by the output
size, so they stay exact whatever the resize interpolation does to pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsdmot.config import AugmentConfig
from vsdmot.data.preprocess import resize_frame, resize_size


@dataclass(frozen=True)
class ClipTransform:
    """Parameters drawn once per clip. ``crop`` is ``(x0, y0, w, h)`` in source pixels."""

    crop: tuple[int, int, int, int]
    out_size: tuple[int, int]  # (width, height) after resizing
    flip: bool = False
    brightness: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0

    # -- geometry ---------------------------------------------------------------

    def apply_image(self, img: np.ndarray) -> np.ndarray:
        """BGR uint8 source frame -> BGR uint8 output frame."""
        x0, y0, w, h = self.crop
        img = img[y0 : y0 + h, x0 : x0 + w]
        img = resize_frame(img, self.out_size)
        if self.flip:
            img = img[:, ::-1]
        return np.ascontiguousarray(img)

    def apply_boxes(self, ltwh: np.ndarray, min_size: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Source ``left, top, w, h`` pixels -> (normalised cxcywh, kept-row mask).

        Boxes are clipped to the crop; those narrower or lower than ``min_size``
        output pixels afterwards are dropped.
        """
        x0, y0, w, h = self.crop
        ltwh = np.asarray(ltwh, dtype=np.float64).reshape(-1, 4)
        x1 = np.clip(ltwh[:, 0] - x0, 0, w)
        y1 = np.clip(ltwh[:, 1] - y0, 0, h)
        x2 = np.clip(ltwh[:, 0] + ltwh[:, 2] - x0, 0, w)
        y2 = np.clip(ltwh[:, 1] + ltwh[:, 3] - y0, 0, h)
        sx, sy = self.out_size[0] / w, self.out_size[1] / h
        keep = ((x2 - x1) * sx >= max(min_size, 1e-6)) & ((y2 - y1) * sy >= max(min_size, 1e-6))
        x1, y1, x2, y2 = x1[keep] / w, y1[keep] / h, x2[keep] / w, y2[keep] / h
        if self.flip:
            x1, x2 = 1.0 - x2, 1.0 - x1
        out = np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)
        return out.astype(np.float32).reshape(-1, 4), keep

    # -- photometry ---------------------------------------------------------------

    def apply_photometric(self, rgb: np.ndarray) -> np.ndarray:
        """Float RGB in [0, 1] -> jittered float RGB in [0, 1]."""
        if self.brightness == self.contrast == self.saturation == 1.0:
            return rgb
        out = rgb * self.brightness
        gray = out @ np.array([0.299, 0.587, 0.114], dtype=out.dtype)
        out = (out - gray.mean()) * self.contrast + gray.mean()
        gray = (out @ np.array([0.299, 0.587, 0.114], dtype=out.dtype))[..., None]
        out = (out - gray) * self.saturation + gray
        return np.clip(out, 0.0, 1.0)


def eval_transform(width: int, height: int, shorter: int, max_size: int) -> ClipTransform:
    """The deterministic transform used for validation: resize only."""
    return ClipTransform((0, 0, width, height), resize_size(width, height, shorter, max_size))


def sample_transform(
    cfg: AugmentConfig, width: int, height: int, rng: np.random.Generator
) -> ClipTransform:
    """Draw one clip's augmentation parameters from ``rng``."""
    crop = (0, 0, width, height)
    if rng.random() < cfg.crop:
        cw = max(8, round(width * rng.uniform(cfg.crop_min, 1.0)))
        ch = max(8, round(height * rng.uniform(cfg.crop_min, 1.0)))
        cw, ch = min(cw, width), min(ch, height)
        crop = (int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1)), cw, ch)
    shorter = int(rng.choice(np.asarray(cfg.scales)))
    out_size = resize_size(crop[2], crop[3], shorter, cfg.max_size)
    flip = bool(rng.random() < cfg.hflip)

    def factor(strength: float) -> float:
        return float(rng.uniform(1 - strength, 1 + strength)) if strength > 0 else 1.0

    return ClipTransform(
        crop,
        out_size,
        flip,
        brightness=factor(cfg.brightness),
        contrast=factor(cfg.contrast),
        saturation=factor(cfg.saturation),
    )
