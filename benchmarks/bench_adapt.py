"""Robust detector: AP50 / recall / precision vs severity, teacher vs adapted students.

Usage (from the project root)::

    python benchmarks/bench_adapt.py --detector robust=runs/robust/detector.pt \\
        [--detector NAME=PATH ...] [--frames 40] [--severities 1,2,3,4,5] [--size 512] \\
        [--out benchmarks/results/adapt.md]

Evaluation frames are never trained on: PETS09-S2L1 frames 601-795 (the adaptation
recipe trains on 1-600) and TUD-Stadtmitte entirely; ``--frames`` of each, evenly
spread. Every degradation type (``mix`` included) at every severity is applied with
seed 0 and the per-sequence parameters of ``vsdmot degrade`` (clip-level types compress
the sampled frames as one clip). Rows: the teacher (bundled YOLOv3-tiny) on the clean
frames (the upper bound) and on the degraded ones, and each ``--detector`` on both.

Summary per detector, over severities 3-5 and both sequences: mean AP50 on the types
it trained on, on the held-out types (listed in its ``detector.pt``) and on ``mix``;
and the share of the teacher's clean-vs-degraded AP50 gap it closes:
``(student_degraded - teacher_degraded) / (teacher_clean - teacher_degraded)``.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import cv2
import numpy as np
import torch
from common import MOT15, ROOT, SPLITS, command, table, write_report

from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.base import REGISTRY
from vsdmot.degrade.frames import degrade_frames
from vsdmot.degrade.registry import single_types
from vsdmot.detection.files import bundled_yolov3_tiny, load_detector_file, read_detector_file
from vsdmot.detection.yolo import DetectorOptions, YOLODetector
from vsdmot.eval.detection import score_detections

OPERATING = 0.3
AP_SCORE = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", action="append", default=[], help="NAME=PATH.pt")
    parser.add_argument("--data", type=Path, default=MOT15)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--severities", default="1,2,3,4,5")
    parser.add_argument("--types", default="", help="comma list (default: every type)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/adapt.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)

    options = DetectorOptions(size=args.size, score=AP_SCORE)
    detectors = {"teacher": YOLODetector.from_files(bundled_yolov3_tiny(), options, threads=1)}
    held_out: dict[str, list[str]] = {}
    for item in args.detector:
        name, _, path = item.partition("=")
        meta = read_detector_file(path)["meta"]
        held_out[name] = list(meta.get("config", {}).get("held_out", []))
        detectors[name] = YOLODetector.from_files(load_detector_file(path), options, threads=1)
    types = args.types.split(",") if args.types else sorted(REGISTRY)
    severities = [float(s) for s in args.severities.split(",")]

    # results[detector][condition] = list of per-sequence scores
    results: dict[str, dict[str, list[dict]]] = {n: {} for n in detectors}
    for seq_name, (first, last) in SPLITS.items():
        seq = MOTSequence(args.data / seq_name, gt_format="mot15")
        ids = sorted(set(np.linspace(first, last, args.frames).round().astype(int).tolist()))
        clean = {t: seq.frame(t) for t in ids}
        gt = {t: seq.gt.for_frame(t).boxes_xyxy() for t in ids}
        conditions = [("clean", 0.0)] + [(k, s) for k in types for s in severities]
        for kind, sev in conditions:
            frames = degrade_frames(clean, None if kind == "clean" else kind, sev,
                                    name=seq.name, frame_size=seq.frames.size)  # fmt: skip
            cond = "clean" if kind == "clean" else f"{kind} {sev:g}"
            for name, det in detectors.items():
                score = score_detections([(det(frames[t]), gt[t]) for t in ids], OPERATING)
                results[name].setdefault(cond, []).append(vars(score) | {"sequence": seq_name})
            print(seq_name, cond, {n: round(results[n][cond][-1]["ap50"], 3) for n in detectors},
                  flush=True)  # fmt: skip

    report(args.out, command("benchmarks/bench_adapt.py"), args, results, types, severities,
           held_out)  # fmt: skip
    return 0


def _ap(results: dict, name: str, cond: str) -> float:
    return statistics.fmean(r["ap50"] for r in results[name][cond])


def summary_rows(results, types, severities, held_out) -> list[dict]:
    """Per detector: clean AP50 and mean AP50 over severities >= 3 by type group."""
    hard = [s for s in severities if s >= 3]
    singles = single_types()
    rows = []
    for name in results:
        out = {"detector": name, "clean": _ap(results, name, "clean")}
        groups = {
            # Whole chains (mix, realesrgan) are never a training draw: mix has its own group.
            "trained": [t for t in types if t in singles
                        and t not in held_out.get(name, [])],
            "held_out": [t for t in types if t in held_out.get(name, [])],
            "mix": [t for t in types if t == "mix"],
        }
        for group, members in groups.items():
            conds = [f"{t} {s:g}" for t in members for s in hard]
            out[group] = statistics.fmean(_ap(results, name, c) for c in conds) if conds else None
        rows.append(out)
    return rows


def gap_cells(r: dict, teacher: dict) -> list[str]:
    """A detector's mean AP50 per type group, each with the share of the teacher's
    clean-vs-degraded gap it closes (``-`` for the teacher itself or an empty group)."""
    cells = [f"{r['clean']:.3f}"]
    for group in ("trained", "held_out", "mix"):
        value, base = r[group], teacher[group]
        if value is None or base is None:
            cells += ["-", "-"]
            continue
        gap = teacher["clean"] - base
        closed = (value - base) / gap if gap > 1e-9 else float("nan")
        cells += [f"{value:.3f}", "-" if r["detector"] == "teacher" else f"{closed:+.0%}"]
    return cells


def report(out: Path, command, args, results, types, severities, held_out) -> None:
    reference_held = next(iter(held_out.values()), [])
    # The teacher's groups use the (first) student's held-out list, so rows compare alike.
    rows = summary_rows(results, types, severities, {"teacher": reference_held, **held_out})
    names = list(results)
    ap = lambda cond: " / ".join(f"{_ap(results, n, cond):.2f}" for n in names)  # noqa: E731
    mean = lambda n, cond, k: statistics.fmean(r[k] for r in results[n][cond])  # noqa: E731
    lines = [
        "# Robust detector: clean-to-degraded distillation of YOLOv3-tiny", "",
        f"Command: `{command}`", "",
        f"Evaluation frames (never trained on): PETS09-S2L1 601-795 and TUD-Stadtmitte 1-179, "
        f"{args.frames} of each evenly spread; input {args.size} px (letterbox), person class; "
        f"recall / precision at score >= {OPERATING}, AP50 over every box (score >= {AP_SCORE}). "
        "Degradations with seed 0 and `vsdmot degrade`'s per-sequence parameters.", "",
        "## Summary (mean AP50 over both sequences; degraded: severities 3-5)", "",
        "`gap closed` = (detector degraded - teacher degraded) / (teacher clean - teacher "
        "degraded), on the same conditions.", "",
        *table(["detector", "clean", "trained types", "gap closed",
                f"held-out types ({', '.join(reference_held) or 'none'})", "gap closed", "mix",
                "gap closed"], [[r["detector"], *gap_cells(r, rows[0])] for r in rows], "---:|"),
        "", "## AP50 per type and severity (both sequences averaged)", "",
        "Cells: " + " / ".join(names) + ".", "",
        *table(["type", *(f"sev {s:g}" for s in severities)],
               [["clean", ap("clean"), *[""] * (len(severities) - 1)]]
               + [[t + (" (held out)" if t in reference_held else ""),
                   *(ap(f"{t} {s:g}") for s in severities)] for t in types]),
        "", f"## Recall / precision at score >= {OPERATING}, severity 3", "",
        *table(["type", *names], [[c, *(f"{mean(n, c, 'recall'):.2f} / "
                                        f"{mean(n, c, 'precision'):.2f}" for n in names)]
                                  for c in ["clean", *[f"{t} 3" for t in types]]
                                  if c in results[names[0]]]),
    ]  # fmt: skip
    write_report(out, lines, {"command": command, "summary": rows, "results": results})


if __name__ == "__main__":
    raise SystemExit(main())
