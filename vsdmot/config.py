"""Typed training configuration, loaded from YAML with dotted command-line overrides.

A run is described by one :class:`TrainConfig`: ``data``, ``model``
(:class:`~vsdmot.models.config.ModelConfig`), ``semantic``
(:class:`~vsdmot.semantics.config.SemanticConfig`), ``optim`` and ``train``.
YAML files are merged onto the dataclass defaults through OmegaConf structured
configs, so a key that does not exist or a value of the wrong type is an error
naming the key and the file. A YAML file may start from another one with
``_base_: other.yaml`` (a path relative to the file, or a preset name).

>>> cfg = compose_config(None, ["model.d_model=64", "optim.lr=1e-4"])
>>> cfg.model.d_model, cfg.optim.lr
(64, 0.0001)
>>> compose_config(None, ["semantic.dswr=off"]).semantic.dswr  # not YAML's False
'off'
>>> compose_config(None, ["optim.lrr=1"])
Traceback (most recent call last):
...
vsdmot.config.ConfigError: <command line>: unknown key 'optim.lrr' (did you mean 'lr'?)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from vsdmot.models.config import ModelConfig
from vsdmot.semantics.config import SemanticConfig, TeacherConfig
from vsdmot.utils.det_db_spec import parse_det_db_spec
from vsdmot.utils.io import atomic_write
from vsdmot.utils.specs import SpecError, parse_spec

PRESET_DIR = Path(__file__).resolve().parent / "configs"


class ConfigError(ValueError):
    """A configuration file or override is invalid. The message names the source and key."""


# ---------------------------------------------------------------------------
# sections


@dataclass
class CleanPair:
    """A degraded dataset and the clean dataset it was made from (same sequence names).

    Both may be dataset folders (folders of sequences) or single sequence folders.
    """

    degraded: str = ""
    clean: str = ""


@dataclass
class AugmentConfig:
    """Training-time augmentation, drawn once per clip and applied to all its frames."""

    scales: list[int] = field(default_factory=lambda: [288, 320, 352])
    """Shorter side after resizing, chosen uniformly per clip (MOTR-style multi-scale)."""
    max_size: int = 640
    """Cap on the longer side after resizing (the scale is lowered to respect it)."""
    hflip: float = 0.5
    """Probability of a horizontal flip."""
    crop: float = 0.5
    """Probability of a random crop before resizing."""
    crop_min: float = 0.6
    """Smallest crop side, as a fraction of the image side."""
    brightness: float = 0.2
    """Photometric jitter: brightness factor drawn from [1 - b, 1 + b]; 0 disables."""
    contrast: float = 0.2
    saturation: float = 0.2
    min_box_size: float = 2.0
    """Boxes narrower or lower than this many pixels after cropping are dropped."""


@dataclass
class ProposalConfig:
    """Where proposals (anchor queries) come from and the noise added during training."""

    source: str = "det"
    """``det``: the sequence's ``det/det.txt``; ``det_db:FILE.json`` (the spec of
    ``vsdmot track --proposals``): each sequence's boxes in a MOTRv2 det_db file;
    ``gt``: ground-truth boxes (a stand-in detector for data without detections; the
    noise below then matters most)."""
    score_threshold: float = 0.3
    """Detections scoring below this are not proposals."""
    jitter: float = 0.05
    """Std of the Gaussian noise on centre and size, relative to the box size."""
    drop: float = 0.1
    """Probability of removing each proposal (missed detections)."""
    false_positives: float = 0.5
    """Mean number (Poisson) of random boxes added per frame (false detections)."""
    gt_score_range: list[float] = field(default_factory=lambda: [0.5, 1.0])
    """``source: gt``: scores are drawn uniformly from this range."""


@dataclass
class DataConfig:
    """Datasets, clip sampling and input size.

    ``train`` and ``val`` list dataset folders (folders of MOTChallenge /
    DanceTrack sequences) or single sequence folders. ``train_frames`` /
    ``val_frames`` restrict a sequence (by name) to an inclusive frame range,
    e.g. ``{PETS09-S2L1: [1, 600]}``, which is how one sequence is split.
    """

    train: list[str] = field(default_factory=list)
    train_frames: dict[str, list[int]] = field(default_factory=dict)
    val: list[str] = field(default_factory=list)
    val_frames: dict[str, list[int]] = field(default_factory=dict)
    clean_pairs: list[CleanPair] = field(default_factory=list)
    """Degraded datasets with their clean originals: clean frames feed the teacher."""
    train_split: str = "train"
    """A dataset root of ``data.train`` that holds split folders (``DanceTrack/`` with
    ``train/``, ``val/``, ``test/``) is read from this one."""
    val_split: str = "val"
    """The split folder read from a dataset root of ``data.val``."""
    mot17_detector: str = "SDP"
    """Which of MOT17's three copies of a sequence is used: ``DPM``, ``FRCNN``, ``SDP``
    or ``all``."""
    gt_format: Literal["auto", "mot15", "mot16"] = "auto"
    clip_length: int = 3
    max_interval: int = 3
    """Frames of a clip are ``interval`` apart, ``interval`` uniform in [1, max_interval]."""
    input_size: int = 320
    """Shorter side at validation / inference."""
    max_size: int = 640
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    proposals: ProposalConfig = field(default_factory=ProposalConfig)
    num_workers: int = 0


@dataclass
class OptimConfig:
    """AdamW and the learning-rate schedule (per optimiser step)."""

    lr: float = 2e-4
    backbone_lr_mult: float = 0.1
    """The backbone's learning rate is ``lr * backbone_lr_mult``."""
    weight_decay: float = 1e-4
    """Not applied to norms, biases and other 1-d parameters."""
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    grad_clip: float = 0.1
    """Max global gradient norm; 0 disables clipping."""
    schedule: Literal["step", "cosine", "constant"] = "step"
    warmup_steps: int = 0
    """Linear warm-up from ``warmup_factor * lr``."""
    warmup_factor: float = 0.001
    milestones: list[float] = field(default_factory=lambda: [0.8])
    """``step``: fractions of the total steps where the lr is multiplied by ``gamma``."""
    gamma: float = 0.1
    min_lr_ratio: float = 0.01
    """``cosine``: final lr as a fraction of ``lr``."""


