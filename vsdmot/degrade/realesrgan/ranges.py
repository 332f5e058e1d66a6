"""The ranges the Real-ESRGAN protocol draws from: the published defaults, or a YAML file.

Defaults are Real-ESRGAN's ``options/train_realesrgan_x4plus.yml`` (Wang et al.,
ICCVW 2021). Keys keep that file's names (``noise_range``, ``jpeg_range2``, ...; the
second-order keys end in ``2``), so a block of it can be pasted into a ranges file.
One key is ours: ``kernel_size_range``, the odd kernel sizes drawn from (7..21 is
fixed in Real-ESRGAN's dataset code).

A ranges file is a flat YAML mapping of some of these keys; the others keep their
defaults. An unknown key or a value outside what the protocol can use is a
:class:`RangesError` naming the file and the key.

>>> parse_ranges({"noise_range": [1, 10]}).noise_range
(1.0, 10.0)
>>> parse_ranges({"jpeg_range": [30, 101]}, "ranges.yaml")
Traceback (most recent call last):
...
vsdmot.degrade.realesrgan.ranges.RangesError: ranges.yaml: jpeg_range: 101 is above 100
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vsdmot.degrade.realesrgan.kernels import KERNEL_KINDS

PUBLISHED_KERNEL_PROB = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)


class RangesError(ValueError):
    """A ranges file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class OrderRanges:
    """The ranges of one degradation order (first or second), under the first order's names."""

    kernel_size_range: tuple[int, int]
    kernel_list: tuple[str, ...]
    kernel_prob: tuple[float, ...]
    sinc_prob: float
    blur_sigma: tuple[float, float]
    betag_range: tuple[float, float]
    betap_range: tuple[float, float]
    resize_prob: tuple[float, float, float]
    resize_range: tuple[float, float]
    gaussian_noise_prob: float
    noise_range: tuple[float, float]
    poisson_scale_range: tuple[float, float]
    gray_noise_prob: float
    jpeg_range: tuple[float, float]


@dataclass(frozen=True)
class Ranges:
    """Every range of the protocol; the defaults are the published ones."""

    kernel_size_range: tuple[int, int] = (7, 21)
    # First order.
    kernel_list: tuple[str, ...] = KERNEL_KINDS
    kernel_prob: tuple[float, ...] = PUBLISHED_KERNEL_PROB
    sinc_prob: float = 0.1
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)  # up, down, keep
    resize_range: tuple[float, float] = (0.15, 1.5)
    gaussian_noise_prob: float = 0.5
    noise_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_range: tuple[float, float] = (30.0, 95.0)
    # Second order.
    second_blur_prob: float = 0.8
    kernel_list2: tuple[str, ...] = KERNEL_KINDS
    kernel_prob2: tuple[float, ...] = PUBLISHED_KERNEL_PROB
    sinc_prob2: float = 0.1
    blur_sigma2: tuple[float, float] = (0.2, 1.5)
    betag_range2: tuple[float, float] = (0.5, 4.0)
    betap_range2: tuple[float, float] = (1.0, 2.0)
    resize_prob2: tuple[float, float, float] = (0.3, 0.4, 0.3)
    resize_range2: tuple[float, float] = (0.3, 1.2)
    gaussian_noise_prob2: float = 0.5
    noise_range2: tuple[float, float] = (1.0, 25.0)
    poisson_scale_range2: tuple[float, float] = (0.05, 2.5)
    gray_noise_prob2: float = 0.4
    jpeg_range2: tuple[float, float] = (30.0, 95.0)
    # Last step.
    final_sinc_prob: float = 0.8

    def order(self, k: int) -> OrderRanges:
        """The ranges of order ``k`` (1 or 2).

        >>> Ranges().order(2).blur_sigma
        (0.2, 1.5)
        """
        if k not in (1, 2):
            raise ValueError(f"the protocol has orders 1 and 2, not {k}")
        suffix = "" if k == 1 else "2"
        return OrderRanges(
            **{
                f.name: getattr(self, f.name if f.name == "kernel_size_range" else f.name + suffix)
                for f in dataclasses.fields(OrderRanges)
            }
        )

    def to_json(self) -> dict[str, Any]:
        """Every range as plain lists and numbers (for ``degradation.json``)."""
        values = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


PUBLISHED = Ranges()


# -- checks of single values; each returns the value in its stored form ---------------------


def _number(value: object) -> float:
    # YAML's true/false are ints to Python; a probability of "true" is a mistake.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def _probability(value: object) -> float:
    p = _number(value)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{value!r} is not a probability in [0, 1]")
    return p


