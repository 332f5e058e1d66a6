"""Wall time of ``vsdmot.eval.evaluate`` on the two real MOT15 sequences.

The result files are built from the public detections (``det/det.txt``) by
:func:`vsdmot.eval.linking.link_detections` (a detection continues the track of the
previous frame's box it overlaps most, IoU >= 0.5; otherwise it starts a new track), so
the scored tracks have realistic lengths and id switches.

Run from the repository root::

    python benchmarks/bench_eval.py [--repeats 5] [--out benchmarks/results/eval.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import MOT15, ROOT, command, table, write_report

from vsdmot.data.mot import read_mot, write_mot
from vsdmot.eval import evaluate, load_sequences, score_sequences
from vsdmot.eval.linking import link_detections


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/eval.md")
    args = parser.parse_args()
    if not (MOT15 / "PETS09-S2L1" / "seqinfo.ini").is_file():
        print(f"MOT15 sequences not found at {MOT15}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        pred = Path(tmp)
        for seq in ("PETS09-S2L1", "TUD-Stadtmitte"):
            det = read_mot(MOT15 / seq / "det" / "det.txt", "det")
            write_mot(pred / f"{seq}.txt", link_detections(det), "result")
        evaluate(MOT15, pred, progress=False)  # warm-up: imports, page cache
        total, load, score = [], [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = evaluate(MOT15, pred, progress=False)
            total.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            seqs = load_sequences(MOT15, pred)
            load.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            score_sequences(seqs, progress=False)
            score.append(time.perf_counter() - t0)

    med = statistics.median
    stages = {"`evaluate()` total": total, "read + check files (`load_sequences`)": load,
              "TrackEval scoring (`score_sequences`)": score}  # fmt: skip
    scores = [*result.sequences.items(), ("COMBINED", result.combined)]
    write_report(args.out, [
        "# Evaluation speed: `vsdmot.eval.evaluate` on real MOT15",
        "",
        "Command (repository root):",
        "",
        "```",
        command("benchmarks/bench_eval.py"),
        "```",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} logical CPUs (shared with other work while measuring).",
        "",
        "Predictions: MOT15 public detections linked frame to frame by greedy IoU "
        "(>= 0.5). Both sequences (974 frames, 5632 scored gt boxes) in one call.",
        "",
        *table(["stage", f"median of {args.repeats} (s)", "min (s)"],
               [[k, f"{med(v):.3f}", f"{min(v):.3f}"] for k, v in stages.items()]),
        "",
        "Scores of that baseline (percent):",
        "",
        *table(["sequence", "GT dets", "dets", "HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW"],
               [[name, m.GT_Dets, m.Dets, *(f"{100 * getattr(m, k):.1f}" for k in
                 ("HOTA", "DetA", "AssA", "MOTA", "IDF1")), m.IDSW] for name, m in scores]),
    ])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
