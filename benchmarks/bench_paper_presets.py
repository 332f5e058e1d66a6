"""The paper presets' cost per training iteration: seconds per step and peak memory.

Usage (from the project root)::

    python benchmarks/bench_paper_presets.py [--steps 4] [--input-size 320] [--device cpu]

Each preset (``paper-dancetrack``, ``paper-mot17``) trains ``--steps`` steps on a
generated sequence and its Real-ESRGAN-degraded copy (the clean frames feed the
teacher), proposals from a det_db file. No weights can be downloaded where this is
meant to run, so the ResNet-50 backbone and the CLIP RN50 teacher have their real
shapes and random weights: the figures are the networks' cost, never a result. On
CPU the frames are shrunk to ``--input-size`` (the presets train at 608-800 px);
with ``--device cuda`` pass ``--input-size 800`` for the preset's own scale. Each
preset runs in its own process, so the peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from common import ROOT, command, table, write_report

PRESETS = ("paper-dancetrack", "paper-mot17")


def _vsdmot(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "vsdmot", *args], check=True, capture_output=True)


def prepare(work: Path) -> dict[str, Path]:
    """A clean generated sequence, its realesrgan copy, a det_db file, an RN50 file."""
    from vsdmot.semantics.clip.archs import named_arch
    from vsdmot.semantics.clip.load import build_tower

    clean, lq = work / "clean", work / "lq"
    _vsdmot("synth", str(clean), "--sequences", "1", "--frames", "24", "--seed", "3")
    _vsdmot("degrade", str(clean), str(lq), "--type", "realesrgan", "--severity", "5")
    db = work / "det_db.json"
    _vsdmot("detect", str(lq), "-p", "det", "--format", "det_db", "--db", str(db))
    teacher = work / "RN50.pt"
    tower = build_tower(named_arch("RN50")).state_dict()
    torch.save({f"visual.{k}": v for k, v in tower.items()}, teacher)
    return {"clean": clean, "lq": lq, "db": db, "teacher": teacher}


def run_one(preset: str, paths: dict[str, Path], out: Path, args: argparse.Namespace) -> dict:
    """Train ``preset`` for ``args.steps`` steps in this process; seconds per step (the
    first step, which loads the teacher, left out) and peak resident memory."""
    from vsdmot.config import compose_config
    from vsdmot.engine.trainer import train

    size = args.input_size
    cfg = compose_config(preset, [
        f"data.train=[{paths['lq']}]",
        f"data.clean_pairs=[{{degraded: {paths['lq']}, clean: {paths['clean']}}}]",
        f"data.proposals.source=det_db:{paths['db']}",
        f"semantic.teacher=clip:source=openai,arch=RN50,path={paths['teacher']}",
        "model.backbone_weights=null", f"data.input_size={size}", f"data.max_size={2 * size}",
        f"data.augment.scales=[{size}]", f"data.augment.max_size={2 * size}",
        "data.num_workers=0", "train.epochs=null", f"train.steps={args.steps}",
        "train.log_every=1", f"train.device={args.device}", "train.tensorboard=false",
    ])  # fmt: skip
    torch.set_num_threads(args.threads)
    train(cfg, out)
    with open(out / "metrics.csv") as f:
        speeds = [float(r["it_s"]) for r in csv.DictReader(f)][1:]
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    cuda_gb = torch.cuda.max_memory_allocated() / 2**30 if args.device.startswith("cuda") else None
    return {"preset": preset, "s_per_step": statistics.median(1 / s for s in speeds),
            "peak_rss_gb": peak_gb, "cuda_peak_gb": cuda_gb}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--input-size", type=int, default=320)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # PRESET: run one in this process
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/paper_presets.md")
    args = ap.parse_args(argv)
    if args.one:
        paths = json.loads((args.work / "paths.json").read_text())
        row = run_one(args.one, {k: Path(v) for k, v in paths.items()}, args.work / args.one, args)
        print(json.dumps(row))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = prepare(work)
        (work / "paths.json").write_text(json.dumps({k: str(v) for k, v in paths.items()}))
        for preset in PRESETS:
            done = subprocess.run(
                [sys.executable, __file__, "--one", preset, "--work", str(work),
                 "--steps", str(args.steps), "--input-size", str(args.input_size),
                 "--device", args.device, "--threads", str(args.threads)],
                check=True, capture_output=True, text=True)  # fmt: skip
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    lines = [
        "# Paper presets: cost per training iteration",
        "",
        f"Command: `{command('benchmarks/bench_paper_presets.py')}`",
        "",
        f"Device: {device}, {args.threads} threads; frames shrunk to {args.input_size} px "
        "(the presets train at 608-800 px); one clip of 5 frames per step; ResNet-50 backbone "
        "and CLIP RN50 teacher with their real shapes and random weights (none can be "
        "downloaded here), so these are the networks' costs, not results. Median over the "
        f"steps after the first of {args.steps}; peak resident memory of the process.",
        "",
        *table(["preset", "s / step", "peak RSS (GB)"], align="---:|",
               rows=[[r["preset"], f"{r['s_per_step']:.1f}", f"{r['peak_rss_gb']:.2f}"]
                     for r in rows]),
    ]
    write_report(args.out, lines, {"rows": rows, "steps": args.steps,
                                   "input_size": args.input_size, "device": device})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
