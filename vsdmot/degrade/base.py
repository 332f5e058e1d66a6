"""The common interface of degradation ops, their registry and the seeding rules.

Every op is a class with a registered ``name``. A sequence creates one instance,
calls :meth:`Degradation.setup` once with the *sequence* RNG (so fixed
parameters such as a blur angle or a fog depth map do not change from frame to
frame) and then :meth:`Degradation.apply` per frame with a *frame* RNG derived
from ``(seed, sequence key, frame)``: any frame can be regenerated on its own,
in any processing order.

Severity is a float in ``[0, 5]``: 0 is the identity, 1..5 follow the
ImageNet-C levels, values in between interpolate the parameter tables linearly.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

MAX_SEVERITY = 5.0

#: Pipeline stages, in the order a camera chain applies them (scene, lens,
#: sensor, then processing/compression). Ops are composed in this order.
STAGE_SCENE, STAGE_OPTICS, STAGE_SENSOR, STAGE_PROCESSING = range(4)
#: The stage of ops that are whole chains themselves (``mix``, ``realesrgan``): they are
#: never picked as one part of another chain.
STAGE_COMPOSITE = -1

# Stream tags keep the random streams of one seed independent of each other.
_TAG_SEQUENCE, _TAG_SCHEDULE, _TAG_FRAME, _TAG_DETECTOR = 0, 1, 2, 3


def check_severity(severity: float) -> float:
    """Return ``severity`` as a float, or raise ``ValueError`` outside ``[0, 5]``.

    >>> check_severity(2)
    2.0
    >>> check_severity(5.5)
    Traceback (most recent call last):
    ...
    ValueError: severity 5.5 is outside [0, 5]
    """
    value = float(severity)
    if not 0.0 <= value <= MAX_SEVERITY or not np.isfinite(value):
        raise ValueError(f"severity {severity} is outside [0, {MAX_SEVERITY:g}]")
    return value


def interp_param(severity: float, table: Sequence[float]) -> float:
    """Parameter for a continuous severity from its value at severities 0..5.

    >>> interp_param(1.5, [0, 10, 20, 30, 40, 50])
    15.0
    """
    if len(table) != 6:
        raise ValueError(f"a parameter table needs 6 entries (severity 0..5), got {len(table)}")
    return float(np.interp(severity, np.arange(6.0), np.asarray(table, dtype=np.float64)))


def sequence_key(name: str) -> int:
    """Stable 32-bit key of a sequence name (``hash()`` is salted per process).

    >>> sequence_key("PETS09-S2L1") == sequence_key("PETS09-S2L1")
    True
    """
    return zlib.crc32(name.encode("utf-8"))


def sequence_rng(seed: int, key: int = 0) -> np.random.Generator:
    """RNG for the per-sequence fixed parameters of the ops."""
    return np.random.default_rng([int(seed), int(key), _TAG_SEQUENCE])


def schedule_rng(seed: int, key: int = 0) -> np.random.Generator:
    """RNG for a severity schedule (independent of the ops' streams)."""
    return np.random.default_rng([int(seed), int(key), _TAG_SCHEDULE])


def detector_rng(seed: int, key: int = 0) -> np.random.Generator:
    """RNG for re-simulating detections on a degraded sequence."""
    return np.random.default_rng([int(seed), int(key), _TAG_DETECTOR])


def frame_rng(seed: int, key: int, t: int) -> np.random.Generator:
    """RNG of frame ``t`` alone: the same frame gets the same noise in any order.

    >>> a = frame_rng(0, 1, 7).random()
    >>> _ = frame_rng(0, 1, 3).random()
    >>> a == frame_rng(0, 1, 7).random()
    True
    """
    return np.random.default_rng([int(seed), int(key), _TAG_FRAME, int(t)])


def to_float(frame: np.ndarray) -> np.ndarray:
    """BGR uint8 -> float32 in [0, 1]."""
    return frame.astype(np.float32) * np.float32(1.0 / 255.0)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8 (rounded, clipped)."""
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Raise ``ValueError`` unless ``frame`` is a BGR uint8 ``(H, W, 3)`` array."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 numpy arrays, got {getattr(frame, 'dtype', frame)}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frames must have shape (H, W, 3), got {frame.shape}")
    return frame


class Degradation(ABC):
    """One degradation type. Subclasses set ``name`` and ``stage`` and implement ``_apply``.

    Per-frame ops implement ``_apply``; clip-level ops (``clip_level = True``)
    override :meth:`apply_stream` instead and raise from :meth:`apply`.
    """

    name: ClassVar[str]
    stage: ClassVar[int]
    clip_level: ClassVar[bool] = False

    def __init__(self) -> None:
        self.frame_size: tuple[int, int] | None = None
        self.params: dict[str, Any] = {}

    @property
    def needs_clip(self) -> bool:
        """Whether frames depend on their neighbours (then use :meth:`apply_stream`)."""
        return self.clip_level

    @property
    def types(self) -> list[str]:
        """The single types this op applies (one, except for ``mix``)."""
        return [self.name]

    def setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> None:
        """Draw the per-sequence fixed parameters; ``frame_size`` is ``(width, height)``."""
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.params = self._setup(rng, self.frame_size)

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        """Fixed parameters as a JSON-friendly dict (written to ``degradation.json``)."""
        return {}

    def apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        """Degrade one frame (BGR uint8); severity 0 returns an unchanged copy."""
        if self.frame_size is None:
            raise RuntimeError(f"{self.name}: call setup() before apply()")
        check_frame(frame)
        severity = check_severity(severity)
        if frame.shape[1::-1] != self.frame_size:
            raise ValueError(
                f"{self.name}: frame size {frame.shape[1::-1]} differs from the "
                f"size {self.frame_size} given to setup()"
            )
        if severity == 0.0:
            return frame.copy()
        return self._apply(frame, severity, rng)

    @abstractmethod
    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        """Degrade a checked frame at a checked, positive severity."""

    def apply_stream(
        self, items: Iterable[tuple[np.ndarray, float, np.random.Generator]]
    ) -> Iterator[np.ndarray]:
        """Degrade a clip given as ``(frame, severity, frame_rng)`` items, in order.

        Per-frame ops simply map :meth:`apply`; clip-level ops (video codecs)
        need the neighbouring frames and override this.
        """
        for frame, severity, rng in items:
            yield self.apply(frame, severity, rng)

    def scale(self) -> float:
        """Size factor for pixel-valued parameters (tables are given for a 640 px long side)."""
        assert self.frame_size is not None
        return max(self.frame_size) / 640.0


#: Filled by :func:`register` as each op module is imported; complete only once
#: :mod:`vsdmot.degrade.registry` (which imports every op module) has been imported.
REGISTRY: dict[str, type[Degradation]] = {}


def register(cls: type[Degradation]) -> type[Degradation]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"degradation {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls

