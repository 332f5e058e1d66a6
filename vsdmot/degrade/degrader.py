"""One degradation applied to one sequence, with the seeding rules built in.

>>> import numpy as np
>>> frame = np.full((48, 64, 3), 128, np.uint8)
>>> d = Degrader("gaussian_noise", (64, 48), seed=3)
>>> a = d.frame(frame, t=5, severity=2.0)
>>> b = Degrader("gaussian_noise", (64, 48), seed=3).frame(frame, t=5, severity=2.0)
>>> bool((a == b).all()), bool((a != frame).any())
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from vsdmot.degrade.base import frame_rng, sequence_rng
from vsdmot.degrade.quality import quality_label
from vsdmot.degrade.registry import create


class Degrader:
    """A set-up op for one sequence: fixed parameters from ``(seed, key)``.

    ``key`` tells sequences of one dataset apart (see
    :func:`vsdmot.degrade.base.sequence_key`) so they get different fixed
    parameters and noise under the same seed.
    """

    def __init__(
        self, type: str, frame_size: tuple[int, int], *, seed: int = 0, key: int = 0
    ) -> None:
        self.type = type
        self.seed, self.key = int(seed), int(key)
        self.op = create(type)
        self.op.setup(sequence_rng(self.seed, self.key), frame_size)

    @property
    def types(self) -> list[str]:
        """The single types applied (several for ``mix``)."""
        return self.op.types

    @property
    def params(self) -> dict[str, Any]:
        """Per-sequence fixed parameters (JSON-friendly)."""
        return self.op.params

    @property
    def needs_clip(self) -> bool:
        """True when frames depend on their neighbours (video codec): use :meth:`stream`."""
        return self.op.needs_clip

    def quality(self, severity: float) -> float:
        """Quality label of a frame degraded at ``severity`` (1 = clean)."""
        return quality_label(severity, len(self.types))

    def frame(self, img: np.ndarray, t: int, severity: float) -> np.ndarray:
        """Frame ``t`` (1-based) degraded on its own; the result never depends on other frames.

        Clip-level types (``codec``, or a ``mix`` containing it) raise
        ``ValueError``: their frames depend on the clip; use :meth:`stream`.
        """
        if self.needs_clip:
            raise ValueError(
                f"{self.type} ({'+'.join(self.types)}) compresses whole clips; use stream()"
            )
        return self.op.apply(img, severity, frame_rng(self.seed, self.key, t))

    def stream(
        self, frames: Iterable[np.ndarray], severities: Sequence[float], start: int = 1
    ) -> Iterator[np.ndarray]:
        """Degrade consecutive frames numbered ``start, start + 1, ...`` lazily, in order."""
        items = (
            (img, float(severities[i]), frame_rng(self.seed, self.key, start + i))
            for i, img in enumerate(frames)
        )
        return self.op.apply_stream(items)
