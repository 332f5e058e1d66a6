"""CLIP's ResNet image tower (RN50, RN101, RN50x4, ...), with OpenAI's parameter names.

It differs from a torchvision ResNet in three ways: a stem of three 3x3 convolutions
followed by an average pool; strided blocks that average-pool before their 1x1
convolutions (anti-aliased downsampling) instead of striding a convolution; and an
attention pool in place of the global average pool, whose single query is the mean
feature plus a learnt position table. Module names follow OpenAI's ``clip/model.py`` (and
OpenCLIP's, which keeps them) so their state dicts load without renaming.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.semantics.clip.archs import ResNetArch
from vsdmot.semantics.clip.pos_embed import resize_positional_embedding

#: Channels of a block's output relative to its inner width.
EXPANSION = 4


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> (avg-pool) -> 1x1, with an avg-pool + 1x1 shortcut where the shape
    changes. Parameter names: ``conv1..3``, ``bn1..3``, ``downsample.0`` (conv) and
    ``downsample.1`` (batch norm)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out = planes * EXPANSION
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample: nn.Module | None = None
        if stride > 1 or inplanes != out:
            # OpenAI names the pool "-1" so that the conv and norm keep indices 0 and 1.
            self.downsample = nn.Sequential()
            self.downsample.add_module("-1", nn.AvgPool2d(stride))
            self.downsample.add_module("0", nn.Conv2d(inplanes, out, 1, bias=False))
            self.downsample.add_module("1", nn.BatchNorm2d(out))

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class AttentionPool2d(nn.Module):
    """Multi-head attention of one query (the mean feature) over the feature map, with a
    learnt position table ``(1 + g*g, C)``, then ``c_proj`` to the output size."""

    def __init__(self, grid: int, embed_dim: int, heads: int, output_dim: int) -> None:
        super().__init__()
        table = torch.randn(grid**2 + 1, embed_dim) / embed_dim**0.5
        self.positional_embedding = nn.Parameter(table)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim)
        self.heads = heads

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # (B, HW, C)
        tokens = torch.cat([tokens.mean(dim=1, keepdim=True), tokens], dim=1)
        tokens = tokens + resize_positional_embedding(self.positional_embedding, (h, w))
        # Only the summary token's output is kept, so it is the only query computed.
        q = self.q_proj(tokens[:, :1])
        k, v = self.k_proj(tokens), self.v_proj(tokens)
        q, k, v = (t.reshape(b, t.shape[1], self.heads, -1).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, 1, C / heads)
        return self.c_proj(out.transpose(1, 2).reshape(b, c))


class ModifiedResNet(nn.Module):
    """Images ``(B, 3, S, S)`` (CLIP-normalised) -> embeddings ``(B, output_dim)``.

    >>> arch = ResNetArch(layers=(1, 1, 1, 1), width=8, image_size=64, output_dim=16, heads=2)
    >>> ModifiedResNet(arch)(torch.randn(2, 3, 64, 64)).shape
    torch.Size([2, 16])
    """

    def __init__(self, arch: ResNetArch) -> None:
        super().__init__()
        self.arch = arch
        half, width = arch.width // 2, arch.width
        self.conv1 = nn.Conv2d(3, half, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, half, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(half, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        inplanes = width
        for i, blocks in enumerate(arch.layers):
            planes, stride = width * 2**i, 1 if i == 0 else 2
            stage = [Bottleneck(inplanes, planes, stride)]
            inplanes = planes * EXPANSION
            stage += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*stage))
        grid = arch.image_size // 32  # the stem halves twice, stages 2-4 once each
        self.attnpool = AttentionPool2d(grid, inplanes, arch.heads, arch.output_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x.to(self.conv1.weight.dtype)
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)):
            x = F.relu(bn(conv(x)))
        x = self.avgpool(x)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return self.attnpool(x)
