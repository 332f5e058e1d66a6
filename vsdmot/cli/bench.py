"""``vsdmot bench``: MOT-C, the corruption-robustness benchmark for multi-object trackers.

::

    vsdmot bench --data ../shared/data/mot15 --out mot-c --trackers vsdmot,bytetrack,ocsort
    vsdmot bench --data my_synth --out mot-c-quick --types gaussian_noise,fog --severities 1,3 \\
        --schedules constant --proposals fixed --external motrv2=motrv2_results
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
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


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--{what} {text!r}: expected numbers joined by commas") from None


def bench_command(
    data: Annotated[Path, typer.Option(help="MOTChallenge-style dataset (sequences with gt).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder (created; resumable).")],
    trackers: Annotated[
        str,
        typer.Option(
            help="Comma list of tracker specs NAME[:KEY=VALUE,...], e.g. "
            "'vsdmot:weights=W.pt,miss_tolerance=20,bytetrack'; every tracker and "
            "setting: vsdmot trackers."
        ),
    ] = "vsdmot,bytetrack",
    types: Annotated[
        str | None, typer.Option(help="Degradation types (default: MOT-C v1's twelve).")
    ] = None,
    severities: Annotated[str, typer.Option(help="Peak severities, 1-5.")] = "1,3,5",
    schedules: Annotated[str, typer.Option(help="constant, random_walk, ...")] = (
        "constant,random_walk"
    ),
    proposals: Annotated[
        str,
        typer.Option(
            help="Protocol: redetect (detector on the degraded frames) or fixed "
            "(the clean frames' det.txt everywhere)."
        ),
    ] = "redetect",
    detector: Annotated[
        str,
        typer.Option(
            help="Proposal spec for redetect (yolo, yolo:weights=D.pt, hog, ...); auto: "
            "generated data's simulated detector, else yolo."
        ),
    ] = "auto",
    external: Annotated[
        list[str] | None,
        typer.Option(help="NAME=DIR: results made elsewhere, DIR/<condition>/SEQ.txt."),
    ] = None,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            help="Further condition TYPE[:severity=S,schedule=X] (repeatable); "
            "with --types '' only these."
        ),
    ] = None,
    sequence: Annotated[
        list[str] | None,
        typer.Option(help="SEQ[:first=N,last=M] (repeatable; default: every sequence, whole)."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Degradation seed.")] = 0,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Only the first N frames of each sequence.")
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Local executor: tasks run in parallel processes.")
    ] = 1,
    threads: Threads = None,
    executor: ExecutorName = "local",
    ray_address: RayAddress = None,
    cache_dir: CacheDir = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run trackers on clean and degraded copies of DATA and write OUT/report.{md,html,json}."""
    from vsdmot.bench import MOTC_V1, Condition, GridSpec, RunConfig, run_grid, write_report
    from vsdmot.executors import open_executor
    from vsdmot.experiments.runner import SequenceRange, check_run, sort_cells, tracker_specs
    from vsdmot.utils.outputs import plain_name
    from vsdmot.utils.specs import split_specs

    opts = executor_options(executor, jobs, threads, ray_address)
    grid = GridSpec(
        types=tuple(split_specs(types)) if types is not None else MOTC_V1["types"],  # type: ignore[arg-type]
        severities=_floats(severities, "severities"),
        schedules=tuple(split_specs(schedules)),
        protocol=proposals,
        seed=seed,
        max_frames=max_frames,
        extra=tuple(Condition.parse(c) for c in condition or []),
    )
    ext = {}
    for item in external or []:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise ValueError(f"--external {item!r}: expected NAME=DIR")
        ext[plain_name(name.strip(), "--external NAME")] = Path(folder).resolve()
    # Absolute paths: a task may run in another working folder (a Ray worker).
    cfg = RunConfig(data=data.resolve(), out=out.resolve(), grid=grid,
                    trackers=tuple(split_specs(trackers)), external=ext, detector=detector,
                    jobs=jobs, threads=threads,
                    sequences=tuple(SequenceRange.parse(s) for s in sequence or []),
                    cache=cache_root(cache_dir))  # fmt: skip
    check_run(cfg)  # bad input is refused before a cluster starts
    with open_executor(executor, opts) as ex:
        cells = sort_cells(run_grid(cfg, progress=progress, executor=ex), cfg)
    meta = _meta(data, detector)
    meta["trackers"] = tracker_specs(cfg)
    write_report(out, cells, grid, meta)
    failed = sum(1 for c in cells if c.scores is None)
    computed = sum(1 for c in cells if c.computed)
    if cells and failed == len(cells):
        typer.secho(f"error: every cell failed ({failed}); reasons in {out / 'report.md'}",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(code=1)
    typer.echo(f"{len(cells)} cells ({computed} computed now, {failed} failed): "
               f"{out / 'report.md'}, {out / 'report.html'}")  # fmt: skip


def _meta(data: Path, detector: str) -> dict[str, object]:
    """What the report records besides the numbers: the command, versions, machine."""
    import torch

    from vsdmot._version import __version__

    return {
        "command": "vsdmot " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "data": str(data),
        "detector": detector,
        "versions": {"vsdmot": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
    }  # fmt: skip


COMMANDS["bench"] = user_errors(bench_command)
