"""Executors by name: ``local`` (the default, no extra dependency) and ``ray``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from vsdmot.executors.base import Executor
from vsdmot.executors.local import local_executor


@dataclass(frozen=True)
class ExecutorOptions:
    """How to run: ``jobs`` local processes (``local``), ``threads`` torch threads (and, on
    Ray, CPUs reserved) per task, and the Ray cluster's ``address`` (``None``: start one on
    this machine)."""

    jobs: int = 1
    threads: int | None = None
    address: str | None = None


def _local(opts: ExecutorOptions) -> Executor:
    return local_executor(opts.jobs, opts.threads)


def _ray(opts: ExecutorOptions) -> Executor:
    from vsdmot.executors.ray_cluster import RayExecutor

    return RayExecutor(opts.address, opts.threads)


#: Name -> factory. A new backend is one entry: a class with the :class:`Executor` methods.
EXECUTORS: dict[str, Callable[[ExecutorOptions], Executor]] = {"local": _local, "ray": _ray}


def make_executor(name: str = "local", opts: ExecutorOptions | None = None) -> Executor:
    """The executor called ``name``.

    >>> make_executor("local").slots
    1
    >>> make_executor("slurm")
    Traceback (most recent call last):
    ...
    ValueError: unknown executor 'slurm'; known: local, ray
    """
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](opts or ExecutorOptions())


@contextmanager
def open_executor(name: str = "local", opts: ExecutorOptions | None = None) -> Iterator[Executor]:
    """:func:`make_executor`, closed on leaving the block."""
    executor = make_executor(name, opts)
    try:
        yield executor
    finally:
        executor.close()
