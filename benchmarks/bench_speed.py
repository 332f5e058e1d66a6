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
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEQ = ROOT.parent / "shared" / "data" / "mot15" / "PETS09-S2L1"
MOBILENET = ROOT.parent / "shared" / "weights" / "mobilenet_v2_imagenet_features.pt"
CONFIGS = ("bytetrack", "none", "student", "student-dswr-off", "teacher-mobilenet", "teacher-clip")


def _branch(name: str, d_model: int):
    from vsdmot.semantics.branch import build_semantic_branch
    from vsdmot.semantics.config import SemanticConfig, TeacherConfig

    if name == "none":
        return None
    if name.startswith("student"):
        cfg = SemanticConfig(
            semantics="student", dswr="off" if name.endswith("off") else "on", embed_dim=512
        )
        return build_semantic_branch(cfg, d_model)
    if name == "teacher-mobilenet":
        teacher_cfg = TeacherConfig(kind="mobilenet_v2", weights=str(MOBILENET))
        return build_semantic_branch(SemanticConfig(semantics="teacher", teacher=teacher_cfg),
                                     d_model)  # fmt: skip
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from vsdmot.semantics.teachers import ClipTeacher

    torch.manual_seed(0)
    tower = CLIPVisionModelWithProjection(CLIPVisionConfig()).eval()
    teacher = ClipTeacher(tower, input_size=224, mean=(0.5,) * 3, std=(0.25,) * 3,
                          resize="squash", name="clip-vit-b32-random")  # fmt: skip
    return build_semantic_branch(SemanticConfig(semantics="teacher", embed_dim=512), d_model,
                                 teacher=teacher)  # fmt: skip


def run_one(name: str, seq_dir: Path, frames: int, d_model: int) -> dict[str, float]:
    import torch

    from vsdmot.data.sequence import MOTSequence
    from vsdmot.models.config import ModelConfig
    from vsdmot.models.factory import build_model
    from vsdmot.proposals import DetFileProposals
    from vsdmot.tracking.params import TrackerParams
    from vsdmot.tracking.query_tracker import QueryTracker
    from vsdmot.tracking.registry import build_tracker, step

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    seq = MOTSequence(seq_dir)
    props = DetFileProposals(seq.det_path)
    images = [(t, seq.frame(t)) for t in range(1, frames + 1)]
    params = 0.0
    if name == "bytetrack":
        tracker = build_tracker("bytetrack", frame_rate=seq.info.frame_rate)
    else:
        cfg = ModelConfig(d_model=d_model, n_heads=8 if d_model >= 128 else 4)
        model = build_model(cfg, _branch(name, d_model))
        params = sum(p.numel() for p in model.parameters()) / 1e6
        branch = model.semantic_branch
        teacher = getattr(branch, "teacher", None) if branch is not None else None
        if isinstance(teacher, torch.nn.Module):  # kept outside the module's parameters
            params += sum(p.numel() for p in teacher.parameters()) / 1e6
        tracker = QueryTracker(model, TrackerParams(input_short_side=576, input_max_side=768))
    update = (lambda f, p: step(tracker, f, p)) if name == "bytetrack" else tracker.update
    update(images[0][1], props(images[0][1], 1))  # warm-up (allocations, caches)
    start = time.perf_counter()
    for t, img in images[1:]:
        update(img, props(img, t))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"fps": (len(images) - 1) / seconds, "params_M": params, "peak_rss_MB": peak_mb}


def interleaved(
    seq_dir: Path, frames: int, d_model: int, short_side: int
) -> dict[str, dict[str, float]]:
    """Per-frame seconds of every vsdmot configuration, measured round-robin per frame."""
    import numpy as np
    import torch

    from vsdmot.data.sequence import MOTSequence
    from vsdmot.models.config import ModelConfig
    from vsdmot.models.factory import build_model
    from vsdmot.proposals import DetFileProposals
    from vsdmot.tracking.params import TrackerParams
    from vsdmot.tracking.query_tracker import QueryTracker

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    seq = MOTSequence(seq_dir)
    props = DetFileProposals(seq.det_path)
    images = [(t, seq.frame(t)) for t in range(1, frames + 1)]
    params = TrackerParams(input_short_side=short_side,
                           input_max_side=round(short_side * 4 / 3))  # fmt: skip
    names = [n for n in CONFIGS if n != "bytetrack"]
    trackers = {}
    for name in names:
        torch.manual_seed(0)
        cfg = ModelConfig(d_model=d_model, n_heads=8 if d_model >= 128 else 4)
        trackers[name] = QueryTracker(build_model(cfg, _branch(name, d_model)), params)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i, (t, img) in enumerate(images):
        boxes = props(img, t)
        for k in range(len(names)):
            name = names[(i + k) % len(names)]
            start = time.perf_counter()
            trackers[name].update(img, boxes)
            if i > 0:  # frame 1 is the warm-up
                times[name].append(time.perf_counter() - start)
    return {n: {"fps": 1.0 / float(np.mean(v)), "median_ms": 1e3 * float(np.median(v))}
            for n, v in times.items()}  # fmt: skip


