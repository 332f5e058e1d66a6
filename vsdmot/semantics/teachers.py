"""Frozen teachers: image encoders whose global embedding the student learns to reproduce.

A :class:`Teacher` owns its preprocessing (resize, crop, its own mean/std), is
always in eval mode with no trainable parameter, and returns L2-normalised
global vectors. Its :attr:`Teacher.teacher_id` hashes the weights and the
preprocessing, so cached embeddings (:mod:`vsdmot.semantics.cache`) are
invalidated whenever either changes.

Adapters: :class:`ClipTeacher` (Hugging Face CLIP vision towers),
:func:`clip_tower_teacher` (the CLIP image towers of :mod:`vsdmot.semantics.clip`, from
OpenAI's or OpenCLIP's files), :class:`Teacher` itself for any frozen ``nn.Module``
encoder, and :func:`mobilenet_v2_teacher` (ImageNet MobileNetV2 features, the stand-in
where CLIP weights are not available). :func:`load_teacher` picks one by
:attr:`TeacherConfig.backend`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD
from vsdmot.semantics.clip.archs import VitArch, arch_name
from vsdmot.semantics.clip.load import load_clip_tower, tower_output_dim
from vsdmot.semantics.config import TeacherConfig
from vsdmot.semantics.errors import TeacherLoadError  # raised here, and importable from here
from vsdmot.semantics.preprocess import ImageInput, batch_resize, normalize, to_unit_rgb

log = logging.getLogger(__name__)

#: OpenAI CLIP's normalisation, used when a checkpoint ships no image-processor config.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def fingerprint_module(module: nn.Module, extra: str = "") -> str:
    """SHA-256 of a module's state (names, dtypes, shapes, bytes) plus ``extra``.

    >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    >>> fa, fb = fingerprint_module(a), fingerprint_module(b)
    >>> fa == fingerprint_module(a), fa == fb
    (True, False)
    """
    h = hashlib.sha256(extra.encode("utf-8"))
    for name, tensor in module.state_dict().items():
        t = tensor.detach().to("cpu").contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{tuple(tensor.shape)};".encode())
        h.update(memoryview(t.view(torch.uint8).numpy()))
    return h.hexdigest()


class Teacher(nn.Module):
    """A frozen image encoder wrapped to give one L2-normalised vector per image.

    ``encoder`` maps normalised pixels ``(B, 3, S, S)`` to ``(B, C)`` or to a feature map
    ``(B, C, h, w)`` that is average-pooled. This class is the generic adapter: any
    frozen ``nn.Module`` image encoder can be used as a teacher through it.

    >>> enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU())
    >>> t = Teacher(enc, embed_dim=8, input_size=32, name="toy")
    >>> e = t.embed(torch.rand(2, 3, 40, 50))
    >>> e.shape, bool(torch.allclose(e.norm(dim=1), torch.ones(2)))
    (torch.Size([2, 8]), True)
    >>> any(p.requires_grad for p in t.parameters()), t.training
    (False, False)
    """

    #: Towers with learnt position tables take one input size: crops are resized to it.
    fixed_input_size = False

    def __init__(
        self,
        encoder: nn.Module,
        *,
        embed_dim: int,
        input_size: int,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        resize: str = "squash",
        name: str = "module",
    ) -> None:
        super().__init__()
        if resize not in ("squash", "center_crop"):
            raise ValueError(f"resize={resize!r} is not one of ('squash', 'center_crop')")
        self.encoder = encoder
        self.embed_dim = int(embed_dim)
        self.input_size = int(input_size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.resize = resize
        self.name = name
        self._teacher_id: str | None = None
        self.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> Teacher:
        """A teacher stays in eval mode: its batch-norm statistics and dropout are frozen."""
        return super().train(False)

    @property
    def teacher_id(self) -> str:
        """``<name>-<hash>``: changes when the weights or the preprocessing change.

        Computed once (hashing a CLIP tower takes ~0.5 s) and kept: a teacher is frozen,
        so its weights are not expected to change afterwards.
        """
        if self._teacher_id is None:
            extra = json.dumps(
                [self.name, self.embed_dim, self.input_size, self.mean, self.std, self.resize]
            )
            digest = fingerprint_module(self.encoder, extra)[:16]
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.name)
            self._teacher_id = f"{safe}-{digest}"
        return self._teacher_id

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def preprocess(self, images: ImageInput) -> Tensor:
        """Any images (uint8 or unit float) -> normalised ``(B, 3, S, S)`` on its device."""
        crops = [c.to(self.device) for c in to_unit_rgb(images)]
        pixels = batch_resize(crops, self.input_size, self.resize)
        return normalize(pixels, self.mean, self.std)

    def encode(self, pixels: Tensor) -> Tensor:
        """Normalised pixels -> raw (unnormalised) global vectors ``(B, C)``."""
        out = self.encoder(pixels)
        if out.dim() == 4:
            out = out.mean(dim=(2, 3))
        return out

    @torch.no_grad()
    def embed(self, images: ImageInput) -> Tensor:
        """L2-normalised global embeddings ``(B, embed_dim)`` of ``images``."""
        emb = self.encode(self.preprocess(images)).float()
        if emb.shape[-1] != self.embed_dim:
            raise ValueError(
                f"teacher {self.name!r} produced {emb.shape[-1]}-d vectors, "
                f"declared embed_dim={self.embed_dim}"
            )
        return F.normalize(emb, dim=-1)

    @torch.no_grad()
    def embed_crops(self, crops: Tensor) -> Tensor:
        """L2-normalised embeddings of object crops ``(N, 3, h, w)`` in unit RGB.

        Convolutional encoders take the crops at their own (small) size, which keeps
        per-object distillation cheap; CLIP towers (``fixed_input_size``) resize them to
        their input.
        """
        if self.fixed_input_size:
            size = (self.input_size, self.input_size)
            crops = F.interpolate(crops, size=size, mode="bilinear")
        pixels = normalize(crops.to(self.device), self.mean, self.std)
        return F.normalize(self.encode(pixels).float(), dim=-1)

    def forward(self, images: ImageInput) -> Tensor:
        return self.embed(images)


class ClipTeacher(Teacher):
    """A Hugging Face ``CLIPVisionModelWithProjection``: the projected image embedding."""

    fixed_input_size = True

    def __init__(self, model: nn.Module, *, input_size: int, mean, std, resize, name) -> None:
        super().__init__(
            model,
            embed_dim=int(model.config.projection_dim),
            input_size=input_size,
            mean=mean,
            std=std,
            resize=resize,
            name=name,
        )
        # ViT position embeddings are learnt for one image size; any other size needs
        # them interpolated.
        self._interpolate = input_size != int(model.config.image_size)

    def encode(self, pixels: Tensor) -> Tensor:
        out = self.encoder(pixel_values=pixels, interpolate_pos_encoding=self._interpolate)
        return out.image_embeds


class ClipTowerTeacher(Teacher):
    """A CLIP image tower of :mod:`vsdmot.semantics.clip` (its output is the embedding)."""

    fixed_input_size = True


def _missing_weights_message(name_or_path: str, reason: str) -> str:
    return (
        f"could not load a CLIP vision tower from {name_or_path!r} ({reason}). Pass "
        "teacher.name_or_path=<folder> pointing to a local copy made with "
        "`CLIPVisionModelWithProjection.from_pretrained(<hub id>).save_pretrained(<folder>)` "
        "(optionally with `CLIPImageProcessor.save_pretrained(<folder>)` beside it), or "
        "allow access to the Hugging Face hub (unset HF_HUB_OFFLINE); or use "
        "teacher.kind=mobilenet_v2 with teacher.weights=<features .pt file>"
    )


def _looks_like_path(name_or_path: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else can only be a folder."""
    return (
        os.path.isabs(name_or_path)
        or name_or_path.startswith((".", "~"))
        or name_or_path.count("/") > 1
        or "\\" in name_or_path
    )


