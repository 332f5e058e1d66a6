"""Where the tasks of a run execute: in this process or local worker processes
(``local``, the default, no extra dependency) or on a Ray cluster (``ray``:
``pip install "vsdmot[ray]"``).

``vsdmot bench``, ``vsdmot tune`` and ``vsdmot track --batch`` build their work as
:class:`Task` s (a module-level function and picklable arguments) and hand them to a
:class:`Scheduler`, which keeps ``slots`` of them in flight on an :class:`Executor`,
retries a failed task once and reports it failed after that. Progress is one
:class:`ProgressBar` whatever the executor.
"""

from vsdmot.executors.base import Executor, ExecutorUnavailable, Task, describe_error, run_task
from vsdmot.executors.progress import ProgressBar
from vsdmot.executors.registry import EXECUTORS, ExecutorOptions, make_executor, open_executor
from vsdmot.executors.scheduler import Outcome, Scheduler

__all__ = [
    "EXECUTORS",
    "Executor",
    "ExecutorOptions",
    "ExecutorUnavailable",
    "Outcome",
    "ProgressBar",
    "Scheduler",
    "Task",
    "describe_error",
    "make_executor",
    "open_executor",
    "run_task",
]
