"""Wall-clock timing of a callable: per-call seconds after a warm-up, and their summary.

>>> calls = []
>>> times = time_calls(calls.append, range(5), warmup=2)
>>> calls, len(times), all(t >= 0 for t in times)
([0, 1, 2, 3, 4], 3, True)
>>> repeat_ms(lambda: None, reps=3) >= 0.0
True
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def time_calls(
    fn: Callable[[T], object],
    items: Iterable[T],
    warmup: int = 0,
    sync: Callable[[], object] | None = None,
) -> list[float]:
    """Seconds of ``fn(item)`` for each item after the first ``warmup`` (run, not timed).

    ``sync`` (e.g. ``torch.cuda.synchronize``) is called before and after each timed call,
    so asynchronous work is counted where it was queued.
    """
    times = []
    for i, item in enumerate(items):
        if sync is not None:
            sync()
        start = time.perf_counter()
        fn(item)
        if sync is not None:
            sync()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def repeat_ms(
    fn: Callable[[], object],
    reps: int,
    warmup: int = 1,
    stat: Callable[[list[float]], float] = statistics.median,
) -> float:
    """``stat`` (median by default; ``min`` on a shared machine, whose other jobs only add
    time) of ``reps`` timed calls of ``fn()`` after ``warmup`` untimed ones, in ms."""
    return 1e3 * stat(time_calls(lambda _: fn(), range(warmup + reps), warmup))
