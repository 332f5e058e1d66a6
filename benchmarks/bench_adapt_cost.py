"""Training cost of ``vsdmot adapt-detector`` on this machine: steps/s per thread count.

Usage (from the project root)::

    python benchmarks/bench_adapt_cost.py [--steps 12] [--size 416] [--batch-size 8]
        [--out benchmarks/results/adapt_cost.md]

Runs the shipped recipe's settings for a few steps on PETS09-S2L1 frames 1-600 (from
../shared) with 1 and 2 torch threads, one after the other; the first two steps of
each run (warm-up) are left out of the rate.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import torch
from common import MOT15, ROOT, command, table, write_report

from vsdmot.detection.adapt import AdaptConfig
from vsdmot.detection.adapt_data import open_adapt_sources
from vsdmot.detection.files import bundled_yolov3_tiny
from vsdmot.engine.adapt import adapt_detector

DATA = MOT15 / "PETS09-S2L1"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--size", type=int, default=416)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/adapt_cost.md")
    args = ap.parse_args(argv)
    sources = open_adapt_sources([DATA], (1, 600))
    teacher = bundled_yolov3_tiny()
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cfg = AdaptConfig(size=args.size, batch_size=args.batch_size, steps=args.steps)
        with tempfile.TemporaryDirectory() as tmp:
            result = adapt_detector(sources, tmp, cfg, teacher, progress=False)
        times = [r["seconds"] for r in result.history]
        rate = (len(times) - 2) / (times[-1] - times[1])
        rows.append((threads, rate))
        print(threads, f"{rate:.3f} steps/s", flush=True)
    lines = [
        "# Robust detector: training cost on 2 CPU cores",
        "",
        f"Command: `{command('benchmarks/bench_adapt_cost.py')}`",
        "",
        f"Machine: {platform.machine()}, torch {torch.__version__}. Batch {args.batch_size} "
        f"clean/degraded pairs at {args.size} px (PETS09-S2L1 768x576 -> 320x416), all loss "
        "terms; the rate includes degrading the next batch in a worker thread.",
        "",
        *table(["torch threads", "steps/s", "frames/s", "500 steps (the shipped recipe)"],
               [[t, f"{r:.3f}", f"{r * args.batch_size:.1f}", f"{500 / r / 60:.0f} min"]
                for t, r in rows], "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