def _distribution(n: int | None) -> Callable[[object], tuple[float, ...]]:
    """Probabilities that sum to 1 (``n`` of them, when given)."""

    def check(value: object) -> tuple[float, ...]:
        if not isinstance(value, list | tuple) or not value:
            raise ValueError(f"{value!r} is not a list of probabilities")
        probs = tuple(_probability(v) for v in value)
        if n is not None and len(probs) != n:
            raise ValueError(f"needs {n} probabilities, got {len(probs)}")
        if abs(sum(probs) - 1.0) > 1e-6:
            raise ValueError(f"probabilities {list(probs)} sum to {sum(probs):g}, not 1")
        return probs

    return check


def _interval(
    low: float, high: float | None = None, *, above_low: bool = False, around_one: bool = False
) -> Callable[[object], tuple[float, float]]:
    """A ``[lo, hi]`` pair with ``lo <= hi`` inside ``[low, high]`` (``lo > low`` when
    ``above_low``); ``around_one``: the pair must contain 1 (the protocol draws below and
    above 1 separately)."""

    def check(value: object) -> tuple[float, float]:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f"{value!r} is not a [low, high] pair")
        lo, hi = (_number(v) for v in value)
        if lo > hi:
            raise ValueError(f"low {lo:g} is above high {hi:g}")
        if lo < low or (above_low and lo == low):
            raise ValueError(f"{lo:g} is {'at or ' if above_low else ''}below {low:g}")
        if high is not None and hi > high:
            raise ValueError(f"{hi:g} is above {high:g}")
        if around_one and not lo <= 1.0 <= hi:
            raise ValueError(f"[{lo:g}, {hi:g}] must contain 1")
        return lo, hi

    return check


def _kernel_sizes(value: object) -> tuple[int, int]:
    lo, hi = _interval(3)(value)
    if lo != int(lo) or hi != int(hi) or int(lo) % 2 == 0 or int(hi) % 2 == 0:
        raise ValueError(f"{value!r}: kernel sizes must be odd integers")
    return int(lo), int(hi)


def _kernel_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{value!r} is not a list of kernel kinds")
    unknown = [v for v in value if v not in KERNEL_KINDS]
    if unknown:
        raise ValueError(f"unknown kernel kinds {unknown}; known: {', '.join(KERNEL_KINDS)}")
    if len(set(value)) != len(value):
        raise ValueError(f"{list(value)} names a kernel kind twice")
    return tuple(value)


#: The check of each key, by its first-order name (a second-order key ends in ``2``).
CHECKS: dict[str, Callable[[object], Any]] = {
    "kernel_size_range": _kernel_sizes,
    "kernel_list": _kernel_list,
    "kernel_prob": _distribution(None),
    "sinc_prob": _probability,
    "blur_sigma": _interval(0.0, above_low=True),
    "betag_range": _interval(0.0, above_low=True, around_one=True),
    "betap_range": _interval(0.0, above_low=True, around_one=True),
    "resize_prob": _distribution(3),
    # Up to 4x: the up-sampled intermediate image must still fit in memory.
    "resize_range": _interval(0.0, 4.0, above_low=True, around_one=True),
    "gaussian_noise_prob": _probability,
    "noise_range": _interval(0.0, 255.0),
    "poisson_scale_range": _interval(0.0),
    "gray_noise_prob": _probability,
    "jpeg_range": _interval(1.0, 100.0),
    "second_blur_prob": _probability,
    "final_sinc_prob": _probability,
}
KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Ranges))


def _check(key: str, value: object) -> Any:
    stem = key if key in CHECKS else key.removesuffix("2")
    return CHECKS[stem](value)


def parse_ranges(values: Mapping[str, object], source: str = "<ranges>") -> Ranges:
    """The published ranges with ``values`` (keys as in the options file) put over them."""
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RangesError(f"{source}: unknown key {key!r}{hint}")
        try:
            checked[key] = _check(key, value)
        except ValueError as exc:
            raise RangesError(f"{source}: {key}: {exc}") from None
    ranges = dataclasses.replace(PUBLISHED, **checked)
    for suffix in ("", "2"):
        kinds = getattr(ranges, "kernel_list" + suffix)
        probs = getattr(ranges, "kernel_prob" + suffix)
        if len(kinds) != len(probs):
            raise RangesError(
                f"{source}: kernel_prob{suffix}: {len(probs)} probabilities for the "
                f"{len(kinds)} kinds of kernel_list{suffix}"
            )
    return ranges


def load_ranges(path: str | Path) -> Ranges:
    """The ranges of a YAML file (an empty file: the published ranges)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: Real-ESRGAN ranges file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RangesError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RangesError(f"{path}: expected a mapping of key: value, got {type(data).__name__}")
    return parse_ranges(data, str(path))
