"""The ``local`` executor: tasks one after another in this process (one job, the default:
nothing to start, exceptions with their full tracebacks), or in a pool of local
processes (``jobs`` > 1, each task with ``cores / jobs`` torch threads)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from vsdmot.executors.base import Task, run_task


class _Deferred:
    """A task of the in-process executor: run when waited on, so the caller sees it as
    running (and can show progress) before it starts."""

    def __init__(self, task: Task, threads: int | None) -> None:
        self.task, self.threads = task, threads
        self.ran = False
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = run_task(self.task.fn, self.task.args, self.threads)
        except Exception as exc:  # handed to the caller by result()
            self.error = exc
        self.ran = True


class InlineExecutor:
    """Every task in this process, one at a time, in the order submitted."""

    name = "local"
    slots = 1

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def submit(self, task: Task) -> _Deferred:
        return _Deferred(task, self.threads)

    def wait(self, handles: Sequence[Hashable]) -> _Deferred:
        for handle in handles:
            assert isinstance(handle, _Deferred)
            if not handle.ran:
                handle.run()
            return handle
        raise ValueError("wait() needs at least one handle")

    def result(self, handle: Hashable) -> Any:
        assert isinstance(handle, _Deferred)
        if handle.error is not None:
            raise handle.error
        return handle.value

    def close(self) -> None:
        pass

    def shared_failure(self, error: Exception) -> bool:
        return False  # one task at a time: a failure is its own


class ProcessExecutor:
    """Tasks in ``jobs`` local processes; each gets ``threads`` torch threads (default:
    the cores shared out between the jobs).

    The processes are started fresh (``spawn``), not forked: a child forked from a
    process whose OpenCV or OpenMP thread pools have run can deadlock the first time it
    touches them. Each process imports vsdmot once, on its first task.

    A process that dies (out of memory, a crash in native code) breaks the pool: every
    task in it fails with ``BrokenProcessPool``, and the next submit starts a new pool,
    so the scheduler's retries and the remaining tasks still run.
    """

    name = "local"

    def __init__(self, jobs: int, threads: int | None = None) -> None:
        self.slots = jobs
        self.threads = threads or max(1, (os.cpu_count() or 1) // jobs)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.slots, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, task: Task) -> Future:
        try:
            return self._pool.submit(run_task, task.fn, task.args, self.threads)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(run_task, task.fn, task.args, self.threads)

    def wait(self, handles: Sequence[Hashable]) -> Future:
        done, _ = wait_futures(handles, return_when=FIRST_COMPLETED)  # type: ignore[arg-type]
        return next(h for h in handles if h in done)  # type: ignore[misc]

    def result(self, handle: Hashable) -> Any:
        assert isinstance(handle, Future)
        return handle.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def shared_failure(self, error: Exception) -> bool:
        return isinstance(error, BrokenProcessPool)


def local_executor(jobs: int = 1, threads: int | None = None) -> InlineExecutor | ProcessExecutor:
    """In this process for one job, else a pool of ``jobs`` processes."""
    return InlineExecutor(threads) if jobs <= 1 else ProcessExecutor(jobs, threads)
