"""End-to-end ``vsdmot track VIDEO`` speed and accuracy at 768x576: input size vs frames/s vs HOTA.

Usage (from the project root)::

    python benchmarks/bench_pipeline.py [--model-sizes 288,384,480] [--yolo-sizes 320,416,512]

The video is PETS09-S2L1 frames 601-795 (768x576, held out from the shipped
model's training) written as an MP4, so decoding is part of the cost. Each
configuration runs :func:`vsdmot.tracking.pipeline.track_source` exactly as the
``track`` command does (decode + YOLOv3-tiny + model + association + writing
the results), default settings except the two sizes. Reported: frames/s of the
tracking loop, frames/s over the whole call (model and detector loading
included), and HOTA / IDF1 of the result. The ``no overlap`` row runs the
detector in the main thread (as before the worker thread), same threads.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from common import MOT15, ROOT, command, table, write_report

from vsdmot.bench.clips import write_clip_sequence
from vsdmot.data.mot import MOTAnnotations, write_mot
from vsdmot.data.sources import open_source
from vsdmot.eval import evaluate
from vsdmot.proposals import build_proposal_source
from vsdmot.tracking.pipeline import TrackJob, track_source
from vsdmot.tracking.registry import build_tracker, step

DEFAULT_SEQ = MOT15 / "PETS09-S2L1"
FIRST, LAST = 601, 795


def vsdmot_spec(model_size: int) -> str:
    return f"vsdmot:input_short_side={model_size},input_max_side={round(model_size * 5 / 3)}"


def sized(proposals: str, size: int) -> str:
    """The proposal spec with the detector's input size set.

    >>> sized("yolo:weights=original", 320), sized("yolo", 512)
    ('yolo:weights=original,size=320', 'yolo:size=512')
    """
    return f"{proposals}{',' if ':' in proposals else ':'}size={size}"


def run(clip: Path, work: Path, model_size: int, detector: tuple[str, int],
        overlap: bool) -> dict:
    """One configuration; ``detector`` is the proposal spec and its input size."""
    proposals, yolo_size = sized(*detector), detector[1]
    out = work / f"res-{model_size}-{yolo_size}-{int(overlap)}" / f"{clip.name}.txt"
    start = time.perf_counter()
    job = TrackJob(str(clip / "clip.mp4"), out, tracker=vsdmot_spec(model_size),
                   proposals=proposals, progress=False, overlap=overlap)  # fmt: skip
    result = track_source(job)
    wall = time.perf_counter() - start
    scores = evaluate(clip, out.parent, gt_format="mot15", progress=False).combined
    return {"model_size": model_size, "yolo_size": yolo_size, "overlap": overlap,
            "loop_fps": result.run.fps, "wall_fps": result.run.frames / wall,
            "HOTA": float(scores.HOTA), "IDF1": float(scores.IDF1)}  # fmt: skip


def stage_times(clip: Path, work: Path, model_size: int, proposals: str) -> dict[str, float]:
    """Median ms per frame of each stage, run one after the other (no overlap), 1 thread
    each as in the pipeline: decode, detector, model + association, and writing."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    tracker = build_tracker(vsdmot_spec(model_size))
    detect = build_proposal_source(proposals)
    times: dict[str, list[float]] = {"decode": [], "detector": [], "model + association": []}

    def timed(stage: str, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        times[stage].append(time.perf_counter() - start)
        return out

    rows, source = [], open_source(str(clip / "clip.mp4"))
    frames = iter(source)
    while (item := timed("decode", next, frames, None)) is not None:
        t, frame = item
        props = timed("detector", detect, frame, t)
        tracks = timed("model + association", step, tracker, frame, props)
        found = zip(tracks.tracker_ids, tracks.tracker_dets, tracks.tracker_confidences,
                    strict=True)  # fmt: skip
        rows += [[t, i, *b, c] for i, b, c in found]
    source.close()
    times["decode"].pop()  # the end of the video
    out = {k: 1000 * statistics.median(v[3:]) for k, v in times.items()}
    start = time.perf_counter()
    write_mot(work / "stages.txt", MOTAnnotations.from_rows(np.asarray(rows)), "result")
    out["writing (per frame)"] = 1000 * (time.perf_counter() - start) / max(len(times["decode"]), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-sizes", default="288,384,480")
    ap.add_argument("--yolo-sizes", default="320,416,512")
    ap.add_argument("--proposals", default="yolo", help="detector spec (default: the "
                    "default detector), e.g. yolo:weights=original; its size is set per row")
    ap.add_argument("--seq", type=Path, default=DEFAULT_SEQ)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/pipeline.md")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = write_clip_sequence(args.seq, FIRST, LAST, work / "PETS09-S2L1-test", frame_rate=7)
        det = args.proposals
        run(clip, work / "warmup", 288, (det, 320), True)  # imports, allocator, page cache
        stages = stage_times(clip, work, 288, sized(det, 512))
        rows.append(run(clip, work, 384, (det, 416), False))
        for m in [int(v) for v in args.model_sizes.split(",")]:
            for y in [int(v) for v in args.yolo_sizes.split(",")]:
                rows.append(run(clip, work, m, (det, y), True))
                print(rows[-1], flush=True)
    cmd = command("benchmarks/bench_pipeline.py")
    lines = [
        "# End to end: `vsdmot track video.mp4` at 768x576, input size vs speed vs HOTA", "",
        f"Command: `{cmd}`", "",
        f"PETS09-S2L1 frames {FIRST}-{LAST} as a 768x576 MP4 (7 fps, {LAST - FIRST + 1} "
        f"frames), shipped model, `{args.proposals}` proposals (runtime `auto`: the faster of ONNX "
        "Runtime and OpenCV DNN, 1 thread, in the worker thread), the model's torch threads "
        "= cores - 1. Loop: the tracking loop "
        "(decode + detect + model + association); whole call: model and detector loading "
        "and writing the results included.",
        "",
        *table(["model input (short side)", "YOLO input (long side)", "detector overlapped",
                "frames/s, loop", "frames/s, whole call", "HOTA", "IDF1"],
               [[r["model_size"], r["yolo_size"], "yes" if r["overlap"] else "no",
                 f"{r['loop_fps']:.1f}", f"{r['wall_fps']:.1f}", f"{r['HOTA']:.3f}",
                 f"{r['IDF1']:.3f}"] for r in rows], "---:|"),
        "", "Stage by stage, one after the other, one thread each (median ms per frame, "
        "default sizes: model 288, YOLO 512):", "",
        *table(["stage", "ms per frame"], [[k, f"{v:.1f}"] for k, v in stages.items()]
               + [["sum (what the pipeline would cost without overlap)",
                   f"{sum(stages.values()):.1f}"]], "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "rows": rows, "stages_ms": stages})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
