"""Run a detector over MOTChallenge sequences and store its boxes, as ``det/<name>`` in
each sequence or as one MOTRv2 det_db file for all of them.

MOTRv2-style trackers train on the proposals of the detector they will run
with: ``vsdmot detect DATA`` writes those proposals in MOTChallenge det format
(``frame,-1,left,top,width,height,score,-1,-1,-1``) so that training
(``data.proposals.source=det``) and ``vsdmot track -p det`` read them; with
``--format det_db`` it writes (or merges into) a det_db JSON file instead
(:mod:`vsdmot.proposals.det_db`; ``data.proposals.source=det_db:FILE``,
``vsdmot track -p det_db:FILE``). On a degraded dataset the detector sees the
degraded pixels, as it will in use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vsdmot.data.det_db import merge_det_db, sequence_entries
from vsdmot.data.mot import MOTAnnotations, write_mot
from vsdmot.data.sequence import DEFAULT_MOT17_DETECTOR, MOTSequence, list_sequences
from vsdmot.proposals.base import ProposalSource
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

#: Where a replaced ``det.txt`` is kept, so the public detections are never lost.
ORIGINAL_DET = "det_original.txt"


#: The proposal source of a sequence folder (one shared detector, or one per sequence
#: for sources that read the sequence's own files).
SourceFor = Callable[[Path], ProposalSource]


@dataclass(frozen=True)
class DetectReport:
    sequence: str
    path: Path
    frames: int
    boxes: int


def sequence_proposals(
    seq: MOTSequence, source: ProposalSource, progress: bool = True
) -> dict[int, np.ndarray]:
    """``{frame: (P, 5) proposals}`` of every frame of ``seq``."""
    frames = range(1, len(seq) + 1)
    return {t: source(seq.frame(t), t)
            for t in tqdm(frames, desc=seq.name, unit="frame", disable=not progress)}  # fmt: skip


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
    for t, props in sequence_proposals(seq, source, progress).items():
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
    source: ProposalSource | SourceFor,
    *,
    name: str = "det.txt",
    progress: bool = True,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> list[DetectReport]:
    """:func:`detect_sequence` on every sequence under ``data`` (or ``data`` itself).

    ``source`` is one source for all sequences or a function giving each sequence's.
    """
    if "/" in name or not name.endswith(".txt"):
        raise ValueError(f"--name must be a file name ending in .txt, got {name!r}")
    source_for = _per_sequence(source)
    return [detect_sequence(s, source_for(s), name=name, progress=progress)
            for s in _sequences(data, mot17_detector)]  # fmt: skip


def detect_to_det_db(
    data: str | Path,
    source: ProposalSource | SourceFor,
    db: str | Path,
    *,
    prefix: str | None = None,
    progress: bool = True,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> list[DetectReport]:
    """Detect every sequence under ``data`` and merge their boxes into the det_db ``db``.

    Keys are ``<prefix>/<sequence>/img1/<image stem>.txt``; ``prefix`` defaults to the
    two folder names above each sequence (``DanceTrack/train`` for
    ``/data/DanceTrack/train/dancetrack0001``). Sequences read from one video file use
    6-digit stems (MOTChallenge's image names). One write, after every sequence is done.
    """
    source_for = _per_sequence(source)
    entries: dict[str, list[str]] = {}
    reports = []
    for root in _sequences(data, mot17_detector):
        seq = MOTSequence(root)
        props = sequence_proposals(seq, source_for(root), progress)
        key_prefix = prefix if prefix is not None else default_key_prefix(root)
        entries.update(sequence_entries(key_prefix, root.name, frame_stems(seq), props))
        reports.append(DetectReport(seq.name, Path(db), len(seq),
                                    sum(len(p) for p in props.values())))  # fmt: skip
    merge_det_db(db, entries)
    return reports


def default_key_prefix(seq_root: Path) -> str:
    """The two folder names above a sequence: ``<dataset>/<split>`` in MOTRv2's keys.

    >>> default_key_prefix(Path("/data/DanceTrack/train/dancetrack0001"))
    'DanceTrack/train'
    """
    return "/".join(seq_root.resolve().parent.parts[-2:]).lstrip("/")


def frame_stems(seq: MOTSequence) -> dict[int, str]:
    """``{frame: image file stem}`` (``000001``...), 6-digit numbers for a video file."""
    files = getattr(seq.frames, "files", None)
    if files and all(f.stem.isdigit() for f in files):
        return {t: f.stem for t, f in enumerate(files, start=1)}
    return {t: f"{t:06d}" for t in range(1, len(seq) + 1)}


def _sequences(data: str | Path, mot17_detector: str) -> list[Path]:
    seqs = list_sequences(data, mot17_detector=mot17_detector)
    if not seqs:
        raise FileNotFoundError(f"{data}: no MOTChallenge sequences (seqinfo.ini) found")
    return seqs


def _per_sequence(source: ProposalSource | SourceFor) -> SourceFor:
    if isinstance(source, ProposalSource):
        return lambda _root: source
    return source