def read_clip_preprocessing(name_or_path: str, image_size: int) -> dict:
    """``mean``, ``std``, ``size`` and ``center_crop`` from a saved image-processor config.

    Falls back to OpenAI CLIP's values and the model's ``image_size`` when the folder or
    hub repo has no ``preprocessor_config.json``.
    """
    cfg: dict = {}
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        file = local / "preprocessor_config.json"
        if file.is_file():
            cfg = json.loads(file.read_text())
    else:
        try:
            from transformers.utils import cached_file

            found = cached_file(
                name_or_path,
                "preprocessor_config.json",
                _raise_exceptions_for_missing_entries=False,
                _raise_exceptions_for_connection_errors=False,
            )
            if found:
                cfg = json.loads(Path(found).read_text())
        except (OSError, ValueError) as err:
            log.debug("no image-processor config for %s: %s", name_or_path, err)
    size = image_size
    center_crop = bool(cfg.get("do_center_crop", True))
    crop = cfg.get("crop_size")
    if center_crop and isinstance(crop, dict) and "height" in crop:
        size = int(crop["height"])
    elif isinstance(cfg.get("size"), dict) and "shortest_edge" in cfg["size"]:
        size = int(cfg["size"]["shortest_edge"])
    return {
        "mean": tuple(cfg.get("image_mean", CLIP_MEAN)),
        "std": tuple(cfg.get("image_std", CLIP_STD)),
        "size": size,
        "center_crop": center_crop,
    }


