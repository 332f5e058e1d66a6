"""``vsdmot tune`` and ``vsdmot trackers``: tune any registered tracker; list them all.

::

    vsdmot tune bytetrack --data ../shared/data/mot15 --proposals fixed --trials 30
    vsdmot tune vsdmot --data ../shared/data/mot15 --proposals fixed --leave-one-out \\
        --sequence PETS09-S2L1:first=601,last=795 --sequence TUD-Stadtmitte
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors
from vsdmot.cli.executor_options import (
    CacheDir,
    ExecutorName,
    RayAddress,
    Threads,
    cache_root,
    executor_options,
)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--severities {text!r}: expected numbers joined by commas") from None


def _groups(items: list[str]) -> dict[str, tuple[str, ...]]:
    """``NAME=SEQ+SEQ`` items -> scene groups.

    >>> _groups(["pets=PETS09-S2L1", "synth=SYNTH-0000+SYNTH-0001"])
    {'pets': ('PETS09-S2L1',), 'synth': ('SYNTH-0000', 'SYNTH-0001')}
    """
    out = {}
    for item in items:
        name, sep, seqs = item.partition("=")
        if not sep or not name.strip() or not seqs.strip():
            raise ValueError(f"--group {item!r}: expected NAME=SEQ[+SEQ...]")
        out[name.strip()] = tuple(s.strip() for s in seqs.split("+") if s.strip())
    return out


def tune_command(
    tracker: Annotated[str, typer.Argument(help="Tracker spec; its own settings stay fixed.")],
    data: Annotated[Path, typer.Option(help="MOTChallenge-style dataset (sequences with gt).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results folder (resumable).")] = Path(
        "tune"
    ),
    sequence: Annotated[
        list[str] | None,
        typer.Option(help="SEQ[:first=N,last=M] (repeatable; default: every sequence)."),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Scene NAME=SEQ+SEQ (repeatable; default: one scene per sequence)."),
    ] = None,
    leave_one_out: Annotated[
        bool, typer.Option(help="Tune on all scenes but one, score the one left out, per scene.")
    ] = False,
    trials: Annotated[
        int, typer.Option(min=1, help="Trials per study (the first: defaults).")
    ] = 20,
    objective: Annotated[str, typer.Option(help="HOTA | IDF1 | MOTA | AssA | DetA.")] = "HOTA",
    types: Annotated[str, typer.Option(help="Degradation types (default: clean only).")] = "",
    severities: Annotated[str, typer.Option(help="Peak severities of those types.")] = "3",
    schedules: Annotated[str, typer.Option(help="constant, random_walk, ...")] = "constant",
    condition: Annotated[
        list[str] | None,
        typer.Option(help="Further condition TYPE[:severity=S,schedule=X] (repeatable)."),
    ] = None,
    proposals: Annotated[
        str, typer.Option(help="fixed (each clean sequence's det.txt) or redetect.")
    ] = "fixed",
    detector: Annotated[str, typer.Option(help="Proposal spec for redetect, or auto.")] = "auto",
    seed: Annotated[int, typer.Option(min=0, help="Sampler and degradation seed.")] = 0,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Only the first N frames of each sequence.")
    ] = None,
    parallel: Annotated[
        int | None,
        typer.Option(min=1, help="Trials at once \\[default: as many tasks as the executor "
                     "runs at once: --jobs locally, the cluster's CPUs / --threads on ray]."),
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Local executor: trials run in parallel processes.")
    ] = 1,
    threads: Threads = None,
    executor: ExecutorName = "local",
    ray_address: RayAddress = None,
    cache_dir: CacheDir = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Tune TRACKER's search space on DATA (Optuna; objective: mean over conditions)."""
    from dataclasses import asdict

    from vsdmot.executors import open_executor
    from vsdmot.experiments.grid import Condition, GridSpec
    from vsdmot.experiments.runner import RunConfig, SequenceRange, check_run
    from vsdmot.experiments.tune import (
        TuneConfig,
        study,
        transfer_table,
        write_results,
    )
    from vsdmot.experiments.tune import (
        leave_one_out as loo,
    )
    from vsdmot.utils.specs import split_specs

    grid = GridSpec(tuple(split_specs(types)), _floats(severities), tuple(split_specs(schedules)),
                    protocol=proposals, seed=seed, max_frames=max_frames,
                    extra=tuple(Condition.parse(c) for c in condition or []))  # fmt: skip
    seqs = tuple(SequenceRange.parse(s) for s in sequence or [])
    # Absolute paths: a trial may run in another working folder (a Ray worker).
    run = RunConfig(data=data.resolve(), out=out.resolve(), grid=grid, trackers=(tracker,),
                    detector=detector, sequences=seqs,
                    cache=cache_root(cache_dir))  # fmt: skip
    check_run(run)
    cfg = TuneConfig(tracker, run, trials, objective, seed, _groups(group or []), parallel)
    opts = executor_options(executor, jobs, threads, ray_address)
    if leave_one_out:
        with open_executor(executor, opts) as ex:
            rows = loo(cfg, progress=progress, executor=ex)
        table = transfer_table(rows, cfg)
        write_results(out, {"tracker": tracker, "rows": [asdict(r) for r in rows]}, table)
        typer.echo(table + f"\n\nwritten: {out / 'transfer.md'}, {out / 'tune.json'}")
        return
    with open_executor(executor, opts) as ex:
        result = study(cfg, tuple(cfg.scenes()), progress=progress, executor=ex)
    write_results(out, {"tracker": tracker, **asdict(result)})
    best = ",".join(f"{k}={_fmt(v)}" for k, v in result.best.items())
    default = "not scored" if result.default_score is None else f"{result.default_score:.3f}"
    typer.echo(f"{objective}: defaults {default}, best {result.best_score:.3f}\n"
               f"best: {tracker.split(':')[0]}:{best}\nwritten: {out / 'tune.json'}")  # fmt: skip


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trackers_command() -> None:
    """Every registered tracker with its settings, defaults and meanings."""
    from vsdmot.tracking.registry import listing

    typer.echo(listing())


COMMANDS["tune"] = user_errors(tune_command)
COMMANDS["trackers"] = user_errors(trackers_command)
