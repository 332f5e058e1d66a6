"""The experiment runner: (tracker specs x sequences x conditions x proposal protocol)
-> prediction files, TrackEval scores and timings, cached and resumable.

``vsdmot bench``, ``vsdmot tune``, ``vsdmot demo`` and the benchmark scripts all run
through it. Layout of a run folder ``OUT``::

    OUT/data/<condition>-seed<S>[-first<N>]/SEQ/   degraded copies (vsdmot degrade)
    OUT/proposals/<detector>/<condition>/SEQ.txt   detector boxes per condition (redetect)
    OUT/results/<tracker>/<condition>/SEQ.txt      tracker results (MOTChallenge)
    OUT/results/<tracker>/<condition>/scores.json  the cell's metrics: its presence = done
    OUT/results/<tracker>/<condition>/error.txt    why a cell failed (it is retried next run)

Every file is written atomically, so an interrupted run leaves complete cells only;
running again skips them. One failing cell is reported, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from vsdmot.data.mot import MOTAnnotations, MOTFormatError, write_mot
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.experiments.grid import Condition, GridSpec
from vsdmot.tracking.registry import TrackerSpec, build_tracker, parse_tracker
from vsdmot.utils.io import atomic_write
from vsdmot.utils.specs import SpecError, parse_spec

log = logging.getLogger(__name__)

#: Metrics kept per cell (TrackEval names).
METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")


@dataclass(frozen=True)
class SequenceRange:
    """One sequence of the dataset, optionally a frame range of it (1-based, inclusive).

    >>> SequenceRange.parse("PETS09-S2L1:first=601,last=795")
    SequenceRange(name='PETS09-S2L1', first=601, last=795)
    >>> str(SequenceRange("TUD-Stadtmitte"))
    'TUD-Stadtmitte'
    """

    name: str
    first: int = 1
    last: int | None = None

    @classmethod
    def parse(cls, text: str) -> SequenceRange:
        spec = parse_spec(text).keyword_only()
        unknown = set(spec.options) - {"first", "last"}
        if unknown:
            raise SpecError(f"sequence {text!r}: options are first= and last=, not {unknown}")
        try:
            opts = {k: int(v) for k, v in spec.options.items()}
        except ValueError:
            raise SpecError(f"sequence {text!r}: first and last are frame numbers") from None
        return cls(spec.name, **opts)

    def __str__(self) -> str:
        opts = {"first": self.first} if self.first != 1 else {}
        if self.last is not None:
            opts["last"] = self.last
        return self.name + ("" if not opts else ":" + ",".join(f"{k}={v}" for k, v in opts.items()))

    def span(self, length: int, cap: int | None = None) -> tuple[int, int]:
        """The frames tracked and scored, clipped to the sequence and to ``cap`` frames."""
        last = length if self.last is None else min(self.last, length)
        if cap is not None:
            last = min(last, self.first + cap - 1)
        if self.first < 1 or last < self.first:
            raise ValueError(f"sequence {self}: no frames in range (it has {length})")
        return self.first, last


@dataclass(frozen=True)
class RunConfig:
    """One run. Trackers are registry specs (:mod:`vsdmot.tracking.registry`); ``external``
    maps a name to a folder of results per condition (``DIR/<condition>/SEQ.txt``);
    ``sequences`` (default: all) select sequences and frame ranges; degraded copies and
    proposals are cached under ``cache`` (default ``out``) so several runs can share them.
    """

    data: Path
    out: Path
    grid: GridSpec
    trackers: tuple[str, ...] = ("vsdmot", "bytetrack")
    external: dict[str, Path] = field(default_factory=dict)
    detector: str = "auto"
    jobs: int = 1
    threads: int | None = None  # torch threads per worker (default: cores // jobs)
    sequences: tuple[SequenceRange, ...] = ()
    cache: Path | None = None

    @property
    def cache_root(self) -> Path:
        return self.cache if self.cache is not None else self.out

    def selected(self, root: Path) -> list[tuple[Path, tuple[int, int]]]:
        """Each selected sequence folder under ``root`` with its frame span."""
        folders = {p.name: p for p in list_sequences(root)}
        chosen = self.sequences or tuple(SequenceRange(n) for n in folders)
        out = []
        for sel in chosen:
            if sel.name not in folders:
                raise MOTFormatError(f"{root}: no sequence {sel.name!r} (has {sorted(folders)})")
            length = len(MOTSequence(folders[sel.name]))
            out.append((folders[sel.name], sel.span(length, self.grid.max_frames)))
        return out


# --- data and proposals ------------------------------------------------------------------------


def condition_root(cfg: RunConfig, condition: Condition) -> Path:
    """The dataset folder of a condition: the user's data (clean) or a cached degraded copy."""
    if condition.clean:
        return cfg.data
    return cfg.cache_root / "data" / cfg.grid.cache_key(condition)


