"""The tasks of a run, each a module-level function of picklable arguments so that any
executor can run it anywhere the data, cache and output folders are visible:

* :func:`prepare`: one (sequence, condition): its degraded copy and its proposals, made
  once and shared by every tracker;
* :func:`track_sequence`: one tracker on one prepared (sequence, condition);
* :func:`score_tracker` / :func:`score_external`: a cell's TrackEval scores, once all its
  sequences are tracked.

Every file is written atomically (temporary file, then rename), and a task's last file
marks it done, so a killed run leaves complete files only and the next run skips them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsdmot.data.mot import MOTAnnotations, MOTFormatError, read_seqinfo, write_mot
from vsdmot.data.sequence import MOTSequence
from vsdmot.experiments.grid import Condition
from vsdmot.experiments.plan import GridPlan, condition_root
from vsdmot.experiments.run_config import METRICS, RunConfig, cell_dir
from vsdmot.tracking.registry import build_tracker, parse_tracker
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)


class MissingResults(FileNotFoundError):
    """An external result set has no folder for a condition."""


@dataclass(frozen=True)
class Prepared:
    """A prepared (sequence, condition): the condition's dataset folder and the det file
    its trackers read for the sequence."""

    root: Path
    proposals: Path


# --- prepare: degraded copy and proposals ------------------------------------------------------


def prepare(
    cfg: RunConfig, plan: GridPlan, name: str, condition: Condition, clean: Prepared | None = None
) -> Prepared:
    """Degrade sequence ``name`` for ``condition`` and compute its proposals, unless
    cached. ``clean``: the clean condition's result for the sequence, whose proposals a
    degraded condition reuses under the fixed protocol."""
    root = condition_root(cfg, condition, plan.data_key)
    if not condition.clean and not (root / name / "seqinfo.ini").is_file():
        from vsdmot.degrade.dataset import DegradeJob, degrade_sequence

        assert condition.type is not None
        job = DegradeJob(condition.type, condition.severity, condition.schedule, cfg.grid.seed,
                         max_frames=cfg.grid.max_frames)  # fmt: skip
        job.check()
        # The copy is written beside its place and renamed when complete.
        degrade_sequence(cfg.data / name, root / name, job, progress=False)
    return Prepared(root, _proposals(cfg, plan, name, condition, root, clean))


def detector_key(cfg: RunConfig, seq: Path) -> str | None:
    """Which detector a sequence's proposals come from: ``None`` for its own
    ``det/det.txt`` (generated data, whose degraded copies carry the severity-aware
    simulated detector's boxes, when ``--detector auto``), else a proposal spec."""
    if cfg.detector != "auto":
        return cfg.detector
    return None if (seq / "synth.json").is_file() else "yolo"


def _proposals(
    cfg: RunConfig, plan: GridPlan, name: str, condition: Condition, root: Path,
    clean: Prepared | None,
) -> Path:  # fmt: skip
    if cfg.grid.protocol == "fixed":
        if clean is not None:
            return clean.proposals
        if cfg.detector == "auto":
            why = ("the fixed protocol needs each clean sequence's det/det.txt, or "
                   "--detector SPEC to detect on the clean frames")  # fmt: skip
            return _det_file(cfg.data / name, why)
        return _detect_cached(cfg, plan, cfg.detector, Condition(None), cfg.data / name)
    spec = detector_key(cfg, cfg.data / name)
    if spec is None:
        return _det_file(root / name, "no detections to track (pass --detector SPEC)")
    return _detect_cached(cfg, plan, spec, condition, root / name)


def _det_file(seq: Path, why: str) -> Path:
    path = seq / "det" / "det.txt"
    if not path.is_file():
        raise MOTFormatError(f"{path}: {why}")
    return path


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text)


def _detect_cached(
    cfg: RunConfig, plan: GridPlan, spec: str, condition: Condition, seq_root: Path
) -> Path:
    """The detector's boxes on the selected frames of one sequence, keyed by the data, the
    detector's own key (its name, options and weights' digest), the condition and the
    frames (a run on frames 601-795 does not pay for detecting 1-600)."""
    from vsdmot.proposals import build_proposal_source

    source = build_proposal_source(spec)
    first, last = plan.spans[seq_root.name]  # within the sequence and the frame cap already
    length = read_seqinfo(seq_root / "seqinfo.ini").seq_length
    whole = (first, last) == (1, min(length, cfg.grid.max_frames or length))
    frames = "" if whole else f".frames{first}-{last}"
    path = (cfg.cache_root / "proposals" / plan.data_key / _safe(source.key)
            / cfg.grid.cache_key(condition) / f"{seq_root.name}{frames}.txt")  # fmt: skip
    if path.is_file():
        return path
    seq = MOTSequence(seq_root)
    rows = []
    try:
        for t in range(first, last + 1):
            for x1, y1, x2, y2, s in source(seq.frame(t), t)[:, :5].tolist():
                rows.append([t, -1, x1, y1, x2 - x1, y2 - y1, s])
    finally:
        seq.frames.close()
    write_mot(path, MOTAnnotations.from_rows(np.asarray(rows).reshape(-1, 7)), "det")
    return path


# --- track one sequence ------------------------------------------------------------------------


