"""Typed configuration of the semantic branch (plain dataclasses).

The three ablation switches of the design (``semantics``, ``dswr``, ``distill``)
live here, next to the teacher, student and quality-head hyper-parameters. The branch
is built from them by :func:`vsdmot.semantics.branch.build_semantic_branch`; this
module imports nothing of the branch, so every other module of the package can read it.

>>> SemanticConfig(semantics="none").use_alignment
True
>>> SemanticConfig(semantics="clip")
Traceback (most recent call last):
...
ValueError: semantics='clip' is not one of ('none', 'teacher', 'student')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SemanticsMode = Literal["none", "teacher", "student"]
DswrMode = Literal["off", "on"]
DistillMode = Literal["alignment", "structure", "both"]
TeacherKind = Literal["clip", "mobilenet_v2"]
ResizeMode = Literal["squash", "center_crop"]

DEFAULT_CLIP = "openai/clip-vit-base-patch32"


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {choices}")


def _check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


@dataclass
class TeacherConfig:
    """Which frozen image encoder provides the target semantics.

    ``kind="clip"``: a Hugging Face CLIP vision tower; ``name_or_path`` is a hub id or a
    local folder made with ``save_pretrained``. ``kind="mobilenet_v2"``: the ImageNet
    MobileNetV2 features file at ``weights`` (global-average-pooled, 1280-d), the
    stand-in teacher where CLIP weights are not available.

    ``input_size=None`` takes the size from the saved image processor (CLIP) or 224.
    ``resize="squash"`` resizes the whole frame to a square: tracking frames are wide and
    CLIP's shortest-side resize + centre crop would drop the people at the sides, which
    the student does see. ``"center_crop"`` is CLIP's own preprocessing.
    """

    kind: TeacherKind = "clip"
    name_or_path: str = DEFAULT_CLIP
    weights: str | None = None
    input_size: int | None = None
    resize: ResizeMode = "squash"

    def __post_init__(self) -> None:
        _check_choice("teacher.kind", self.kind, ("clip", "mobilenet_v2"))
        _check_choice("teacher.resize", self.resize, ("squash", "center_crop"))
        if self.input_size is not None:
            _check_positive("teacher.input_size", self.input_size)


@dataclass
class StudentConfig:
    """A slim MobileNetV2 trunk + projection head into the teacher's embedding space.

    ``depth`` keeps the first ``depth`` blocks of MobileNetV2's ``features`` (14 keeps
    everything up to the 96-channel, stride-16 stage: the cheap part of the network).
    ``pretrained`` is a MobileNetV2 features file (torchvision key names) to initialise
    the trunk from; it only fits when ``width == 1.0``.
    """

    input_size: int = 160
    width: float = 1.0
    depth: int = 14
    feature_dim: int = 512
    head_hidden: int = 512
    pretrained: str | None = None

    def __post_init__(self) -> None:
        _check_positive("student.input_size", self.input_size)
        _check_positive("student.width", self.width)
        if not 2 <= self.depth <= 18:
            raise ValueError(f"student.depth must be in [2, 18], got {self.depth}")
        if self.pretrained is not None and self.width != 1.0:
            raise ValueError(
                f"student.pretrained={self.pretrained!r} needs student.width=1.0 "
                f"(got {self.width}); pass pretrained=None to train a slimmer trunk from scratch"
            )


@dataclass
class QualityConfig:
    """DSWR: the quality head, its inference smoothing and the gate."""

    input_size: int = 64
    channels: tuple[int, ...] = (16, 32, 48)
    ema: float = 0.7  # weight of the running value: q_s = ema * q_s + (1 - ema) * q_t
    gate_hidden: int = 128

    def __post_init__(self) -> None:
        _check_positive("quality.input_size", self.input_size)
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"quality.ema must be in [0, 1), got {self.ema}")
        self.channels = tuple(int(c) for c in self.channels)


@dataclass
class LossWeights:
    """Weights of the branch's own losses (the branch returns them already weighted)."""

    alignment: float = 1.0
    structure: float = 1.0
    quality: float = 1.0

    def __post_init__(self) -> None:
        for name in ("alignment", "structure", "quality"):
            _check_positive(f"loss_weights.{name}", getattr(self, name), allow_zero=True)


@dataclass
class SemanticConfig:
    """Everything the semantic branch needs; passed explicitly, never global.

    ``embed_dim=None`` takes the teacher's embedding size (read from the CLIP config
    without loading weights, or 1280 for MobileNetV2). ``cache_dir`` holds teacher
    embeddings (:mod:`vsdmot.semantics.cache`) so distillation does not re-run the
    teacher every epoch. ``student_weights`` is a ``student.pt`` written by ``vsdmot distill``:
    joint training starts the student and the quality head from it (an initialisation
    only: it is not part of the model fingerprint, and inference never reads it).
    """

    semantics: SemanticsMode = "student"
    dswr: DswrMode = "on"
    distill: DistillMode = "both"
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    loss_weights: LossWeights = field(default_factory=LossWeights)
    temperature: float = 0.1
    embed_dim: int | None = None
    adapter_hidden: int = 256
    adapter_zero_init: bool = False
    cache_dir: str | None = None
    student_weights: str | None = None

    def __post_init__(self) -> None:
        _check_choice("semantics", self.semantics, ("none", "teacher", "student"))
        _check_choice("dswr", self.dswr, ("off", "on"))
        _check_choice("distill", self.distill, ("alignment", "structure", "both"))
        _check_positive("temperature", self.temperature)
        _check_positive("adapter_hidden", self.adapter_hidden)
        if self.embed_dim is not None:
            _check_positive("embed_dim", self.embed_dim)

    @property
    def use_alignment(self) -> bool:
        return self.distill in ("alignment", "both")

    @property
    def use_structure(self) -> bool:
        return self.distill in ("structure", "both")

    @property
    def cache_path(self) -> Path | None:
        return None if self.cache_dir is None else Path(self.cache_dir)

