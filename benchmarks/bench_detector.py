"""Person proposals on real footage, clean and degraded: HOG vs YOLOv3-tiny, and runtime speed.

Usage (from the project root)::

    python benchmarks/bench_detector.py [--frames 20] [--sizes 320,416,512]
        [--severities 1,3,5] [--out benchmarks/results/detector.md]

1. **Runtimes**: YOLOv3-tiny through PyTorch, OpenCV DNN and ONNX Runtime at
   each input size, with 1 and 2 threads, measured side by side: every frame
   goes through every configuration in turn (rotating order), so drift of a
   shared machine hits all alike. Median ms per frame, preprocessing, decoding
   and NMS included.
2. **Quality**: on ``--frames`` frames spread evenly over each ../shared
   sequence, clean and under every degradation type at each severity (the
   detector runs on the degraded pixels; seed 0, per-sequence parameters fixed
   as in ``vsdmot degrade``; clip-level types compress the sampled frames as
   one clip). Per detector: recall and precision at its operating threshold
   (IoU >= 0.5, one-to-one Hungarian matching) and AP50 (VOC all-point) over
   every box it returns.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from common import MOT15, ROOT, command, table, write_report

from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.base import REGISTRY
from vsdmot.degrade.frames import degrade_frames
from vsdmot.detection.files import bundled_yolov3_tiny
from vsdmot.detection.yolo import DetectorOptions, YOLODetector
from vsdmot.eval.detection import average_precision
from vsdmot.proposals import HOGPeopleProposals
from vsdmot.proposals.boxes import match_count
from vsdmot.utils.timing import time_calls

SEQUENCES = ("PETS09-S2L1", "TUD-Stadtmitte")
#: Operating thresholds for recall / precision (AP50 uses every box).
YOLO_OPERATING = 0.3
HOG_OPERATING = 0.5


def bench_runtimes(frames: list[np.ndarray], sizes: list[int], repeats: int) -> list[dict]:
    files = bundled_yolov3_tiny()
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cv2.setNumThreads(threads)
        configs = {
            (rt, s): YOLODetector.from_files(
                files, DetectorOptions(size=s), runtime=rt, threads=threads
            )
            for rt in ("torch", "opencv", "onnx")
            for s in sizes
        }
        times: dict[tuple[str, int], list[float]] = {k: [] for k in configs}
        keys = list(configs)
        for k in keys:  # warm-up
            configs[k](frames[0])
        for r in range(repeats):
            for i, frame in enumerate(frames):
                shift = (r * len(frames) + i) % len(keys)
                for k in keys[shift:] + keys[:shift]:
                    times[k] += [1e3 * t for t in time_calls(configs[k], [frame])]
        for (rt, s), ts in times.items():
            rows.append({"runtime": rt, "size": s, "threads": threads, "ms": statistics.median(ts)})
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    return rows


def bench_quality(
    seq: MOTSequence, frame_ids: list[int], detectors: dict, conditions: list[tuple[str, float]]
) -> tuple[dict, dict]:
    clean = {t: seq.frame(t) for t in frame_ids}
    gt = {t: seq.gt.for_frame(t).boxes_xyxy() for t in frame_ids}
    results: dict[str, dict[str, dict[str, float]]] = {}
    cost: dict[str, list[float]] = {name: [] for name in detectors}
    for type_, sev in conditions:
        cond = "clean" if type_ == "clean" else f"{type_} {sev:g}"
        frames = clean if type_ == "clean" else degrade_frames(
            clean, type_, sev, name=seq.name, frame_size=seq.frames.size
        )
        results[cond] = {}
        for name, (detect, operating) in detectors.items():
            pairs, matched, found, total = [], 0, 0, 0
            for t in frame_ids:
                start = time.perf_counter()
                dets = detect(frames[t], t)
                if type_ == "clean":
                    cost[name].append((time.perf_counter() - start) * 1000)
                pairs.append((dets, gt[t]))
                kept = dets[dets[:, 4] >= operating]
                matched += match_count(kept, gt[t])
                found += len(kept)
                total += len(gt[t])
            results[cond][name] = {
                "recall": matched / max(total, 1),
                "precision": matched / max(found, 1),
                "ap50": average_precision(pairs),
            }
        print(
            seq.name, cond, {k: round(v["ap50"], 3) for k, v in results[cond].items()}, flush=True
        )
    return results, {k: statistics.median(v) for k, v in cost.items() if v}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--sizes", default="320,416,512")
    ap.add_argument("--severities", default="1,3,5")
    ap.add_argument("--runtime-frames", type=int, default=10)
    ap.add_argument("--data", type=Path, default=MOT15)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/detector.md")
    ap.add_argument(
        "--runtimes-only",
        action="store_true",
        help="re-measure the runtimes (on a quiet machine) and keep the quality tables of --out",
    )
    args = ap.parse_args(argv)
    if not (args.data / SEQUENCES[0] / "seqinfo.ini").is_file():
        ap.error(f"{args.data}: MOT15 sequences not found")
    sizes = [int(s) for s in args.sizes.split(",")]
    severities = [float(s) for s in args.severities.split(",")]
    seqs = {name: MOTSequence(args.data / name, gt_format="mot15") for name in SEQUENCES}

    pets = seqs["PETS09-S2L1"]
    speed_frames = [pets.frame(t) for t in range(1, 1 + args.runtime_frames)]
    runtimes = bench_runtimes(speed_frames, sizes, repeats=2)

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    files = bundled_yolov3_tiny()
    if args.runtimes_only:
        previous = json.loads(args.out.with_suffix(".json").read_text())
        quality, cost = previous["quality"], previous["cost"]
        names = list(next(iter(next(iter(quality.values())).values())))
        report(args, previous["command"], sizes, runtimes, quality, cost, names)
        return 0
    detectors = {"HOG": (HOGPeopleProposals(), HOG_OPERATING)}
    for s in sizes:
        det = YOLODetector.from_files(files, DetectorOptions(size=s, score=0.05), threads=1)
        detectors[f"YOLO {s}"] = (lambda f, t, d=det: d(f)[:, :5], YOLO_OPERATING)
    conditions = [("clean", 0.0)] + [(ty, sev) for ty in sorted(REGISTRY) for sev in severities]
    quality, cost = {}, {}
    for name, seq in seqs.items():
        ids = sorted(set(np.linspace(1, len(seq), args.frames).round().astype(int).tolist()))
        quality[name], cost[name] = bench_quality(seq, ids, detectors, conditions)

    cmd = command("benchmarks/bench_detector.py")
    report(args, cmd, sizes, runtimes, quality, cost, list(detectors))
    return 0


def report(args, cmd, sizes, runtimes, quality, cost, names) -> None:
    ms = {(r["runtime"], r["threads"], r["size"]): r["ms"] for r in runtimes}
    runtime_cmd = "python benchmarks/bench_detector.py --runtimes-only"
    lines = [
        "# Person proposals: HOG vs YOLOv3-tiny, clean and degraded; detector runtimes",
        "",
        f"Command: `{cmd}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared, timings noisy), "
        f"torch {torch.__version__}, OpenCV {cv2.__version__}. YOLOv3-tiny = the original "
        "Darknet COCO weights (bundled carrier, cfg mask fixed), letterboxed input of the "
        "given longer side, person class only.",
        "",
        "## Runtimes (ms per 768x576 frame, median; preprocessing + network + decoding + NMS)",
        "",
        "Every frame goes through every configuration in turn, so the ratios are side by side "
        f"(measured with `{runtime_cmd}` on an otherwise idle machine).",
        "",
        *table(["runtime", "threads", *(f"size {s}" for s in sizes)],
               [[rt, n, *(f"{ms[(rt, n, s)]:.1f}" for s in sizes)]
                for n in (1, 2) for rt in ("torch", "opencv", "onnx")], "---:|"),
        "",
        "## Quality",
        "",
        f"{args.frames} frames per sequence, evenly spread. Cells: recall / precision at the "
        f"operating threshold (YOLO score >= {YOLO_OPERATING}, HOG score >= {HOG_OPERATING}) "
        "/ AP50 over all returned boxes (YOLO score >= 0.05).",
        "",
    ]  # fmt: skip
    summary: dict[str, dict[str, list[float]]] = {}
    for seq_name, res in quality.items():
        lines += [
            f"### {seq_name}",
            "",
            "Single-thread cost, clean frames (median ms/frame): "
            + ", ".join(f"{k} {v:.0f}" for k, v in cost[seq_name].items())
            + ".",
            "",
            *table(["condition", *names], [[cond, *(
                f"{per[n]['recall']:.2f} / {per[n]['precision']:.2f} / **{per[n]['ap50']:.2f}**"
                for n in names)] for cond, per in res.items()]),
        ]  # fmt: skip
        for cond, per in res.items():
            key = "clean" if cond == "clean" else f"severity {cond.rsplit(' ', 1)[1]}"
            for n in names:
                summary.setdefault(key, {}).setdefault(n, []).append(per[n]["ap50"])
        lines.append("")
    lines += ["### Mean AP50 over both sequences and every degradation type", "",
              *table(["condition", *names], [[key, *(f"{statistics.fmean(per[n]):.3f}"
                     for n in names)] for key, per in summary.items()], "---:|")]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "runtimes": runtimes, "quality": quality,
                                   "cost": cost})  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
