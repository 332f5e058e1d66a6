"""Cost of the semantic branch: student vs teachers, side by side in one run.

Rows: the default student (MobileNetV2 trunk to stride 16, 160 px), a slimmer
student (width 0.5, 128 px), the DSWR quality head (64 px), a CLIP ViT-B/32
vision tower built from ``CLIPVisionConfig()`` defaults with *random* weights
(same architecture and cost as the real one; the weights do not change the
timing), and the ImageNet MobileNetV2 stand-in teacher (224 px). Parameters,
FLOPs (``torch.utils.flop_counter``, one multiply-add = 2 FLOPs) and CPU
milliseconds per frame at batch 1, for the network alone and for ``embed``
from a 768 x 576 frame (resize and normalisation included). Writes
``benchmarks/results/semantics.md``::

    .venv/bin/python benchmarks/bench_semantics.py --reps 30 --threads 1
"""

from __future__ import annotations

import argparse
import logging
import platform
from collections.abc import Callable
from pathlib import Path

import torch
from common import MOBILENET, ROOT, write_report
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from vsdmot.semantics import QualityConfig, QualityHead, Student, StudentConfig, Teacher
from vsdmot.semantics.teachers import ClipTeacher, mobilenet_v2_teacher
from vsdmot.utils.timing import repeat_ms

FRAME_HW = (576, 768)

log = logging.getLogger("bench_semantics")


@torch.inference_mode()
def time_ms(fn: Callable[[], object], reps: int) -> float:
    """Fastest of ``reps`` runs after 3 warm-ups, ms: on a shared machine other jobs only
    ever add time, so the fastest run is the best estimate of the code's own cost."""
    return repeat_ms(fn, reps, warmup=3, stat=min)


def gflops(module: nn.Module, x: Tensor, call: Callable[[Tensor], object] | None = None) -> float:
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        (call or module)(x)
    return counter.get_total_flops() / 1e9


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def n_params(module: nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


def clip_vit_b32() -> ClipTeacher:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    model = CLIPVisionModelWithProjection(CLIPVisionConfig()).eval()
    return ClipTeacher(
        model, input_size=224, mean=(0.5,) * 3, std=(0.25,) * 3, resize="squash", name="clip"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "semantics.md"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    frame = torch.rand(1, 3, *FRAME_HW)

    students = {
        "student (default: width 1.0, depth 14, 160 px)": StudentConfig(),
        "student (slim: width 0.5, depth 14, 128 px)": StudentConfig(input_size=128, width=0.5),
    }
    rows = []
    for name, cfg in students.items():
        net = Student(cfg, embed_dim=512).eval()
        x = torch.rand(1, 3, cfg.input_size, cfg.input_size)
        rows.append(
            (
                name,
                n_params(net),
                gflops(net, x),
                time_ms(lambda n=net, x=x: n(x), args.reps),
                time_ms(lambda n=net: n.embed(frame), args.reps),
            )
        )
        log.info("%s done", name)

    head = QualityHead(QualityConfig()).eval()
    prepared = head.prepare([frame[0]])
    rows.append(
        (
            "DSWR quality head (64 px + full-res detail map)",
            n_params(head),
            gflops(head, prepared),
            time_ms(lambda: head(prepared), args.reps),
            time_ms(lambda: head(head.prepare([frame[0]])), args.reps),
        )
    )

    teachers: dict[str, Teacher] = {
        "CLIP ViT-B/32 teacher (random weights, 224 px)": clip_vit_b32()
    }
    if MOBILENET.is_file():
        teachers["MobileNetV2 stand-in teacher (ImageNet, 224 px)"] = mobilenet_v2_teacher(
            MOBILENET
        )
    for name, teacher in teachers.items():
        x = teacher.preprocess(frame)
        rows.append(
            (
                name,
                n_params(teacher),
                gflops(teacher, x, teacher.encode),
                time_ms(lambda t=teacher, x=x: t.encode(x), args.reps),
                time_ms(lambda t=teacher: t.embed(frame), args.reps),
            )
        )
        log.info("%s done", name)

    cmd = (
        f".venv/bin/python benchmarks/bench_semantics.py --reps {args.reps} "
        f"--threads {args.threads}"
    )
    lines = [
        "# Semantic branch: student vs teachers",
        "",
        f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s), batch 1, fastest of {args.reps} runs. FLOPs count one "
        "multiply-add as 2. The CLIP row uses random weights (architecture and cost of "
        "ViT-B/32, not its accuracy). `embed` includes resizing a 768 x 576 frame and "
        "normalisation. Measured on a machine shared with other jobs (load average "
        f"{load_average()}): compare rows, not runs.",
        "",
        "| model | params (M) | GFLOPs | network ms/frame | embed ms/frame |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]:.2f} | {r[2]:.3f} | {r[3]:.1f} | {r[4]:.1f} |" for r in rows]
    lines += ["", "Command:", "", "```", cmd, "```", ""]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
