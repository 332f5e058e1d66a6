"""The ``ray`` executor: each task is a Ray task reserving ``threads`` CPUs of a node.

Optional (``pip install "vsdmot[ray]"``). With no address a Ray instance is started on
this machine for the run and stopped after it; ``auto`` or ``HOST:PORT`` joins a running
cluster (``ray start --head`` on one node, ``ray start --address HOST:PORT`` on the
others). Only each task's function name, its arguments (run settings and paths) and its
small return value cross the network: frames, degraded copies, proposals and results
are files that every node reads and writes on shared storage under the same paths.

Failures are retried by the caller's scheduler, so Ray's own retries are off
(``max_retries=0``): a task that raised and a worker that died are handled alike.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

from vsdmot.executors.base import ExecutorUnavailable, Task, run_task

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "vsdmot[ray]"'
#: Seconds between checks that the cluster can still run the tasks waited on.
POLL_SECONDS = 15.0


def import_ray() -> Any:
    """The ``ray`` module, or :class:`ExecutorUnavailable` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ExecutorUnavailable(
            f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}"
        ) from exc
    return ray


class RayExecutor:
    """Tasks on a Ray cluster: the one this process is connected to, the one at
    ``address`` (``auto``: found through ``RAY_ADDRESS`` or the last ``ray start`` on
    this machine), or, with neither, a new local one."""

    name = "ray"

    def __init__(self, address: str | None = None, threads: int | None = None) -> None:
        self._ray = import_ray()
        self._started = not self._ray.is_initialized()
        if self._started:
            # "local" starts a new instance even when another one runs on this machine.
            self._ray.init(address=address or "local", include_dashboard=False,
                           logging_level=logging.WARNING)  # fmt: skip
        self.threads = threads or 1
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self.slots = max(1, cpus // self.threads)
        self._remote = self._ray.remote(run_task).options(num_cpus=self.threads, max_retries=0)
        log.info("ray: %d CPUs, %d tasks at once, %d threads each", cpus, self.slots,
                 self.threads)  # fmt: skip

    def submit(self, task: Task) -> Hashable:
        return self._remote.remote(task.fn, task.args, self.threads)

    def wait(self, handles: Sequence[Hashable]) -> Hashable:
        """The first of ``handles`` to finish. Ray waits forever on a task no node can run
        any more (every worker node gone), so the wait is cut into polls, and between them
        a cluster left without the CPUs one task reserves ends the run with that said."""
        while True:
            done, _ = self._ray.wait(list(handles), num_returns=1, timeout=POLL_SECONDS)
            if done:
                return done[0]
            self._check_alive(len(handles))

    def _check_alive(self, waiting: int) -> None:
        try:
            cpus = float(self._ray.cluster_resources().get("CPU", 0))
        except Exception as exc:  # the head node itself is unreachable
            raise ExecutorUnavailable(f"the Ray cluster stopped answering ({exc}); "
                                      f"{waiting} task(s) were running") from exc  # fmt: skip
        if cpus < self.threads:
            raise ExecutorUnavailable(
                f"the Ray cluster has {cpus:g} CPU(s) left, fewer than the {self.threads} one "
                f"task reserves: its nodes are gone; {waiting} task(s) were running. Finished "
                "results are kept: run the same command again to resume"
            )

    def result(self, handle: Hashable) -> Any:
        try:
            return self._ray.get(handle)
        except self._ray.exceptions.RayTaskError as exc:
            # The task's own exception, not Ray's wrapper around it; the wrapper (whose
            # text is the worker's traceback) stays as its cause, for the error report.
            cause = getattr(exc, "cause", None)
            if isinstance(cause, Exception) and cause is not exc:
                raise cause from exc
            raise

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()

    def shared_failure(self, error: Exception) -> bool:
        return False  # a dead worker fails only the task it ran
