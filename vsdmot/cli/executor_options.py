"""The options that choose where a command's tasks run, shared by ``bench``, ``tune`` and
``track --batch``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vsdmot.executors import EXECUTORS, ExecutorOptions

ExecutorName = Annotated[
    str,
    typer.Option(
        "--executor",
        help=f"Where tasks run: {' | '.join(EXECUTORS)}. local: this machine (--jobs "
        'processes); ray: a Ray cluster (pip install "vsdmot[ray]").',
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="Ray cluster to join: auto (the one started on this machine or RAY_ADDRESS) "
        "or HOST:PORT \\[default: start a Ray instance on this machine for the run].",
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Torch threads of each task; with ray also the CPUs each task reserves "
        "\\[default: local: cores / jobs; ray: 1].",
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        help="Degraded copies and proposals (shared by runs; on a cluster a folder every "
        "node sees) \\[default: OUT].",
    ),
]


def cache_root(cache_dir: Path | None) -> Path | None:
    """``--cache-dir`` as an absolute path (Ray workers may start elsewhere)."""
    return cache_dir.resolve() if cache_dir is not None else None


def executor_options(
    executor: str, jobs: int, threads: int | None, ray_address: str | None
) -> ExecutorOptions:
    """The executor's options from the flags; flags that do not apply are errors.

    >>> executor_options("ray", 1, None, "auto").address
    'auto'
    >>> executor_options("local", 1, None, "auto")
    Traceback (most recent call last):
    ...
    ValueError: --ray-address needs --executor ray
    """
    if executor not in EXECUTORS:
        raise ValueError(f"--executor {executor!r}: choose from {', '.join(EXECUTORS)}")
    if ray_address is not None and executor != "ray":
        raise ValueError("--ray-address needs --executor ray")
    if jobs > 1 and executor != "local":
        raise ValueError("--jobs is the local executor's; on ray every free CPU runs a task")
    return ExecutorOptions(jobs=jobs, threads=threads, address=ray_address)
