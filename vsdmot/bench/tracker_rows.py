"""Rows of a tracker comparison: frames with proposals, vsdmot variants given as text,
one tracker's scores on a span of frames, and the summary over conditions.

>>> from vsdmot.tracking.registry import parse_tracker
>>> name, spec = parse_variant("motion only=appearance_weight=0", parse_tracker("vsdmot"))
>>> name, spec.settings["appearance_weight"]
('motion only', 0.0)
>>> parse_variant("IN=appearance_embedder=imagenet", parse_tracker("vsdmot"))[1].settings
{'appearance_embedder': 'imagenet'}
>>> res = {"clean": {"a": {"HOTA": 0.5, "AssA": 0.6, "IDSW": 2}},
...        "fog": {"a": {"HOTA": 0.25, "AssA": 0.3, "IDSW": 5}}}
>>> combine_sequences({"a": [dict.fromkeys(METRICS, 1.0), dict.fromkeys(METRICS, 2.0)]},
...                   ["s1", "s2"])["a"]
{'HOTA': 1.5, 'DetA': 1.5, 'AssA': 1.5, 'IDF1': 1.5, 'IDSW': 3.0}
>>> summary_rows(res, ["a"])
[['clean HOTA', '0.500'], ['mean degraded HOTA', '0.250'], ['mean degraded AssA', '0.300'], \
['IDSW, all degraded', '5'], ['rPC (degraded / clean)', '0.500']]
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from vsdmot.data.mot import write_mot
from vsdmot.data.sequence import MOTSequence
from vsdmot.eval.evaluate import evaluate
from vsdmot.proposals import DetFileProposals
from vsdmot.tracking.registry import TrackerSpec, parse_tracker
from vsdmot.tracking.run import track_frames

METRICS = ("HOTA", "DetA", "AssA", "IDF1", "IDSW")


def public_frames(seq_dir: Path, n: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The first ``n`` frames of a sequence: (number, BGR frame, its public detections as
    (P, 5) proposals), decoded beforehand."""
    seq = MOTSequence(seq_dir)
    props = DetFileProposals(seq.det_path)
    return [
        (t, f, props(f, t)) for t, f in ((t, seq.frame(t)) for t in range(1, min(n, len(seq)) + 1))
    ]


def parse_variant(spec: str, base: TrackerSpec) -> tuple[str, TrackerSpec]:
    """``"NAME=KEY=VALUE,KEY=VALUE"`` -> (name, ``base`` with those settings)."""
    name, _, rest = spec.partition("=")
    items = [i.strip() for i in rest.split(",") if i.strip()]
    extra = parse_tracker("vsdmot:" + ",".join(items)) if items else parse_tracker("vsdmot")
    return name.strip(), base.replace(**extra.settings)


def score_span(
    tracker,
    frames: Mapping[int, np.ndarray],
    proposals: Mapping[int, np.ndarray],
    data: Path,
    name: str,
    span: tuple[int, int] | None,
    pred: Path,
) -> dict:
    """Track ``frames`` (frame number -> BGR) of sequence ``name`` under ``data`` with the
    given proposals, write the result to ``pred/name.txt`` and score it (MOT15 ground
    truth, frames ``span``, all if None): :data:`METRICS`."""
    run = track_frames(tracker, iter(frames.items()), lambda f, t: proposals[t],
                       progress=False, overlap=False)  # fmt: skip
    write_mot(pred / f"{name}.txt", run.results, "result")
    res = evaluate(data, pred, sequences=[name], gt_format="mot15", frame_range=span,
                   progress=False)  # fmt: skip
    return {m: float(getattr(res.combined, m)) for m in METRICS}


def combine_sequences(per_tracker: Mapping[str, list[dict]], sequences: list[str]) -> dict:
    """Each tracker's :data:`METRICS` over its per-sequence scores (IDSW summed, the others
    averaged), and each sequence's own as ``"TRACKER [SEQUENCE]"``."""
    out: dict[str, dict] = {}
    for tracker, scores in per_tracker.items():
        out[tracker] = {m: (sum if m == "IDSW" else statistics.fmean)(r[m] for r in scores)
                        for m in METRICS}  # fmt: skip
        out |= {f"{tracker} [{s}]": r for s, r in zip(sequences, scores, strict=True)}
    return out


def summary_rows(results: Mapping[str, Mapping], trackers: list[str]) -> list[list[str]]:
    """Per tracker over ``results[condition][tracker][metric]``: clean HOTA, mean degraded
    HOTA / AssA, IDSW summed over the degraded conditions, rPC (degraded / clean HOTA)."""
    degraded = [c for c in results if c != "clean"]
    mean = lambda t, m: statistics.fmean(results[c][t][m] for c in degraded)  # noqa: E731
    clean = {t: results["clean"][t]["HOTA"] for t in trackers}
    return [["clean HOTA", *(f"{clean[t]:.3f}" for t in trackers)],
            ["mean degraded HOTA", *(f"{mean(t, 'HOTA'):.3f}" for t in trackers)],
            ["mean degraded AssA", *(f"{mean(t, 'AssA'):.3f}" for t in trackers)],
            ["IDSW, all degraded",
             *(f"{sum(results[c][t]['IDSW'] for c in degraded):.0f}" for t in trackers)],
            ["rPC (degraded / clean)",
             *(f"{mean(t, 'HOTA') / max(clean[t], 1e-9):.3f}" for t in trackers)]]  # fmt: skip
