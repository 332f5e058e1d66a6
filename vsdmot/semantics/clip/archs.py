"""The shapes of CLIP image towers: the published ones by name, any one from its weights.

A tower's shape is read from its tensors as OpenAI's ``build_model`` reads it: a ViT's
width and patch size from ``conv1``, depth from the number of blocks, input size from
the position table; a ResNet's blocks per stage from the ``layer<i>.<j>`` keys, width from
the stem, input size from the attention pool's position table (1/32 of the input), and
output size from ``attnpool.c_proj``. Two things cannot be read from the weights: the
number of attention heads (64 channels per head in both reference implementations, other
widths for some OpenCLIP models, hence the table) and the ViT's MLP activation (QuickGELU
for OpenAI's weights and OpenCLIP's ``-quickgelu`` models, GELU for other OpenCLIP ones).

>>> named_arch("RN50").output_dim, named_arch("ViT-B/32").output_dim
(1024, 512)
>>> named_arch("ViT-L/14@336px").image_size
336
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResNetArch:
    """A CLIP ResNet tower: blocks per stage, stem width, input size, output size and
    attention-pool heads."""

    layers: tuple[int, int, int, int]
    width: int
    image_size: int
    output_dim: int
    heads: int


@dataclass(frozen=True)
class VitArch:
    """A CLIP ViT tower and its MLP activation."""

    width: int
    layers: int
    patch_size: int
    image_size: int
    output_dim: int
    heads: int
    mlp_width: int
    quick_gelu: bool = True


TowerArch = ResNetArch | VitArch

#: Published towers (OpenAI's, and OpenCLIP's larger ViTs), by OpenCLIP's spelling.
KNOWN_ARCHS: dict[str, TowerArch] = {
    "RN50": ResNetArch((3, 4, 6, 3), 64, 224, 1024, 32),
    "RN101": ResNetArch((3, 4, 23, 3), 64, 224, 512, 32),
    "RN50x4": ResNetArch((4, 6, 10, 6), 80, 288, 640, 40),
    "RN50x16": ResNetArch((6, 8, 18, 8), 96, 384, 768, 48),
    "RN50x64": ResNetArch((3, 15, 36, 10), 128, 448, 1024, 64),
    "ViT-B-32": VitArch(768, 12, 32, 224, 512, 12, 3072),
    "ViT-B-16": VitArch(768, 12, 16, 224, 512, 12, 3072),
    "ViT-L-14": VitArch(1024, 24, 14, 224, 768, 16, 4096),
    "ViT-L-14-336": VitArch(1024, 24, 14, 336, 768, 16, 4096),
    "ViT-H-14": VitArch(1280, 32, 14, 224, 1024, 16, 5120),
    "ViT-g-14": VitArch(1408, 40, 14, 224, 1024, 16, 6144),
    "ViT-bigG-14": VitArch(1664, 48, 14, 224, 1280, 16, 8192),
}

_QUICKGELU_SUFFIX = "-quickgelu"


def canonical_arch_name(name: str) -> tuple[str, bool]:
    """``(name in KNOWN_ARCHS, whether it ends in -quickgelu)``; OpenAI's spellings
    (``ViT-B/32``, ``ViT-L/14@336px``) and any letter case are accepted.

    >>> canonical_arch_name("vit-b/32"), canonical_arch_name("RN50-quickgelu")
    (('ViT-B-32', False), ('RN50', True))
    >>> canonical_arch_name("ViT-X-1")
    Traceback (most recent call last):
    ...
    ValueError: unknown CLIP tower 'ViT-X-1'; known: RN50, RN101, RN50x4, RN50x16, RN50x64, \
ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336, ViT-H-14, ViT-g-14, ViT-bigG-14 (optionally \
with -quickgelu), or leave arch out to read the shape from the weights
    """
    text = name.strip().replace("/", "-").replace("@336px", "-336")
    quick = text.lower().endswith(_QUICKGELU_SUFFIX)
    if quick:
        text = text[: -len(_QUICKGELU_SUFFIX)]
    by_lower = {k.lower(): k for k in KNOWN_ARCHS}
    if text.lower() not in by_lower:
        raise ValueError(
            f"unknown CLIP tower {name!r}; known: {', '.join(KNOWN_ARCHS)} (optionally with "
            "-quickgelu), or leave arch out to read the shape from the weights"
        )
    return by_lower[text.lower()], quick


def named_arch(name: str, quick_gelu: bool = True) -> TowerArch:
    """The published tower ``name`` (a ViT with the given activation)."""
    arch = KNOWN_ARCHS[canonical_arch_name(name)[0]]
    return dataclasses.replace(arch, quick_gelu=quick_gelu) if isinstance(arch, VitArch) else arch


def arch_name(arch: TowerArch) -> str | None:
    """The published name of a tower of this shape (heads and activation aside), if any.

    >>> arch_name(named_arch("RN101")), arch_name(ResNetArch((1, 1, 1, 1), 8, 32, 16, 4))
    ('RN101', None)
    """
    for name, known in KNOWN_ARCHS.items():
        if type(known) is type(arch) and _shape(known) == _shape(arch):
            return name
    return None


def _shape(arch: TowerArch) -> dict[str, Any]:
    """The fields the weights decide (everything but heads and activation)."""
    fields = dataclasses.asdict(arch)
    fields.pop("heads")
    fields.pop("quick_gelu", None)
    return fields


def infer_arch(
    state: Mapping[str, Any], *, quick_gelu: bool = True, heads: int | None = None
) -> TowerArch:
    """The tower that ``state`` (a visual tower's tensors, no ``visual.`` prefix) fits.

    Heads: ``heads`` if given, else the published tower's of the same shape, else one
    per 64 channels. Raises ``ValueError`` when ``state`` is no CLIP image tower.
    """
    if {"class_embedding", "proj", "conv1.weight"} <= state.keys():
        arch: TowerArch = _infer_vit(state, quick_gelu)
    elif "attnpool.positional_embedding" in state:
        arch = _infer_resnet(state)
    else:
        shown = ", ".join(sorted(state)[:6])
        raise ValueError(
            "not a CLIP image tower: no ViT (class_embedding, proj) nor ResNet "
            f"(attnpool.*) tensors among {len(state)} (first: {shown})"
        )
    if heads is None:
        name = arch_name(arch)
        heads = KNOWN_ARCHS[name].heads if name else arch.heads
    return dataclasses.replace(arch, heads=heads)


def _grid(state: Mapping[str, Any], key: str) -> int:
    rows = int(state[key].shape[0])
    side = math.isqrt(rows - 1)
    if side * side + 1 != rows:
        raise ValueError(f"{key} has {rows} rows, not 1 + a square grid")
    return side


def _infer_vit(state: Mapping[str, Any], quick_gelu: bool) -> VitArch:
    blocks = _indices(state, r"transformer\.resblocks\.(\d+)\.attn\.in_proj_weight")
    if not blocks:
        raise ValueError("a ViT tower without transformer.resblocks.<i>.attn.in_proj_weight")
    conv = state["conv1.weight"].shape
    width, patch = int(conv[0]), int(conv[-1])
    return VitArch(
        width=width,
        layers=len(blocks),
        patch_size=patch,
        image_size=patch * _grid(state, "positional_embedding"),
        output_dim=int(state["proj"].shape[1]),
        heads=max(1, width // 64),
        mlp_width=int(state["transformer.resblocks.0.mlp.c_fc.weight"].shape[0]),
        quick_gelu=quick_gelu,
    )


def _infer_resnet(state: Mapping[str, Any]) -> ResNetArch:
    counts = [len(_indices(state, rf"layer{stage}\.(\d+)\.conv1\.weight")) for stage in range(1, 5)]
    if min(counts) == 0:
        raise ValueError(f"a ResNet tower needs blocks in layer1..layer4, found {counts}")
    width = int(state["conv3.weight"].shape[0])
    return ResNetArch(
        layers=(counts[0], counts[1], counts[2], counts[3]),
        width=width,
        image_size=32 * _grid(state, "attnpool.positional_embedding"),
        output_dim=int(state["attnpool.c_proj.weight"].shape[0]),
        heads=max(1, width * 32 // 64),
    )


def _indices(state: Mapping[str, Any], pattern: str) -> list[int]:
    """The block indices ``pattern``'s group captures, checked to be ``0..n-1``."""
    found = sorted(int(m.group(1)) for k in state if (m := re.fullmatch(pattern, k)))
    if found != list(range(len(found))):
        raise ValueError(f"block indices {found} of {pattern!r} are not 0..{len(found) - 1}")
    return found


def check_named(arch: TowerArch, name: str) -> None:
    """Raise ``ValueError`` naming the differing fields when ``arch`` (read from weights)
    is not the shape of the published tower ``name``.

    >>> check_named(named_arch("RN50"), "RN101")
    Traceback (most recent call last):
    ...
    ValueError: the weights are not a RN101 tower: layers (3, 4, 6, 3) where RN101 has \
(3, 4, 23, 3); output_dim 1024 where RN101 has 512
    """
    canonical = canonical_arch_name(name)[0]
    known = KNOWN_ARCHS[canonical]
    if type(known) is not type(arch):
        kind = "ResNet" if isinstance(arch, ResNetArch) else "ViT"
        raise ValueError(f"the weights are a {kind} tower, not {canonical}")
    want, got = _shape(known), _shape(arch)
    diffs = [f"{k} {got[k]} where {canonical} has {want[k]}" for k in want if want[k] != got[k]]
    if diffs:
        raise ValueError(f"the weights are not a {canonical} tower: {'; '.join(diffs)}")
