"""Runtime settings of vsdmot's tracker, one small dataclass per concern.

The registered tracker (:class:`~vsdmot.tracking.tracker.VSDMOTTracker`) takes them
flat, because ``trackers``' registry, CLI and tuner read parameters from a flat
typed ``__init__``; inside, :class:`TrackerParams` routes each flat name to its
group, and each part of the tracker reads only its own group. Checkpoints record
the settings chosen with their weights as a versioned block
(:func:`runtime_block` / :func:`read_runtime_block`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vsdmot.tracking.embedders import check_embedder_name

#: Associations whose engine is vsdmot's own (:class:`~vsdmot.tracking.query_tracker.QueryTracker`).
OWN_ENGINE = ("fused", "anchor", "e2e")


def setting(default: Any, help: str, when: dict[str, tuple[Any, ...]] | None = None) -> Any:
    """A dataclass field with its default and its one-line meaning (shown by
    ``vsdmot trackers`` and read by ``trackers``' registry); ``when`` names the modes
    in which it has an effect (``{"association": ("fused",)}``), absent: always."""
    return field(default=default, metadata={"help": help, "when": when or {}})


def _either(values: tuple[Any, ...]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _fields() -> Iterator[tuple[str, dataclasses.Field]]:
    """Every setting's dataclass field, with the group that owns it."""
    for group, cls in TrackerParams.GROUPS.items():
        for f in dataclasses.fields(cls):
            yield group, f


def setting_help() -> dict[str, str]:
    """Flat setting name -> its meaning, with the modes it applies in.

    >>> setting_help()["keep_thresh"]
    'Score a track query needs to count as seen. Only with association anchor or e2e.'
    """
    return {
        f.name: f.metadata["help"] + "".join(
            f" Only with {mode} {_either(allowed)}."
            for mode, allowed in f.metadata["when"].items()
        )
        for _, f in _fields()
    }  # fmt: skip


@dataclass(frozen=True)
class LifecycleParams:
    """Birth, survival, death and reporting of tracks."""

    birth_thresh: float = setting(
        0.2,
        "Score a new (proposal or learnable) query needs to start a track. Low because "
        "a briefly trained model under-scores proposals of objects it has lost.",
    )
    keep_thresh: float = setting(
        0.4,
        "Score a track query needs to count as seen.",
        when={"association": ("anchor", "e2e")},
    )
    miss_tolerance: int = setting(10, "Frames a track may go unseen before it is killed.")
    dedup_iou: float = setting(
        0.4,
        "A newborn overlapping a seen track more than this is a duplicate, not a birth.",
        when={"association": OWN_ENGINE},
    )
    min_hits: int = setting(
        1,
        "Consecutive frames a new track must be seen before it is reported (1: at once).",
    )
    max_tracks: int = setting(
        100,
        "Cap on live track queries, so memory stays bounded on long videos.",
        when={"association": OWN_ENGINE},
    )

    def __post_init__(self) -> None:
        if not 0 <= self.keep_thresh <= 1 or not 0 <= self.birth_thresh <= 1:
            raise ValueError("birth_thresh and keep_thresh must be in [0, 1]")
        if self.miss_tolerance < 0 or self.max_tracks < 1 or self.min_hits < 1:
            raise ValueError("miss_tolerance must be >= 0, max_tracks and min_hits >= 1")


@dataclass(frozen=True)
class MotionParams:
    """Where each track is expected next (:mod:`vsdmot.tracking.motion`)."""

    motion: str = setting(
        "kalman",
        "Motion model: ``kalman`` | ``velocity`` | ``static`` (``botsort``: its own "
        "width/height Kalman filter).",
        when={"association": OWN_ENGINE},
    )
    cmc: bool = setting(
        True,
        "Camera-motion compensation (sparse optical flow) before matching.",
        when={"association": ("botsort",)},
    )
    cmc_downscale: int = setting(
        4,
        "Camera-motion compensation on frames shrunk this many times (BoT-SORT uses 2; "
        "4 keeps the optical flow a small share of a frame beside the model).",
        when={"association": ("botsort",), "cmc": (True,)},
    )
    velocity_momentum: float = setting(
        0.5,
        "Smoothing of the per-track centre velocity.",
        when={"association": OWN_ENGINE, "motion": ("velocity",)},
    )


@dataclass(frozen=True)
class MatchingParams:
    """Which track takes which detection (:mod:`vsdmot.tracking.association`)."""

    association: str = setting(
        "fused",
        "``fused`` | ``anchor`` | ``e2e`` | ``botsort`` (BoT-SORT's core from ``trackers``, "
        "the model's evidence on top).",
    )
    anchor_iou: float = setting(
        0.2,
        "IoU a track query needs with a proposal query (0: ``e2e``).",
        when={"association": ("anchor",)},
    )
    high_thresh: float = setting(
        0.3,
        "Detections scoring at least this are matched first.",
        when={"association": ("fused", "botsort")},
    )
    low_thresh: float = setting(
        0.1,
        "Detections in [low_thresh, high_thresh) are matched second, by IoU.",
        when={"association": ("fused",)},
    )
    match_iou: float = setting(
        0.2,
        "IoU a first-stage match needs (``fused``: unless re-identified by appearance).",
        when={"association": ("fused", "botsort")},
    )
    low_match_iou: float = setting(
        0.5,
        "IoU a second-stage match needs.",
        when={"association": ("fused", "botsort")},
    )
    reid_cos: float = setting(
        0.85,
        "Appearance similarity that re-identifies a lost track, motion aside.",
        when={"association": ("fused",)},
    )
    query_box_cue: bool = setting(
        True,
        "The motion cue also counts the IoU with the track query's refined box.",
        when={"association": ("fused",)},
    )
    query_keep: float = setting(
        0.8,
        "An unmatched track is still seen on its query's box if the query "
        "scores at least this near its prediction (the detector missed it); 1.0: off.",
        when={"association": ("fused", "botsort")},
    )
    iou_buffer: float = setting(
        0.0,
        "Buffered IoU (C-BIoU): both boxes grow by this share of their width and height "
        "before overlapping, so fast or loosely placed boxes still meet; 0: plain IoU.",
        when={"association": ("botsort",)},
    )
    reupdate: bool = setting(
        False,
        "OC-SORT's observation-centric re-update: a track found after a gap replays its "
        "Kalman filter along the straight path from its last observation.",
        when={"association": ("botsort",)},
    )


@dataclass(frozen=True)
class EvidenceParams:
    """``botsort``: what the model adds to BoT-SORT's core (all off: plain BoT-SORT)."""

    rescore: float = setting(
        0.0,
        "Share of the model's objectness in a detection's confidence (0: the detector's).",
        when={"association": ("botsort",)},
    )
    refine_boxes: bool = setting(
        False,
        "Detections take the model's refined boxes instead of the detector's.",
        when={"association": ("botsort",)},
    )
    unconfirmed_iou: float = setting(
        0.3,
        "IoU (x score) a new, unconfirmed track needs with a detection to continue.",
        when={"association": ("botsort",)},
    )


@dataclass(frozen=True)
class AppearanceParams:
    """How much appearance counts and how each track remembers it."""

    appearance_weight: float = setting(
        0.3,
        "Share of appearance similarity in the first-stage similarity (``botsort``: "
        "times the detection's confidence, where the boxes overlap).",
        when={"association": ("fused", "botsort")},
    )
    appearance_dswr: bool = setting(
        False,
        "Scale the appearance weight by the frame quality q_t (DSWR).",
        when={"association": ("fused", "botsort")},
    )
    embedding_momentum: float = setting(
        0.9,
        "Smoothing of each track's appearance bank.",
        when={"association": (*OWN_ENGINE, "botsort")},
    )
    appearance_embedder: str = setting(
        "head",
        "What embeds a detection: ``head`` (the model's embedding head) | ``reid`` (the "
        "distilled person-crop embedder) | ``reid_colour`` (``reid`` plus the colour "
        "histogram) | ``imagenet`` (DeepSORT's ImageNet MobileNetV2) | ``histogram`` "
        "(HSV colour histogram).",
        when={"association": ("fused", "botsort")},
    )

    def __post_init__(self) -> None:
        if not 0 <= self.embedding_momentum < 1:
            raise ValueError("embedding_momentum must be in [0, 1)")
        check_embedder_name(self.appearance_embedder)

    def effective_weight(self, quality: float | None) -> float:
        """The appearance weight on a frame of quality ``quality``: ``appearance_weight *
        q_t`` with ``appearance_dswr`` (and a q_t), else ``appearance_weight``.

        >>> AppearanceParams(0.4, appearance_dswr=True).effective_weight(0.5)
        0.2
        >>> AppearanceParams(0.4, appearance_dswr=True).effective_weight(None)
        0.4
        """
        w = self.appearance_weight
        if self.appearance_dswr and quality is not None:
            w *= min(max(float(quality), 0.0), 1.0)
        return w


@dataclass(frozen=True)
class InputParams:
    """What the model is given."""

    proposal_min_score: float = setting(
        0.1,
        "Proposals below this score are not given to the model.",
    )
    input_short_side: int = setting(
        288,
        "Frames are resized so the shorter side has this many pixels...",
    )
    input_max_side: int = setting(512, "...and the longer side at most this many.")
    semantic_fusion: bool = setting(
        True,
        "Add the semantic branch's global vector to the queries (off: the student is not "
        "run; q_t is still estimated). No effect for a model without a semantic branch.",
    )


def inert_settings(params: TrackerParams, names: Iterable[str]) -> dict[str, str]:
    """Each of ``names`` that has no effect given the other settings' values, and why.

    >>> print(*inert_settings(TrackerParams(), ["keep_thresh", "birth_thresh"]).values())
    keep_thresh has no effect with association=fused (only with association anchor or e2e)
    >>> inert_settings(TrackerParams(association="anchor"), ["keep_thresh"])
    {}
    """
    values = params.flat()
    when = {f.name: f.metadata["when"] for _, f in _fields()}
    problems: dict[str, str] = {}
    for name in names:
        for mode, allowed in when.get(name, {}).items():
            if values[mode] not in allowed:
                only = _either(allowed)
                problems[name] = (f"{name} has no effect with {mode}={values[mode]} "
                                  f"(only with {mode} {only})")  # fmt: skip
                break
    return problems


#: Allowed ranges of the numeric settings (inclusive); every value must also be finite.
_UNIT = (0.0, 1.0)
RANGES: dict[str, tuple[float, float]] = {
    **{name: _UNIT for name in (
        "birth_thresh", "keep_thresh", "dedup_iou", "velocity_momentum", "anchor_iou",
        "high_thresh", "low_thresh", "match_iou", "low_match_iou", "reid_cos", "query_keep",
        "rescore", "unconfirmed_iou", "appearance_weight", "proposal_min_score",
    )},
    "miss_tolerance": (0, 100_000),
    "min_hits": (1, 1000),
    "cmc_downscale": (1, 16),
    "iou_buffer": (0.0, 1.0),
    "max_tracks": (1, 100_000),
    "input_short_side": (32, 4096),
    "input_max_side": (32, 4096),
}  # fmt: skip


def check_ranges(settings: dict[str, Any]) -> None:
    """Refuse non-finite and out-of-range values, naming the setting.

    >>> check_ranges({"appearance_weight": float("nan")})
    Traceback (most recent call last):
    ...
    ValueError: appearance_weight=nan must be a finite number
    >>> check_ranges({"input_short_side": 8})
    Traceback (most recent call last):
    ...
    ValueError: input_short_side=8 must be in [32, 4096]
    """
    for name, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            raise ValueError(f"{name}={value} must be a finite number")
        lo, hi = RANGES.get(name, (-math.inf, math.inf))
        if not lo <= value <= hi:
            raise ValueError(f"{name}={value} must be in [{lo:g}, {hi:g}]")


class TrackerParams:
    """Every runtime setting, built from flat names and grouped by concern.

    >>> p = TrackerParams(miss_tolerance=30, association="anchor")
    >>> p.lifecycle.miss_tolerance, p.matching.association, p.inputs.input_short_side
    (30, 'anchor', 288)
    >>> p.replace(miss_tolerance=5).flat()["miss_tolerance"]
    5
    >>> TrackerParams(speed=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown tracker setting(s) speed; valid: anchor_iou, appearance_dswr, ...
    """

    GROUPS: ClassVar[dict[str, type]] = {
        "lifecycle": LifecycleParams,
        "movement": MotionParams,
        "matching": MatchingParams,
        "evidence": EvidenceParams,
        "appearance": AppearanceParams,
        "inputs": InputParams,
    }
    lifecycle: LifecycleParams
    movement: MotionParams
    matching: MatchingParams
    evidence: EvidenceParams
    appearance: AppearanceParams
    inputs: InputParams

    def __init__(self, **settings: Any) -> None:
        owner = setting_groups()
        unknown = sorted(set(settings) - set(owner))
        if unknown:
            raise ValueError(
                f"unknown tracker setting(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(owner))}"
            )
        check_ranges(settings)
        for group, cls in self.GROUPS.items():
            mine = {k: v for k, v in settings.items() if owner[k] == group}
            setattr(self, group, cls(**mine))

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name."""
        out: dict[str, Any] = {}
        for group in self.GROUPS:
            out.update(dataclasses.asdict(getattr(self, group)))
        return out

    def replace(self, **settings: Any) -> TrackerParams:
        return TrackerParams(**{**self.flat(), **settings})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrackerParams) and self.flat() == other.flat()

    def __repr__(self) -> str:
        return "TrackerParams(" + ", ".join(f"{k}={v!r}" for k, v in self.flat().items()) + ")"


def setting_groups() -> dict[str, str]:
    """Flat setting name -> the group that owns it."""
    return {f.name: group for group, f in _fields()}


def setting_types() -> dict[str, Any]:
    """Flat setting name -> its type (for typing text values)."""
    types = {"bool": bool, "int": int, "float": float, "str": str}
    return {f.name: types[str(f.type)] for _, f in _fields()}


#: Version of the runtime-settings block stored in checkpoints.
RUNTIME_BLOCK_VERSION = 1


def runtime_block(settings: dict[str, Any]) -> dict[str, Any]:
    """The block a checkpoint stores: validated settings plus a version.

    >>> runtime_block({"miss_tolerance": 20})
    {'version': 1, 'settings': {'miss_tolerance': 20}}
    """
    TrackerParams(**settings)  # refuses unknown names and bad values now, not at load
    return {"version": RUNTIME_BLOCK_VERSION, "settings": dict(settings)}


def read_runtime_block(block: object, where: str) -> dict[str, Any]:
    """The settings of a stored block; ``where`` (the file) names the source in errors.

    Version 0 (a plain mapping of setting names, written before the block had a
    version) is read as version 1.

    >>> read_runtime_block({"version": 1, "settings": {"min_hits": 2}}, "m.pt")
    {'min_hits': 2}
    >>> read_runtime_block({"version": 1, "settings": {"min_hits": "two"}}, "m.pt")
    Traceback (most recent call last):
    ...
    ValueError: m.pt: runtime setting min_hits='two' is not a int
    """
    if not block:
        return {}
    if not isinstance(block, dict):
        raise ValueError(f"{where}: its runtime settings are not a mapping")
    if "version" in block:
        if block["version"] != RUNTIME_BLOCK_VERSION or not isinstance(block.get("settings"), dict):
            raise ValueError(
                f"{where}: runtime settings block version {block['version']!r} is not "
                f"supported (this vsdmot reads version {RUNTIME_BLOCK_VERSION})"
            )
        settings = dict(block["settings"])
    else:
        settings = dict(block)
    types = setting_types()
    unknown = sorted(set(settings) - set(types))
    if unknown:
        raise ValueError(f"{where}: unknown runtime setting(s) {', '.join(unknown)}")
    for name, value in settings.items():
        kind = types[name]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ValueError(f"{where}: runtime setting {name}={value!r} is not a {kind.__name__}")
    try:
        TrackerParams(**settings)
    except ValueError as exc:
        raise ValueError(f"{where}: runtime settings: {exc}") from exc
    return settings
