"""Running the grid: degraded copies, proposals, trackers and scores, cached and resumable.

Layout of a report folder ``OUT``::

    OUT/data/<condition>-seed<S>[-first<N>]/SEQ/   degraded copies (vsdmot degrade)
    OUT/proposals/<detector>/<condition>/SEQ.txt   detector boxes per condition (redetect)
    OUT/results/<tracker>/<condition>/SEQ.txt      tracker results (MOTChallenge)
    OUT/results/<tracker>/<condition>/scores.json  the cell's metrics: its presence = done
    OUT/results/<tracker>/<condition>/error.txt    why a cell failed (it is retried next run)

Every file is written atomically, so an interrupted run leaves complete cells only;
running again skips them. One failing cell is reported, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from vsdmot.bench.grid import Condition, GridSpec
from vsdmot.data.mot import MOTAnnotations, MOTFormatError, write_mot
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

#: Metrics kept per cell (TrackEval names).
METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark run. Trackers are specs (:func:`make_tracker`); ``external`` maps a
    name to a folder of results per condition (``DIR/<condition>/SEQ.txt``)."""

    data: Path
    out: Path
    grid: GridSpec
    trackers: tuple[str, ...] = ("vsdmot", "bytetrack")
    external: dict[str, Path] = field(default_factory=dict)
    detector: str = "auto"
    jobs: int = 1
    threads: int | None = None  # torch threads per worker (default: cores // jobs)


def parse_tracker_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"vsdmot[weights=m.pt,association=anchor]"`` -> ``("vsdmot", {...})``.

    >>> parse_tracker_spec("vsdmot[weights=m.pt,motion=static]")
    ('vsdmot', {'weights': 'm.pt', 'motion': 'static'})
    >>> parse_tracker_spec("bytetrack")
    ('bytetrack', {})
    """
    spec = spec.strip()
    name, _, rest = spec.partition("[")
    options: dict[str, str] = {}
    if rest:
        if not rest.endswith("]"):
            raise ValueError(f"tracker {spec!r}: expected NAME[KEY=VALUE,...]")
        for item in filter(None, (s.strip() for s in rest[:-1].split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"tracker {spec!r}: {item!r} is not KEY=VALUE")
            options[key.strip()] = value.strip()
    return name.strip(), options


def make_tracker(spec: str) -> Callable[[float], Any]:
    """A factory ``frame_rate -> Tracker`` for a spec: ``vsdmot[weights=...,<setting>=...]``
    (any :class:`~vsdmot.tracking.query_tracker.TrackerParams` setting) or a peer name."""
    from vsdmot.tracking.peers import PEERS, build_peer

    name, options = parse_tracker_spec(spec)
    if name == "vsdmot":
        from vsdmot.tracking.query_tracker import QueryTracker, parse_setting
        from vsdmot.tracking.weights import load_tracker_model

        weights = options.pop("weights", None)
        settings = dict(parse_setting(f"{k}={v}") for k, v in options.items())
        loaded = load_tracker_model(weights)
        params = loaded.tracker_params(**settings)
        return lambda fps: QueryTracker(loaded.model, params)
    if name in PEERS:
        return lambda fps: build_peer(name, fps, **options)
    raise ValueError(f"unknown tracker {name!r}; choose vsdmot[...] or one of {', '.join(PEERS)}")


def tracker_label(spec: str) -> str:
    """Folder-safe label of a tracker spec.

    >>> tracker_label("vsdmot[association=anchor]")
    'vsdmot_association=anchor'
    """
    name, options = parse_tracker_spec(spec)
    if not options:
        return name
    return name + "_" + "_".join(f"{k}={Path(v).stem if k == 'weights' else v}"
                                 for k, v in options.items())  # fmt: skip


# --- data and proposals ------------------------------------------------------------------------


def condition_root(cfg: BenchConfig, condition: Condition) -> Path:
    """The dataset folder of a condition: the user's data (clean) or a cached degraded copy."""
    if condition.clean:
        return cfg.data
    return cfg.out / "data" / cfg.grid.cache_key(condition)


def ensure_condition(cfg: BenchConfig, condition: Condition) -> Path:
    """Build the degraded copy of a condition unless every sequence of it is cached."""
    root = condition_root(cfg, condition)
    if condition.clean:
        return root
    names = [p.name for p in list_sequences(cfg.data)]
    if all((root / n / "seqinfo.ini").is_file() for n in names):
        return root
    from vsdmot.degrade.dataset import degrade_dataset

    assert condition.type is not None
    degrade_dataset(cfg.data, root, condition.type, condition.severity, condition.schedule,
                    cfg.grid.seed, max_frames=cfg.grid.max_frames, progress=False)  # fmt: skip
    return root


