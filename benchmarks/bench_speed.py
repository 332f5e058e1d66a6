"""Tracker speed at 768x576 on CPU: semantics none / student / teacher, and ByteTrack.

Each configuration runs in its own process (so peak memory is its own) over the
same frames of PETS09-S2L1 (real footage) with its public detections as
proposals. Weights are random: speed does not depend on their values. The
``teacher`` rows run a teacher inside the tracker on every frame (the
direct-integration baseline the student exists to avoid): the MobileNetV2
stand-in, and CLIP ViT-B/32's architecture with random weights.

    python benchmarks/bench_speed.py --frames 40

``--interleave`` instead builds every vsdmot configuration in one process and feeds
each frame to all of them in turn (rotating the order), so slow drift of a shared
machine hits every configuration alike: the ratios between rows are the ones to read
(peak memory is not per row in that mode). ``--input-size`` sets the tracker's input
short side (default: full resolution).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from common import MOBILENET, MOT15, ROOT, command, table, write_report

from vsdmot.bench.model_cost import n_params, random_clip_teacher
from vsdmot.bench.tracker_rows import public_frames
from vsdmot.data.sequence import MOTSequence
from vsdmot.models.config import ModelConfig
from vsdmot.models.factory import build_model
from vsdmot.semantics.branch import build_semantic_branch
from vsdmot.semantics.config import SemanticConfig, TeacherConfig
from vsdmot.tracking.params import TrackerParams
from vsdmot.tracking.query_tracker import QueryTracker
from vsdmot.tracking.registry import build_tracker, step
from vsdmot.utils.timing import repeat_ms, time_calls

CONFIGS = ("bytetrack", "none", "student", "student-dswr-off", "teacher-mobilenet", "teacher-clip")
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
TARGETS = "student / none = {:.2f} (target >= 0.85); student / teacher-clip = {:.2f} (target >= 3)."


def _branch(name: str, d_model: int):
    if name == "none":
        return None
    if name.startswith("student"):
        dswr = "off" if name.endswith("off") else "on"
        return build_semantic_branch(SemanticConfig(semantics="student", dswr=dswr,
                                                    embed_dim=512), d_model)  # fmt: skip
    if name == "teacher-mobilenet":
        teacher_cfg = TeacherConfig(kind="mobilenet_v2", weights=str(MOBILENET))
        return build_semantic_branch(SemanticConfig(semantics="teacher", teacher=teacher_cfg),
                                     d_model)  # fmt: skip
    return build_semantic_branch(SemanticConfig(semantics="teacher", embed_dim=512), d_model,
                                 teacher=random_clip_teacher())  # fmt: skip


def _tracker(name: str, d_model: int, short_side: int) -> tuple[QueryTracker, float]:
    """A random-weight vsdmot tracker of configuration ``name`` and its parameters (M, the
    teacher kept outside the module's parameters included)."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=d_model, n_heads=8 if d_model >= 128 else 4),
                        _branch(name, d_model))  # fmt: skip
    teacher = getattr(model.semantic_branch, "teacher", None)
    params = n_params(model, *([teacher] if isinstance(teacher, torch.nn.Module) else []))
    inputs = TrackerParams(input_short_side=short_side, input_max_side=round(short_side * 4 / 3))
    return QueryTracker(model, inputs), params


def run_one(name: str, seq_dir: Path, frames: int, d_model: int) -> dict[str, float]:
    """Frames/s of one configuration after one warm-up frame, this process's peak RSS."""
    torch.set_num_threads(THREADS)
    images = [(img, props) for _, img, props in public_frames(seq_dir, frames)]
    if name == "bytetrack":
        fps = MOTSequence(seq_dir).info.frame_rate
        tracker, params = build_tracker("bytetrack", frame_rate=fps), 0.0
        update = lambda fp: step(tracker, *fp)  # noqa: E731
    else:
        core, params = _tracker(name, d_model, 576)
        update = lambda fp: core.update(*fp)  # noqa: E731
    seconds = sum(time_calls(update, images, warmup=1))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"fps": (len(images) - 1) / seconds, "params_M": params, "peak_rss_MB": peak_mb}


