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
    ``retries`` times, then reported failed. ``on_running`` hears the in-flight count.

    A failure the executor calls shared (a process pool broken by one crashing task
    fails every task in it) is not counted at once: the task runs again *alone*, where
    a failure is its own, so a bystander of another task's crash loses no attempt."""

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
        self._queue: deque[tuple[Task, int, bool]] = deque()  # (task, attempt, alone)
        self._running: dict[Hashable, tuple[Task, int, bool]] = {}

    def submit(self, task: Task) -> None:
        self._queue.append((task, 1, False))

    def _may_start(self) -> bool:
        """Whether the next queued task may start now: a slot is free, and neither it nor
        a running task must run alone."""
        if not self._queue or len(self._running) >= self.executor.slots:
            return False
        alone = self._queue[0][2]
        return not self._running if alone else not any(a for _, _, a in self._running.values())

    @property
    def idle(self) -> bool:
        return not self._queue and not self._running

    def __iter__(self) -> Iterator[Outcome]:
        """Outcomes as tasks finish, until nothing is queued or running."""
        while not self.idle:
            while self._may_start():
                task, attempt, alone = self._queue.popleft()
                try:
                    self._running[self.executor.submit(task)] = (task, attempt, alone)
                except Exception as exc:  # e.g. a cluster gone: this attempt failed
                    if (failed := self._failed(task, attempt, alone, exc)) is not None:
                        yield failed
            if not self._running:
                continue
            self._on_running(len(self._running))
            handle = self.executor.wait(list(self._running))
            task, attempt, alone = self._running.pop(handle)
            try:
                value = self.executor.result(handle)
            except Exception as exc:
                if (failed := self._failed(task, attempt, alone, exc)) is not None:
                    yield failed
                continue
            yield Outcome(task, value, attempts=attempt)
        self._on_running(0)

    def _failed(self, task: Task, attempt: int, alone: bool, exc: Exception) -> Outcome | None:
        """Queue ``task`` again if it has retries left (``None``), else its failed outcome;
        a shared failure of a task that did not run alone is not counted: it runs alone."""
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if not alone and self.executor.shared_failure(exc):
            log.warning("%s failed with others (%s); running it alone", task, why)
            self._queue.append((task, attempt, True))
            return None
        if attempt <= self.retries:
            log.warning("%s failed (%s); trying again", task, why)
            self._queue.appendleft((task, attempt + 1, alone))
            return None
        return Outcome(task, error=describe_error(exc), attempts=attempt)
