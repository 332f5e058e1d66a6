"""The learning-rate multiplier every training loop shares: linear warm-up, then cosine decay.

One formula for the tracker (``optim.schedule=cosine``), the detector adaptation and the
student distillation, so that a change to the schedule reaches all of them.
"""

from __future__ import annotations

import math


def linear_warmup(step: int, warmup: int, start: float | None = None) -> float:
    """Multiplier at ``step < warmup``, rising linearly towards 1.

    With ``start``, it goes from ``start`` at step 0 to 1 at step ``warmup``; without, it is
    ``(step + 1) / warmup``, so the last warm-up step already runs at the full rate.

    >>> [linear_warmup(s, 4) for s in range(4)]
    [0.25, 0.5, 0.75, 1.0]
    >>> [linear_warmup(s, 4, start=0.0) for s in range(4)]
    [0.0, 0.25, 0.5, 0.75]
    """
    if start is None:
        return (step + 1) / warmup
    alpha = step / warmup
    return start * (1 - alpha) + alpha


def cosine_decay(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """Multiplier after warm-up: half a cosine from 1 at ``warmup`` to ``min_ratio`` at ``total``.

    >>> [round(cosine_decay(s, 10, 0, 0.1), 4) for s in (0, 5, 10, 20)]
    [1.0, 0.55, 0.1, 0.1]
    """
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    return min_ratio + (1 - min_ratio) * cosine


def warmup_cosine(
    step: int, total: int, warmup: int, min_ratio: float, start: float | None = None
) -> float:
    """:func:`linear_warmup` over the first ``warmup`` steps, then :func:`cosine_decay`.

    >>> [round(warmup_cosine(s, 12, 2, 0.0), 3) for s in (0, 1, 2, 7, 12)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    if step < warmup:
        return linear_warmup(step, warmup, start)
    return cosine_decay(step, total, warmup, min_ratio)
