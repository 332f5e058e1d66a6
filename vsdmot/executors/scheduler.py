"""Submit tasks to an executor, retry a failed task, hand back each task's outcome.

The caller may submit further tasks while iterating (a task whose inputs another task
makes is submitted when that one is done), so one scheduler runs a whole graph. At most
``executor.slots`` tasks are in flight: the running count is exact and later tasks see
what earlier ones cached.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from vsdmot.executors.base import Executor, Task, describe_error

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """A finished task: its value, or the error of its last attempt."""

    task: Task
    value: Any = None
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class Scheduler:
    """Runs submitted tasks on ``executor``; a task that fails is run again up to
    ``retries`` times, then reported failed. ``on_running`` hears the in-flight count."""

    def __init__(
        self,
        executor: Executor,
        *,
        retries: int = 1,
        on_running: Callable[[int], None] | None = None,
    ) -> None:
        self.executor = executor
        self.retries = retries
        self._on_running = on_running or (lambda n: None)
        self._queue: deque[tuple[Task, int]] = deque()
        self._running: dict[Hashable, tuple[Task, int]] = {}

    def submit(self, task: Task) -> None:
        self._queue.append((task, 1))

    @property
    def idle(self) -> bool:
        return not self._queue and not self._running

    def __iter__(self) -> Iterator[Outcome]:
        """Outcomes as tasks finish, until nothing is queued or running."""
        while not self.idle:
            while self._queue and len(self._running) < self.executor.slots:
                task, attempt = self._queue.popleft()
                try:
                    self._running[self.executor.submit(task)] = (task, attempt)
                except Exception as exc:  # e.g. a cluster gone: this attempt failed
                    if (failed := self._failed(task, attempt, exc)) is not None:
                        yield failed
            if not self._running:
                continue
            self._on_running(len(self._running))
            handle = self.executor.wait(list(self._running))
            task, attempt = self._running.pop(handle)
            try:
                value = self.executor.result(handle)
            except Exception as exc:
                if (failed := self._failed(task, attempt, exc)) is not None:
                    yield failed
                continue
            yield Outcome(task, value, attempts=attempt)
        self._on_running(0)

    def _failed(self, task: Task, attempt: int, exc: Exception) -> Outcome | None:
        """Queue ``task`` again if it has retries left (``None``), else its failed outcome."""
        if attempt <= self.retries:
            log.warning("%s failed (%s: %s); trying again", task, type(exc).__name__,
                        str(exc).splitlines()[0] if str(exc) else "")  # fmt: skip
            self._queue.appendleft((task, attempt + 1))
            return None
        return Outcome(task, error=describe_error(exc), attempts=attempt)
