"""Every tracker by name, from one registry: ``trackers``' :class:`BaseTracker`.

ByteTrack, OC-SORT, BoT-SORT, C-BIoU, McByte and SORT register themselves there;
importing this module registers vsdmot's own (``vsdmot``, ``deepsort``). A tracker
is named by a spec, ``name[:key=value,...]`` (:mod:`vsdmot.utils.specs`), whose
values are typed from the tracker's ``__init__`` as the registry records it. The
CLI, the experiment runner, ``vsdmot tune`` and the benchmarks build trackers here
and nowhere else.

>>> spec = parse_tracker("bytetrack:lost_track_buffer=10")
>>> spec.settings
{'lost_track_buffer': 10}
>>> parse_tracker("bytetrack:nonsense=1")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
vsdmot.utils.specs.SpecError: bytetrack has no setting 'nonsense'; its settings: ...
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from trackers.core.base import BaseTracker, ParameterInfo

# Imported for their registration with ``trackers``.
from vsdmot.tracking import deepsort as _deepsort  # noqa: F401
from vsdmot.tracking import tracker as _vsdmot  # noqa: F401
from vsdmot.tracking.base import (
    FrameTracks,
    detections_to_frame_tracks,
    proposals_to_detections,
)
from vsdmot.utils.specs import Spec, SpecError, coerce, parse_spec

#: How to install what a tracker needs beyond vsdmot's own dependencies.
INSTALL_HINTS = {"mcbyte": "pip install 'trackers[mask]'"}
#: Arguments the caller fills from the video and the machine, not from the spec.
CONTEXT = ("frame_rate", "device")
_SETTABLE = (int, float, bool, str)


@dataclass(frozen=True)
class Preset:
    """A registered tracker with settings chosen by a documented study: ``--tracker NAME``
    is ``--tracker BASE:settings``, and settings given with it win."""

    base: str
    settings: dict[str, Any]
    about: str


#: Named settings, each chosen leave-one-scene-out (docs/tuning.md, BENCHMARKS.md).
PRESETS: dict[str, Preset] = {
    "vsdmot-botsort": Preset(
        "vsdmot",
        {"association": "botsort", "birth_thresh": 0.7, "min_hits": 2, "match_iou": 0.2,
         "low_match_iou": 0.5, "high_thresh": 0.6, "miss_tolerance": 30,
         "unconfirmed_iou": 0.3, "rescore": 0.0, "refine_boxes": False,
         "query_keep": 0.99, "appearance_weight": 0.19, "appearance_embedder": "head"},
        "BoT-SORT's core at BoT-SORT's own thresholds, with the model's appearance "
        "embeddings in the first stage (evidence chosen on PETS09-S2L1 601-795 and "
        "TUD-Stadtmitte, clean and degraded; its transfer measured leave-one-scene-out: "
        "docs/tuning.md)",
    ),
}  # fmt: skip


def tracker_names() -> list[str]:
    """Every registered tracker, sorted."""
    return BaseTracker._registered_trackers()


def _info(name: str):
    name = PRESETS[name].base if name in PRESETS else name
    info = BaseTracker._lookup_tracker(name)
    if info is None:
        known = ", ".join([*tracker_names(), *PRESETS])
        raise SpecError(f"unknown tracker {name!r}; choose from {known}")
    return info


def tracker_settings(name: str) -> dict[str, ParameterInfo]:
    """The settings of tracker ``name`` that a spec can set (plain values, not objects
    such as a state-estimator class), context arguments excluded."""
    return {
        k: p
        for k, p in _info(name).parameters.items()
        if p.param_type in _SETTABLE and k not in CONTEXT
    }


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker name with typed settings; ``str()`` gives the spec text back.

    >>> str(TrackerSpec("vsdmot", {"association": "anchor", "miss_tolerance": 20}))
    'vsdmot:association=anchor,miss_tolerance=20'
    """

    name: str
    settings: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return str(Spec(self.name).with_options(**self.settings))

    @property
    def label(self) -> str:
        """Folder-safe name: ``vsdmot_association=anchor``; a weights path by its stem.

        >>> TrackerSpec("vsdmot", {"weights": "/runs/a/model.pt", "min_hits": 2}).label
        'vsdmot_weights=model_min_hits=2'
        """
        parts = [self.name]
        for k, v in self.settings.items():
            text = str(Spec("x").with_options(v=v).options["v"])
            if k == "weights":
                text = text.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            parts.append(f"{k}={text}")
        label = "_".join("".join(c if c.isalnum() or c in "-_.=+" else "_" for c in p)
                         for p in parts)  # fmt: skip
        if len(label) <= 120:
            return label
        # Long specs (tuning trials) by a digest: folder names have a length limit.
        return f"{self.name}_{hashlib.sha1(str(self).encode()).hexdigest()[:16]}"

    def replace(self, **settings: Any) -> TrackerSpec:
        return TrackerSpec(self.name, {**self.settings, **settings})


