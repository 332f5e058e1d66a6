"""The one frame preprocessing of the tracker model, shared by training and inference.

Training (:mod:`vsdmot.data.clips`) and the runtime tracker
(:mod:`vsdmot.tracking.query_tracker`) both call these, so what the model sees
at inference is what it was trained on: the same size rule, the same
interpolation, the same normalisation.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD

_MEAN = np.asarray(IMAGENET_MEAN, dtype=np.float32)
_STD = np.asarray(IMAGENET_STD, dtype=np.float32)


#: The model's input is never more than this many times the source in either side: a
#: larger input adds no detail, only memory (a 160x120 clip at ``--input-size 4096``
#: would be 34x, several GB).
MAX_UPSCALE = 4.0


def resize_size(width: int, height: int, shorter: int, max_size: int) -> tuple[int, int]:
    """Output ``(w, h)`` with the shorter side ``shorter``, longer side at most ``max_size``,
    and at most :data:`MAX_UPSCALE` times the source.

    >>> resize_size(768, 576, 288, 640)
    (384, 288)
    >>> resize_size(1920, 1080, 800, 1333)
    (1333, 750)
    >>> resize_size(1920, 480, 384, 640)
    (640, 160)
    >>> resize_size(160, 120, 4096, 4096)
    (640, 480)
    """
    scale = shorter / min(width, height)
    if max(width, height) * scale > max_size:
        scale = max_size / max(width, height)
    scale = min(scale, MAX_UPSCALE)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_frame(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to ``size`` (w, h): area averaging when shrinking (no aliasing), bilinear when
    enlarging."""
    if (img.shape[1], img.shape[0]) == tuple(size):
        return img
    interp = cv2.INTER_AREA if size[0] < img.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(img, size, interpolation=interp)


def normalize_frame(
    bgr: np.ndarray, photometric: Callable[[np.ndarray], np.ndarray] | None = None
) -> torch.Tensor:
    """BGR uint8 ``(H, W, 3)`` -> ImageNet-normalised RGB float tensor ``(3, H, W)``.

    ``photometric`` (training augmentation) acts on RGB in ``[0, 1]`` before normalising.
    """
    rgb = bgr[..., ::-1].astype(np.float32) / 255.0
    if photometric is not None:
        rgb = photometric(rgb)
    rgb = (rgb - _MEAN) / _STD
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))
