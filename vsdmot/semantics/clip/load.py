"""CLIP image towers from OpenAI's and OpenCLIP's weight files.

Accepted files (read by :func:`vsdmot.nn.weights.load_state_file`, never executed):
OpenAI's released ``.pt`` files (TorchScript archives, read as data), ``torch.save``
state dicts (OpenCLIP's ``{"state_dict": ...}`` checkpoints included, ``module.``
prefixes of distributed training removed) and ``.safetensors`` files. Keys may carry the
``visual.`` prefix of a full CLIP state dict (the text tower is then ignored) or none
(the image tower alone). The tower's shape is read from its tensors; a named ``arch`` is
checked against them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from torch import Tensor, nn

from vsdmot.nn.weights import WeightsFileError, apply_state, load_state_file
from vsdmot.semantics.clip.archs import (
    ResNetArch,
    TowerArch,
    VitArch,
    canonical_arch_name,
    check_named,
    infer_arch,
    named_arch,
)
from vsdmot.semantics.clip.modified_resnet import ModifiedResNet
from vsdmot.semantics.clip.vit import VisionTransformer
from vsdmot.semantics.errors import TeacherLoadError

log = logging.getLogger(__name__)

#: Where the weights come from: decides the ViT activation (see :mod:`.archs`).
SOURCES = ("openai", "openclip")
_WHAT = "CLIP image tower"

#: The module that builds each kind of tower.
TOWERS: dict[type, Callable[[TowerArch], nn.Module]] = {
    ResNetArch: ModifiedResNet,
    VitArch: VisionTransformer,
}


def uses_quick_gelu(source: str, arch: str | None) -> bool:
    """OpenAI's weights were trained with QuickGELU; OpenCLIP's only for ``-quickgelu``
    models.

    >>> uses_quick_gelu("openai", None), uses_quick_gelu("openclip", "ViT-B-32")
    (True, False)
    >>> uses_quick_gelu("openclip", "ViT-B-32-quickgelu")
    True
    """
    if source not in SOURCES:
        raise ValueError(f"CLIP weights source={source!r} is not one of {SOURCES}")
    return source == "openai" or (arch is not None and canonical_arch_name(arch)[1])


def build_tower(arch: TowerArch) -> nn.Module:
    """A randomly initialised tower of shape ``arch``."""
    return TOWERS[type(arch)](arch)


def missing_weights_message(path: str | Path | None, source: str, arch: str | None) -> str:
    """What to pass when the weights file is not there."""
    where = "no weights file given" if path is None else f"no such file {str(path)!r}"
    return (
        f"CLIP image tower weights: {where}. Pass semantic.teacher=clip:source={source},"
        f"arch={arch or '<arch>'},path=<file>, the file being one of OpenAI's released "
        "RN50.pt / ViT-B-32.pt / ... (source=openai) or an OpenCLIP .pt / .safetensors file "
        "(source=openclip); or a Hugging Face tower: clip:source=hf,id=<hub id or folder>"
    )


def visual_state(state: Mapping[str, Tensor], path: str | Path) -> dict[str, Tensor]:
    """The image tower's tensors from a file's tensors, keys without ``visual.``."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    visual = {k[len("visual.") :]: v for k, v in state.items() if k.startswith("visual.")}
    state = visual or state
    if any(k.startswith("vision_model.") for k in state):
        raise WeightsFileError(
            f"{path}: a Hugging Face CLIP state dict: load its folder with "
            "clip:source=hf,id=<folder>, or convert it with "
            "vsdmot.semantics.clip.convert.hf_vision_to_openclip"
        )
    if any(k.startswith("trunk.") for k in state):
        raise WeightsFileError(f"{path}: OpenCLIP towers built on timm (trunk.*) are not supported")
    return state


def require_tower_file(path: str | Path | None, source: str, arch: str | None) -> None:
    """:class:`TeacherLoadError`, saying what to pass, unless ``path`` is a file."""
    if path is None or not Path(path).expanduser().is_file():
        raise TeacherLoadError(missing_weights_message(path, source, arch))


def read_tower_state(path: str | Path | None, source: str, arch: str | None) -> dict[str, Tensor]:
    """The image tower's tensors in ``path``; :class:`TeacherLoadError` if it is missing."""
    require_tower_file(path, source, arch)
    path = Path(path).expanduser()
    return visual_state(load_state_file(path, _WHAT), path)


def resolve_arch(
    state: Mapping[str, Tensor],
    path: str | Path | None,
    *,
    source: str,
    arch: str | None = None,
    heads: int | None = None,
) -> TowerArch:
    """The tower ``state`` fits, checked against the published ``arch`` when named."""
    try:
        found = infer_arch(state, quick_gelu=uses_quick_gelu(source, arch), heads=heads)
        if arch is not None:
            check_named(found, arch)
    except (ValueError, KeyError, IndexError) as exc:  # missing or mis-shaped tensors
        raise WeightsFileError(f"{path}: {exc}") from None
    return found


def load_clip_tower(
    path: str | Path | None,
    *,
    source: str,
    arch: str | None = None,
    heads: int | None = None,
) -> tuple[nn.Module, TowerArch]:
    """The image tower in ``path`` (float32, eval mode, frozen) and its shape.

    ``arch`` (``RN50``, ``ViT-B-32``, ...) is optional: the shape is read from the
    tensors either way; naming it checks them, and gives the head count of towers whose
    heads are not 64 channels wide. ``heads`` overrides the head count.
    """
    state = read_tower_state(path, source, arch)
    tower_arch = resolve_arch(state, path, source=source, arch=arch, heads=heads)
    tower = build_tower(tower_arch)
    apply_state(tower, state, Path(str(path)), _WHAT)
    tower.requires_grad_(False).eval()
    log.info("CLIP image tower %s from %s: %s", arch or "(shape from weights)", path, tower_arch)
    return tower, tower_arch


def tower_output_dim(path: str | Path | None, *, source: str, arch: str | None) -> int:
    """The tower's embedding size: from the published ``arch`` without reading a file,
    else from the file's tensors.

    >>> tower_output_dim(None, source="openai", arch="RN50")
    1024
    """
    if arch is not None:
        return named_arch(arch).output_dim
    state = read_tower_state(path, source, arch)
    return resolve_arch(state, path or "", source=source).output_dim