@dataclass
class TrainLoopConfig:
    """Length of the run, batch size, logging, checkpoints, device."""

    steps: int = 1000
    """Optimiser steps; ignored when ``epochs`` is set."""
    epochs: int | None = None
    """Passes over the training clips; sets ``steps`` from the dataset size."""
    batch_size: int = 1
    """Clips per optimiser step and per process (the global batch is x world size)."""
    log_every: int = 10
    ckpt_every: int = 200
    keep_checkpoints: int = 2
    """Step checkpoints kept besides ``last.pt`` (older ones are deleted); 0 keeps all."""
    seed: int = 0
    device: str = "auto"
    """``auto`` (cuda when available, else cpu), ``cpu``, ``cuda``, ``cuda:1`` ..."""
    amp: bool = True
    """Mixed precision (torch.autocast); only ever used on CUDA."""
    amp_dtype: Literal["bfloat16", "float16"] = "bfloat16"
    find_unused_parameters: bool = True
    """DDP: some heads/queries get no gradient on some steps (no newborns, no tracks)."""
    deterministic: bool = False
    """torch.use_deterministic_algorithms (slower on CUDA; CPU runs are deterministic)."""
    tensorboard: bool = True
    """Also write TensorBoard events when the ``tensorboard`` package is installed."""
    init_from: str | None = None
    """A vsdmot model or training checkpoint (``model.pt``, ``last.pt``) whose weights
    start the run, e.g. a tracker trained on clean frames before low-quality fine-tuning:
    every tensor whose name and shape match is copied, the others keep their
    initialisation and are logged. A resumed run ignores it (its checkpoint holds the
    weights)."""


@dataclass
class DistillRunConfig:
    """``vsdmot distill``: stage-1 distillation of the student on clean/degraded frame pairs.

    The DCSD terms are chosen by ``semantic.distill``; seed and device come from
    ``train.seed`` / ``train.device``; frames from ``data.train`` (+ ``data.clean_pairs``).
    """

    steps: int = 500
    """Optimiser steps of the student."""
    batch_size: int = 32
    """Frames per step (the structure term compares the frames of a batch)."""
    quality_steps: int | None = None
    """Steps of the quality head on the degraded frames' labels (``None``: ``steps``;
    0: not trained). Only with ``semantic.dswr=on``."""
    lr: float = 1e-3
    quality_lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 10
    grad_clip: float = 1.0
    pairs: Literal["auto", "disk", "generate"] = "auto"
    """``disk``: every sequence is a degraded copy paired with its clean source
    (``data.clean_pairs``); ``generate``: every sequence is clean and degraded on the
    fly; ``auto``: degraded copies (``degradation.json`` or a clean pair) from disk,
    the other sequences on the fly."""
    types: list[str] = field(default_factory=list)
    """On-the-fly degradation types (empty: every type that works frame by frame)."""
    min_severity: float = 0.5
    max_severity: float = 5.0
    """On-the-fly severity is uniform in ``[min_severity, max_severity]`` per frame."""
    clean_fraction: float = 0.1
    """Share of on-the-fly frames left clean (quality 1), so the student also sees them."""
    max_size: int = 448
    """Frames are shrunk to this longer side before degradation (0: full size)."""
    frame_stride: int = 1
    """Use every n-th frame of each sequence."""


