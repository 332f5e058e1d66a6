"""Multi-scale deformable attention (Zhu et al., Deformable DETR), in pure PyTorch.

Each query attends to ``n_points`` sampled locations per head and feature level around
its reference point (or inside its reference box); sampling is bilinear through
``F.grid_sample``, so no compiled extension is needed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SpatialShapes = list[tuple[int, int]]


def ms_deform_attn_core(
    value: Tensor,
    spatial_shapes: SpatialShapes,
    sampling_locations: Tensor,
    attention_weights: Tensor,
) -> Tensor:
    """Weighted sum of bilinearly sampled values.

    Args:
        value: ``(B, S, H, Dh)``, the ``L`` levels flattened and concatenated along ``S``.
        spatial_shapes: ``(h, w)`` of each level, in the order of ``value``.
        sampling_locations: ``(B, Q, H, L, P, 2)`` as ``(x, y)`` in [0, 1] of the padded
            map (0 = left edge of the first pixel, 1 = right edge of the last).
        attention_weights: ``(B, Q, H, L, P)``.

    Returns:
        ``(B, Q, H * Dh)``. Locations outside the map read zeros.
    """
    b, _, n_heads, dh = value.shape
    _, q, _, n_levels, n_points, _ = sampling_locations.shape
    values = value.split([h * w for h, w in spatial_shapes], dim=1)
    grids = 2 * sampling_locations - 1  # grid_sample's [-1, 1] convention
    sampled = []
    for lvl, (h, w) in enumerate(spatial_shapes):
        v = values[lvl].permute(0, 2, 3, 1).reshape(b * n_heads, dh, h, w)
        g = grids[:, :, :, lvl].transpose(1, 2).reshape(b * n_heads, q, n_points, 2)
        sampled.append(
            F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False)
        )  # (B*H, Dh, Q, P)
    stacked = torch.stack(sampled, dim=-2)  # (B*H, Dh, Q, L, P)
    weights = attention_weights.transpose(1, 2).reshape(b * n_heads, 1, q, n_levels, n_points)
    out = (stacked * weights).sum(dim=(-2, -1))  # (B*H, Dh, Q)
    return out.view(b, n_heads * dh, q).transpose(1, 2)


class MSDeformAttn(nn.Module):
    """Multi-scale deformable attention module.

    >>> attn = MSDeformAttn(d_model=16, n_levels=2, n_heads=2, n_points=2)
    >>> shapes = [(4, 6), (2, 3)]
    >>> value = torch.randn(1, 4 * 6 + 2 * 3, 16)
    >>> refs = torch.rand(1, 5, 2, 2)
    >>> tuple(attn(torch.randn(1, 5, 16), refs, value, shapes).shape)
    (1, 5, 16)
    """

    def __init__(self, d_model: int, n_levels: int, n_heads: int, n_points: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} not divisible by n_heads={n_heads}")
        self.d_model, self.n_levels, self.n_heads, self.n_points = (
            d_model,
            n_levels,
            n_heads,
            n_points,
        )
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # Start with each head looking in its own direction, points at growing distances,
        # so sampling covers a neighbourhood before any learning (Deformable DETR's init).
        nn.init.zeros_(self.sampling_offsets.weight)
        angles = torch.arange(self.n_heads, dtype=torch.float32) * (2 * math.pi / self.n_heads)
        grid = torch.stack([angles.cos(), angles.sin()], -1)
        grid = grid / grid.abs().max(-1, keepdim=True).values
        grid = grid.view(self.n_heads, 1, 1, 2).repeat(1, self.n_levels, self.n_points, 1)
        grid = grid * torch.arange(1, self.n_points + 1, dtype=torch.float32).view(1, 1, -1, 1)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.flatten())
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for lin in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(
        self,
        query: Tensor,
        reference_points: Tensor,
        value_input: Tensor,
        spatial_shapes: SpatialShapes,
        padding_mask: Tensor | None = None,
    ) -> Tensor:
        """Attend from ``query (B, Q, D)`` to ``value_input (B, S, D)``.

        ``reference_points`` is ``(B, Q, L, 2)`` points ``(x, y)`` or ``(B, Q, L, 4)`` boxes
        ``(cx, cy, w, h)``, normalised to each level's padded map. With boxes, offsets are
        scaled by the box size. ``padding_mask (B, S)`` is True on padded pixels, which
        then contribute zeros.
        """
        b, q, _ = query.shape
        h, lv, p = self.n_heads, self.n_levels, self.n_points
        value = self.value_proj(value_input)
        if padding_mask is not None:
            value = value.masked_fill(padding_mask[..., None], 0.0)
        value = value.view(b, -1, h, self.d_model // h)
        offsets = self.sampling_offsets(query).view(b, q, h, lv, p, 2)
        weights = self.attention_weights(query).view(b, q, h, lv * p).softmax(-1)
        weights = weights.view(b, q, h, lv, p)
        if reference_points.shape[-1] == 2:
            wh = torch.tensor(
                [[w, hh] for hh, w in spatial_shapes], dtype=query.dtype, device=query.device
            )
            loc = reference_points[:, :, None, :, None, :] + offsets / wh[None, None, None, :, None]
        elif reference_points.shape[-1] == 4:
            ref = reference_points[:, :, None, :, None]
            loc = ref[..., :2] + offsets / p * ref[..., 2:] * 0.5
        else:
            raise ValueError(f"reference_points must end in 2 or 4, got {reference_points.shape}")
        out = ms_deform_attn_core(value, spatial_shapes, loc, weights)
        return self.output_proj(out)
