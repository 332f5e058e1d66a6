"""Robustness summary: how much of its clean-video HOTA a tracker keeps on LQ video.

- ``rPC = HOTA_LQ / HOTA_clean`` (relative performance under corruption),
  for all sequences combined and per sequence (sequences matched by name).
- HOTA per severity bucket: each LQ sequence's ``quality.csv`` gives every
  frame a severity; frames are bucketed by rounded severity 0..5 and the LQ
  predictions are scored on the frames of each bucket only. Scoring a frame
  subset crops gt and predictions to those frames, so **association across the
  removed frames is not scored** (a track that survives a burst of severe
  frames is judged as if those frames did not exist); DetA is exact, AssA is
  that of the cropped sequence. When the clean run has the same sequences,
  the clean predictions are scored on the same frames too, for a like-for-like
  reference per bucket.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vsdmot.data.mot import GTFormat
from vsdmot.data.sequence import list_sequences
from vsdmot.eval.inputs import EvalSequence, load_sequences
from vsdmot.eval.quality import frames_by_bucket, read_severity
from vsdmot.eval.results import EvalResult
from vsdmot.eval.scoring import score_sequences

log = logging.getLogger(__name__)


def ratio(num: float, den: float) -> float:
    """``num / den``, NaN when ``den`` is 0 (rPC of a tracker that scores 0 clean).

    >>> ratio(0.3, 0.6), math.isnan(ratio(0.3, 0.0))
    (0.5, True)
    """
    return num / den if den > 0 else math.nan


@dataclass(frozen=True)
class SeverityBucket:
    """Scores restricted to the frames whose rounded severity is ``severity``."""

    severity: int
    frames: int
    lq: EvalResult
    clean: EvalResult | None = None

    @property
    def hota(self) -> float:
        return self.lq.combined.HOTA

    @property
    def clean_hota(self) -> float | None:
        return None if self.clean is None else self.clean.combined.HOTA

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "HOTA": self.hota,
            "HOTA_clean": self.clean_hota,
            "lq": self.lq.to_dict(),
            "clean": None if self.clean is None else self.clean.to_dict(),
        }


@dataclass(frozen=True)
class RobustnessResult:
    clean: EvalResult
    lq: EvalResult
    rPC: float
    rPC_sequences: dict[str, float]
    buckets: dict[int, SeverityBucket]

    @property
    def hota_by_severity(self) -> dict[int, float]:
        return {b: bucket.hota for b, bucket in self.buckets.items()}

    def to_dict(self) -> dict[str, Any]:
        """``clean`` / ``lq`` in :meth:`EvalResult.to_dict` form, rPC and the buckets."""
        return {
            "rPC": {"combined": self.rPC, "sequences": dict(self.rPC_sequences)},
            "HOTA_by_severity": {str(b): h for b, h in self.hota_by_severity.items()},
            "clean": self.clean.to_dict(),
            "lq": self.lq.to_dict(),
            "severity": {str(b): bucket.to_dict() for b, bucket in self.buckets.items()},
        }


def _score_bucket(
    severity: int,
    frames: dict[str, Any],
    lq: dict[str, EvalSequence],
    clean: dict[str, EvalSequence],
    progress: bool,
) -> SeverityBucket:
    lq_seqs = [lq[name].crop(fr) for name, fr in frames.items()]
    # Clean frames line up with LQ frames only when the sequence is the same length.
    comparable = all(n in clean and clean[n].num_frames == lq[n].num_frames for n in frames)
    clean_res = None
    if comparable:
        clean_seqs = [clean[n].crop(fr) for n, fr in frames.items()]
        clean_res = score_sequences(clean_seqs, progress=progress)
    return SeverityBucket(
        severity=severity,
        frames=sum(len(fr) for fr in frames.values()),
        lq=score_sequences(lq_seqs, progress=progress),
        clean=clean_res,
    )


def robustness(
    gt_clean: str | Path,
    pred_clean: str | Path,
    gt_lq: str | Path,
    pred_lq: str | Path,
    *,
    gt_format: GTFormat = "auto",
    allow_missing: bool = False,
    progress: bool = True,
) -> RobustnessResult:
    """Score clean and LQ runs and summarise the LQ run against the clean one.

    ``gt_lq`` is the folder of degraded sequences (each with ``gt/gt.txt``,
    ``seqinfo.ini`` and ``quality.csv``); ``gt_clean`` the original ones.
    Raises like :func:`vsdmot.eval.evaluate`, and :class:`MOTFormatError`
    for a missing or malformed ``quality.csv``.
    """
    load = {"gt_format": gt_format, "allow_missing": allow_missing}
    clean_seqs = {s.name: s for s in load_sequences(gt_clean, pred_clean, **load)}
    lq_seqs = {s.name: s for s in load_sequences(gt_lq, pred_lq, **load)}
    clean_res = score_sequences(list(clean_seqs.values()), progress=progress)
    lq_res = score_sequences(list(lq_seqs.values()), progress=progress)

    per_seq = {
        name: ratio(m.HOTA, clean_res.sequences[name].HOTA)
        for name, m in lq_res.sequences.items()
        if name in clean_res.sequences
    }
    if not per_seq:
        log.warning("no sequence name is shared by the clean and LQ runs: no per-sequence rPC")

    # bucket -> {sequence: frames}
    by_bucket: dict[int, dict[str, Any]] = {}
    for folder in list_sequences(gt_lq):
        seq = lq_seqs[folder.name]
        severity = read_severity(folder / "quality.csv", seq.num_frames)
        if len(severity) < seq.num_frames:
            log.warning(
                "%s: %d of %d frames have no severity and are left out of the buckets",
                folder / "quality.csv",
                seq.num_frames - len(severity),
                seq.num_frames,
            )
        for b, frames in frames_by_bucket(severity).items():
            by_bucket.setdefault(b, {})[folder.name] = frames

    buckets = {
        b: _score_bucket(b, frames, lq_seqs, clean_seqs, progress)
        for b, frames in sorted(by_bucket.items())
    }
    return RobustnessResult(
        clean=clean_res,
        lq=lq_res,
        rPC=ratio(lq_res.combined.HOTA, clean_res.combined.HOTA),
        rPC_sequences=per_seq,
        buckets=buckets,
    )
