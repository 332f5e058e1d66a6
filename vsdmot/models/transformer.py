"""Deformable encoder, and decoder with iterative box refinement and per-layer heads."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vsdmot.models.box_ops import inverse_sigmoid
from vsdmot.models.layers import FFN, MLP
from vsdmot.models.ms_deform_attn import MSDeformAttn, SpatialShapes
from vsdmot.models.position import sine_encode


@dataclass
class Memory:
    """Encoder output of one frame of ``B`` clips, all levels flattened."""

    memory: Tensor  # (B, S, D)
    padding_mask: Tensor  # (B, S) True on padded pixels
    spatial_shapes: SpatialShapes
    valid_ratios: Tensor  # (B, L, 2) valid (w, h) fraction of each level's map


@dataclass
class DecoderOutput:
    hidden: Tensor  # (L, B, Q, D)
    logits: Tensor  # (L, B, Q)
    boxes: Tensor  # (L, B, Q, 4) cxcywh normalised


class EncoderLayer(nn.Module):
    def __init__(
        self, d_model: int, n_heads: int, n_levels: int, n_points: int, ffn_dim: int, dropout: float
    ) -> None:
        super().__init__()
        self.self_attn = MSDeformAttn(d_model, n_levels, n_heads, n_points)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)
        self.ffn = FFN(d_model, ffn_dim, dropout)

    def forward(
        self, src: Tensor, pos: Tensor, refs: Tensor, shapes: SpatialShapes, padding_mask: Tensor
    ) -> Tensor:
        attn = self.self_attn(src + pos, refs, src, shapes, padding_mask)
        return self.ffn(self.norm(src + self.dropout(attn)))


class DeformableEncoder(nn.Module):
    def __init__(self, num_layers: int, **layer_kwargs: int | float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(**layer_kwargs) for _ in range(num_layers))

    @staticmethod
    def reference_points(shapes: SpatialShapes, valid_ratios: Tensor) -> Tensor:
        """Pixel centres of every level, normalised by the valid extent, seen from each level.

        Returns ``(B, S, L, 2)``: Deformable DETR's construction, which keeps a pixel's
        reference inside the valid (unpadded) region of every level.
        """
        refs = []
        for lvl, (h, w) in enumerate(shapes):
            ys, xs = torch.meshgrid(
                torch.arange(h, dtype=valid_ratios.dtype, device=valid_ratios.device) + 0.5,
                torch.arange(w, dtype=valid_ratios.dtype, device=valid_ratios.device) + 0.5,
                indexing="ij",
            )
            ry = ys.reshape(1, -1) / (valid_ratios[:, None, lvl, 1] * h)
            rx = xs.reshape(1, -1) / (valid_ratios[:, None, lvl, 0] * w)
            refs.append(torch.stack((rx, ry), -1))
        ref = torch.cat(refs, 1)  # (B, S, 2)
        return ref[:, :, None] * valid_ratios[:, None]

    def forward(
        self,
        src: Tensor,
        pos: Tensor,
        shapes: SpatialShapes,
        valid_ratios: Tensor,
        padding_mask: Tensor,
    ) -> Tensor:
        refs = self.reference_points(shapes, valid_ratios)
        for layer in self.layers:
            src = layer(src, pos, refs, shapes, padding_mask)
        return src


class DecoderLayer(nn.Module):
    """Self-attention among queries, deformable cross-attention to the memory, FFN."""

    def __init__(
        self, d_model: int, n_heads: int, n_levels: int, n_points: int, ffn_dim: int, dropout: float
    ) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, n_heads, dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(d_model)
        self.cross_attn = MSDeformAttn(d_model, n_levels, n_heads, n_points)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.ffn = FFN(d_model, ffn_dim, dropout)

    def forward(
        self, tgt: Tensor, query_pos: Tensor, refs: Tensor, mem: Memory, query_padding_mask: Tensor
    ) -> Tensor:
        q = tgt + query_pos
        attn = self.self_attn(q, q, tgt, key_padding_mask=query_padding_mask, need_weights=False)[0]
        tgt = self.norm1(tgt + self.dropout(attn))
        cross = self.cross_attn(
            tgt + query_pos, refs, mem.memory, mem.spatial_shapes, mem.padding_mask
        )
        tgt = self.norm2(tgt + self.dropout(cross))
        return self.ffn(tgt)


class BoxPositionEmbedding(nn.Module):
    """Query positional embedding from its reference box: MLP of the box's sine code."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        if d_model % 8:
            raise ValueError("d_model must be a multiple of 8 for box position codes")
        self.d_model = d_model
        self.mlp = MLP(2 * d_model, d_model, d_model, num_layers=2)

    def forward(self, boxes: Tensor) -> Tensor:
        return self.mlp(sine_encode(boxes, self.d_model // 2))


class DeformableDecoder(nn.Module):
    """Decoder with iterative box refinement (each layer refines the previous boxes).

    Boxes are refined in inverse-sigmoid space; the refined box of layer ``l`` is the
    reference of layer ``l + 1`` (detached, as in Deformable DETR, so that each layer's
    box head is trained by its own loss). The query positional embedding is recomputed
    from the current reference box at every layer.
    """

    def __init__(self, num_layers: int, d_model: int, **layer_kwargs: int | float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            DecoderLayer(d_model=d_model, **layer_kwargs) for _ in range(num_layers)
        )
        self.pos_embed = BoxPositionEmbedding(d_model)
        self.class_heads = nn.ModuleList(nn.Linear(d_model, 1) for _ in range(num_layers))
        self.box_heads = nn.ModuleList(MLP(d_model, d_model, 4, 3) for _ in range(num_layers))
        prior = -math.log((1 - 0.01) / 0.01)  # start every query at ~1 % objectness
        for cls_head, box_head in zip(self.class_heads, self.box_heads, strict=True):
            nn.init.constant_(cls_head.bias, prior)
            # Zero deltas: at initialisation each query predicts its reference box.
            nn.init.zeros_(box_head.layers[-1].weight)
            nn.init.zeros_(box_head.layers[-1].bias)

    def forward(
        self, tgt: Tensor, ref_boxes: Tensor, mem: Memory, query_padding_mask: Tensor
    ) -> DecoderOutput:
        ratios = torch.cat((mem.valid_ratios, mem.valid_ratios), -1)[:, None]  # (B, 1, L, 4)
        hidden, logits, boxes = [], [], []
        ref = ref_boxes.detach()
        for layer, cls_head, box_head in zip(
            self.layers, self.class_heads, self.box_heads, strict=True
        ):
            tgt = layer(tgt, self.pos_embed(ref), ref[:, :, None] * ratios, mem, query_padding_mask)
            box = (box_head(tgt) + inverse_sigmoid(ref)).sigmoid()
            hidden.append(tgt)
            logits.append(cls_head(tgt).squeeze(-1))
            boxes.append(box)
            ref = box.detach()
        return DecoderOutput(torch.stack(hidden), torch.stack(logits), torch.stack(boxes))
