"""Severity schedules: exact values where defined, structure where random."""

from __future__ import annotations

import numpy as np
import pytest

from vsdmot.degrade.schedules import (
    bursts,
    constant,
    make_schedule,
    periodic,
    ramp,
    random_walk,
    schedule_params,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def runs(x: np.ndarray) -> list[tuple[float, int]]:
    """(value, length) of maximal runs of equal values."""
    edges = np.flatnonzero(np.diff(x) != 0) + 1
    return [(float(p[0]), len(p)) for p in np.split(x, edges)]


def test_constant_and_ramp_exact() -> None:
    assert constant(4, 2.5).tolist() == [2.5] * 4
    assert ramp(6, 0.0, 5.0).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert ramp(1, 2.0, 4.0).tolist() == [2.0]
    assert make_schedule("ramp", 3, 4.0, rng()).tolist() == [0.0, 2.0, 4.0]
    assert make_schedule("ramp:start=4,end=1", 4, 4.0, rng()).tolist() == [4.0, 3.0, 2.0, 1.0]
    assert make_schedule("constant", 3, 1.5, rng()).tolist() == [1.5, 1.5, 1.5]


def test_periodic_range_and_period() -> None:
    s = periodic(200, 1.0, 4.0, period=40)
    assert s[0] == pytest.approx(1.0) and s[20] == pytest.approx(4.0)
    assert s.min() == pytest.approx(1.0) and s.max() == pytest.approx(4.0)
    np.testing.assert_allclose(s[40:], s[:-40], atol=1e-12)
    assert not np.allclose(s[20:], s[:-20])  # 20 frames is half a period, not a period
    shifted = periodic(10, 0.0, 2.0, period=8, phase=0.5)
    assert shifted[0] == pytest.approx(2.0)


def test_random_walk_bounds_start_and_steps() -> None:
    s = random_walk(5000, rng(1), start=2.0, step=0.3, low=1.0, high=3.0)
    assert s[0] == 2.0
    assert s.min() >= 1.0 and s.max() <= 3.0
    assert s.min() < 1.2 and s.max() > 2.8  # it does explore the whole band
    steps = np.abs(np.diff(s))
    assert steps.max() <= 0.3 * 6  # Gaussian steps, reflection never lengthens them
    assert 0.15 < np.median(steps) < 0.3  # median |N(0, .3)| is about 0.2
    assert np.array_equal(s, random_walk(5000, rng(1), start=2.0, step=0.3, low=1.0, high=3.0))
    assert not np.array_equal(s, random_walk(5000, rng(2), start=2.0, step=0.3, low=1.0, high=3.0))


def test_bursts_structure() -> None:
    s = bursts(20000, rng(3), base=0.5, peak=4.0, rate=0.005, mean_len=8)
    assert set(np.unique(s).tolist()) == {0.5, 4.0}
    peak_runs = [n for v, n in runs(s) if v == 4.0]
    assert 60 < len(peak_runs) < 140  # about 20000 * 0.005 = 100 bursts
    assert 6 < np.mean(peak_runs) < 11  # geometric lengths with mean 8 (few merge)
    assert np.all(bursts(50, rng(), base=1.0, peak=3.0, rate=0.0) == 1.0)
    assert np.all(bursts(50, rng(), base=1.0, peak=3.0, rate=1.0, mean_len=1) == 3.0)


def test_defaults_follow_the_peak_severity() -> None:
    for spec in ("constant", "ramp", "periodic", "random_walk", "bursts"):
        s = make_schedule(spec, 300, 3.0, rng(4))
        assert s.shape == (300,) and s.min() >= 0.0 and s.max() <= 3.0 + 1e-12
        assert s.max() > 2.0, spec  # every schedule reaches near its peak in 300 frames
    assert schedule_params("bursts:rate=0.1", 2.0) == (
        "bursts",
        {"base": 0.0, "peak": 2.0, "rate": 0.1, "mean_len": 10.0},
    )


def test_schedule_errors() -> None:
    with pytest.raises(ValueError, match="unknown schedule 'sawtooth'"):
        make_schedule("sawtooth", 5, 1.0, rng())
    with pytest.raises(ValueError, match="no parameter.*period"):
        make_schedule("ramp:period=3", 5, 1.0, rng())
    with pytest.raises(ValueError, match="not a number"):
        make_schedule("periodic:period=abc", 5, 1.0, rng())
    with pytest.raises(ValueError, match="outside"):
        make_schedule("constant", 5, 6.0, rng())
    with pytest.raises(ValueError, match="at least one frame"):
        make_schedule("constant", 0, 1.0, rng())
    with pytest.raises(ValueError, match="period must be positive"):
        periodic(5, 0.0, 1.0, period=0)
