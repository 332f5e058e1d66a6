"""The grid of an experiment: conditions (type x severity x schedule), and MOT-C v1.

A condition is ``clean`` or one degraded copy of the dataset, named
``<type>-s<severity>-<schedule>`` (e.g. ``gaussian_noise-s3-constant``); the same
names are the folders of the report and of external results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vsdmot.degrade.base import REGISTRY, check_severity
from vsdmot.degrade.schedules import schedule_params
from vsdmot.utils.specs import SpecError, parse_spec, typed_options

#: Proposal protocols: ``fixed`` (the clean frames' detections in every condition:
#: isolates the tracker) and ``redetect`` (a detector runs on the degraded frames).
PROTOCOLS = ("fixed", "redetect")


@dataclass(frozen=True)
class Condition:
    """One cell column of the grid."""

    type: str | None  # None: the clean dataset
    severity: float = 0.0
    schedule: str = "constant"

    @property
    def name(self) -> str:
        """Folder-safe name.

        >>> Condition("fog", 3.0, "random_walk").name, Condition(None).name
        ('fog-s3-random_walk', 'clean')
        """
        if self.type is None:
            return "clean"
        return f"{self.type}-s{self.severity:g}-{self.schedule}"

    @property
    def clean(self) -> bool:
        return self.type is None

    @classmethod
    def parse(cls, text: str) -> Condition:
        """A condition in the one spec grammar: ``clean`` or ``TYPE[:severity=S,schedule=X]``.

        >>> Condition.parse("fog:severity=3,schedule=random_walk").name
        'fog-s3-random_walk'
        >>> Condition.parse("clean").clean
        True
        >>> Condition.parse("fog:4").name  # a bare value is the severity
        'fog-s4-constant'
        """
        spec = parse_spec(text)
        if spec.name == "clean" and not spec.options and spec.value is None:
            return cls(None)
        if spec.name not in REGISTRY:
            raise SpecError(f"condition {text!r}: unknown degradation type {spec.name!r}; "
                            f"known: {', '.join(sorted(REGISTRY))}")  # fmt: skip
        opts = typed_options(spec, _condition_options)
        condition = cls(spec.name, float(opts.get("severity", 3.0)),
                        opts.get("schedule", "constant"))  # fmt: skip
        check_severity(condition.severity)
        schedule_params(condition.schedule, condition.severity)
        return condition


def _condition_options(*, severity: float = 3.0, schedule: str = "constant") -> None:
    """The options of a condition spec (their types and names)."""


@dataclass(frozen=True)
class GridSpec:
    """What a run covers; its seed and frame cap key the cached degraded copies. No
    ``types``: the clean data only."""

    types: tuple[str, ...] = ()
    severities: tuple[float, ...] = (3.0,)
    schedules: tuple[str, ...] = ("constant",)
    protocol: str = "redetect"
    seed: int = 0
    max_frames: int | None = None
    extra: tuple[Condition, ...] = ()
    """Further conditions beside the type x severity x schedule product (``--condition``)."""
    conditions: list[Condition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if t not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown degradation types {unknown}; known: {sorted(REGISTRY)}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        for s in self.severities:
            check_severity(s)
        for sched in self.schedules:
            schedule_params(sched, max(self.severities, default=1.0))
        if self.types and (not self.severities or not self.schedules):
            raise ValueError("degraded conditions need at least one severity and schedule")
        product = [
            Condition(t, float(s), sched)
            for t in self.types
            for s in self.severities
            for sched in self.schedules
        ]
        conditions = [Condition(None)]
        for c in product + [c for c in self.extra if not c.clean]:
            if c not in conditions:
                conditions.append(c)
        object.__setattr__(self, "conditions", conditions)

    def cache_key(self, condition: Condition) -> str:
        """Folder of a degraded copy: the condition plus everything that changes its pixels."""
        cap = "" if self.max_frames is None else f"-first{self.max_frames}"
        return f"{condition.name}-seed{self.seed}{cap}"


#: MOT-C v1: the standard grid, so that numbers from different users compare.
MOTC_V1 = {
    "types": (
        "gaussian_noise", "shot_noise", "motion_blur", "defocus_blur", "low_light", "fog",
        "rain", "contrast", "jpeg", "codec", "downscale", "mix",
    ),
    "severities": (1.0, 3.0, 5.0),
    "schedules": ("constant", "random_walk"),
    "protocol": "redetect",
    "seed": 0,
}  # fmt: skip


def motc_v1(**overrides: object) -> GridSpec:
    """The MOT-C v1 grid (12 types x severities 1, 3, 5 x constant and random-walk schedules,
    seed 0, detector re-run on the degraded frames), with ``overrides``.

    >>> len(motc_v1().conditions)  # clean + 12 x 3 x 2
    73
    """
    return GridSpec(**{**MOTC_V1, **overrides})  # type: ignore[arg-type]
