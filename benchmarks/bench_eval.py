"""Wall time of ``vsdmot.eval.evaluate`` on the two real MOT15 sequences.

The result files are built from the public detections (``det/det.txt``) by a
greedy IoU linker (a detection continues the track of the previous frame's
box it overlaps most, IoU >= 0.5; otherwise it starts a new track), so the
scored tracks have realistic lengths and id switches.

Run from the repository root::

    .venv/bin/python benchmarks/bench_eval.py [--repeats 5]

and it writes ``benchmarks/results/eval.md``.
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

import numpy as np
from common import MOT15, ROOT, write_report

from vsdmot.data.mot import MOTAnnotations, read_mot, write_mot
from vsdmot.eval import evaluate, load_sequences, score_sequences
from vsdmot.utils.boxes import box_iou, ltwh_to_xyxy

OUT = ROOT / "benchmarks" / "results" / "eval.md"


def link_detections(det: MOTAnnotations, min_iou: float = 0.5) -> MOTAnnotations:
    """Greedy frame-to-frame IoU linking of detections into tracks (ids from 1)."""
    ids = np.zeros(len(det), dtype=np.int64)
    next_id = 1
    prev_idx = np.zeros(0, dtype=np.int64)
    for f in np.unique(det.frame):
        cur_idx = np.flatnonzero(det.frame == f)
        taken: set[int] = set()
        if prev_idx.size:
            iou = box_iou(ltwh_to_xyxy(det.boxes[cur_idx]), ltwh_to_xyxy(det.boxes[prev_idx]))
            for flat in np.argsort(-iou, axis=None):
                i, j = np.unravel_index(flat, iou.shape)
                if iou[i, j] < min_iou:
                    break
                if ids[cur_idx[i]] == 0 and int(j) not in taken:
                    ids[cur_idx[i]] = ids[prev_idx[j]]
                    taken.add(int(j))
        for i in cur_idx:
            if ids[i] == 0:
                ids[i] = next_id
                next_id += 1
        prev_idx = cur_idx
    out = det.select(np.arange(len(det)))
    out.track_id = ids
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
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

    rows = [
        f"| {name} | {m.GT_Dets} | {m.Dets} | {100 * m.HOTA:.1f} | {100 * m.DetA:.1f} | "
        f"{100 * m.AssA:.1f} | {100 * m.MOTA:.1f} | {100 * m.IDF1:.1f} | {m.IDSW} |"
        for name, m in [*result.sequences.items(), ("COMBINED", result.combined)]
    ]
    med = statistics.median
    write_report(
        OUT,
        [
            "# Evaluation speed: `vsdmot.eval.evaluate` on real MOT15",
            "",
            "Command (repository root):",
            "",
            "```",
            f".venv/bin/python benchmarks/bench_eval.py --repeats {args.repeats}",
            "```",
            "",
            f"Machine: {platform.platform()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} logical CPUs (shared with other work while measuring).",
            "",
            "Predictions: MOT15 public detections linked frame to frame by greedy IoU "
            "(>= 0.5). Both sequences (974 frames, 5632 scored gt boxes) in one call.",
            "",
            f"| stage | median of {args.repeats} (s) | min (s) |",
            "|---|---|---|",
            f"| `evaluate()` total | {med(total):.3f} | {min(total):.3f} |",
            f"| read + check files (`load_sequences`) | {med(load):.3f} | {min(load):.3f} |",
            f"| TrackEval scoring (`score_sequences`) | {med(score):.3f} | {min(score):.3f} |",
            "",
            "Scores of that baseline (percent):",
            "",
            "| sequence | GT dets | dets | HOTA | DetA | AssA | MOTA | IDF1 | IDSW |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
