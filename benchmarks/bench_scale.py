"""The Ray executor against the local one: overhead per task and scaling from one to two
workers, on the same grid, side by side in one process.

Usage (from the project root; needs ``pip install "vsdmot[ray]"``)::

    python benchmarks/bench_scale.py [--rounds 3] [--sequences 2] [--frames 71]

Generated sequences (640x480, ``--frames`` frames each) on a grid of the clean condition
and ``gaussian_noise`` at severity 3, with the shipped vsdmot model and ByteTrack on the
sequences' simulated detections: per (sequence, condition) one prepare task (the
degraded copy), per (tracker, sequence, condition) one track task, per cell one score
task. Each round runs the grid from scratch (new output and cache folders) three ways,
interleaved: the local executor (in this process), Ray with one task at a time, Ray with
two at once (one torch thread per task everywhere). The Ray instance (two CPUs) is
started once and its workers warmed up (imports, model files) on a small grid first;
that start-up is reported on its own. Reported: the median wall time of each way, tasks
per second, the overhead of Ray's one worker over the local executor (in total and per
task) and the speed-up of two workers over one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, command, table, write_report

from vsdmot.data.synth import SynthConfig, generate_dataset
from vsdmot.executors import Executor
from vsdmot.executors.local import InlineExecutor
from vsdmot.executors.ray_cluster import RayExecutor, import_ray
from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import RunConfig, run_grid

TRACKERS = ("vsdmot", "bytetrack")


def grid_run(data: Path, out: Path, executor: Executor, max_frames: int | None = None) -> float:
    """Seconds to run the grid from scratch on ``executor``; every cell must succeed."""
    cfg = RunConfig(data=data, out=out, grid=GridSpec(("gaussian_noise",), (3.0,),
                    max_frames=max_frames), trackers=TRACKERS)  # fmt: skip
    start = time.perf_counter()
    cells = list(run_grid(cfg, progress=False, executor=executor))
    seconds = time.perf_counter() - start
    failed = [c for c in cells if c.scores is None]
    if failed:
        raise RuntimeError(f"{failed[0].tracker} on {failed[0].condition}: {failed[0].error}")
    return seconds


def _burn(n: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - start


def free_cores(n: int = 20_000_000) -> float:
    """How many cores a second process gets here now: the speed-up of two CPU-bound
    processes over one (2.0 on two idle cores, 1.0 when others use one of them)."""
    import multiprocessing

    start = time.perf_counter()
    _burn(n)
    one = time.perf_counter() - start
    with multiprocessing.Pool(2) as pool:
        start = time.perf_counter()
        pool.map(_burn, [n, n])
        two = time.perf_counter() - start
    return 2 * one / two


def task_count(sequences: int) -> int:
    """Tasks of the grid: prepares, tracks and scores (2 conditions)."""
    conditions = 2
    return sequences * conditions + len(TRACKERS) * sequences * conditions + len(
        TRACKERS
    ) * conditions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sequences", type=int, default=2)
    ap.add_argument("--frames", type=int, default=71)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/scale.md")
    args = ap.parse_args(argv)
    ray = import_ray()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    data = work / "data"
    generate_dataset(data, args.sequences, args.frames, 0, SynthConfig(n_frames=args.frames),
                     progress=False)  # fmt: skip
    load = [os.getloadavg()[0]]
    cores = [free_cores()]
    start = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    one, two = RayExecutor(threads=1), RayExecutor(threads=1)
    one.slots = 1  # the same two-CPU instance, one task at a time: one worker
    grid_run(data, work / "warm-ray", two, max_frames=3)  # start and warm both workers
    startup = time.perf_counter() - start
    ways: dict[str, Executor] = {"local": InlineExecutor(threads=1), "ray, 1 worker": one,
                                 "ray, 2 workers": two}  # fmt: skip
    grid_run(data, work / "warm-local", ways["local"], max_frames=3)  # the same for this one
    times: dict[str, list[float]] = {k: [] for k in ways}
    for r in range(args.rounds):
        for name, ex in ways.items():
            times[name].append(grid_run(data, work / f"{r}-{name}", ex))
    ray.shutdown()
    load.append(os.getloadavg()[0])
    cores.append(free_cores())
    n = task_count(args.sequences)
    lines, data_out = report(args, times, n, (startup, load, cores))
    write_report(args.out, lines, data_out)
    return 0


def report(args: argparse.Namespace, times: dict[str, list[float]], n: int,
           machine: tuple) -> tuple[list[str], dict]:  # fmt: skip
    """The Markdown lines and the JSON numbers; ``machine``: the Ray start-up seconds, and
    the load average (1 minute) and :func:`free_cores` before and after."""
    startup, load, cores = machine
    med = {k: statistics.median(v) for k, v in times.items()}
    local, one, two = med["local"], med["ray, 1 worker"], med["ray, 2 workers"]
    rows = [[k, f"{v:.1f}", f"{n / v:.2f}", f"{v / local:.3f}"] for k, v in med.items()]
    cmd = command("benchmarks/bench_scale.py")
    lines = [
        "# Ray executor vs local: overhead per task, one and two workers", "",
        f"Command: `{cmd}`", "",
        f"{args.sequences} generated sequences of {args.frames} frames (640x480); grid: clean "
        f"and gaussian_noise severity 3; trackers: {', '.join(TRACKERS)}; {n} tasks per run "
        f"(prepare, track, score), every run from scratch; 1 torch thread per task; median "
        f"of {args.rounds} interleaved rounds. Ray: a local two-CPU instance, started and its "
        f"workers warmed up once ({startup:.1f} s, not in the times); this process warmed up "
        "likewise for the local executor.", "",
        *table(["executor", "seconds", "tasks/s", "time vs local"], rows, "---:|"), "",
        f"Ray overhead with one worker: {100 * (one / local - 1):+.1f} % of the local time, "
        f"{1000 * (one - local) / n:+.0f} ms per task. Two workers vs one: "
        f"{one / two:.2f}x faster.", "",
        "Times per round (s): " + "; ".join(
            f"{k}: {', '.join(f'{t:.1f}' for t in v)}" for k, v in times.items()), "",
        f"This machine has {os.cpu_count()} cores shared with other users' processes: load "
        f"average {load[0]:.1f} before the run and {load[1]:.1f} after; two CPU-bound "
        f"processes ran {cores[0]:.2f}x (before) and {cores[1]:.2f}x (after) as fast as one "
        "(2.00 on two free cores). A second worker can only be as much faster as that. "
        "Absolute times vary between rounds; the rounds interleave the three ways so that "
        "the ratios compare runs made under the same load.",
    ]  # fmt: skip
    data = {"command": cmd, "tasks": n, "startup_s": startup, "times_s": times, "median_s": med,
            "load_average": load, "two_process_speedup": cores}  # fmt: skip
    return lines, data


if __name__ == "__main__":
    raise SystemExit(main())
