"""Score checked sequences with TrackEval's MOTChallenge dataset and metric classes.

vsdmot writes the gt and prediction tables into a temporary TrackEval layout
(``gt/SEQ/gt/gt.txt``, ``trackers/pred/data/SEQ.txt``), lets TrackEval's
``MotChallenge2DBox`` load and preprocess them, and runs the ``HOTA``,
``CLEAR``, ``Identity`` and ``Count`` metrics directly. TrackEval's
``Evaluator`` is not used: it prints tables and writes summary files, and
vsdmot wants neither.

Preprocessing follows the benchmark of each sequence's gt format:

- ``mot15`` -> TrackEval's ``MOT15`` mode: no class filtering (MOT15 has no
  class column), gt rows whose column 7 is 0 are ignored.
- ``mot16`` -> ``MOT17`` mode: predictions matched to distractor classes
  (person on vehicle, static person, distractor, reflection) are removed,
  only pedestrians (class 1) with a non-zero column 7 are scored.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vsdmot.data.mot import MOTAnnotations, MOTFormatError
from vsdmot.eval.inputs import EvalSequence
from vsdmot.eval.results import INT_METRICS, EvalResult, SequenceMetrics

log = logging.getLogger(__name__)

_BENCHMARK = {"mot15": "MOT15", "mot16": "MOT17"}
_TRACKER = "pred"
_CLASS = "pedestrian"


def _table_text(rows: np.ndarray) -> str:
    # %.10g keeps the files' own precision, so IoUs equal those of the originals.
    return "".join(",".join(f"{v:.10g}" for v in row) + "\n" for row in rows)


def _gt_rows(seq: EvalSequence) -> np.ndarray:
    g = seq.gt.sorted()
    n = len(g)
    if seq.gt_format == "mot16":
        extra = np.stack([g.label.astype(np.float64), g.visibility], axis=1)
    else:
        # TrackEval reads column 8 as a class even in MOT15 mode (then ignores it);
        # -1 keeps world coordinates from ever being taken for classes.
        extra = -np.ones((n, 3))
    return np.column_stack([g.frame, g.track_id, g.boxes, g.score, extra])


def _pred_rows(pred: MOTAnnotations) -> np.ndarray:
    p = pred.sorted()
    return np.column_stack([p.frame, p.track_id, p.boxes, p.score, -np.ones((len(p), 3))])


def _write_layout(root: Path, seqs: Sequence[EvalSequence]) -> None:
    for seq in seqs:
        gt_file = root / "gt" / seq.name / "gt" / "gt.txt"
        gt_file.parent.mkdir(parents=True)
        gt_file.write_text(_table_text(_gt_rows(seq)))
        pred_file = root / "trackers" / _TRACKER / "data" / f"{seq.name}.txt"
        pred_file.parent.mkdir(parents=True, exist_ok=True)
        pred_file.write_text(_table_text(_pred_rows(seq.pred)))


def _dataset(root: Path, seqs: Sequence[EvalSequence], benchmark: str) -> Any:
    import trackeval

    config = {
        "GT_FOLDER": str(root / "gt"),
        "TRACKERS_FOLDER": str(root / "trackers"),
        "OUTPUT_FOLDER": str(root / "out"),
        "TRACKERS_TO_EVAL": [_TRACKER],
        "CLASSES_TO_EVAL": [_CLASS],
        "BENCHMARK": benchmark,
        "SPLIT_TO_EVAL": "train",
        "INPUT_AS_ZIP": False,
        "PRINT_CONFIG": False,
        "DO_PREPROC": True,
        "TRACKER_SUB_FOLDER": "data",
        "OUTPUT_SUB_FOLDER": "",
        "TRACKER_DISPLAY_NAMES": None,
        "SEQMAP_FOLDER": None,
        "SEQMAP_FILE": None,
        "SEQ_INFO": {s.name: s.num_frames for s in seqs},
        "GT_LOC_FORMAT": "{gt_folder}/{seq}/gt/gt.txt",
        "SKIP_SPLIT_FOL": True,
    }
    return trackeval.datasets.MotChallenge2DBox(config)


def _metrics() -> list[Any]:
    import trackeval

    quiet = {"PRINT_CONFIG": False}
    return [
        trackeval.metrics.HOTA(dict(quiet)),
        trackeval.metrics.CLEAR(dict(quiet)),
        trackeval.metrics.Identity(dict(quiet)),
        trackeval.metrics.Count(),
    ]


def _to_metrics(res: dict[str, dict[str, Any]]) -> SequenceMetrics:
    """Flatten TrackEval's ``{metric: {field: value}}`` into :class:`SequenceMetrics`."""
    flat: dict[str, float | int] = {}
    for name in SequenceMetrics.__dataclass_fields__:
        for metric_res in res.values():
            if name in metric_res:
                value = metric_res[name]
                # HOTA-family fields are arrays over alpha; the summary is their mean.
                scalar = float(np.mean(value))
                flat[name] = round(scalar) if name in INT_METRICS else scalar
                break
    return SequenceMetrics(**flat)


def score_sequences(seqs: Sequence[EvalSequence], *, progress: bool = True) -> EvalResult:
    """TrackEval scores of each sequence and of all combined.

    Sequence names must be unique. Nothing is printed and nothing is written
    outside a temporary folder that is removed afterwards.
    """
    import trackeval

    if not seqs:
        raise ValueError("no sequences to evaluate")
    names = [s.name for s in seqs]
    if len(set(names)) != len(names):
        raise ValueError(f"sequence names must be unique, got {names}")
    empty = [s.name for s in seqs if s.num_frames < 1]
    if empty:
        raise ValueError(f"sequence(s) with no frames to score: {', '.join(empty)}")

    metrics = _metrics()
    per_seq: dict[str, dict[str, dict[str, Any]]] = {}
    captured = io.StringIO()
    with (
        tempfile.TemporaryDirectory(prefix="vsdmot-eval-") as tmp,
        contextlib.redirect_stdout(captured),
    ):
        root = Path(tmp)
        _write_layout(root, seqs)
        groups: dict[str, list[EvalSequence]] = {}
        for s in seqs:
            groups.setdefault(s.gt_format, []).append(s)
        bar = tqdm(total=len(seqs), desc="eval", unit="seq", disable=None if progress else True)
        try:
            for fmt, group in groups.items():
                dataset = _dataset(root, group, _BENCHMARK[fmt])
                for s in group:
                    try:
                        raw = dataset.get_raw_seq_data(_TRACKER, s.name)
                        data = dataset.get_preprocessed_seq_data(raw, _CLASS)
                    except trackeval.utils.TrackEvalException as exc:
                        msg = f"sequence {s.name}: TrackEval rejected it: {exc}"
                        raise MOTFormatError(msg) from exc
                    per_seq[s.name] = {m.get_name(): m.eval_sequence(data) for m in metrics}
                    bar.update()
        finally:
            bar.close()
    if captured.getvalue().strip():
        log.debug("TrackEval output:\n%s", captured.getvalue())

    combined = {
        m.get_name(): m.combine_sequences({n: r[m.get_name()] for n, r in per_seq.items()})
        for m in metrics
    }
    return EvalResult(
        sequences={n: _to_metrics(per_seq[n]) for n in names},
        combined=_to_metrics(combined),
        gt_formats={s.name: s.gt_format for s in seqs},
    )
