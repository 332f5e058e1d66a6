"""CLIP's Vision Transformer image tower, with OpenAI's (and OpenCLIP's) parameter names.

Patches are embedded by a strided convolution (``conv1``, no bias), a learnt
``class_embedding`` token is prepended, ``positional_embedding`` added, and ``ln_pre``
applied; then ``transformer.resblocks.<i>`` pre-norm blocks (``ln_1`` -> ``attn`` with a
packed ``in_proj_weight`` and ``out_proj``; ``ln_2`` -> ``mlp.c_fc`` -> activation ->
``mlp.c_proj``); the class token goes through ``ln_post`` and the ``proj`` matrix.

OpenAI trained with QuickGELU (``x * sigmoid(1.702 x)``); most OpenCLIP models use exact
GELU (their ``-quickgelu`` variants excepted). The two differ enough to change the
embeddings, and it cannot be read from the weights, so
:class:`~vsdmot.semantics.clip.archs.VitArch` carries it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vsdmot.semantics.clip.archs import VitArch
from vsdmot.semantics.clip.pos_embed import resize_positional_embedding


class QuickGELU(nn.Module):
    """OpenAI CLIP's sigmoid approximation of GELU (what its weights were trained with)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


class Mlp(nn.Sequential):
    """``c_fc`` -> activation -> ``c_proj``."""

    def __init__(self, width: int, hidden: int, quick_gelu: bool) -> None:
        super().__init__()
        self.add_module("c_fc", nn.Linear(width, hidden))
        self.add_module("gelu", QuickGELU() if quick_gelu else nn.GELU())
        self.add_module("c_proj", nn.Linear(hidden, width))


class ResidualAttentionBlock(nn.Module):
    """``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, width: int, heads: int, mlp_width: int, quick_gelu: bool) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = Mlp(width, mlp_width, quick_gelu)

    def forward(self, x: Tensor) -> Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """The stack of blocks, as ``transformer.resblocks.<i>``."""

    def __init__(
        self, width: int, layers: int, heads: int, mlp_width: int, quick_gelu: bool
    ) -> None:
        super().__init__()
        self.resblocks = nn.Sequential(
            *(ResidualAttentionBlock(width, heads, mlp_width, quick_gelu) for _ in range(layers))
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    """Images ``(B, 3, S, S)`` (CLIP-normalised) -> embeddings ``(B, output_dim)``.

    Another input size than ``arch.image_size`` works: the position table is resized
    to the patch grid.

    >>> arch = VitArch(width=32, layers=2, patch_size=8, image_size=32, output_dim=16,
    ...                heads=2, mlp_width=64)
    >>> VisionTransformer(arch)(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 16])
    """

    def __init__(self, arch: VitArch) -> None:
        super().__init__()
        self.arch = arch
        w, p = arch.width, arch.patch_size
        grid = arch.image_size // p
        scale = w**-0.5
        self.conv1 = nn.Conv2d(3, w, kernel_size=p, stride=p, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(w))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(w, arch.layers, arch.heads, arch.mlp_width, arch.quick_gelu)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(scale * torch.randn(w, arch.output_dim))

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(x.to(self.conv1.weight.dtype))  # (B, W, gh, gw)
        grid = (x.shape[2], x.shape[3])
        x = x.flatten(2).transpose(1, 2)  # (B, gh*gw, W)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        pos = resize_positional_embedding(self.positional_embedding, grid)
        x = torch.cat([cls, x], dim=1) + pos
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj

