"""A MOTChallenge / DanceTrack sequence folder, frames read lazily.

Layout::

    SEQ/seqinfo.ini
    SEQ/img1/000001.jpg ...     (or a single video file in SEQ/)
    SEQ/gt/gt.txt               (optional)
    SEQ/det/det.txt             (optional)
    SEQ/quality.csv             (optional, written by ``vsdmot degrade``)
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vsdmot.data.mot import (
    GTFormat,
    MOTAnnotations,
    MOTFormatError,
    SeqInfo,
    read_mot,
    read_seqinfo,
)
from vsdmot.data.sources import FrameSource, open_sequence_frames


class MOTSequence:
    """One sequence folder. ``gt`` and ``det`` are parsed on first access.

    Frames come from ``SEQ/<imDir>/`` when it holds images, else from the one
    video file in ``SEQ/``; the frame count must equal ``seqLength``.
    """

    def __init__(self, root: str | Path, *, gt_format: GTFormat = "auto") -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise MOTFormatError(f"{self.root}: sequence folder not found")
        self.info: SeqInfo = read_seqinfo(self.root / "seqinfo.ini")
        self.gt_format = gt_format
        self.frames: FrameSource = open_sequence_frames(self.root, self.info)

    @property
    def name(self) -> str:
        return self.info.name

    def __len__(self) -> int:
        return self.info.seq_length

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` (1-based), BGR uint8."""
        return self.frames.frame(t)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        return iter(self.frames)

    @property
    def gt_path(self) -> Path:
        return self.root / "gt" / "gt.txt"

    @property
    def det_path(self) -> Path:
        return self.root / "det" / "det.txt"

    @functools.cached_property
    def gt(self) -> MOTAnnotations | None:
        """Ground truth, or ``None`` when the sequence has no ``gt/gt.txt``."""
        if not self.gt_path.is_file():
            return None
        return read_mot(self.gt_path, "gt", fmt=self.gt_format, seq_length=len(self))

    @functools.cached_property
    def det(self) -> MOTAnnotations | None:
        """Public detections, or ``None`` when there is no ``det/det.txt``."""
        if not self.det_path.is_file():
            return None
        return read_mot(self.det_path, "det", seq_length=len(self))

    def __repr__(self) -> str:
        return f"MOTSequence({str(self.root)!r}, frames={len(self)})"


def list_sequences(dataset: str | Path) -> list[Path]:
    """Sequence folders (those with a ``seqinfo.ini``) of a dataset, sorted by name.

    ``dataset`` may itself be one sequence folder.
    """
    dataset = Path(dataset)
    if (dataset / "seqinfo.ini").is_file():
        return [dataset]
    if not dataset.is_dir():
        raise MOTFormatError(f"{dataset}: dataset folder not found")
    seqs = sorted(p for p in dataset.iterdir() if (p / "seqinfo.ini").is_file())
    if not seqs:
        raise MOTFormatError(f"{dataset}: no sequence folders (with seqinfo.ini) inside")
    return seqs