def interleaved(seq_dir: Path, frames: int, d_model: int, short_side: int) -> dict[str, dict]:
    """Per-frame seconds of every vsdmot configuration, measured round-robin per frame."""
    torch.set_num_threads(THREADS)
    names = [n for n in CONFIGS if n != "bytetrack"]
    trackers = {n: _tracker(n, d_model, short_side)[0] for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    for i, (_, img, boxes) in enumerate(public_frames(seq_dir, frames)):
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            times[name] += time_calls(lambda x, n=name: trackers[n].update(*x), [(img, boxes)],
                                      warmup=int(i == 0))  # frame 1 is the warm-up  # fmt: skip
    return {n: {"fps": 1.0 / float(np.mean(v)), "median_ms": 1e3 * float(np.median(v))}
            for n, v in times.items()}  # fmt: skip


def branch_ms(reps: int = 10) -> dict[str, float]:
    """Mean ms per 768x576 frame of the semantic branch alone (student vs teachers)."""
    x, mask = torch.randn(1, 3, 576, 768), torch.zeros(1, 576, 768, dtype=torch.bool)
    out = {}
    for name in ("student", "student-dswr-off", "teacher-mobilenet", "teacher-clip"):
        branch = _branch(name, 128).eval()
        with torch.no_grad():
            out[name] = repeat_ms(lambda b=branch: b(x, mask, None, None), reps, stat=np.mean)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--branches", action="store_true",
                    help="time the semantic branch alone (writes speed_branches.md)")  # fmt: skip
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--sequence", type=Path, default=MOT15 / "PETS09-S2L1")
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--interleave", action="store_true", help="all vsdmot configurations in "
                    "one process, frame by frame in turn")  # fmt: skip
    ap.add_argument("--input-size", type=int, default=576, help="tracker input short side")
    ap.add_argument("--only", default=None, help=argparse.SUPPRESS)  # child process mode
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.md")
    args = ap.parse_args()
    if args.only:
        print(json.dumps(run_one(args.only, args.sequence, args.frames, args.d_model)))
        return
    if args.branches:
        ms = branch_ms()
        write_report(args.out.parent / "speed_branches.md", [
            "# Semantic branch alone, per 768x576 frame (CPU, random weights)", "",
            f"Command: `{command()}` ({THREADS} threads, mean of 10 after a warm-up; the branch "
            "resizes the frame for its network)", "",
            *table(["branch", "ms/frame", "relative to teacher-clip"],
                   [[n, f"{v:.1f}", f"{ms['teacher-clip'] / v:.1f}x"] for n, v in ms.items()],
                   "---:|")])  # fmt: skip
        return
    if args.interleave:
        rows = interleaved(args.sequence, args.frames, args.d_model, args.input_size)
        none = rows["none"]["fps"]
        write_report(args.out.parent / f"speed_interleaved_{args.input_size}.md", [
            f"# Tracker speed, interleaved, input short side {args.input_size} (PETS09-S2L1)", "",
            f"d_model={args.d_model}, random weights, {args.frames - 1} timed frames after one "
            f"warm-up, {THREADS} torch threads. Every configuration lives in one process and "
            "each frame goes to all of them in turn (rotating order), so the ratios are "
            "measured side by side.", "", f"Command: `{command()}`", "",
            *table(["configuration", "frames/s", "median ms/frame", "relative to `none`"],
                   [[n, f"{r['fps']:.2f}", f"{r['median_ms']:.0f}", f"{r['fps'] / none:.2f}x"]
                    for n, r in rows.items()], "---:|"), "",
            TARGETS.format(rows["student"]["fps"] / none,
                           rows["student"]["fps"] / rows["teacher-clip"]["fps"])])  # fmt: skip
        return
    rows = {}
    for name in CONFIGS:
        cmd = [sys.executable, __file__, "--only", name, "--frames", str(args.frames),
               "--sequence", str(args.sequence), "--d-model", str(args.d_model)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(name, rows[name], file=sys.stderr)
    none = rows["none"]["fps"]
    write_report(args.out, [
        "# Tracker speed at 768x576 (PETS09-S2L1, public detections), CPU", "",
        f"Model d_model={args.d_model} (2 encoder / 3 decoder layers, MobileNetV2), input at "
        f"full resolution (576 x 768), {args.frames - 1} timed frames after one warm-up frame, "
        f"{THREADS} torch threads, random weights (speed only). Each row is its own process, "
        "run one after the other in one invocation.", "", f"Command: `{command()}`", "",
        *table(["configuration", "frames/s", "relative to `none`", "params (M)", "peak RSS (MB)"],
               [[n, f"{r['fps']:.2f}", f"{r['fps'] / none:.2f}x", f"{r['params_M']:.2f}",
                 f"{r['peak_rss_MB']:.0f}"] for n, r in rows.items()], "---:|"), "",
        TARGETS.format(rows["student"]["fps"] / none,
                       rows["student"]["fps"] / rows["teacher-clip"]["fps"])])  # fmt: skip


if __name__ == "__main__":
    main()
