"""Degradation throughput (frames/s) at 768 x 576 for every type at severity 3.

Uses the first frames of the real MOT15 sequence PETS09-S2L1 when it is
beside the project (``../shared/data/mot15``), else generated frames. Writes a
markdown table to ``benchmarks/results/degrade.md``::

    python benchmarks/bench_degrade.py --frames 20
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import cv2
import numpy as np
from common import MOT15, ROOT, command, table, write_report

from vsdmot.degrade import DEGRADATION_TYPES, Degrader
from vsdmot.utils.timing import time_calls

PETS = MOT15 / "PETS09-S2L1"
SIZE = (768, 576)


def load_frames(n: int) -> tuple[list[np.ndarray], str]:
    if (PETS / "seqinfo.ini").is_file():
        from vsdmot.data.sequence import MOTSequence

        seq = MOTSequence(PETS)
        frames = [cv2.resize(seq.frame(t), SIZE) for t in range(1, n + 1)]
        return frames, "PETS09-S2L1 (real)"
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 256, (18, 24, 3), dtype=np.uint8), SIZE)
    frames = [np.roll(base, 4 * t, axis=1) for t in range(n)]
    return frames, "generated"


def bench(type_: str, frames: list[np.ndarray], severity: float) -> float:
    d = Degrader(type_, SIZE, seed=0)
    # the first run is the warm-up (kernels, codec libraries)
    run = lambda n: list(d.stream(frames[:n], [severity] * n))  # noqa: E731
    return len(frames) / time_calls(run, [2, len(frames)], warmup=1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--severity", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "degrade.md")
    args = parser.parse_args()
    frames, source = load_frames(args.frames)
    rows = [(t, bench(t, frames, args.severity)) for t in DEGRADATION_TYPES]
    cmd = command("benchmarks/bench_degrade.py")
    lines = [
        "# Degradation throughput",
        "",
        f"{len(frames)} frames of {source}, {SIZE[0]}x{SIZE[1]}, severity {args.severity:g}, "
        f"one process on {platform.processor() or platform.machine()} "
        f"(2 CPU cores, other work running, so numbers are rough). "
        f"`mix` is seed 0's combination: {'+'.join(Degrader('mix', SIZE, seed=0).types)}.",
        "",
        f"Command: `{cmd}`",
        "",
        *table(["type", "frames/s", "ms/frame"],
               [[t, f"{fps:.1f}", f"{1000 / fps:.1f}"] for t, fps in rows], "---:|"),
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
