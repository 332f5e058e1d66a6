"""Per-frame severity schedules: real low-quality video changes quality over time.

Each schedule returns a float array of length ``n`` (frame ``t`` at index
``t - 1``) with values in ``[0, 5]``.

===============  ==========================================================================
schedule         parameters (defaults when built from a peak severity ``S``)
===============  ==========================================================================
``constant``     ``severity`` (S) on every frame
``ramp``         ``start`` (0) at the first frame to ``end`` (S) at the last, linearly
``periodic``     ``low`` (0), ``high`` (S), ``period`` in frames (50), ``phase`` in
                 periods (0): ``low + (high-low) (1 - cos 2pi((t-1)/period + phase)) / 2``
``random_walk``  ``start`` (S/2), Gaussian ``step`` std (0.25), reflected at ``low`` (0)
                 and ``high`` (S)
``bursts``       ``base`` (0) with bursts at ``peak`` (S): a burst starts on a frame with
                 probability ``rate`` (0.02) and lasts a geometric number of frames with
                 mean ``mean_len`` (10)
===============  ==========================================================================

A schedule is named on the command line as ``NAME`` or ``NAME:key=value,...``,
e.g. ``periodic:period=30,low=1``.

>>> ramp(5, 0.0, 4.0).tolist()
[0.0, 1.0, 2.0, 3.0, 4.0]
>>> make_schedule("periodic:period=4", 5, 2.0, np.random.default_rng(0)).round(6).tolist()
[0.0, 1.0, 2.0, 1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vsdmot.degrade.base import MAX_SEVERITY, check_severity

SCHEDULES = ("constant", "ramp", "periodic", "random_walk", "bursts")


def _check_n(n: int) -> int:
    if int(n) < 1:
        raise ValueError(f"a schedule needs at least one frame, got n={n}")
    return int(n)


def constant(n: int, severity: float) -> np.ndarray:
    """The same severity on every frame."""
    return np.full(_check_n(n), check_severity(severity), dtype=np.float64)


def ramp(n: int, start: float, end: float) -> np.ndarray:
    """Linear change from ``start`` (first frame) to ``end`` (last frame)."""
    n = _check_n(n)
    return np.linspace(check_severity(start), check_severity(end), n)


def periodic(
    n: int, low: float, high: float, period: float = 50.0, phase: float = 0.0
) -> np.ndarray:
    """Raised-cosine oscillation between ``low`` (at phase 0) and ``high``."""
    n = _check_n(n)
    low, high = check_severity(low), check_severity(high)
    if period <= 0:
        raise ValueError(f"periodic schedule: period must be positive, got {period}")
    t = np.arange(n, dtype=np.float64)
    wave = (1.0 - np.cos(2.0 * np.pi * (t / period + phase))) / 2.0
    return low + (high - low) * wave


def random_walk(
    n: int,
    rng: np.random.Generator,
    start: float,
    step: float = 0.25,
    low: float = 0.0,
    high: float = MAX_SEVERITY,
) -> np.ndarray:
    """Gaussian random walk reflected at ``low`` and ``high`` (quality drifts, no jumps)."""
    n = _check_n(n)
    low, high, start = check_severity(low), check_severity(high), check_severity(start)
    if not low <= start <= high:
        raise ValueError(f"random_walk: start {start} outside [{low}, {high}]")
    if step < 0:
        raise ValueError(f"random_walk: step must be >= 0, got {step}")
    span = high - low
    if span == 0:
        return np.full(n, low)
    steps = rng.normal(0.0, step, size=n)
    steps[0] = 0.0
    free = start - low + np.cumsum(steps)
    # Folding the free walk into [0, span] is the same as reflecting at each wall.
    folded = np.mod(free, 2.0 * span)
    folded = np.where(folded > span, 2.0 * span - folded, folded)
    return np.clip(low + folded, low, high)


def bursts(
    n: int,
    rng: np.random.Generator,
    base: float = 0.0,
    peak: float = MAX_SEVERITY,
    rate: float = 0.02,
    mean_len: float = 10.0,
) -> np.ndarray:
    """Mostly ``base``, with rectangular bursts at ``peak`` (a dropout, a passing truck)."""
    n = _check_n(n)
    base, peak = check_severity(base), check_severity(peak)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"bursts: rate must be in [0, 1], got {rate}")
    if mean_len < 1:
        raise ValueError(f"bursts: mean_len must be >= 1 frame, got {mean_len}")
    out = np.full(n, base)
    starts = np.flatnonzero(rng.random(n) < rate)
    lengths = rng.geometric(1.0 / mean_len, size=len(starts))
    for s, length in zip(starts, lengths, strict=True):
        out[s : s + length] = peak
    return out


def parse_schedule(spec: str) -> tuple[str, dict[str, float]]:
    """``"name:k=v,k=v"`` -> ``(name, {k: v})``.

    >>> parse_schedule("bursts:rate=0.1,mean_len=3")
    ('bursts', {'rate': 0.1, 'mean_len': 3.0})
    """
    name, _, rest = spec.strip().partition(":")
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; known schedules: {', '.join(SCHEDULES)}")
    params: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"schedule {spec!r}: expected key=value, got {item!r}")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            msg = f"schedule {spec!r}: {key.strip()}={value!r} is not a number"
            raise ValueError(msg) from None
    return name, params


def _defaults(severity: float) -> dict[str, dict[str, Any]]:
    return {
        "constant": {"severity": severity},
        "ramp": {"start": 0.0, "end": severity},
        "periodic": {"low": 0.0, "high": severity, "period": 50.0, "phase": 0.0},
        "random_walk": {"start": severity / 2.0, "step": 0.25, "low": 0.0, "high": severity},
        "bursts": {"base": 0.0, "peak": severity, "rate": 0.02, "mean_len": 10.0},
    }


def schedule_params(spec: str, severity: float) -> tuple[str, dict[str, float]]:
    """Name and full parameter set of ``spec`` with peak severity ``severity``."""
    name, overrides = parse_schedule(spec)
    params = _defaults(check_severity(severity))[name]
    unknown = set(overrides) - set(params)
    if unknown:
        raise ValueError(
            f"schedule {name!r} has no parameter(s) {', '.join(sorted(unknown))}; "
            f"it takes {', '.join(params)}"
        )
    return name, {**params, **overrides}


def make_schedule(spec: str, n: int, severity: float, rng: np.random.Generator) -> np.ndarray:
    """Per-frame severities of schedule ``spec`` whose peak is ``severity`` (see table)."""
    name, params = schedule_params(spec, severity)
    builders: dict[str, Callable[..., np.ndarray]] = {
        "constant": lambda: constant(n, **params),
        "ramp": lambda: ramp(n, **params),
        "periodic": lambda: periodic(n, **params),
        "random_walk": lambda: random_walk(n, rng, **params),
        "bursts": lambda: bursts(n, rng, **params),
    }
    return builders[name]()