def ensure_condition(cfg: RunConfig, condition: Condition) -> Path:
    """Build the degraded copy of a condition unless every sequence of it is cached."""
    root = condition_root(cfg, condition)
    if condition.clean:
        return root
    names = [p.name for p in list_sequences(cfg.data)]
    if all((root / n / "seqinfo.ini").is_file() for n in names):
        return root
    from vsdmot.degrade.dataset import DegradeJob, degrade_dataset

    assert condition.type is not None
    job = DegradeJob(condition.type, condition.severity, condition.schedule, cfg.grid.seed,
                     max_frames=cfg.grid.max_frames)  # fmt: skip
    degrade_dataset(cfg.data, root, job, overwrite=True, progress=False)
    return root


def detector_key(cfg: RunConfig, root: Path) -> str | None:
    """Which detector a condition's proposals come from: ``None`` for the sequences' own
    ``det/det.txt`` (fixed protocol; or generated data, whose degraded copies carry the
    severity-aware simulated detector's boxes), else a proposal spec."""
    if cfg.detector != "auto":
        return cfg.detector
    first = list_sequences(root)[0]
    return None if (first / "synth.json").is_file() else "yolo"


def proposals_file(cfg: RunConfig, condition: Condition, seq_root: Path) -> Path:
    """The det file a condition's trackers read for one sequence (computed once, cached)."""
    if cfg.grid.protocol == "fixed":
        clean_seq = cfg.data / seq_root.name
        if cfg.detector == "auto":
            path = clean_seq / "det" / "det.txt"
            if not path.is_file():
                raise MOTFormatError(
                    f"{path}: the fixed protocol needs each clean sequence's det/det.txt, "
                    "or --detector SPEC to detect on the clean frames"
                )
            return path
        return _detect_cached(cfg, cfg.detector, Condition(None), clean_seq)
    key = detector_key(cfg, seq_root.parent)
    if key is None:
        path = seq_root / "det" / "det.txt"
        if not path.is_file():
            raise MOTFormatError(f"{path}: no detections to track (pass --detector SPEC)")
        return path
    return _detect_cached(cfg, key, condition, seq_root)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text)


def _detect_cached(cfg: RunConfig, spec: str, condition: Condition, seq_root: Path) -> Path:
    path = cfg.cache_root / "proposals" / _safe(spec) / condition.name / f"{seq_root.name}.txt"
    if path.is_file():
        return path
    from vsdmot.proposals import build_proposal_source

    source = build_proposal_source(spec)
    seq = MOTSequence(seq_root)
    cap = cfg.grid.max_frames
    rows = []
    for t in range(1, (len(seq) if cap is None else min(cap, len(seq))) + 1):
        for x1, y1, x2, y2, s in source(seq.frame(t), t)[:, :5].tolist():
            rows.append([t, -1, x1, y1, x2 - x1, y2 - y1, s])
    write_mot(path, MOTAnnotations.from_rows(np.asarray(rows).reshape(-1, 7)), "det")
    return path


# --- cells --------------------------------------------------------------------------------------


@dataclass
class Cell:
    tracker: str  # label
    condition: str
    scores: dict[str, Any] | None  # combined + per sequence + fps; None when failed
    error: str | None = None
    computed: bool = False  # False: read back from an earlier run


def cell_dir(cfg: RunConfig, tracker: str, condition: Condition) -> Path:
    return cfg.out / "results" / tracker / condition.name


