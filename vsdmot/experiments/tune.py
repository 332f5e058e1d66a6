"""Tuning a registered tracker's ``search_space`` with Optuna, through the runner, and
the leave-one-scene-out rule that chooses every default.

A *study* tunes on a set of scenes (groups of sequences: one camera, one group):
each trial is one tracker spec, run and scored by the experiment runner on every
condition of the grid, with the mean HOTA (or another metric) over conditions as
the objective. The first trial is the tracker's defaults. Studies are stored in
SQLite beside their results, so an interrupted study resumes where it stopped.

:func:`leave_one_out` answers the only question that matters for a default: does a
setting chosen on some scenes transfer to a scene it never saw? For each scene it
tunes on all the others, scores the best settings on the scene left out, and
compares with the defaults and with settings tuned on that scene itself (the
best one could have done there).

Why not ``trackers.tune.Tuner`` itself: it reads one flat folder of det files and
scores whole sequences, while a study here needs frame ranges (learned parts are
scored only on frames they never trained on), degraded conditions, re-detected
proposals and a model loaded once per trial; the Optuna study and the registry's
``search_space`` are the same, and the registered trackers also work with the
``Tuner`` (tested).

Parallel trials (``parallel`` > 1, any executor, e.g. Ray) use Optuna's ask-and-tell
interface: the study and its SQLite file stay with the process that drives it, which
asks for a trial's settings whenever a slot is free, runs the trial as a task and tells
the study its score. No storage is shared between machines (SQLite over a network file
system locks badly), and with one trial at a time the sequence of asks and tells is
exactly what ``study.optimize`` does, so the trials and scores are identical to a
sequential study's. With several at once, TPE samples a trial before its predecessors
have finished (``constant_liar`` keeps it away from the settings they are trying), so
the trials differ from a sequential study's and depend on the order they finish in.
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vsdmot.executors import Executor, ProgressBar, Scheduler, Task
from vsdmot.executors.local import local_executor
from vsdmot.experiments.plan import GridPlan, plan_grid
from vsdmot.experiments.runner import METRICS, RunConfig, SequenceRange, prepare_grid, run_grid
from vsdmot.tracking.registry import TrackerSpec, check_settings, parse_tracker, tracker_settings
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TuneConfig:
    """A tuning job: the tracker (its spec's settings stay fixed), the run (data, grid,
    proposals, sequences), the trials and the objective."""

    tracker: str
    run: RunConfig
    trials: int = 20
    objective: str = "HOTA"
    seed: int = 0
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Scene name -> sequence names; default: each selected sequence is its own scene."""
    parallel: int | None = None
    """Trials run at once (default: as many as the executor runs tasks at once)."""

    def __post_init__(self) -> None:
        if self.objective not in METRICS:
            raise ValueError(f"objective {self.objective!r}: choose from {', '.join(METRICS)}")
        if self.trials < 1:
            raise ValueError("trials must be >= 1")
        if self.parallel is not None and self.parallel < 1:
            raise ValueError("parallel must be >= 1")
        space = search_space(parse_tracker(self.tracker))
        if not space:
            raise ValueError(f"{parse_tracker(self.tracker).name} has nothing to tune")

    def scenes(self) -> dict[str, tuple[SequenceRange, ...]]:
        """Scene -> its selected sequences (with their frame ranges)."""
        selected = self.run.sequences or tuple(
            SequenceRange(p.name) for p, _ in self.run.selected(self.run.data)
        )
        by_name = {s.name: s for s in selected}
        groups = self.groups or {s.name: (s.name,) for s in selected}
        out = {}
        for scene, names in groups.items():
            missing = [n for n in names if n not in by_name]
            if missing:
                raise ValueError(f"scene {scene}: sequences {missing} are not selected")
            out[scene] = tuple(by_name[n] for n in names)
        return out


def search_space(spec: TrackerSpec) -> dict[str, dict]:
    """The tracker's ``search_space`` without the settings its spec fixes."""
    from trackers.core.base import BaseTracker

    info = BaseTracker._lookup_tracker(spec.name)
    space = dict(info.tracker_class.search_space or {}) if info else {}
    return {k: v for k, v in space.items() if k not in spec.settings}


