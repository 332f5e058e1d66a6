"""The experiment runner: (tracker specs x sequences x conditions x proposal protocol)
-> prediction files, TrackEval scores and timings, cached and resumable, on any executor
(:mod:`vsdmot.executors`: this process, local processes, a Ray cluster).

``vsdmot bench``, ``vsdmot tune``, ``vsdmot demo`` and the benchmark scripts all run
through it. Layout of a run folder ``OUT`` (degraded copies and proposals under
``CACHE``, by default ``OUT``; the data key is a digest of the data's bytes,
:mod:`~vsdmot.experiments.plan`)::

    CACHE/data/<data key>/<condition>-seed<S>[-first<N>]/SEQ/    degraded copies
    CACHE/proposals/<data key>/<detector key>/<condition>-seed<S>[-first<N>]/SEQ.txt
    OUT/results/<tracker>/<condition>/SEQ.txt        tracker results (MOTChallenge)
    OUT/results/<tracker>/<condition>/SEQ.run.json   frames, seconds: the sequence is done
    OUT/results/<tracker>/<condition>/scores.json    the cell's metrics: the cell is done
    OUT/results/<tracker>/<condition>/error.txt      why a cell failed (it is retried next run)

The work is a graph of tasks (:mod:`~vsdmot.experiments.tasks`): one *prepare* per
(sequence, condition) makes the degraded copy and the proposals that every tracker of
that condition then reads; one *track* per (tracker, sequence, condition); one *score*
per cell (tracker, condition) once its sequences are tracked. Every file is written
atomically, so an interrupted run leaves complete files only; running again skips them.
A task that fails is tried once more; a failing cell is reported, never fatal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sequence import list_sequences
from vsdmot.executors import Executor, Outcome, ProgressBar, Scheduler, Task
from vsdmot.executors.local import local_executor
from vsdmot.experiments import tasks
from vsdmot.experiments.grid import Condition
from vsdmot.experiments.plan import GridPlan, condition_root, plan_grid
from vsdmot.experiments.run_config import METRICS, Cell, RunConfig, SequenceRange, cell_dir
from vsdmot.tracking.registry import TrackerSpec, build_tracker, parse_tracker

log = logging.getLogger(__name__)

__all__ = [
    "METRICS",
    "Cell",
    "RunConfig",
    "SequenceRange",
    "TrackerPool",
    "cell_dir",
    "check_run",
    "condition_root",
    "prepare_grid",
    "run_grid",
    "sort_cells",
    "with_trackers",
]

CellKey = tuple[str, str]  # (tracker label or external name, condition name)


class TrackerPool:
    """One tracker per (spec, frame rate), reused across videos (a model-backed tracker
    loads its weights once); ``reset()`` starts each video."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, float], Any] = {}

    def get(self, spec: TrackerSpec, frame_rate: float):
        key = (str(spec), float(frame_rate))
        if key not in self._made:
            self._made[key] = build_tracker(spec, frame_rate=frame_rate)
        return self._made[key]