def _frames(cfg: BenchConfig, seq: MOTSequence) -> int:
    cap = cfg.grid.max_frames
    return len(seq) if cap is None else min(cap, len(seq))


def detector_key(cfg: BenchConfig, root: Path) -> str | None:
    """Which detector a condition's proposals come from: ``None`` for the sequences' own
    ``det/det.txt`` (fixed protocol; or generated data, whose degraded copies carry the
    severity-aware simulated detector's boxes), else a proposal spec."""
    if cfg.detector != "auto":
        return cfg.detector
    first = list_sequences(root)[0]
    return None if (first / "synth.json").is_file() else "yolo"


def proposals_file(cfg: BenchConfig, condition: Condition, seq_root: Path) -> Path:
    """The det file a condition's trackers read for one sequence (computed once, cached)."""
    if cfg.grid.protocol == "fixed":
        clean_seq = cfg.data / seq_root.name
        key = None if cfg.detector == "auto" else cfg.detector
        if key is None:
            path = clean_seq / "det" / "det.txt"
            if not path.is_file():
                raise MOTFormatError(
                    f"{path}: the fixed protocol needs each clean sequence's det/det.txt, "
                    "or --detector SPEC to detect on the clean frames"
                )
            return path
        return _detect_cached(cfg, key, Condition(None), clean_seq)
    key = detector_key(cfg, seq_root.parent)
    if key is None:
        path = seq_root / "det" / "det.txt"
        if not path.is_file():
            raise MOTFormatError(f"{path}: no detections to track (pass --detector SPEC)")
        return path
    return _detect_cached(cfg, key, condition, seq_root)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text)


def _detect_cached(cfg: BenchConfig, spec: str, condition: Condition, seq_root: Path) -> Path:
    path = cfg.out / "proposals" / _safe(spec) / condition.name / f"{seq_root.name}.txt"
    if path.is_file():
        return path
    from vsdmot.proposals import build_proposal_source

    source = build_proposal_source(spec)
    seq = MOTSequence(seq_root)
    rows = []
    for t in range(1, _frames(cfg, seq) + 1):
        props = source(seq.frame(t), t)
        for x1, y1, x2, y2, s in props[:, :5].tolist():
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


def cell_dir(cfg: BenchConfig, tracker: str, condition: Condition) -> Path:
    return cfg.out / "results" / tracker / condition.name


def _score(cfg: BenchConfig, root: Path, pred: Path) -> dict[str, Any]:
    from vsdmot.eval import evaluate

    cap = cfg.grid.max_frames
    res = evaluate(root, pred, frame_range=None if cap is None else (1, cap), progress=False)
    pick = lambda m: {k: float(getattr(m, k)) for k in METRICS}  # noqa: E731
    return {"combined": pick(res.combined),
            "sequences": {k: pick(v) for k, v in res.sequences.items()}}  # fmt: skip


def run_cell(
    cfg: BenchConfig, spec: str, make: Callable[[float], Any], condition: Condition, root: Path
) -> Cell:
    """Track every sequence of one condition with one tracker and score it."""
    from vsdmot.proposals import DetFileProposals
    from vsdmot.tracking.run import track_frames

    label = tracker_label(spec)
    folder = cell_dir(cfg, label, condition)
    frames = seconds = 0.0
    for seq_root in list_sequences(root):
        seq = MOTSequence(seq_root)
        props = DetFileProposals(proposals_file(cfg, condition, seq_root))
        n = _frames(cfg, seq)
        run = track_frames(make(seq.info.frame_rate), ((t, seq.frame(t)) for t in range(1, n + 1)),
                           props, progress=False, overlap=False)  # fmt: skip
        write_mot(folder / f"{seq_root.name}.txt", run.results, "result")
        frames += run.frames
        seconds += run.seconds
    scores = _score(cfg, root, folder)
    scores["fps"] = frames / seconds if seconds > 0 else 0.0
    return Cell(label, condition.name, scores, computed=True)


def external_cell(cfg: BenchConfig, name: str, folder: Path, condition: Condition) -> Cell:
    pred = folder / condition.name
    if not pred.is_dir():
        return Cell(name, condition.name, None, f"{pred}: no results for this condition")
    root = condition_root(cfg, condition)
    scores = _score(cfg, root, pred)
    scores["fps"] = None
    return Cell(name, condition.name, scores, computed=True)