@dataclass
class StudyResult:
    """The best trial of a study, and every trial's settings and score. ``default_score``
    is ``None`` when the defaults trial (trial 0) failed."""

    scenes: tuple[str, ...]
    best: dict[str, Any]
    best_score: float
    default_score: float | None
    trials: list[dict[str, Any]]


def _suggest(trial: Any, space: dict[str, dict], base: TrackerSpec) -> dict[str, Any]:
    """One trial's settings. Choices (modes such as ``association``) come first, so a
    setting without effect in the chosen mode is not sampled (a tracker says which with
    an ``inert_settings`` classmethod): the sampler does not learn from noise, and the
    tracker, which refuses inert settings, is never given one."""
    from trackers.core.base import BaseTracker

    info = BaseTracker._lookup_tracker(base.name)
    inert = getattr(info.tracker_class, "inert_settings", None) if info else None
    defaults = {k: p.default_value for k, p in tracker_settings(base.name).items()}
    params: dict[str, Any] = {}
    for name in sorted(space, key=lambda n: space[n]["type"] != "choice"):
        spec = space[name]
        if inert is not None and name in inert({**base.settings, **params, name: defaults[name]}):
            continue
        if spec["type"] == "randint":
            params[name] = trial.suggest_int(name, *spec["range"])
        elif spec["type"] == "uniform":
            params[name] = trial.suggest_float(name, *spec["range"])
        else:
            params[name] = trial.suggest_categorical(name, list(spec["options"]))
    return params


def score(cfg: TuneConfig, spec: TrackerSpec, sequences: tuple[SequenceRange, ...],
          out: Path, plan: GridPlan | None = None) -> float:  # fmt: skip
    """Mean objective over the grid's conditions of one spec on ``sequences``. ``plan``:
    the data's plan for these sequences, when the caller has it (every trial of a study
    shares one, rather than hashing the dataset again)."""
    run = replace(cfg.run, out=out, trackers=(str(spec),), sequences=sequences,
                  cache=cfg.run.cache_root, external={})  # fmt: skip
    values = []
    for cell in run_grid(run, progress=False, plan=plan):
        if cell.scores is None:
            raise RuntimeError(f"{spec} on {cell.condition} failed: {cell.error}")
        values.append(float(cell.scores["combined"][cfg.objective]))
    return statistics.fmean(values)


