"""Sine positional encodings for feature maps, boxes and scalars."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def sine_encode(x: Tensor, num_feats: int, temperature: float = 10000.0) -> Tensor:
    """Encode each scalar of ``x (..., K)`` (values ~[0, 1]) as ``num_feats`` sines/cosines.

    Returns ``(..., K * num_feats)``; ``num_feats`` must be even.

    >>> sine_encode(torch.tensor([[0.5, 0.25]]), 8).shape
    torch.Size([1, 16])
    """
    if num_feats % 2:
        raise ValueError("num_feats must be even")
    dim_t = torch.arange(num_feats // 2, dtype=torch.float32, device=x.device)
    dim_t = temperature ** (2 * dim_t / num_feats)
    angles = x[..., None].float() * (2 * math.pi) / dim_t  # (..., K, F/2)
    enc = torch.cat((angles.sin(), angles.cos()), dim=-1)  # (..., K, F)
    return enc.flatten(-2).to(x.dtype)


def sine_embed_2d(mask: Tensor, d_model: int, temperature: float = 10000.0) -> Tensor:
    """DETR positional encoding of a padded map: ``mask (B, H, W)`` True on padding.

    Coordinates are normalised by the *valid* extent, so the same image position gets
    the same code whatever padding it was batched with. Returns ``(B, d_model, H, W)``.

    >>> pos = sine_embed_2d(torch.zeros(1, 2, 3, dtype=torch.bool), 8)
    >>> tuple(pos.shape)
    (1, 8, 2, 3)
    """
    not_mask = (~mask).float()
    y = not_mask.cumsum(1) - 0.5
    x = not_mask.cumsum(2) - 0.5
    y = y / not_mask.sum(1, keepdim=True).clamp(min=1)
    x = x / not_mask.sum(2, keepdim=True).clamp(min=1)
    enc = sine_encode(torch.stack((y, x), dim=-1), d_model // 2, temperature)  # (B,H,W,D)
    return enc.permute(0, 3, 1, 2).contiguous()
