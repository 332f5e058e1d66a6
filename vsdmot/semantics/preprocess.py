"""Image plumbing shared by the teacher, the student and the quality head.

Everything inside :mod:`vsdmot.semantics` works on *unit RGB*: float tensors in
``[0, 1]``, channels first. The tracker hands over ImageNet-normalised, padded
batches; :func:`valid_crops` undoes both so that each network applies its own
normalisation to exactly the pixels of the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD

ImageInput = Tensor | np.ndarray | Sequence[Tensor] | Sequence[np.ndarray]


def denormalize_imagenet(images: Tensor) -> Tensor:
    """ImageNet-normalised ``(B, 3, H, W)`` back to unit RGB (clamped to ``[0, 1]``).

    >>> x = torch.full((1, 3, 2, 2), 0.5)
    >>> y = normalize(x, IMAGENET_MEAN, IMAGENET_STD)
    >>> torch.allclose(denormalize_imagenet(y), x)
    True
    """
    mean = images.new_tensor(IMAGENET_MEAN)[:, None, None]
    std = images.new_tensor(IMAGENET_STD)[:, None, None]
    return (images * std + mean).clamp_(0.0, 1.0)


def valid_size(mask: Tensor) -> tuple[int, int]:
    """``(h, w)`` of the unpadded top-left region of one ``(H, W)`` padding mask.

    >>> m = torch.ones(4, 5, dtype=torch.bool); m[:3, :2] = False
    >>> valid_size(m)
    (3, 2)
    """
    valid = ~mask
    rows = valid.any(dim=1)
    cols = valid.any(dim=0)
    h, w = int(rows.sum()), int(cols.sum())
    if h == 0 or w == 0:
        raise ValueError("a padding mask marks the whole frame as padding")
    return h, w


def valid_crops(images: Tensor, masks: Tensor | None) -> list[Tensor]:
    """Unit-RGB crops of the unpadded region of each image of a padded batch."""
    unit = denormalize_imagenet(images)
    if masks is None:
        return list(unit)
    if masks.shape != (images.shape[0], *images.shape[-2:]):
        raise ValueError(
            f"masks of shape {tuple(masks.shape)} do not fit images of shape {tuple(images.shape)}"
        )
    crops = []
    for img, mask in zip(unit, masks, strict=True):
        h, w = valid_size(mask)
        crops.append(img[:, :h, :w])
    return crops


def to_unit_rgb(images: ImageInput) -> list[Tensor]:
    """Accept uint8 or float images, CHW/BCHW tensors or HWC numpy arrays; return unit RGB.

    Floats are taken to be in ``[0, 1]`` already; uint8 is divided by 255.

    >>> [t.shape for t in to_unit_rgb(np.zeros((4, 6, 3), np.uint8))]
    [torch.Size([3, 4, 6])]
    >>> to_unit_rgb(torch.full((2, 3, 4, 4), 255, dtype=torch.uint8))[1].max().item()
    1.0
    """
    if isinstance(images, np.ndarray):
        arr = images if images.ndim == 4 else images[None]
        if arr.shape[-1] != 3:
            raise ValueError(f"numpy images must be (H, W, 3) or (B, H, W, 3), got {images.shape}")
        return to_unit_rgb(torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2))
    if isinstance(images, Tensor):
        batch = images if images.dim() == 4 else images[None]
        if batch.dim() != 4 or batch.shape[1] != 3:
            raise ValueError(f"image tensors must be (3, H, W) or (B, 3, H, W), got {images.shape}")
        if batch.dtype == torch.uint8:
            batch = batch.float().div_(255.0)
        return list(batch.float())
    out: list[Tensor] = []
    for item in images:
        out.extend(to_unit_rgb(item))
    return out


def resize_square(image: Tensor, size: int) -> Tensor:
    """Resize one ``(3, h, w)`` image to ``(3, size, size)`` (antialiased when shrinking)."""
    return F.interpolate(
        image[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )[0]


def resize_center_crop(image: Tensor, size: int) -> Tensor:
    """CLIP's preprocessing: shortest side to ``size``, then the central ``size x size``."""
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    resized = F.interpolate(
        image[None], size=(nh, nw), mode="bicubic", align_corners=False, antialias=True
    )[0].clamp_(0.0, 1.0)
    top, left = (nh - size) // 2, (nw - size) // 2
    return resized[:, top : top + size, left : left + size]


def batch_resize(crops: Sequence[Tensor], size: int, mode: str = "squash") -> Tensor:
    """Stack crops of any sizes into ``(B, 3, size, size)``.

    >>> batch_resize([torch.rand(3, 20, 30), torch.rand(3, 8, 8)], 16).shape
    torch.Size([2, 3, 16, 16])
    """
    fn = resize_square if mode == "squash" else resize_center_crop
    return torch.stack([fn(c, size) for c in crops])


def normalize(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """``(x - mean) / std`` per channel of a unit-RGB batch."""
    m = images.new_tensor(list(mean))[:, None, None]
    s = images.new_tensor(list(std))[:, None, None]
    return (images - m) / s
