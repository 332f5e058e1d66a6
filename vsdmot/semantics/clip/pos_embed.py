"""Learnt position embeddings of a CLIP tower resized to another token grid."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def resize_positional_embedding(table: Tensor, grid: tuple[int, int]) -> Tensor:
    """``(1 + g*g, C)`` (one leading class/summary row, then a square ``g x g`` grid) to
    ``(1 + h*w, C)`` for ``grid = (h, w)``: the grid part is resized bicubically, the
    leading row kept. Returned unchanged when the grid already fits.

    Both tower kinds learn the table for one input size (the ViT's patch grid, the
    ResNet's 1/32 feature map); another teacher input size needs it resized.

    >>> table = torch.randn(1 + 4 * 4, 8)
    >>> resize_positional_embedding(table, (4, 4)) is table
    True
    >>> resize_positional_embedding(table, (3, 5)).shape
    torch.Size([16, 8])
    """
    side = math.isqrt(table.shape[0] - 1)
    if (side, side) == tuple(grid):
        return table
    first, cells = table[:1], table[1:]
    cells = cells.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    cells = F.interpolate(cells.float(), size=tuple(grid), mode="bicubic", align_corners=False)
    cells = cells.to(table.dtype).permute(0, 2, 3, 1).reshape(grid[0] * grid[1], -1)
    return torch.cat([first, cells], dim=0)
