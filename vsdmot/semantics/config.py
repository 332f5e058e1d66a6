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
from typing import Any, Literal

from vsdmot.semantics.clip.archs import canonical_arch_name
from vsdmot.semantics.quality_inputs import QUALITY_INPUTS
from vsdmot.utils.specs import Spec, SpecError, parse_spec, typed_options

SemanticsMode = Literal["none", "teacher", "student"]
DswrMode = Literal["off", "on"]
DistillMode = Literal["alignment", "structure", "both"]
TeacherKind = Literal["clip", "mobilenet_v2"]
TeacherSource = Literal["hf", "openai", "openclip"]
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

    ``kind="clip"`` with ``source="hf"`` (the default): a Hugging Face CLIP vision tower;
    ``name_or_path`` is a hub id or a local folder made with ``save_pretrained``.
    ``kind="clip"`` with ``source="openai"`` or ``"openclip"``: the CLIP image tower in
    the file ``weights`` (OpenAI's released ``RN50.pt``, ``ViT-B-32.pt``, ...; an
    OpenCLIP ``.pt`` / ``.safetensors``), built by :mod:`vsdmot.semantics.clip`; ``arch``
    (``RN50``, ``ViT-B-32``, ``ViT-B-32-quickgelu``, ...) is optional, the shape being read
    from the file, but names the embedding size without the file. ``kind="mobilenet_v2"``:
    the ImageNet MobileNetV2 features file at ``weights`` (global-average-pooled, 1280-d),
    the stand-in teacher where CLIP weights are not available.

    The same settings as one spec (:meth:`from_spec`): ``clip:source=openai,arch=RN50,
    path=<file>``, ``clip:source=openclip,arch=<arch>,path=<file>``,
    ``clip:source=hf,id=<hub id or folder>``, ``mobilenet_v2:path=<file>``; each may add
    ``input_size=`` and ``resize=``.

    ``input_size=None`` takes the size from the saved image processor (Hugging Face), the
    tower's position table (OpenAI / OpenCLIP files) or 224. ``resize="squash"`` resizes
    the whole frame to a square: tracking frames are wide and CLIP's shortest-side resize
    + centre crop would drop the people at the sides, which the student does see.
    ``"center_crop"`` is CLIP's own preprocessing.

    >>> TeacherConfig.from_spec("clip:source=openai,arch=RN50,path=w/RN50.pt").backend
    'openai'
    >>> TeacherConfig(kind="clip", name_or_path="weights/clip-b32").to_spec()
    'clip:source=hf,id=weights/clip-b32'
    """

    kind: TeacherKind = "clip"
    name_or_path: str = DEFAULT_CLIP
    weights: str | None = None
    input_size: int | None = None
    resize: ResizeMode = "squash"
    source: TeacherSource = "hf"
    arch: str | None = None

    def __post_init__(self) -> None:
        _check_choice("teacher.kind", self.kind, ("clip", "mobilenet_v2"))
        _check_choice("teacher.resize", self.resize, ("squash", "center_crop"))
        _check_choice("teacher.source", self.source, ("hf", "openai", "openclip"))
        if self.input_size is not None:
            _check_positive("teacher.input_size", self.input_size)
        if self.arch is not None:
            if self.backend not in ("openai", "openclip"):
                raise ValueError(
                    f"teacher.arch={self.arch!r} applies to kind=clip with source=openai or "
                    f"openclip (a weights file), not to {self.to_spec()!r}"
                )
            canonical_arch_name(self.arch)  # an unknown name fails here, not at load time

    @property
    def backend(self) -> str:
        """What loads it: ``hf``, ``openai``, ``openclip`` or ``mobilenet_v2``."""
        return self.source if self.kind == "clip" else self.kind

    @classmethod
    def from_spec(cls, text: str) -> TeacherConfig:
        """The teacher a spec names (``clip:source=openai,arch=RN50,path=RN50.pt``).

        >>> TeacherConfig.from_spec("clip:source=hf,id=openai/clip-vit-base-patch16").name_or_path
        'openai/clip-vit-base-patch16'
        >>> TeacherConfig.from_spec("clip:source=openai,id=x")
        Traceback (most recent call last):
        ...
        vsdmot.utils.specs.SpecError: 'clip:source=openai,id=x': source=openai takes \