def branch_times(reps: int = 10) -> dict[str, float]:
    """Seconds per 768x576 frame of the semantic branch alone (student vs CLIP teacher)."""
    import torch

    x = torch.randn(1, 3, 576, 768)
    mask = torch.zeros(1, 576, 768, dtype=torch.bool)
    times = {}
    for name in ("student", "student-dswr-off", "teacher-mobilenet", "teacher-clip"):
        branch = _branch(name, 128).eval()
        with torch.no_grad():
            branch(x, mask, None, None)  # warm-up
            start = time.perf_counter()
            for _ in range(reps):
                branch(x, mask, None, None)
        times[name] = (time.perf_counter() - start) / reps
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--branches",
        action="store_true",
        help="time the semantic branch alone (writes speed_branches.md)",
    )
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--sequence", type=Path, default=DEFAULT_SEQ)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument(
        "--interleave",
        action="store_true",
        help="all vsdmot configurations in one process, frame by frame in turn",
    )
    ap.add_argument("--input-size", type=int, default=576, help="tracker input short side")
    ap.add_argument("--only", default=None, help=argparse.SUPPRESS)  # child process mode
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.md")
    args = ap.parse_args()
    if args.only:
        print(json.dumps(run_one(args.only, args.sequence, args.frames, args.d_model)))
        return
    if args.interleave:
        rows = interleaved(args.sequence, args.frames, args.d_model, args.input_size)
        none_fps = rows["none"]["fps"]
        command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
        lines = [
            f"# Tracker speed, interleaved, input short side {args.input_size} (PETS09-S2L1)",
            "",
            f"d_model={args.d_model}, random weights, {args.frames - 1} timed frames after one "
            f"warm-up, {os.environ.get('BENCH_THREADS', '2')} torch threads. Every "
            "configuration lives in one process and each frame goes to all of them in turn "
            "(rotating order), so the ratios are measured side by side.",
            "",
            f"Command: `{command}`",
            "",
            "| configuration | frames/s | median ms/frame | relative to `none` |",
            "|---|---:|---:|---:|",
        ]
        for name, r in rows.items():
            lines.append(f"| {name} | {r['fps']:.2f} | {r['median_ms']:.0f} | "
                         f"{r['fps'] / none_fps:.2f}x |")  # fmt: skip
        s_fps, t_fps = rows["student"]["fps"], rows["teacher-clip"]["fps"]
        lines += ["", f"student / none = {s_fps / none_fps:.2f} (target >= 0.85); "
                  f"student / teacher-clip = {s_fps / t_fps:.2f} (target >= 3)."]  # fmt: skip
        out = args.out.parent / f"speed_interleaved_{args.input_size}.md"
        out.write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    if args.branches:
        times = branch_times()
        command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
        lines = [
            "# Semantic branch alone, per 768x576 frame (CPU, random weights)",
            "",
            f"Command: `{command}` ({os.environ.get('BENCH_THREADS', '2')} threads, "
            "mean of 10 after a warm-up; the branch resizes the frame for its network)",
            "",
            "| branch | ms/frame | relative to teacher-clip |",
            "|---|---:|---:|",
        ]
        for name, sec in times.items():
            lines.append(f"| {name} | {sec * 1e3:.1f} | {times['teacher-clip'] / sec:.1f}x |")
        (args.out.parent / "speed_branches.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return

    rows = {}
    for name in CONFIGS:
        cmd = [sys.executable, __file__, "--only", name, "--frames", str(args.frames),
               "--sequence", str(args.sequence), "--d-model", str(args.d_model)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(name, rows[name], file=sys.stderr)

    none_fps = rows["none"]["fps"]
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    lines = [
        "# Tracker speed at 768x576 (PETS09-S2L1, public detections), CPU",
        "",
        f"Model d_model={args.d_model} (2 encoder / 3 decoder layers, MobileNetV2), input at "
        f"full resolution (576 x 768), {args.frames - 1} timed frames after one warm-up frame, "
        f"{os.environ.get('BENCH_THREADS', '2')} torch threads, random weights (speed only). "
        "Each row is its own process, run one after the other in one invocation.",
        "",
        f"Command: `{command}`",
        "",
        "| configuration | frames/s | relative to `none` | params (M) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['fps']:.2f} | {r['fps'] / none_fps:.2f}x | {r['params_M']:.2f} | "
            f"{r['peak_rss_MB']:.0f} |"
        )
    s, tc = rows["student"]["fps"], rows["teacher-clip"]["fps"]
    lines += [
        "",
        f"student / none = {s / none_fps:.2f} (target >= 0.85); "
        f"student / teacher-clip = {s / tc:.2f} (target >= 3).",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
