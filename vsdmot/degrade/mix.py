"""``mix``: several degradation types at once, chosen per sequence by the seed.

The sequence RNG picks 2 or 3 of the four camera-chain stages (scene, optics,
sensor, processing) and one type within each, so a mix never stacks two
compressions or two blurs. The chosen types run in stage order (fog before
blur before noise before compression), each at the frame's severity.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

# The single types a mix picks from register themselves on import; they must all be in
# REGISTRY before a mix is set up, whichever module the caller imported first.
from vsdmot.degrade import blur, compression, noise, weather  # noqa: F401
from vsdmot.degrade.base import (
    REGISTRY,
    STAGE_COMPOSITE,
    Degradation,
    check_severity,
    register,
)


@register
class Mix(Degradation):
    """A seeded combination of 2-3 types from different stages."""

    name = "mix"
    stage = STAGE_COMPOSITE

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[Degradation] = []

    @property
    def types(self) -> list[str]:
        """Names of the chosen types in application order."""
        return [op.name for op in self.ops]

    @property
    def needs_clip(self) -> bool:
        return any(op.clip_level for op in self.ops)

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        by_stage: dict[int, list[str]] = {}
        for name, cls in sorted(REGISTRY.items()):
            if cls.stage != STAGE_COMPOSITE:
                by_stage.setdefault(cls.stage, []).append(name)
        stages = sorted(by_stage)
        k = int(rng.integers(2, 4))
        chosen = sorted(rng.choice(stages, size=min(k, len(stages)), replace=False).tolist())
        names = [str(rng.choice(by_stage[s])) for s in chosen]
        self.ops = [REGISTRY[n]() for n in names]
        for op, child in zip(self.ops, rng.spawn(len(self.ops)), strict=True):
            op.setup(child, frame_size)
        return {"types": names, **{op.name: op.params for op in self.ops}}

    def _per_frame(
        self, frame: np.ndarray, severity: float, rng: np.random.Generator
    ) -> np.ndarray:
        out = frame
        for op, child in zip(self.ops, rng.spawn(len(self.ops)), strict=True):
            if not op.clip_level:
                out = op.apply(out, severity, child)
        return out

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        out = self._per_frame(frame, severity, rng)
        for op in self.ops:
            if op.clip_level:  # a lone frame through the codec: an intra frame
                out = op.apply(out, severity, rng)
        return out

    def apply_stream(
        self, items: Iterable[tuple[np.ndarray, float, np.random.Generator]]
    ) -> Iterator[np.ndarray]:
        clip_ops = [op for op in self.ops if op.clip_level]
        if not clip_ops:
            yield from super().apply_stream(items)
            return
        # One type per stage, so at most one clip-level op; stage order puts it last.
        (codec,) = clip_ops
        staged = ((self.apply_frame_ops(f, s, r), s, r) for f, s, r in items)
        yield from codec.apply_stream(staged)

    def apply_frame_ops(
        self, frame: np.ndarray, severity: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Only the per-frame types of the mix (severity 0 passes the frame through)."""
        severity = check_severity(severity)
        return frame.copy() if severity == 0.0 else self._per_frame(frame, severity, rng)