path=<weights file> (and arch=), not id=
        """
        spec = parse_spec(text)
        if spec.name not in _TEACHER_SPECS:
            raise SpecError(
                f"{text!r}: unknown teacher {spec.name!r}; one of: {', '.join(_TEACHER_SPECS)}"
            )
        fields_of = _TEACHER_SPECS[spec.name]
        try:
            return cls(**fields_of(**typed_options(spec, fields_of)))
        except SpecError as exc:
            raise SpecError(f"{text!r}: {exc}") from None

    def to_spec(self) -> str:
        """This teacher as a spec; :meth:`from_spec` reads it back (a path holding a
        comma cannot be written as a spec)."""
        if self.kind == "mobilenet_v2":
            options: dict[str, Any] = {"path": self.weights}
        elif self.source == "hf":
            options = {"source": "hf", "id": self.name_or_path}
        else:
            options = {"source": self.source, "arch": self.arch, "path": self.weights}
        options |= {"input_size": self.input_size}
        if self.resize != "squash":
            options["resize"] = self.resize
        return str(Spec(self.kind, {k: str(v) for k, v in options.items() if v is not None}))


def _clip_spec(
    *,
    source: str = "hf",
    arch: str | None = None,
    path: str | None = None,
    id: str | None = None,
    input_size: int | None = None,
    resize: str = "squash",
) -> dict[str, Any]:
    """The :class:`TeacherConfig` fields of ``clip:...`` (``id`` for Hugging Face towers,
    ``path`` and ``arch`` for OpenAI / OpenCLIP files)."""
    if source == "hf" and (path is not None or arch is not None):
        raise SpecError("source=hf takes id=<hub id or folder>, not path= or arch=")
    if source != "hf" and id is not None:
        raise SpecError(f"source={source} takes path=<weights file> (and arch=), not id=")
    return {
        "kind": "clip",
        "source": source,
        "arch": arch,
        "weights": path,
        "name_or_path": id if id is not None else DEFAULT_CLIP,
        "input_size": input_size,
        "resize": resize,
    }


def _mobilenet_v2_spec(
    *, path: str | None = None, input_size: int | None = None, resize: str = "squash"
) -> dict[str, Any]:
    """The :class:`TeacherConfig` fields of ``mobilenet_v2:path=<features .pt>``."""
    return {"kind": "mobilenet_v2", "weights": path, "input_size": input_size, "resize": resize}


#: Teacher spec names and the function turning their options into TeacherConfig fields.
_TEACHER_SPECS = {"clip": _clip_spec, "mobilenet_v2": _mobilenet_v2_spec}


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
    """DSWR: the quality head, its inference smoothing and the gate.

    ``version`` picks what the head sees of a frame
    (:data:`~vsdmot.semantics.quality_inputs.QUALITY_INPUTS`); 1, the default, is the
    head every model file without the key holds. ``members`` networks make up the head
    (an ensemble whose logits are averaged; 1 in every file without the key).

    >>> QualityConfig(version=9)
    Traceback (most recent call last):
    ...
    ValueError: quality.version=9 is not one of (1, 2)
    """

    input_size: int = 64
    channels: tuple[int, ...] = (16, 32, 48)
    ema: float = 0.7  # weight of the running value: q_s = ema * q_s + (1 - ema) * q_t
    gate_hidden: int = 128
    version: int = 1
    members: int = 1

    def __post_init__(self) -> None:
        _check_positive("quality.input_size", self.input_size)
        if self.members < 1:
            raise ValueError(f"quality.members must be >= 1, got {self.members}")
        if self.version not in QUALITY_INPUTS:
            raise ValueError(
                f"quality.version={self.version} is not one of {tuple(sorted(QUALITY_INPUTS))}"
            )
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

