"""``evaluate``: score a folder of result files against a folder of GT sequences."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vsdmot.data.mot import GTFormat
from vsdmot.data.sequence import DEFAULT_MOT17_DETECTOR
from vsdmot.eval.inputs import load_sequences
from vsdmot.eval.results import EvalResult
from vsdmot.eval.scoring import score_sequences


def evaluate(
    gt_dir: str | Path,
    pred_dir: str | Path,
    *,
    gt_format: GTFormat = "auto",
    sequences: Sequence[str] | None = None,
    frame_range: tuple[int, int] | None = None,
    allow_missing: bool = False,
    progress: bool = True,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> EvalResult:
    """HOTA / CLEAR / Identity scores of ``pred_dir/SEQ.txt`` against ``gt_dir/SEQ``.

    Args:
        gt_dir: MOTChallenge-style folder of sequences (``SEQ/seqinfo.ini``,
            ``SEQ/gt/gt.txt``), or one sequence folder. Frames are not needed.
        pred_dir: folder of result files named ``<sequence folder>.txt``.
        gt_format: ``"mot15"`` (10 columns, no class), ``"mot16"`` (9 columns,
            class + visibility: MOT16/17/20, DanceTrack) or ``"auto"`` to detect
            it per file.
        sequences: score only these sequence folders (default: all).
        frame_range: ``(first, last)``, 1-based and inclusive: score only these
            frames of every sequence (renumbered from 1; tracks are judged only
            inside the range).
        allow_missing: score a sequence without a result file as empty instead
            of raising :class:`FileNotFoundError`.
        progress: show a progress bar over sequences (on a terminal).
        mot17_detector: which of MOT17's three copies of a sequence is scored
            (``DPM``, ``FRCNN``, ``SDP`` or ``all``); named ``sequences`` are
            scored whatever their copy.

    Raises:
        MOTFormatError: malformed gt / result file, frames beyond ``seqLength``,
            an id repeated within a frame (the message names file, frame, id).
        FileNotFoundError: a GT sequence has no result file.
        ValueError: bad ``frame_range`` or unknown sequence names.
    """
    seqs = load_sequences(
        gt_dir,
        pred_dir,
        gt_format=gt_format,
        sequences=sequences,
        frame_range=frame_range,
        allow_missing=allow_missing,
        mot17_detector=mot17_detector,
    )
    return score_sequences(seqs, progress=progress)
