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
import statistics
import time
from pathlib import Path

import torch
from common import MOT15, ROOT, command, table, write_report

from vsdmot.data.sequence import MOTSequence
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.registry import build_tracker, describe_tracker
from vsdmot.utils.timing import time_calls

WARMUP = 5  # first frames (imports, allocator warm-up) are not timed
DEFAULT_SEQ = MOT15 / "PETS09-S2L1"


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--sequence", type=Path, default=DEFAULT_SEQ)
    ap.add_argument("--frames", default="601-795")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/association_speed.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    base = "vsdmot" if args.weights is None else f"vsdmot:weights={args.weights}"
    base += ":" if args.weights is None else ","
    seq = MOTSequence(args.sequence)
    first, last = (int(v) for v in args.frames.split("-"))
    props = DetFileProposals(seq.det_path)
    frames = [(seq.frame(t), props(seq.frame(t), t)) for t in range(first, last + 1)]
    rows = {}
    for association in ("fused", "anchor", "e2e"):
        tracker = build_tracker(f"{base}association={association}")
        timed = tracker.core.model = TimedModel(tracker.core.model)  # type: ignore[attr-defined]
        update = tracker.core.update  # type: ignore[attr-defined]
        for frame, p in frames[:WARMUP]:
            update(frame, p)
        timed.seconds = 0.0
        per_frame = time_calls(lambda f, u=update: u(*f), frames[WARMUP:])
        total = sum(per_frame)
        rows[association] = {
            "ms_per_frame": 1e3 * statistics.fmean(per_frame),
            "model_ms": 1e3 * timed.seconds / len(per_frame),
            "rest_ms": 1e3 * (total - timed.seconds) / len(per_frame),
            "rest_share": (total - timed.seconds) / total,
        }
        print(association, rows[association], flush=True)
    cmd, model = command("benchmarks/bench_association.py"), describe_tracker(tracker)
    lines = [
        "# Association's share of a frame",
        "",
        f"Command: `{cmd}`",
        "",
        f"Model: {model}; PETS09-S2L1 frames {first}-{last}, public detections, "
        "1 thread, one run (the strategies side by side), the first 5 frames not timed. "
        "'Rest' is everything in `QueryTracker.update` outside the two model calls: "
        "preprocessing, motion prediction, association and track bookkeeping.",
        "",
        *table(["association", "ms / frame", "model", "rest", "rest share"],
               [[name, *(f"{r[k]:.1f}" for k in ("ms_per_frame", "model_ms", "rest_ms")),
                 f"{100 * r['rest_share']:.1f} %"] for name, r in rows.items()], "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "results": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