def score_cell(cfg: RunConfig, root: Path, pred: Path) -> dict[str, Any]:
    """TrackEval scores of the selected sequences (each on its own frame span)."""
    from vsdmot.eval.inputs import load_sequences
    from vsdmot.eval.scoring import score_sequences

    spans = {folder.name: span for folder, span in cfg.selected(root)}
    seqs = load_sequences(root, pred, sequences=list(spans))
    cropped = [s.crop(range(spans[s.name][0], spans[s.name][1] + 1)) for s in seqs]
    res = score_sequences(cropped, progress=False)
    pick = lambda m: {k: float(getattr(m, k)) for k in METRICS}  # noqa: E731
    return {"combined": pick(res.combined),
            "sequences": {k: pick(v) for k, v in res.sequences.items()}}  # fmt: skip


class TrackerPool:
    """One tracker per (spec, frame rate), reused across sequences and conditions (a
    model-backed tracker loads its weights once); ``reset()`` starts each video."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, float], Any] = {}

    def get(self, spec: TrackerSpec, frame_rate: float):
        key = (str(spec), float(frame_rate))
        if key not in self._made:
            self._made[key] = build_tracker(spec, frame_rate=frame_rate)
        return self._made[key]


def run_cell(
    cfg: RunConfig, spec: TrackerSpec, pool: TrackerPool, condition: Condition, root: Path
) -> Cell:
    """Track every selected sequence of one condition with one tracker and score it."""
    from vsdmot.proposals import DetFileProposals
    from vsdmot.tracking.run import track_frames

    folder = cell_dir(cfg, spec.label, condition)
    frames = seconds = 0.0
    for seq_root, (first, last) in cfg.selected(root):
        seq = MOTSequence(seq_root)
        props = DetFileProposals(proposals_file(cfg, condition, seq_root))
        tracker = pool.get(spec, seq.info.frame_rate)
        run = track_frames(tracker, ((t, seq.frame(t)) for t in range(first, last + 1)),
                           props, progress=False, overlap=False)  # fmt: skip
        write_mot(folder / f"{seq_root.name}.txt", run.results, "result")
        frames += run.frames
        seconds += run.seconds
    scores = score_cell(cfg, root, folder)
    scores["fps"] = frames / seconds if seconds > 0 else 0.0
    return Cell(spec.label, condition.name, scores, computed=True)


def external_cell(cfg: RunConfig, name: str, folder: Path, condition: Condition) -> Cell:
    pred = folder / condition.name
    if not pred.is_dir():
        return Cell(name, condition.name, None, f"{pred}: no results for this condition")
    scores = score_cell(cfg, condition_root(cfg, condition), pred)
    scores["fps"] = None
    return Cell(name, condition.name, scores, computed=True)


def data_fingerprint(cfg: RunConfig) -> str:
    """What a cell's scores depend on besides the tracker: the ground truth and public
    detections of the selected sequences (their bytes), the frame spans, the protocol,
    the detector, the seed and the frame cap. A stored cell with another fingerprint is
    stale (the data changed) and is computed again."""
    digest = hashlib.sha256()
    for folder, span in cfg.selected(cfg.data):
        digest.update(f"{folder.name}:{span}".encode())
        for part in ("gt/gt.txt", "det/det.txt", "seqinfo.ini"):
            path = folder / part
            digest.update(path.read_bytes() if path.is_file() else b"-")
    grid = cfg.grid
    digest.update(f"{grid.protocol}|{cfg.detector}|{grid.seed}|{grid.max_frames}".encode())
    return digest.hexdigest()[:16]


def _finish(cfg: RunConfig, label: str, condition: Condition, cell: Cell) -> Cell:
    folder = cell_dir(cfg, label, condition)
    if cell.scores is not None:
        with atomic_write(folder / "scores.json") as f:
            json.dump({**cell.scores, "fingerprint": data_fingerprint(cfg)}, f, indent=1)
        (folder / "error.txt").unlink(missing_ok=True)
    else:
        with atomic_write(folder / "error.txt") as f:
            f.write(cell.error or "failed")
    return cell


def _stored(cfg: RunConfig, label: str, condition: Condition) -> Cell | None:
    path = cell_dir(cfg, label, condition) / "scores.json"
    if not path.is_file():
        return None
    scores = json.loads(path.read_text())
    stored = scores.pop("fingerprint", None)  # cells of older versions carry none
    if stored is not None and stored != data_fingerprint(cfg):
        log.info("%s: the data changed since it was scored; computing it again", path.parent)
        return None
    return Cell(label, condition.name, scores)


def _failed_everywhere(cfg: RunConfig, condition: Condition, labels: list[str], why: str):
    log.error(why)
    return [_finish(cfg, label, condition, Cell(label, condition.name, None, why))
            for label in labels]  # fmt: skip


def run_condition(
    cfg: RunConfig,
    condition: Condition,
    threads: int | None = None,
    pool: TrackerPool | None = None,
) -> list[Cell]:
    """Every tracker (and external result set) on one condition; finished cells are read
    back. ``pool`` keeps trackers across the conditions one process runs."""
    pool = pool or TrackerPool()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    specs = [parse_tracker(s) for s in cfg.trackers]
    todo = {s.label for s in specs if _stored(cfg, s.label, condition) is None}
    todo |= {n for n in cfg.external if _stored(cfg, n, condition) is None}
    root = None
    if todo:
        try:
            root = ensure_condition(cfg, condition)
        except Exception as exc:  # the whole condition fails: say so in every cell
            why = f"building {condition.name}: {type(exc).__name__}: {exc}"
            return _failed_everywhere(cfg, condition, sorted(todo), why)
    cells = []
    for spec in specs:
        cells.append(_cell(cfg, spec.label, condition, todo, lambda s=spec: run_cell(
            cfg, s, pool, condition, root)))  # type: ignore[arg-type]  # fmt: skip
    for name, folder in cfg.external.items():
        compute = lambda n=name, f=folder: external_cell(cfg, n, f, condition)  # noqa: E731
        cells.append(_cell(cfg, name, condition, todo, compute))
    return cells


def _cell(cfg: RunConfig, label: str, condition: Condition, todo: set[str], compute) -> Cell:
    """The stored cell, or a newly computed one (a failure becomes a failed cell)."""
    if label not in todo:
        return _stored(cfg, label, condition)  # type: ignore[return-value]
    try:
        cell = compute()
    except Exception as exc:
        log.error("%s on %s failed: %s", label, condition.name, exc)
        cell = Cell(label, condition.name, None, _why(exc))
    return _finish(cfg, label, condition, cell)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])


def check_run(cfg: RunConfig) -> None:
    """Refuse bad input before any work: no data, unknown trackers or settings, missing
    external folders or sequences."""
    if not list_sequences(cfg.data):
        raise MOTFormatError(f"{cfg.data}: no sequences")
    for spec in cfg.trackers:
        parse_tracker(spec)
    for name, folder in cfg.external.items():
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"external results {name}: {folder} is not a folder")
    cfg.selected(cfg.data)


def run_grid(cfg: RunConfig, *, progress: bool = True) -> Iterator[Cell]:
    """Run (or read back) every cell, yielding them as conditions finish."""
    check_run(cfg)
    conditions = cfg.grid.conditions
    bar = tqdm(total=len(conditions) * (len(cfg.trackers) + len(cfg.external)), desc="run",
               unit="cell", disable=not progress)  # fmt: skip
    started = time.perf_counter()
    if cfg.jobs <= 1:
        pool = TrackerPool()
        for condition in conditions:
            for cell in run_condition(cfg, condition, cfg.threads, pool):
                bar.update(1)
                yield cell
    else:
        threads = cfg.threads or max(1, (os.cpu_count() or 1) // cfg.jobs)
        with ProcessPoolExecutor(cfg.jobs) as pool_:
            futures = [pool_.submit(run_condition, cfg, c, threads) for c in conditions]
            for future in as_completed(futures):
                for cell in future.result():
                    bar.update(1)
                    yield cell
    bar.close()
    log.info("run: %d conditions in %.0f s", len(conditions), time.perf_counter() - started)


def with_trackers(cfg: RunConfig, *specs: str | TrackerSpec) -> RunConfig:
    """The same run with other trackers."""
    return replace(cfg, trackers=tuple(str(s) for s in specs))
