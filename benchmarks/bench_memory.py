"""Memory of ``vsdmot track`` on long streams: resident memory over 1k and 10k frames.

Usage (from the project root)::

    python benchmarks/bench_memory.py [--frames 1000,10000] [--out benchmarks/results/memory.md]

A generated sequence (160x120, a few moving people, simulated detections) of the
longest length is written once; ``vsdmot track SEQ --max-frames N`` runs in a
subprocess (shipped model, det.txt proposals, model input 96 px so that 10k
frames take minutes) while its resident set size (VmRSS) is sampled every
0.5 s. Reported: peak RSS, and RSS after 10 %, 50 % and 100 % of the run's
time: flat means no per-frame growth beyond the results themselves.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, command, table, write_report

from vsdmot.data.synth import SynthConfig, generate_sequence


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def track(seq: Path, frames: int, work: Path) -> dict:
    cmd = [
        sys.executable, "-c", "from vsdmot.cli.main import app; app()", "track", str(seq),
        "--out", str(work / f"res-{frames}.txt"), "--max-frames", str(frames),
        "--input-size", "96",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    samples: list[tuple[float, float]] = []
    while proc.poll() is None:
        value = rss_mib(proc.pid)
        if value is not None:
            samples.append((time.monotonic() - start, value))
        time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f"track failed with exit code {proc.returncode}: {shlex.join(cmd)}")
    total = time.monotonic() - start

    def at(fraction: float) -> float:
        return min(samples, key=lambda s: abs(s[0] - fraction * total))[1]

    return {
        "frames": frames,
        "seconds": total,
        "peak_mib": max(v for _, v in samples),
        "rss_10": at(0.1),
        "rss_50": at(0.5),
        "rss_100": samples[-1][1],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", default="1000,10000")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/memory.md")
    args = ap.parse_args(argv)
    lengths = [int(v) for v in args.frames.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg = SynthConfig(width=160, height=120, n_frames=max(lengths), objects=(3, 5))
        seq = generate_sequence(work / "LONG", cfg, seed=11)
        rows = [track(seq, n, work) for n in lengths]
    cmd = command("benchmarks/bench_memory.py")
    lines = [
        "# Memory on long streams: `vsdmot track` over 1k and 10k frames",
        "",
        f"Command: `{cmd}`",
        "",
        "Generated 160x120 sequence, shipped model at input 96 px, det.txt proposals, "
        "resident memory (VmRSS) of the `vsdmot track` process sampled every 0.5 s.",
        "",
        *table(["frames", "run time s", "peak RSS MiB",
                "RSS at 10 % / 50 % / 100 % of the run, MiB"],
               [[r["frames"], f"{r['seconds']:.0f}", f"{r['peak_mib']:.0f}",
                 f"{r['rss_10']:.0f} / {r['rss_50']:.0f} / {r['rss_100']:.0f}"] for r in rows],
               "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