def load_clip_teacher(
    name_or_path: str, input_size: int | None = None, resize: str = "squash"
) -> ClipTeacher:
    """Load a CLIP vision tower by hub id or local ``save_pretrained`` folder.

    Raises :class:`TeacherLoadError` naming what to pass when the weights are missing.
    """
    from transformers import CLIPVisionModelWithProjection

    _require_hf_folder(name_or_path)
    try:
        model = CLIPVisionModelWithProjection.from_pretrained(str(Path(name_or_path).expanduser()))
    except (OSError, ValueError) as err:
        raise TeacherLoadError(_missing_weights_message(name_or_path, str(err))) from err
    prep = read_clip_preprocessing(name_or_path, int(model.config.image_size))
    size = input_size or prep["size"]
    log.info(
        "CLIP teacher %s: %d-d embeddings at %d px", name_or_path, model.config.projection_dim, size
    )
    return ClipTeacher(
        model,
        input_size=size,
        mean=prep["mean"],
        std=prep["std"],
        resize=resize,
        # The id's hash covers the weights; the name stays free of the folder so that a
        # moved copy of the same weights still hits the embedding cache.
        name="clip",
    )


def mobilenet_v2_teacher(
    weights: str | os.PathLike[str], input_size: int = 224, resize: str = "squash"
) -> Teacher:
    """The ImageNet MobileNetV2 features file as a teacher (1280-d, average-pooled)."""
    from vsdmot.nn.mobilenet_v2 import load_mobilenet_v2_features

    path = Path(weights)
    _require_mobilenet_file(path)
    encoder = load_mobilenet_v2_features(path)
    return Teacher(
        encoder, embed_dim=1280, input_size=input_size, resize=resize, name="mobilenet_v2"
    )


def clip_tower_teacher(
    weights: str | os.PathLike[str] | None,
    *,
    source: str,
    arch: str | None = None,
    input_size: int | None = None,
    resize: str = "squash",
) -> ClipTowerTeacher:
    """A CLIP image tower from OpenAI's or OpenCLIP's weight file (``source`` ``openai``
    or ``openclip``), with CLIP's mean/std; ``input_size=None`` takes the tower's own
    (224 for RN50 and ViT-B/32). Raises :class:`TeacherLoadError` when the file is missing.
    """
    tower, arch_found = load_clip_tower(weights, source=source, arch=arch)
    label = arch_name(arch_found) or type(arch_found).__name__.removesuffix("Arch").lower()
    if isinstance(arch_found, VitArch) and arch_found.quick_gelu:
        label += "-quickgelu"  # the same weights give other embeddings with exact GELU
    return ClipTowerTeacher(
        tower,
        embed_dim=arch_found.output_dim,
        input_size=input_size or arch_found.image_size,
        mean=CLIP_MEAN,
        std=CLIP_STD,
        resize=resize,
        name=f"clip-{label}",
    )


def _require_hf_folder(name_or_path: str) -> None:
    """A name that can only be a folder must be one (a hub id is found by loading it)."""
    if _looks_like_path(name_or_path) and not Path(name_or_path).expanduser().is_dir():
        raise TeacherLoadError(_missing_weights_message(name_or_path, "no such folder"))


def _require_mobilenet_file(weights: str | os.PathLike[str] | None) -> None:
    if weights is None:
        raise TeacherLoadError(
            "teacher.kind=mobilenet_v2 needs teacher.weights=<path to the features .pt file>"
        )
    if not Path(weights).is_file():
        raise TeacherLoadError(
            f"MobileNetV2 teacher weights not found at {str(weights)!r}: pass teacher.weights="
            "<path to mobilenet_v2_imagenet_features.pt> (torchvision `features.*` keys)"
        )