class GridRun:
    """The task graph of one run, driven on one executor: which cells are stored, which
    sequences each open cell still needs, what is prepared; cells come out as they settle."""

    def __init__(self, cfg: RunConfig, plan: GridPlan, executor: Executor, bar: ProgressBar):
        self.cfg, self.plan, self.bar = cfg, plan, bar
        self.sched = Scheduler(executor, on_running=bar.set_running)
        self.specs = tracker_specs(cfg)
        self.conditions = {c.name: c for c in cfg.grid.conditions}
        self.todo: dict[CellKey, set[str]] = {}  # open cells -> sequences still to track
        self.runs: dict[CellKey, dict[str, dict[str, Any]]] = {}
        self.prepared: dict[tuple[str, str], tasks.Prepared] = {}
        self.scoring: set[CellKey] = set()

    def stored(self) -> Iterator[Cell]:
        """Cells finished by an earlier run; the others are opened."""
        for condition in self.cfg.grid.conditions:
            for label in [*self.specs, *self.cfg.external]:
                scores = tasks.stored_scores(self.cfg, self.plan, label, condition)
                if scores is not None:
                    self.bar.finished()
                    yield Cell(label, condition.name, scores)
                    continue
                key = (label, condition.name)
                self.runs[key] = {}
                if label not in self.specs:  # external results: nothing to track
                    self.todo[key] = set()
                    continue
                for name in self.plan.names:
                    record = tasks.stored_run(self.cfg, self.plan, label, condition, name)
                    if record is not None:
                        self.runs[key][name] = record
                self.todo[key] = set(self.plan.names) - set(self.runs[key])

    def start(self) -> None:
        """Prepare what the open cells need: under the fixed protocol the clean condition
        first (its proposals serve every condition), otherwise everything at once."""
        if not self.todo:
            return
        open_conditions = {c for _, c in self.todo}
        chained = self.cfg.grid.protocol == "fixed"
        for name in self.plan.names:
            for cname, condition in self.conditions.items():
                first = condition.clean and (chained or cname in open_conditions)
                if first or (not chained and cname in open_conditions):
                    self._submit_prepare(name, condition, None)

    def _submit_prepare(
        self, name: str, condition: Condition, clean: tasks.Prepared | None
    ) -> None:
        self.sched.submit(Task(("prepare", name, condition.name), tasks.prepare,
                               (self.cfg, self.plan, name, condition, clean)))  # fmt: skip

    def run(self) -> Iterator[Cell]:
        """Run the graph; every open cell comes out once, scored or failed."""
        handlers = {"prepare": self._prepared, "track": self._tracked, "score": self._scored}
        for outcome in self.sched:
            yield from handlers[outcome.task.key[0]](outcome)
        for key in sorted(self.todo):  # not reached: a task it needed never ran
            yield self._fail(key, "not run: a task it depends on did not finish")

    def _prepared(self, outcome: Outcome) -> Iterator[Cell]:
        _, name, cname = outcome.task.key
        condition = self.conditions[cname]
        if not outcome.ok:
            failed = [cname]
            if condition.clean and self.cfg.grid.protocol == "fixed":
                failed = list(self.conditions)  # they all need the clean proposals
            why = f"building {cname} ({name}): {outcome.error}"
            for key in sorted(k for k in self.todo if k[1] in failed):
                yield self._fail(key, why)
            return
        self.prepared[(name, cname)] = outcome.value
        if condition.clean and self.cfg.grid.protocol == "fixed":
            for other in self.conditions.values():
                if not other.clean and any(k[1] == other.name for k in self.todo):
                    self._submit_prepare(name, other, outcome.value)
        for label, spec in self.specs.items():
            if name in self.todo.get((label, cname), ()):
                self.sched.submit(Task(("track", label, name, cname), tasks.track_sequence,
                                       (self.cfg, self.plan, spec, name, condition,
                                        outcome.value)))  # fmt: skip
        for key in [k for k in self.todo if k[1] == cname]:
            self._maybe_score(key)

    def _tracked(self, outcome: Outcome) -> Iterator[Cell]:
        _, label, name, cname = outcome.task.key
        key = (label, cname)
        if key not in self.todo:  # the cell failed already
            return
        if not outcome.ok:
            yield self._fail(key, f"{name}: {outcome.error}")
            return
        self.runs[key][name] = outcome.value
        self.todo[key].discard(name)
        self._maybe_score(key)

    def _maybe_score(self, key: CellKey) -> None:
        """Score a cell once every sequence is tracked and its condition prepared."""
        label, cname = key
        ready = all((n, cname) in self.prepared for n in self.plan.names)
        if key in self.scoring or self.todo[key] or not ready:
            return
        self.scoring.add(key)
        condition = self.conditions[cname]
        if label in self.specs:
            args: tuple = (self.cfg, self.plan, label, condition, list(self.runs[key].values()))
            self.sched.submit(Task(("score", label, cname), tasks.score_tracker, args))
        else:
            args = (self.cfg, self.plan, label, self.cfg.external[label], condition)
            self.sched.submit(Task(("score", label, cname), tasks.score_external, args))

    def _scored(self, outcome: Outcome) -> Iterator[Cell]:
        _, label, cname = outcome.task.key
        if not outcome.ok:
            yield self._fail((label, cname), outcome.error or "failed")
            return
        del self.todo[(label, cname)]
        self.bar.finished()
        yield Cell(label, cname, outcome.value, computed=True)

    def _fail(self, key: CellKey, why: str) -> Cell:
        label, cname = key
        del self.todo[key]
        tasks.save_error(self.cfg, label, self.conditions[cname], why)
        log.error("%s on %s failed: %s", label, cname, why.splitlines()[0])
        self.bar.finished(failed=True)
        return Cell(label, cname, None, why)


