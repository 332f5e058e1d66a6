"""Degradation throughput (frames/s) at 768 x 576 for every type at severity 3.

Uses the first frames of the real MOT15 sequence PETS09-S2L1 when it is
beside the project (``../shared/data/mot15``), else generated frames. Writes a
markdown table to ``benchmarks/results/degrade.md``::

    .venv/bin/python benchmarks/bench_degrade.py --frames 20
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import cv2
import numpy as np

from vsdmot.degrade import DEGRADATION_TYPES, Degrader

ROOT = Path(__file__).resolve().parents[1]
PETS = ROOT.parent / "shared" / "data" / "mot15" / "PETS09-S2L1"
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
    list(d.stream(frames[:2], [severity] * 2))  # warm-up (kernels, codec libraries)
    start = time.perf_counter()
    out = list(d.stream(frames, [severity] * len(frames)))
    elapsed = time.perf_counter() - start
    assert len(out) == len(frames)
    return len(frames) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--severity", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "degrade.md")
    args = parser.parse_args()
    frames, source = load_frames(args.frames)
    rows = [(t, bench(t, frames, args.severity)) for t in DEGRADATION_TYPES]
    cmd = f".venv/bin/python benchmarks/bench_degrade.py --frames {args.frames}"
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
        "| type | frames/s | ms/frame |",
        "|---|---:|---:|",
        *(f"| {t} | {fps:.1f} | {1000 / fps:.1f} |" for t, fps in rows),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
