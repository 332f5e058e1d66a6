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

    python benchmarks/bench_semantics.py --reps 30 --threads 1
"""

from __future__ import annotations

import argparse
import logging
import platform
from collections.abc import Callable
from pathlib import Path

import torch
from common import MOBILENET, ROOT, command, table, write_report
from torch import Tensor, nn

from vsdmot.bench.model_cost import gflops, load_average, n_params, random_clip_teacher
from vsdmot.semantics import QualityConfig, QualityHead, Student, StudentConfig
from vsdmot.semantics.teachers import mobilenet_v2_teacher
from vsdmot.utils.timing import repeat_ms

FRAME_HW = (576, 768)

log = logging.getLogger("bench_semantics")


def row(name: str, module: nn.Module, x: Tensor, net: Callable[[Tensor], object],
        embed: Callable[[], object], reps: int) -> list[str]:  # fmt: skip
    """Parameters, GFLOPs of ``net(x)``, and the fastest of ``reps`` runs (after 3 warm-ups)
    of ``net(x)`` and of ``embed()``, in ms: on a shared machine other jobs only ever add
    time, so the fastest run is the best estimate of the code's own cost."""
    with torch.inference_mode():
        ms = [repeat_ms(fn, reps, warmup=3, stat=min) for fn in (lambda: net(x), embed)]
    log.info("%s done", name)
    return [name, f"{n_params(module):.2f}", f"{gflops(net, x):.3f}", *(f"{v:.1f}" for v in ms)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/semantics.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    frame, reps = torch.rand(1, 3, *FRAME_HW), args.reps

    students = {
        "student (default: width 1.0, depth 14, 160 px)": StudentConfig(),
        "student (slim: width 0.5, depth 14, 128 px)": StudentConfig(input_size=128, width=0.5),
    }
    rows = []
    for name, cfg in students.items():
        net = Student(cfg, embed_dim=512).eval()
        x = torch.rand(1, 3, cfg.input_size, cfg.input_size)
        rows.append(row(name, net, x, net, lambda n=net: n.embed(frame), reps))
    head = QualityHead(QualityConfig()).eval()
    prepared = head.prepare([frame[0]])
    rows.append(row("DSWR quality head (64 px + full-res detail map)", head, prepared, head,
                    lambda: head(head.prepare([frame[0]])), reps))  # fmt: skip
    teachers = {"CLIP ViT-B/32 teacher (random weights, 224 px)": random_clip_teacher()}
    if MOBILENET.is_file():
        teachers["MobileNetV2 stand-in teacher (ImageNet, 224 px)"] = mobilenet_v2_teacher(
            MOBILENET
        )
    for name, t in teachers.items():
        rows.append(row(name, t, t.preprocess(frame), t.encode, lambda t=t: t.embed(frame), reps))

    write_report(args.out, [
        "# Semantic branch: student vs teachers", "",
        f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s), batch 1, fastest of {args.reps} runs. FLOPs count one "
        "multiply-add as 2. The CLIP row uses random weights (architecture and cost of "
        "ViT-B/32, not its accuracy). `embed` includes resizing a 768 x 576 frame and "
        "normalisation. Measured on a machine shared with other jobs (load average "
        f"{load_average()}): compare rows, not runs.", "",
        *table(["model", "params (M)", "GFLOPs", "network ms/frame", "embed ms/frame"], rows,
               "---:|"), "", "Command:", "", "```",
        command("benchmarks/bench_semantics.py"), "```", ""])  # fmt: skip


if __name__ == "__main__":
    main()
