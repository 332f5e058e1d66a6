"""Run a detector over MOTChallenge sequences and store its boxes as ``det/<name>``.

MOTRv2-style trackers train on the proposals of the detector they will run
with: ``vsdmot detect DATA`` writes those proposals in MOTChallenge det format
(``frame,-1,left,top,width,height,score,-1,-1,-1``) so that training
(``data.proposals.source=det``) and ``vsdmot track -p det`` read them. On a
degraded dataset the detector sees the degraded pixels, as it will in use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vsdmot.data.mot import MOTAnnotations, write_mot
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.proposals.base import ProposalSource
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

#: Where a replaced ``det.txt`` is kept, so the public detections are never lost.
ORIGINAL_DET = "det_original.txt"


@dataclass(frozen=True)
class DetectReport:
    sequence: str
    path: Path
    frames: int
    boxes: int


def detect_sequence(
    seq_dir: str | Path,
    source: ProposalSource,
    *,
    name: str = "det.txt",
    progress: bool = True,
) -> DetectReport:
    """Detect every frame of one sequence and write ``SEQ/det/<name>`` atomically.

    Replacing an existing ``det.txt`` keeps a copy as ``det/det_original.txt`` (once: a
    later run never overwrites the saved original); the copy is made and the new file
    written completely before the old one is replaced, so a failure loses nothing.
    """
    if name == ORIGINAL_DET:
        raise ValueError(f"--name {ORIGINAL_DET} is where the original detections are kept")
    seq = MOTSequence(seq_dir)
    rows: list[np.ndarray] = []
    for t in tqdm(range(1, len(seq) + 1), desc=seq.name, unit="frame", disable=not progress):
        props = source(seq.frame(t), t)
        if len(props):
            xyxy = props[:, :4].astype(np.float64)
            ltwh = np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])
            rows.append(
                np.column_stack([np.full(len(props), t), -np.ones(len(props)), ltwh, props[:, 4]])
            )
    table = np.concatenate(rows) if rows else np.zeros((0, 7))
    target = seq.root / "det" / name
    original = target.with_name(ORIGINAL_DET)
    if name == "det.txt" and target.is_file() and not original.exists():
        with atomic_write(original, "wb") as f:
            f.write(target.read_bytes())
        log.info("%s: kept the previous detections as %s", seq.name, original)
    write_mot(target, MOTAnnotations.from_rows(table), "det")  # atomic: old file until done
    return DetectReport(seq.name, target, len(seq), len(table))


def detect_dataset(
    data: str | Path,
    source: ProposalSource,
    *,
    name: str = "det.txt",
    progress: bool = True,
) -> list[DetectReport]:
    """:func:`detect_sequence` on every sequence under ``data`` (or ``data`` itself)."""
    if "/" in name or not name.endswith(".txt"):
        raise ValueError(f"--name must be a file name ending in .txt, got {name!r}")
    seqs = list_sequences(data)
    if not seqs:
        raise FileNotFoundError(f"{data}: no MOTChallenge sequences (seqinfo.ini) found")
    return [detect_sequence(s, source, name=name, progress=progress) for s in seqs]