def study(
    cfg: TuneConfig,
    scenes: tuple[str, ...],
    *,
    progress: bool = True,
    executor: Executor | None = None,
) -> StudyResult:
    """Tune on the sequences of ``scenes``; resumes a stored study of the same scenes.
    Trials run as tasks on ``executor`` (default: one after another in this process)."""
    import optuna

    base = parse_tracker(cfg.tracker)
    seqs = tuple(s for scene in scenes for s in cfg.scenes()[scene])
    folder = study_dir(cfg, scenes)
    folder.mkdir(parents=True, exist_ok=True)
    ex = executor if executor is not None else local_executor()
    parallel = cfg.parallel or ex.slots
    st = _open_study(cfg, "+".join(scenes), folder, parallel)
    if _defaults_pending(st, _fail_left_running(st)):
        st.enqueue_trial(_defaults(base, search_space(base)), user_attrs={"defaults": True})
    done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in st.trials)
    todo = max(0, cfg.trials - done)
    if todo:
        run = replace(cfg.run, sequences=seqs, trackers=(), external={}, cache=cfg.run.cache_root)
        plan = plan_grid(run)  # read the data once for the whole study
        for error in prepare_grid(run, ex, plan):  # the trials then share the cached copies
            log.warning("preparing the study's data: %s", error)
        _run_trials(st, _TrialJob(cfg, seqs, folder, plan), ex, todo, (parallel, progress))
    complete = [t for t in st.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise ValueError(f"study {folder}: no trial completed (the log says why)")
    trials = [{**t.params, "score": t.value} for t in complete]
    best = {**base.settings, **st.best_params}
    return StudyResult(scenes, best, st.best_value, _default_score(st), trials)


def _is_defaults(t: Any) -> bool:
    # Studies stored before the defaults trial was marked have it as trial 0.
    return bool(t.user_attrs.get("defaults", t.number == 0))


def _fail_left_running(st: Any) -> set[int]:
    """Tell as failed the trials a killed run left running (a signal runs no ``finally``;
    one process runs a study at a time), and return their numbers."""
    import optuna

    running = [t.number for t in st.trials if t.state == optuna.trial.TrialState.RUNNING]
    for number in running:
        st.tell(number, state=optuna.trial.TrialState.FAIL)
    return set(running)


def _defaults_pending(st: Any, cut_short: set[int]) -> bool:
    """Whether the defaults still need a trial: none is queued or has run to a verdict of
    its own (a score, or a failure), because the study is new or every defaults trial
    was cut short (``cut_short``, or interrupted in this process)."""
    import optuna

    state = optuna.trial.TrialState

    def settled(t: Any) -> bool:
        if t.state == state.WAITING:
            return True
        return (t.state in (state.COMPLETE, state.FAIL) and t.number not in cut_short
                and not t.user_attrs.get("interrupted"))  # fmt: skip

    return not any(_is_defaults(t) and settled(t) for t in st.trials)


def _default_score(st: Any) -> float | None:
    """The score of the defaults trial, or ``None`` if it did not complete."""
    import optuna

    first = next((t for t in reversed(st.trials) if _is_defaults(t)), None)
    if first is None or first.state != optuna.trial.TrialState.COMPLETE:
        log.warning("the defaults trial did not complete: the defaults are not scored")
        return None
    return float(first.value)


def _open_study(cfg: TuneConfig, key: str, folder: Path, parallel: int) -> Any:
    """The study stored in ``folder/study.db`` (created if new), with a seeded TPE sampler;
    ``constant_liar`` when trials run in parallel.

    A resumed study's sampler is seeded from ``--seed`` and the number of trials already
    stored: seeded with ``--seed`` alone it would draw again, from the start of the same
    random stream, the settings its first trials already ran (a study stopped after k
    trials is reproducible given k, and differs from one never stopped)."""
    import warnings

    import numpy as np
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(folder / 'study.db').resolve()}"

    def sampler(seed: int) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, constant_liar=parallel > 1)

    st = optuna.create_study(study_name=key, direction="maximize", load_if_exists=True,
                             storage=storage, sampler=sampler(cfg.seed))  # fmt: skip
    if stored := len(st.trials):
        st.sampler = sampler(int(np.random.SeedSequence([cfg.seed, stored]).generate_state(1)[0]))
    return st


@dataclass(frozen=True)
class _TrialJob:
    """What every trial of a study shares: the tuning job, its sequences, its folder and
    the plan of its data."""

    cfg: TuneConfig
    seqs: tuple[SequenceRange, ...]
    folder: Path
    plan: GridPlan | None = None


def _run_trials(st: Any, job: _TrialJob, executor: Executor, n: int,
                how: tuple[int, bool]) -> None:  # fmt: skip
    """``n`` more trials, ``how = (parallel, progress)``: ask for settings whenever fewer
    than ``parallel`` trials are out, run each as a task, tell the study its score. A
    trial that fails twice is told as failed; the others go on. If this stops early (an
    interrupt, an error), the trials still out are told as failed: left running in the
    stored study, a resumed study's sampler would keep treating them as running."""
    import optuna

    parallel, progress = how
    base = parse_tracker(job.cfg.tracker)
    space = search_space(base)
    out: dict[int, Any] = {}
    with ProgressBar(n, "trials", "trial", enabled=progress) as bar:
        sched = Scheduler(executor, on_running=bar.set_running)

        def ask() -> None:
            trial = st.ask()
            out[trial.number] = trial
            spec = check_settings(base.name, {**base.settings, **_suggest(trial, space, base)})
            trial.set_user_attr("spec", str(spec))
            sched.submit(Task(("trial", trial.number), score,
                              (job.cfg, spec, job.seqs, job.folder, job.plan)))  # fmt: skip

        try:
            for _ in range(min(n, parallel)):
                ask()
            asked = min(n, parallel)
            for outcome in sched:
                trial = out.pop(outcome.task.key[1])
                if outcome.ok:
                    st.tell(trial, outcome.value)
                else:
                    log.warning("trial %d failed: %s", trial.number, outcome.error)
                    st.tell(trial, state=optuna.trial.TrialState.FAIL)
                bar.finished(failed=not outcome.ok)
                if asked < n:
                    ask()
                    asked += 1
        finally:
            for trial in out.values():
                trial.set_user_attr("interrupted", True)
                st.tell(trial, state=optuna.trial.TrialState.FAIL)