@dataclass
class TrainConfig:
    """A whole training run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    semantic: SemanticConfig = field(default_factory=SemanticConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainLoopConfig = field(default_factory=TrainLoopConfig)
    distillation: DistillRunConfig = field(default_factory=DistillRunConfig)


# ---------------------------------------------------------------------------
# loading


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A YAML path, or a preset name (``tiny-cpu``) from ``vsdmot/configs/``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    preset = PRESET_DIR / f"{name_or_path}.yaml"
    if preset.is_file():
        return preset
    names = ", ".join(sorted(p.stem for p in PRESET_DIR.glob("*.yaml")))
    raise ConfigError(f"{name_or_path}: neither a config file nor a preset (presets: {names})")


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> list[tuple[str, dict]]:
    """The file's mapping preceded by those of its ``_base_`` chain (base first)."""
    if path.resolve() in chain:
        raise ConfigError(f"{path}: _base_ cycle ({' -> '.join(str(p) for p in chain)})")
    try:
        text = path.read_text()
        _refuse_aliases(text, path)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    _refuse_interpolation(data, str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    base = data.pop("_base_", None)
    layers: list[tuple[str, dict]] = []
    if base is not None:
        base_path = path.parent / base if (path.parent / base).is_file() else None
        base_path = base_path or resolve_config_path(base)
        layers = _read_yaml(base_path, (*chain, path.resolve()))
    return [*layers, (str(path), data)]


def _refuse_aliases(text: str, path: Path) -> None:
    """YAML anchors and aliases are refused before anything is built: a few hundred
    bytes of nested aliases expand to billions of nodes ("billion laughs")."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise ConfigError(
                f"{path}:{mark.line + 1}: YAML anchors and aliases (&name, *name) are not "
                "supported in config files; write the values out"
            )


def _refuse_interpolation(data: object, source: str, key: str = "") -> None:
    """No ``${...}`` in user settings: OmegaConf would resolve them (``${oc.env:VAR}``
    reads the environment), and the value would be printed and stored in the run's
    files. A literal ``${`` is an error naming the key.

    >>> _refuse_interpolation({"train": {"device": "${oc.env:HOME}"}}, "x.yaml")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vsdmot.config.ConfigError: x.yaml: train.device: interpolation ('${...}') is not ...
    """
    if isinstance(data, dict):
        for k, v in data.items():
            _refuse_interpolation(v, source, f"{key}.{k}" if key else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _refuse_interpolation(v, source, f"{key}[{i}]")
    elif isinstance(data, str) and "${" in data:
        raise ConfigError(
            f"{source}: {key}: interpolation ('${{...}}') is not supported; write the value itself"
        )


def _on_off_switches(schema: DictConfig, layer: DictConfig, prefix: str = "") -> None:
    """YAML reads ``on`` / ``off`` as booleans; turn them back into the switch strings
    wherever the schema holds an ``"on"`` / ``"off"`` field (e.g. ``semantic.dswr``)."""
    for key in list(layer.keys()):
        value = layer[key]
        current = OmegaConf.select(schema, f"{prefix}{key}", default=None)
        if isinstance(value, DictConfig):
            _on_off_switches(schema, value, f"{prefix}{key}.")
        elif isinstance(value, bool) and current in ("on", "off"):
            layer[key] = "on" if value else "off"


#: Sections that may also be written as one spec string, and what parses it:
#: ``semantic.teacher=clip:source=openai,arch=RN50,path=RN50.pt`` replaces the whole section.
SPEC_SECTIONS = {"semantic.teacher": TeacherConfig.from_spec}


def _expand_specs(layer: DictConfig, source: str) -> None:
    """Replace each spec string of a :data:`SPEC_SECTIONS` key by the section it names
    (every field, so nothing of an earlier layer's section survives)."""
    for key, parse in SPEC_SECTIONS.items():
        value = OmegaConf.select(layer, key, default=None)
        if not isinstance(value, str):
            continue
        try:
            section = dataclasses.asdict(parse(value))
        except ValueError as exc:  # SpecError, or a field the section refuses
            raise ConfigError(f"{source}: {key}: {exc}") from None
        OmegaConf.update(layer, key, section, merge=False)


def _merge(schema: DictConfig, layer: DictConfig, source: str) -> DictConfig:
    _expand_specs(layer, source)
    try:
        _on_off_switches(schema, layer)
        return OmegaConf.merge(schema, layer)  # type: ignore[return-value]
    except ConfigKeyError as exc:
        key = exc.full_key or getattr(exc, "key", "?")
        hint = re.search(r"Did you mean: '([^']+)'\?", str(exc))
        extra = f" (did you mean '{hint.group(1)}'?)" if hint else ""
        raise ConfigError(f"{source}: unknown key '{key}'{extra}") from None
    except ValidationError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{source}: invalid value for '{exc.full_key}': {first}") from None
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{source}: {str(exc).splitlines()[0]}") from None


def compose_config(
    config: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> TrainConfig:
    """Defaults <- YAML file (and its ``_base_`` chain) <- ``key=value`` overrides."""
    merged: DictConfig = OmegaConf.structured(TrainConfig)
    if config is not None:
        for source, data in _read_yaml(resolve_config_path(config)):
            merged = _merge(merged, OmegaConf.create(data), source)
    if overrides:
        bad = [o for o in overrides if "=" not in o]
        if bad:
            raise ConfigError(f"<command line>: override {bad[0]!r} is not key=value")
        for item in overrides:
            key, _, value = item.partition("=")
            _refuse_interpolation(value, "<command line>", key)
        try:
            dotlist = OmegaConf.from_dotlist(list(overrides))
        except OmegaConfBaseException as exc:
            raise ConfigError(f"<command line>: {str(exc).splitlines()[0]}") from None
        merged = _merge(merged, dotlist, "<command line>")
    source = str(config) if config is not None else "<defaults>"
    try:
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{source}: {str(exc).splitlines()[0]}") from None
    except ValueError as exc:  # a section's __post_init__ rejected a value
        raise ConfigError(f"{source} (with overrides): {exc}") from None
    assert isinstance(cfg, TrainConfig)
    validate(cfg, source)
    return cfg


def validate(cfg: TrainConfig, source: str) -> None:
    """Cross-field checks the dataclasses cannot express."""

    def fail(msg: str) -> None:
        raise ConfigError(f"{source}: {msg}")

    d, o, t = cfg.data, cfg.optim, cfg.train
    if d.clip_length < 1:
        fail(f"data.clip_length={d.clip_length} must be >= 1")
    if d.max_interval < 1:
        fail(f"data.max_interval={d.max_interval} must be >= 1")
    if not d.augment.scales or min(d.augment.scales) < 32:
        fail("data.augment.scales must list shorter sides >= 32")
    if not 0 < d.augment.crop_min <= 1:
        fail("data.augment.crop_min must be in (0, 1]")
    for name, ranges in (("train_frames", d.train_frames), ("val_frames", d.val_frames)):
        for seq, r in ranges.items():
            if len(r) != 2 or not 1 <= r[0] <= r[1]:
                fail(f"data.{name}.{seq}={list(r)} must be [first, last] with 1 <= first <= last")
    if d.mot17_detector.upper() not in ("DPM", "FRCNN", "SDP", "ALL"):
        fail(f"data.mot17_detector={d.mot17_detector!r} must be DPM, FRCNN, SDP or all")
    if problem := proposal_source_problem(d.proposals.source):
        fail(f"data.proposals.source={d.proposals.source!r}: {problem}")
    lo_hi = d.proposals.gt_score_range
    if len(lo_hi) != 2 or not 0 <= lo_hi[0] <= lo_hi[1] <= 1:
        fail("data.proposals.gt_score_range must be [low, high] within [0, 1]")
    if t.batch_size < 1:
        fail(f"train.batch_size={t.batch_size} must be >= 1")
    if t.epochs is None and t.steps < 1:
        fail(f"train.steps={t.steps} must be >= 1")
    if t.epochs is not None and t.epochs < 1:
        fail(f"train.epochs={t.epochs} must be >= 1")
    if t.log_every < 1 or t.ckpt_every < 1:
        fail("train.log_every and train.ckpt_every must be >= 1")
    if o.lr <= 0 or o.backbone_lr_mult < 0 or o.weight_decay < 0 or o.grad_clip < 0:
        fail("optim.lr must be > 0; backbone_lr_mult, weight_decay, grad_clip >= 0")
    if any(not 0 < m < 1 for m in o.milestones):
        fail(f"optim.milestones={list(o.milestones)} must be fractions in (0, 1)")
    ds = cfg.distillation
    if ds.steps < 1 or ds.batch_size < 1 or ds.frame_stride < 1:
        fail("distillation.steps, batch_size and frame_stride must be >= 1")
    if ds.quality_steps is not None and ds.quality_steps < 0:
        fail(f"distillation.quality_steps={ds.quality_steps} must be >= 0")
    if not 0 <= ds.min_severity <= ds.max_severity <= 5:
        fail("distillation.min_severity <= max_severity must lie in [0, 5]")
    if not 0 <= ds.clean_fraction <= 1:
        fail(f"distillation.clean_fraction={ds.clean_fraction} must be in [0, 1]")
    if ds.max_size < 0 or ds.lr <= 0 or ds.quality_lr <= 0:
        fail("distillation.max_size must be >= 0; lr and quality_lr > 0")


#: The proposal sources training reads: stored boxes, or the ground truth.
TRAINING_PROPOSALS = ("det", "det_db", "gt")


def proposal_source_problem(text: str) -> str | None:
    """What is wrong with a training proposal source, or ``None``.

    >>> proposal_source_problem("det_db:/data/det_db_motrv2.json") is None
    True
    >>> proposal_source_problem("yolo")
    "training reads stored boxes: det, det_db:FILE.json or gt (run 'vsdmot detect' first)"
    """
    try:
        spec = parse_spec(text)
    except SpecError as exc:
        return str(exc)
    if spec.name not in TRAINING_PROPOSALS:
        return "training reads stored boxes: det, det_db:FILE.json or gt (run 'vsdmot detect' " \
            "first)"
    if spec.name != "det_db":
        return None if spec.value is None and not spec.options else f"{spec.name} takes no options"
    try:
        parse_det_db_spec(spec)
    except SpecError as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------------
# saving, fingerprints


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (lists for tuples) of a config dataclass."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    """Write the full resolved config as YAML (loadable with :func:`compose_config`)."""
    with atomic_write(path) as f:
        yaml.safe_dump(config_to_dict(cfg), f, sort_keys=False)


#: Semantic keys that only say where initial weights come from: they do not shape the
#: model, so a run resumed (or loaded) with another value, or from a file written before
#: the key existed, still fits its checkpoint.
_INIT_ONLY_SEMANTIC = ("student_weights",)


def model_sections(cfg: TrainConfig) -> dict[str, Any]:
    """The sections that decide the model's parameters (what a checkpoint must match)."""
    return {"model": config_to_dict(cfg.model), "semantic": config_to_dict(cfg.semantic)}


#: Model-section keys added after files were written, with the value an older file
#: implies: left out of the fingerprint while they hold it, so older checkpoints still fit.
_ADDED_KEYS: dict[tuple[str, ...], Any] = {
    ("semantic", "teacher", "source"): "hf",
    ("semantic", "teacher", "arch"): None,
    ("semantic", "quality", "version"): 1,
    ("semantic", "quality", "members"): 1,
}


def _without_implied(sections: dict[str, Any]) -> dict[str, Any]:
    """``sections`` less the :data:`_ADDED_KEYS` that hold their implied value.

    >>> _without_implied({"semantic": {"teacher": {"source": "hf", "kind": "clip"}}})
    {'semantic': {'teacher': {'kind': 'clip'}}}
    """
    sections = json.loads(json.dumps(sections))  # a copy: the caller's dicts stay as they are
    for path, implied in _ADDED_KEYS.items():
        node: Any = sections
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node and node[path[-1]] == implied:
            del node[path[-1]]
    return sections


def fingerprint(sections: dict[str, Any]) -> str:
    """Short stable hash of the model-shaping sections (initialisation-only keys, and
    keys added later while they hold the value older files imply, left out)."""
    if "semantic" in sections:
        semantic = {k: v for k, v in sections["semantic"].items() if k not in _INIT_ONLY_SEMANTIC}
        sections = {**sections, "semantic": semantic}
    sections = _without_implied(sections)
    blob = json.dumps(sections, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = v
    return out


def diff_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ (or exist on one side only)."""
    fa, fb = flatten(a), flatten(b)
    missing = object()
    return sorted(k for k in fa.keys() | fb.keys() if fa.get(k, missing) != fb.get(k, missing))