def run_record_path(cfg: RunConfig, label: str, condition: Condition, name: str) -> Path:
    """``SEQ.run.json`` beside ``SEQ.txt``: written last, it marks the sequence done."""
    return cell_dir(cfg, label, condition) / f"{name}.run.json"


def track_sequence(
    cfg: RunConfig, plan: GridPlan, spec: str, name: str, condition: Condition, ready: Prepared
) -> dict[str, Any]:
    """Track one prepared sequence with one tracker; write ``SEQ.txt`` and its record
    (frames, seconds, the run's fingerprint)."""
    from vsdmot.proposals import DetFileProposals
    from vsdmot.tracking.run import track_frames

    tracker_spec = parse_tracker(spec)
    seq = MOTSequence(ready.root / name)
    first, last = plan.spans[name]
    try:
        tracker = build_tracker(tracker_spec, frame_rate=seq.info.frame_rate)
        run = track_frames(tracker, ((t, seq.frame(t)) for t in range(first, last + 1)),
                           DetFileProposals(ready.proposals), progress=False,
                           overlap=False)  # fmt: skip
    finally:
        seq.frames.close()
    write_mot(cell_dir(cfg, tracker_spec.label, condition) / f"{name}.txt", run.results, "result")
    record = {"tracker": str(tracker_spec), "frames": run.frames, "seconds": run.seconds,
              "fingerprint": plan.fingerprint}  # fmt: skip
    with atomic_write(run_record_path(cfg, tracker_spec.label, condition, name)) as f:
        json.dump(record, f, indent=1)
    return record


def stored_run(
    cfg: RunConfig, plan: GridPlan, label: str, condition: Condition, name: str
) -> dict[str, Any] | None:
    """The record of a sequence tracked by an earlier run on the same data, or None."""
    path = run_record_path(cfg, label, condition, name)
    if not path.is_file() or not path.with_name(f"{name}.txt").is_file():
        return None
    record = json.loads(path.read_text())
    return record if record.get("fingerprint") == plan.fingerprint else None


# --- score a cell ------------------------------------------------------------------------------


def score_cell(plan: GridPlan, root: Path, pred: Path) -> dict[str, Any]:
    """TrackEval scores of the selected sequences (each on its own frame span)."""
    from vsdmot.eval.inputs import load_sequences
    from vsdmot.eval.scoring import score_sequences

    spans = plan.spans
    seqs = load_sequences(root, pred, sequences=list(spans))
    cropped = [s.crop(range(spans[s.name][0], spans[s.name][1] + 1)) for s in seqs]
    res = score_sequences(cropped, progress=False)
    pick = lambda m: {k: float(getattr(m, k)) for k in METRICS}  # noqa: E731
    return {"combined": pick(res.combined),
            "sequences": {k: pick(v) for k, v in res.sequences.items()}}  # fmt: skip


def score_tracker(
    cfg: RunConfig, plan: GridPlan, label: str, condition: Condition, runs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Score a tracker's cell from its sequences' files; frames/s over their records."""
    root = condition_root(cfg, condition, plan.data_key)
    scores = score_cell(plan, root, cell_dir(cfg, label, condition))
    frames = sum(r["frames"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    scores["fps"] = frames / seconds if seconds > 0 else 0.0
    return save_scores(cfg, plan, label, condition, scores)


def score_external(
    cfg: RunConfig, plan: GridPlan, name: str, folder: Path, condition: Condition
) -> dict[str, Any]:
    """Score results made elsewhere, ``folder/<condition>/SEQ.txt``."""
    pred = Path(folder) / condition.name
    if not pred.is_dir():
        raise MissingResults(f"{pred}: no results for this condition")
    scores = score_cell(plan, condition_root(cfg, condition, plan.data_key), pred)
    scores["fps"] = None
    return save_scores(cfg, plan, name, condition, scores)


def save_scores(
    cfg: RunConfig, plan: GridPlan, label: str, condition: Condition, scores: dict[str, Any]
) -> dict[str, Any]:
    """``scores.json`` (its presence marks the cell done); a failed earlier try's
    ``error.txt`` goes."""
    folder = cell_dir(cfg, label, condition)
    with atomic_write(folder / "scores.json") as f:
        json.dump({**scores, "fingerprint": plan.fingerprint}, f, indent=1)
    (folder / "error.txt").unlink(missing_ok=True)
    return scores


def save_error(cfg: RunConfig, label: str, condition: Condition, why: str) -> None:
    """``error.txt``: why a cell failed (it is tried again on the next run)."""
    with atomic_write(cell_dir(cfg, label, condition) / "error.txt") as f:
        f.write(why)


def stored_scores(
    cfg: RunConfig, plan: GridPlan, label: str, condition: Condition
) -> dict[str, Any] | None:
    """A cell scored by an earlier run on the same data, or None."""
    path = cell_dir(cfg, label, condition) / "scores.json"
    if not path.is_file():
        return None
    scores = json.loads(path.read_text())
    stored = scores.pop("fingerprint", None)  # cells of older versions carry none
    if stored is not None and stored != plan.fingerprint:
        log.info("%s: the data changed since it was scored; computing it again", path.parent)
        return None
    return scores