def _finish(cfg: BenchConfig, label: str, condition: Condition, cell: Cell) -> Cell:
    folder = cell_dir(cfg, label, condition)
    if cell.scores is not None:
        with atomic_write(folder / "scores.json") as f:
            json.dump(cell.scores, f, indent=1)
        (folder / "error.txt").unlink(missing_ok=True)
    else:
        with atomic_write(folder / "error.txt") as f:
            f.write(cell.error or "failed")
    return cell


def _stored(cfg: BenchConfig, label: str, condition: Condition) -> Cell | None:
    path = cell_dir(cfg, label, condition) / "scores.json"
    if not path.is_file():
        return None
    return Cell(label, condition.name, json.loads(path.read_text()))


def run_condition(
    cfg: BenchConfig,
    condition: Condition,
    threads: int | None = None,
    factories: dict[str, Callable[[float], Any]] | None = None,
) -> list[Cell]:
    """Every tracker (and external result set) on one condition; finished cells are read back.

    ``factories`` caches tracker factories by spec across the conditions one process runs
    (a vsdmot spec loads its model once).
    """
    factories = {} if factories is None else factories
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    cells: list[Cell] = []
    todo = [s for s in cfg.trackers if _stored(cfg, tracker_label(s), condition) is None]
    todo_ext = {n: p for n, p in cfg.external.items() if _stored(cfg, n, condition) is None}
    root = None
    if todo or todo_ext:
        try:
            root = ensure_condition(cfg, condition)
        except Exception as exc:  # the whole condition fails: say so in every cell
            why = f"building {condition.name}: {type(exc).__name__}: {exc}"
            log.error(why)
            for label in [tracker_label(s) for s in todo] + list(todo_ext):
                cells.append(_finish(cfg, label, condition, Cell(label, condition.name, None, why)))
            todo, todo_ext = [], {}
    for spec in cfg.trackers:
        label = tracker_label(spec)
        if spec not in todo:
            cells.append(_stored(cfg, label, condition))  # type: ignore[arg-type]
            continue
        assert root is not None
        try:
            if spec not in factories:
                factories[spec] = make_tracker(spec)
            cell = run_cell(cfg, spec, factories[spec], condition, root)
        except Exception as exc:
            log.error("%s on %s failed: %s", label, condition.name, exc)
            cell = Cell(label, condition.name, None, _why(exc))
        cells.append(_finish(cfg, label, condition, cell))
    for name, folder in cfg.external.items():
        if name not in todo_ext:
            cells.append(_stored(cfg, name, condition))  # type: ignore[arg-type]
            continue
        try:
            cell = external_cell(cfg, name, folder, condition)
        except Exception as exc:
            cell = Cell(name, condition.name, None, _why(exc))
        cells.append(_finish(cfg, name, condition, cell))
    return cells


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])


def run_grid(cfg: BenchConfig, *, progress: bool = True) -> Iterator[Cell]:
    """Run (or read back) every cell, yielding them as conditions finish."""
    if not list_sequences(cfg.data):
        raise MOTFormatError(f"{cfg.data}: no sequences")
    from vsdmot.tracking.peers import PEERS

    for spec in cfg.trackers:  # unknown trackers fail before any work
        name, _ = parse_tracker_spec(spec)
        if name != "vsdmot" and name not in PEERS:
            raise ValueError(f"unknown tracker {name!r}; choose vsdmot[...] or one of "
                             f"{', '.join(PEERS)}")  # fmt: skip
    for name, folder in cfg.external.items():
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"external results {name}: {folder} is not a folder")
    conditions = cfg.grid.conditions
    per_condition = len(cfg.trackers) + len(cfg.external)
    bar = tqdm(total=len(conditions) * per_condition, desc="bench", unit="cell",
               disable=not progress)  # fmt: skip
    started = time.perf_counter()
    if cfg.jobs <= 1:
        factories: dict[str, Callable[[float], Any]] = {}
        for condition in conditions:
            for cell in run_condition(cfg, condition, cfg.threads, factories):
                bar.update(1)
                yield cell
    else:
        threads = cfg.threads or max(1, (os.cpu_count() or 1) // cfg.jobs)
        with ProcessPoolExecutor(cfg.jobs) as pool:
            futures = [pool.submit(run_condition, cfg, c, threads) for c in conditions]
            for future in as_completed(futures):
                for cell in future.result():
                    bar.update(1)
                    yield cell
    bar.close()
    log.info("bench: %d conditions in %.0f s", len(conditions), time.perf_counter() - started)
