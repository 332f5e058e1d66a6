"""Where a vsdmot frame's time goes: the model vs association and track bookkeeping.

Usage (from the project root)::

    python benchmarks/bench_association.py [--weights W] [--frames 601-795]
        [--out benchmarks/results/association_speed.md]

Runs the shipped (or ``--weights``) model with its recorded settings on
PETS09-S2L1 (../shared) with the sequence's public detections, one thread, and
times, per frame, the model calls (``inference_step`` + ``next_track_queries``)
and everything else in ``QueryTracker.update`` (preprocessing, motion prediction,
association, lifecycle). Each association strategy is measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

from vsdmot.data.sequence import MOTSequence
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.query_tracker import QueryTracker
from vsdmot.tracking.weights import load_tracker_model
from vsdmot.utils.io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 5  # first frames (imports, allocator warm-up) are not timed
DEFAULT_SEQ = ROOT.parent / "shared" / "data" / "mot15" / "PETS09-S2L1"


class TimedModel:
    """Wraps the model so its two calls are timed; everything else passes through."""

    def __init__(self, model) -> None:
        self.model = model
        self.seconds = 0.0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def _timed(self, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - start

    def inference_step(self, *args):
        return self._timed(self.model.inference_step, *args)

    def next_track_queries(self, *args):
        return self._timed(self.model.next_track_queries, *args)

    def eval(self):
        self.model.eval()
        return self

    def to(self, device):
        self.model.to(device)
        return self


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--sequence", type=Path, default=DEFAULT_SEQ)
    ap.add_argument("--frames", default="601-795")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/association_speed.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    loaded = load_tracker_model(args.weights)
    seq = MOTSequence(args.sequence)
    first, last = (int(v) for v in args.frames.split("-"))
    frames = [(t, seq.frame(t)) for t in range(first, last + 1)]
    props = DetFileProposals(seq.det_path)
    rows = {}
    for association in ("fused", "anchor", "e2e"):
        timed = TimedModel(loaded.model)
        tracker = QueryTracker(timed, loaded.tracker_params(association=association))  # type: ignore[arg-type]
        per_frame = []
        for i, (t, frame) in enumerate(frames):
            p = props(frame, t)
            if i == WARMUP:
                timed.seconds = 0.0
            start = time.perf_counter()
            tracker.update(frame, p)
            if i >= WARMUP:
                per_frame.append(time.perf_counter() - start)
        total = sum(per_frame)
        rows[association] = {
            "ms_per_frame": 1e3 * statistics.fmean(per_frame),
            "model_ms": 1e3 * timed.seconds / len(per_frame),
            "rest_ms": 1e3 * (total - timed.seconds) / len(per_frame),
            "rest_share": (total - timed.seconds) / total,
        }
        print(association, rows[association], flush=True)
    command = "python " + " ".join(
        shlex.quote(a) for a in ["benchmarks/bench_association.py", *sys.argv[1:]]
    )
    lines = [
        "# Association's share of a frame",
        "",
        f"Command: `{command}`",
        "",
        f"Model: {loaded.describe()}; PETS09-S2L1 frames {first}-{last}, public detections, "
        "1 thread, one run (the strategies side by side), the first 5 frames not timed. "
        "'Rest' is everything in `QueryTracker.update` outside the two model calls: "
        "preprocessing, motion prediction, association and track bookkeeping.",
        "",
        "| association | ms / frame | model | rest | rest share |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['ms_per_frame']:.1f} | {r['model_ms']:.1f} | {r['rest_ms']:.1f} | "
            f"{100 * r['rest_share']:.1f} % |"
        )
    text = "\n".join(lines).replace(f"{ROOT}/", "") + "\n"
    with atomic_write(args.out) as f:
        f.write(text)
    with atomic_write(args.out.with_suffix(".json")) as f:
        json.dump({"command": command, "results": rows}, f, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