def study_dir(cfg: TuneConfig, scenes: tuple[str, ...]) -> Path:
    """Where a study of ``scenes`` lives: one folder per tracker spec and scene set, so
    several trackers can share one run folder (and its cached degraded copies)."""
    return cfg.run.out / "studies" / parse_tracker(cfg.tracker).label / "+".join(scenes)


def _defaults(base: TrackerSpec, space: dict[str, dict]) -> dict[str, Any]:
    """The first trial: the tracker's own defaults for every tuned setting."""
    known = tracker_settings(base.name)
    return {k: known[k].default_value for k in space}


@dataclass
class Transfer:
    """One row of the transfer table: a scene, scored with settings chosen elsewhere."""

    scene: str
    default: float | None
    """``None``: the defaults trial failed."""
    chosen_elsewhere: float
    chosen_on_it: float
    settings_elsewhere: dict[str, Any]


def leave_one_out(
    cfg: TuneConfig, *, progress: bool = True, executor: Executor | None = None
) -> list[Transfer]:
    """For each scene: tune on the others, score the best settings on it; also tune on it
    alone (the best it could get). Needs at least two scenes. Trials run on ``executor``."""
    scenes = tuple(cfg.scenes())
    if len(scenes) < 2:
        raise ValueError(f"leave-one-out needs at least two scenes, got {list(scenes)}")
    base = parse_tracker(cfg.tracker)
    rows = []
    for scene in scenes:
        others = tuple(s for s in scenes if s != scene)
        elsewhere = study(cfg, others, progress=progress, executor=executor)
        own = study(cfg, (scene,), progress=progress, executor=executor)
        chosen = check_settings(base.name, elsewhere.best)
        folder = study_dir(cfg, (scene,))
        rows.append(Transfer(scene, own.default_score,
                             score(cfg, chosen, cfg.scenes()[scene], folder),
                             own.best_score, elsewhere.best))  # fmt: skip
    return rows


def transfer_table(rows: list[Transfer], cfg: TuneConfig) -> str:
    """The transfer table as Markdown."""
    name = parse_tracker(cfg.tracker).name
    lines = [
        f"| left-out scene | {name} defaults | chosen on the other scenes | chosen on it |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.scene} | {_cell(r.default)} | {r.chosen_elsewhere:.3f} | "
                     f"{r.chosen_on_it:.3f} |")  # fmt: skip
    mean = lambda k: statistics.fmean(getattr(r, k) for r in rows)  # noqa: E731
    # A mean over the scored scenes only would compare unlike sets of scenes.
    defaults = None if any(r.default is None for r in rows) else mean("default")
    lines.append(f"| **mean** | {_cell(defaults)} | {mean('chosen_elsewhere'):.3f} | "
                 f"{mean('chosen_on_it'):.3f} |")  # fmt: skip
    lines += ["", f"Objective: mean {cfg.objective} over the conditions "
              f"({', '.join(c.name for c in cfg.run.grid.conditions)}); "
              f"{cfg.trials} trials per study (the first: the defaults)."]  # fmt: skip
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    """A score in the table; ``None`` (its trial failed) says so.

    >>> _cell(0.81234), _cell(None)
    ('0.812', 'not scored')
    """
    return "not scored" if value is None else f"{value:.3f}"


def write_results(out: Path, payload: dict[str, Any], table: str | None = None) -> None:
    """``tune.json`` (every number) and ``transfer.md`` (the table), atomically."""
    with atomic_write(out / "tune.json") as f:
        json.dump(payload, f, indent=1, default=str)
    if table is not None:
        with atomic_write(out / "transfer.md") as f:
            f.write(table + "\n")