def _require_tower_file(cfg: TeacherConfig) -> None:
    from vsdmot.semantics.clip.load import require_tower_file

    require_tower_file(cfg.weights, cfg.source, cfg.arch)


def _mobilenet_v2(cfg: TeacherConfig) -> Teacher:
    _require_mobilenet_file(cfg.weights)
    return mobilenet_v2_teacher(cfg.weights, cfg.input_size or 224, cfg.resize)


def _clip_tower(cfg: TeacherConfig) -> Teacher:
    return clip_tower_teacher(
        cfg.weights,
        source=cfg.source,
        arch=cfg.arch,
        input_size=cfg.input_size,
        resize=cfg.resize,
    )


#: How each :attr:`TeacherConfig.backend` is loaded.
TEACHER_LOADERS: dict[str, Callable[[TeacherConfig], Teacher]] = {
    "hf": lambda cfg: load_clip_teacher(cfg.name_or_path, cfg.input_size, cfg.resize),
    "openai": _clip_tower,
    "openclip": _clip_tower,
    "mobilenet_v2": _mobilenet_v2,
}


#: The check each loader makes first: the files it reads are there.
TEACHER_FILE_CHECKS: dict[str, Callable[[TeacherConfig], None]] = {
    "hf": lambda cfg: _require_hf_folder(cfg.name_or_path),
    "openai": _require_tower_file,
    "openclip": _require_tower_file,
    "mobilenet_v2": lambda cfg: _require_mobilenet_file(cfg.weights),
}


def check_teacher_files(cfg: TeacherConfig) -> None:
    """Raise :class:`TeacherLoadError` when the teacher's weights are named by a path that
    is not there: a run checks this before it starts, not at its first step. (A hub id is
    only found, or not, by loading it.)

    >>> check_teacher_files(TeacherConfig(kind="clip", source="openai", weights="nowhere.pt"))
    Traceback (most recent call last):
    ...
    vsdmot.semantics.errors.TeacherLoadError: CLIP image tower weights: no such file 'nowhere.pt'...
    """
    TEACHER_FILE_CHECKS[cfg.backend](cfg)


def load_teacher(cfg: TeacherConfig) -> Teacher:
    """Build the teacher a :class:`TeacherConfig` describes."""
    return TEACHER_LOADERS[cfg.backend](cfg)


#: Projection sizes of the published OpenAI CLIP towers, so that a student-mode branch can be
#: built (e.g. for inference from a checkpoint) without reaching the hub.
KNOWN_CLIP_DIMS = {
    "openai/clip-vit-base-patch32": 512,
    "openai/clip-vit-base-patch16": 512,
    "openai/clip-vit-large-patch14": 768,
    "openai/clip-vit-large-patch14-336": 768,
}


def _hf_embed_dim(cfg: TeacherConfig) -> int:
    if cfg.name_or_path in KNOWN_CLIP_DIMS:
        return KNOWN_CLIP_DIMS[cfg.name_or_path]
    from transformers import CLIPVisionConfig

    try:
        config = CLIPVisionConfig.from_pretrained(str(Path(cfg.name_or_path).expanduser()))
    except (OSError, ValueError) as err:
        raise TeacherLoadError(_missing_weights_message(cfg.name_or_path, str(err))) from err
    return int(config.projection_dim)


def _tower_embed_dim(cfg: TeacherConfig) -> int:
    return tower_output_dim(cfg.weights, source=cfg.source, arch=cfg.arch)


#: How each :attr:`TeacherConfig.backend` tells its embedding size without its weights
#: where it can (a known name), else from its config or file.
EMBED_DIMS: dict[str, Callable[[TeacherConfig], int]] = {
    "hf": _hf_embed_dim,
    "openai": _tower_embed_dim,
    "openclip": _tower_embed_dim,
    "mobilenet_v2": lambda cfg: 1280,
}


def teacher_embed_dim(cfg: TeacherConfig) -> int:
    """The teacher's embedding size, without loading its weights where the name tells it.

    >>> teacher_embed_dim(TeacherConfig(name_or_path="openai/clip-vit-base-patch32"))
    512
    >>> teacher_embed_dim(TeacherConfig.from_spec("clip:source=openai,arch=RN50"))
    1024
    """
    return EMBED_DIMS[cfg.backend](cfg)
