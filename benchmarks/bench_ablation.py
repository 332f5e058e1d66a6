"""Ablation grid of the semantic branch: HOTA mean and std over training seeds.

Each arm is the model card's training recipe (docs/model-card.md) with only the
``semantic.*`` switches changed, trained once per seed with ``vsdmot train``,
then tracked with the same runtime settings on the same proposals and scored
with TrackEval (``bench_tracking.score_datasets``, the experiment runner). Runs already
trained or scored under ``--work`` are reused, so an interrupted grid resumes where it stopped.

``--root`` is the folder holding the model card's training data (``synth-train``,
``synth-train-lq``, ``MOT15/PETS09-S2L1``) and the MobileNetV2 features file::

    python benchmarks/bench_ablation.py --root data --work runs/ablation --seeds 0 1 2 \\
        --arms none student+dswr teacher+dswr --jobs 2 \\
        --data synth-clean=data/synth-test --data synth-mix3=data/synth-test-lq \\
        --mot15 data/MOT15
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_tracking import score_datasets, sized
from common import command, table, write_report

from vsdmot.tracking.registry import build_tracker, describe_tracker
from vsdmot.utils.io import atomic_write

# The model card's recipe (paths relative to the working folder).
RECIPE = [
    "data.train=[synth-train,synth-train-lq,MOT15/PETS09-S2L1]",
    "data.train_frames.PETS09-S2L1=[1,600]",
    "data.clean_pairs=[{degraded: synth-train-lq, clean: synth-train}]",
    "model.backbone_weights=mobilenet_v2_imagenet_features.pt",
    "optim.lr=1e-3",
    "optim.grad_clip=1.0",
    "data.clip_length=4",
    "data.max_interval=2",
    "data.augment.scales=[256,288,320]",
    "data.augment.max_size=512",
    "data.input_size=288",
    "data.max_size=512",
    "semantic.teacher.kind=mobilenet_v2",
    "semantic.teacher.weights=mobilenet_v2_imagenet_features.pt",
    "train.tensorboard=false",
]
ARMS = {
    "none": ["semantic.semantics=none"],
    "teacher": ["semantic.semantics=teacher", "semantic.dswr=off"],
    "teacher+dswr": ["semantic.semantics=teacher", "semantic.dswr=on"],
    "student": ["semantic.semantics=student", "semantic.dswr=off", "semantic.distill=both"],
    "student+dswr": ["semantic.semantics=student", "semantic.dswr=on", "semantic.distill=both"],
}

def _run(cmd: list[str], log: Path, threads: int, cwd: Path | None = None) -> None:
    # Two torch processes with several threads each on a small machine slow each other
    # down many times over; each job gets its share of the cores.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as f:
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed (exit {done.returncode}); see {log}")


def run_one(arm: str, seed: int, args: argparse.Namespace, threads: int) -> Path:
    """Train (unless done) and score (unless done) one arm and seed; return the score file."""
    run_dir = args.work.resolve() / f"{arm}-s{seed}"
    weights = run_dir / "model.pt"
    if not weights.is_file():
        vsdmot = str(Path(sys.executable).parent / "vsdmot")
        cmd = [vsdmot, "train", "--config", "tiny-cpu", "--out", str(run_dir), *RECIPE,
               *ARMS[arm], f"train.steps={args.steps}", f"train.seed={seed}"]  # fmt: skip
        _run(cmd, args.work / "logs" / f"{arm}-s{seed}.train.log", threads, cwd=args.root)
    scores = run_dir / "scores.json"
    if not scores.is_file():
        data = []
        for spec in args.data:
            name, _, folder = spec.partition("=")
            data += ["--data", f"{name}={Path(folder).resolve()}"]
        cmd = [sys.executable, __file__, "--score", str(weights), "--json", str(scores),
               "--input-size", str(args.input_size), *data,
               *(["--mot15", str(args.mot15.resolve())] if args.mot15 else []),
               *(["--mot15-lq", str(args.mot15_lq.resolve())] if args.mot15_lq else []),
               ]  # fmt: skip
        # From the training folder: a `semantics: teacher` model reloads its teacher from
        # the (possibly relative) path it was trained with.
        log = args.work / "logs" / f"{arm}-s{seed}.score.log"
        _run(cmd, log, threads, cwd=args.root)
    return scores


def score(args: argparse.Namespace) -> None:
    """Score one model on every dataset (the ``--score`` mode of this script)."""
    spec = sized(f"vsdmot:weights={args.score}", args.input_size)
    results = score_datasets({"vsdmot": spec}, args.data, {"": args.mot15, " lq": args.mot15_lq})
    results = {name: rows["vsdmot"] for name, rows in results.items()}
    with atomic_write(args.json) as f:
        weights = describe_tracker(build_tracker(spec))
        json.dump({"weights": weights, "results": results}, f, indent=2)


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else float("nan")


def report(args: argparse.Namespace, done: dict[tuple[str, int], Path]) -> list[str]:
    """Markdown: HOTA mean ± std per dataset and arm, then the issue's two checks."""
    by_arm: dict[str, list[dict]] = {}
    for (arm, _seed), path in sorted(done.items()):
        by_arm.setdefault(arm, []).append(json.loads(path.read_text())["results"])
    arms = [a for a in args.arms if a in by_arm]
    datasets = list(next(iter(by_arm.values()))[0])
    lines = [
        "# Ablation: semantic branch switches, mean ± std over training seeds",
        "",
        f"Each arm is the model card's training recipe ({args.steps} steps) with only the",
        "`semantic.*` switches changed; seeds set `train.seed` (initialisation, data order,",
        "augmentation). Teacher: the ImageNet MobileNetV2 stand-in for CLIP. Tracking:",
        f"input short side {args.input_size}, default runtime thresholds, the sequences'",
        "own `det/det.txt` proposals. HOTA, sample std (n-1).",
        "",
        f"Command: `{command()}`",
        "",
    ]
    stats = {(d, a): _mean_std([r[d]["HOTA"] for r in by_arm[a]]) for d in datasets for a in arms}
    lines += table(["data", *(f"{a} (n={len(by_arm[a])})" for a in arms)],
                   [[d, *(f"{stats[(d, a)][0]:.3f} ± {stats[(d, a)][1]:.3f}" for a in arms)]
                    for d in datasets], "---:|")  # fmt: skip
    per_seed = [(arm, seed, json.loads(path.read_text())["results"])
                for (arm, seed), path in sorted(done.items())]  # fmt: skip
    lines += ["", "Per seed (HOTA / IDSW):", "", "| arm | seed | " + " | ".join(datasets)
              + " |", "|---|---|" + "---:|" * len(datasets)]  # fmt: skip
    lines += [f"| {arm} | {seed} | " + " | ".join(f"{res[d]['HOTA']:.3f} / {int(res[d]['IDSW'])}"
              for d in datasets) + " |" for arm, seed, res in per_seed]  # fmt: skip
    if "none" in arms and "student+dswr" in arms:
        lines += ["", "Targets (student+dswr vs none; 'std' = the larger of the two arms'):", ""]
        for data in datasets:
            (m0, s0), (m1, s1) = stats[(data, "none")], stats[(data, "student+dswr")]
            std = max(s0, s1)
            diff = m1 - m0
            if data in args.clean:
                verdict = "met" if diff >= -std else "not met"
                what = "clean HOTA does not drop by more than the std"
            else:
                verdict = "met" if diff > std else "not met"
                what = "beats none by more than the std"
            lines.append(f"- {data}: {diff:+.3f} (std {std:.3f}) — {what}: **{verdict}**")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path("."), help="training data folder")
    ap.add_argument("--work", type=Path, default=Path("runs/ablation"))
    ap.add_argument("--arms", nargs="+", default=["none", "student+dswr", "teacher+dswr"],
                    choices=sorted(ARMS))  # fmt: skip
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=1100)
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (cores are split)")
    ap.add_argument("--data", action="append", default=[], help="NAME=FOLDER")
    ap.add_argument("--clean", nargs="*",
                    default=["synth-clean", "PETS09-S2L1 601-795", "TUD-Stadtmitte"],
                    help="dataset names that are clean (the others count as degraded)")  # fmt: skip
    ap.add_argument("--mot15", type=Path, default=None, help="the real MOT15 split")
    ap.add_argument("--mot15-lq", type=Path, default=None,
                    help="a degraded copy of it (`vsdmot degrade`)")  # fmt: skip
    ap.add_argument("--input-size", type=int, default=288)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/ablation.md"))
    ap.add_argument("--score", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.score is not None:
        score(args)
        return

    jobs = [(arm, seed) for arm in args.arms for seed in args.seeds]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    done: dict[tuple[str, int], Path] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {job: pool.submit(run_one, *job, args, threads) for job in jobs}
        for job, fut in futures.items():
            try:
                done[job] = fut.result()
            except RuntimeError as err:
                print(f"{job[0]} seed {job[1]}: {err}", file=sys.stderr)
            else:  # rewritten after every finished run: a partial grid is still reported
                write_report(args.out, report(args, done))
    if not done:
        print("no run finished")


if __name__ == "__main__":
    main()
