"""What every executor shares: a task, the executor protocol, and the wrapper that runs a
task in a worker with its own number of threads."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class ExecutorUnavailable(ImportError):
    """An executor needs a package that is not installed; the message says how to add it."""


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args)`` in some worker. ``fn`` must be importable by name
    (a module-level function) and ``args`` picklable, so that a worker process or another
    machine can run it; the return value travels back, so it should be small (files
    carry the bulk)."""

    key: Hashable
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        """The key, readable in logs.

        >>> str(Task(("track", "sort", "SEQ-1", "clean"), max))
        'track sort SEQ-1 clean'
        """
        parts = self.key if isinstance(self.key, tuple) else (self.key,)
        return " ".join(map(str, parts))


class Executor(Protocol):
    """Runs tasks. ``slots`` tasks run at once; ``threads`` is each task's share of a node's
    cores (``None``: leave the process's setting alone)."""

    name: str
    slots: int
    threads: int | None

    def submit(self, task: Task) -> Hashable:
        """Start ``task``; a handle to wait on."""
        ...

    def wait(self, handles: Sequence[Hashable]) -> Hashable:
        """Block until one of ``handles`` has finished; that one."""
        ...

    def result(self, handle: Hashable) -> Any:
        """The finished task's value; raises the exception the task raised."""
        ...

    def close(self) -> None:
        """Stop workers this executor started (files already written stay)."""
        ...

    def shared_failure(self, error: Exception) -> bool:
        """Whether ``error`` may be another task's doing (a process pool that one crashing
        task broke fails every task in it): the scheduler then runs the task again alone
        before it counts the failure."""
        ...


def run_task(fn: Callable[..., Any], args: tuple[Any, ...], threads: int | None) -> Any:
    """Call ``fn(*args)`` with ``threads`` torch and OpenCV threads (restored afterwards),
    so tasks that share a node do not oversubscribe its cores.

    >>> run_task(max, (2, 5), None)
    5
    """
    if threads is None:
        return fn(*args)
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def describe_error(exc: BaseException) -> str:
    """The exception's type and message, and the last frames of its traceback when it has
    one, then the same of its direct cause. A worker process's exception comes back with
    the worker's traceback as its cause (text, from ``concurrent.futures``), which says
    where the task failed; the local frames only show where the result was collected.

    >>> describe_error(ValueError("bad"))
    'ValueError: bad'
    >>> try:
    ...     raise RuntimeError("task failed") from KeyError("x")
    ... except RuntimeError as exc:
    ...     print(describe_error(exc).splitlines()[-1])
    caused by: KeyError: 'x'
    """
    text = _describe_one(exc)
    cause = exc.__cause__
    if cause is None:
        return text
    if type(cause).__name__ == "_RemoteTraceback":  # its text is the worker's traceback
        return text + "\n" + str(cause).strip().strip('"').strip()
    return text + "\ncaused by: " + _describe_one(cause)


def _describe_one(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.format_tb(exc.__traceback__)[-3:] if exc.__traceback__ else []
    return text + ("\n" + "".join(frames).rstrip("\n") if frames else "")