def check_run(cfg: RunConfig) -> None:
    """Refuse bad input before any work: no data, unknown trackers or settings, missing
    external folders or sequences."""
    if not list_sequences(cfg.data):
        raise MOTFormatError(f"{cfg.data}: no sequences")
    for spec in cfg.trackers:
        parse_tracker(spec)
    for name, folder in cfg.external.items():
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"external results {name}: {folder} is not a folder")
    cfg.selected(cfg.data)


def run_grid(
    cfg: RunConfig,
    *,
    progress: bool = True,
    executor: Executor | None = None,
    plan: GridPlan | None = None,
) -> Iterator[Cell]:
    """Run (or read back) every cell, yielding them as they finish. ``executor`` (default:
    local, ``cfg.jobs`` processes) runs the tasks; one bar shows the cells done and
    failed and the tasks running. ``plan``: ``plan_grid(cfg)`` when the caller has it
    (reading the data for it hashes every byte of every sequence)."""
    check_run(cfg)
    plan = plan if plan is not None else plan_grid(cfg)
    owned = executor is None
    ex = executor if executor is not None else local_executor(cfg.jobs, cfg.threads)
    total = len(cfg.grid.conditions) * (len(cfg.trackers) + len(cfg.external))
    started = time.perf_counter()
    try:
        with ProgressBar(total, "run", "cell", enabled=progress) as bar:
            graph = GridRun(cfg, plan, ex, bar)
            yield from graph.stored()
            graph.start()
            yield from graph.run()
    finally:
        if owned:
            ex.close()
    log.info("run: %d cells in %.0f s on %s", total, time.perf_counter() - started, ex.name)


def prepare_grid(cfg: RunConfig, executor: Executor, plan: GridPlan | None = None) -> list[str]:
    """Only the prepare tasks of a run (degraded copies and proposals of every selected
    sequence and condition), so that later runs sharing the cache find them made; the
    errors, if any. ``plan`` as for :func:`run_grid`."""
    plan = plan if plan is not None else plan_grid(cfg)
    sched = Scheduler(executor)
    clean = Condition(None)
    for name in plan.names:
        sched.submit(Task(("prepare", name, clean.name), tasks.prepare,
                          (cfg, plan, name, clean, None)))  # fmt: skip
    errors = []
    for outcome in sched:
        _, name, cname = outcome.task.key
        if not outcome.ok:
            errors.append(f"{name} {cname}: {outcome.error}")
        elif cname == clean.name:
            for condition in cfg.grid.conditions[1:]:
                sched.submit(Task(("prepare", name, condition.name), tasks.prepare,
                                  (cfg, plan, name, condition, outcome.value)))  # fmt: skip
    return errors


def tracker_specs(cfg: RunConfig) -> dict[str, str]:
    """Each tracker's label (its results folder, its name in reports) -> its full spec,
    in the order given."""
    return {s.label: str(s) for s in map(parse_tracker, cfg.trackers)}


def sort_cells(cells: Iterable[Cell], cfg: RunConfig) -> list[Cell]:
    """Cells in the run's order (trackers as given, then external results; conditions as
    in the grid), whatever order they finished in."""
    labels = [*tracker_specs(cfg), *cfg.external]
    conditions = [c.name for c in cfg.grid.conditions]
    return sorted(cells, key=lambda c: (labels.index(c.tracker), conditions.index(c.condition)))


def with_trackers(cfg: RunConfig, *specs: str | TrackerSpec) -> RunConfig:
    """The same run with other trackers."""
    return replace(cfg, trackers=tuple(str(s) for s in specs))