def parse_tracker(text: str | Spec | TrackerSpec) -> TrackerSpec:
    """Parse and check a tracker spec: a known name, known settings, typed values."""
    if isinstance(text, TrackerSpec):
        return check_settings(text.name, text.settings)
    spec = (text if isinstance(text, Spec) else parse_spec(text)).keyword_only()
    spec = Spec(spec.name.lower(), spec.options)
    known = tracker_settings(spec.name)
    typed: dict[str, Any] = {}
    for key, value in spec.options.items():
        _check_key(spec.name, key, known)
        info = known[key]
        kind = info.param_type if info.default_value is not None else info.param_type | None
        typed[key] = coerce(value, kind, f"{spec.name}: {key}")
    if spec.name in PRESETS:
        preset = PRESETS[spec.name]
        return TrackerSpec(preset.base, {**preset.settings, **typed})
    return TrackerSpec(spec.name, typed)


def check_settings(name: str, settings: dict[str, Any]) -> TrackerSpec:
    """A spec from already-typed settings (e.g. an Optuna trial), checked by name."""
    known = tracker_settings(name)
    for key in settings:
        _check_key(name, key, known)
    return TrackerSpec(name, dict(settings))


def _check_key(name: str, key: str, known: dict[str, ParameterInfo]) -> None:
    if key not in known:
        raise SpecError(f"{name} has no setting {key!r}; its settings: {', '.join(sorted(known))}")


def build_tracker(
    spec: str | TrackerSpec, *, frame_rate: float = 30.0, device: str = "cpu"
) -> BaseTracker:
    """A new tracker from its spec; ``frame_rate`` and ``device`` go to trackers that take
    them (``device`` other than cpu to one that cannot use it is an error)."""
    spec = parse_tracker(spec)
    info = _info(spec.name)
    context: dict[str, Any] = {}
    if "frame_rate" in info.parameters:
        context["frame_rate"] = float(frame_rate)
    if "device" in info.parameters:
        context["device"] = device
    elif device != "cpu":
        raise SpecError(f"{spec.name} runs on the CPU only; drop --device {device}")
    try:
        return info.tracker_class(**spec.settings, **context)
    except ImportError as exc:
        hint = INSTALL_HINTS.get(spec.name)
        if hint is None:
            raise
        raise ImportError(f"{spec.name} needs optional dependencies ({exc}): {hint}") from exc


def describe_tracker(tracker: BaseTracker) -> str:
    """What a tracker is, for logs and summaries (weights for model-backed ones)."""
    describe = getattr(tracker, "describe", None)
    if callable(describe):
        return describe()
    return f"{tracker.tracker_id} (trackers {_trackers_version()}, no weights)"


def _trackers_version() -> str:
    from importlib.metadata import version

    return version("trackers")


def uses_frame(tracker: BaseTracker) -> bool:
    """Whether ``update`` should be given the frame (the others warn when given one)."""
    return bool(getattr(tracker, "uses_frame", False) or getattr(tracker, "enable_cmc", False))


def step(tracker: BaseTracker, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
    """One frame through any registered tracker: ``(P, 5)`` proposals in, the tracks it
    reports out (MOTChallenge ids from 1, extras such as q_t kept)."""
    detections = proposals_to_detections(proposals)
    if uses_frame(tracker):
        out = tracker.update(detections, frame=frame)
    else:
        out = tracker.update(detections)
    return detections_to_frame_tracks(out)


def listing() -> str:
    """Every tracker with its settings, defaults and meanings (``vsdmot trackers``)."""
    lines: list[str] = []
    for name in tracker_names():
        cls = _info(name).tracker_class
        tunable = set(cls.search_space or {})
        lines.append(f"{name}  ({cls.__module__}.{cls.__qualname__})")
        for key, p in tracker_settings(name).items():
            mark = " *" if key in tunable else ""
            desc = " ".join(p.description.split())
            lines.append(f"  {key} = {p.default_value!r}{mark}  {desc}".rstrip())
        lines.append("")
    for name, preset in PRESETS.items():
        lines.append(f"{name}  (preset of {preset.base}): {preset.about}")
        lines.append("  " + ",".join(f"{k}={v}" for k, v in preset.settings.items()))
        lines.append("")
    lines.append("* tuned by `vsdmot tune` (the tracker's search_space)")
    return "\n".join(lines)
