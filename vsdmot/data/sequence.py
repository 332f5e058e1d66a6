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
import re
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


#: The detector copies of a MOT17 sequence (same frames and gt, different det.txt).
MOT17_DETECTORS = ("DPM", "FRCNN", "SDP")
#: The copy kept by default: MOTRv2 trains on it, and its det.txt (SDP) is the
#: strongest of the three public detectors.
DEFAULT_MOT17_DETECTOR = "SDP"
_MOT17_COPY = re.compile(r"^(?P<base>MOT17-\d+)-(?P<det>DPM|FRCNN|SDP)$")
#: Names of the split folders of a dataset root (DanceTrack/train, MOT17/test ...).
SPLITS = ("train", "val", "test")


def list_sequences(
    dataset: str | Path,
    *,
    split: str | None = None,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> list[Path]:
    """Sequence folders (those with a ``seqinfo.ini``) of a dataset, sorted by name.

    ``dataset`` may itself be one sequence folder (returned as it is). A dataset root
    that holds split folders (``train/``, ``val/``, ``test/``) instead of sequences is
    read from its ``split`` folder. Of MOT17's three copies of each sequence
    (``MOT17-02-DPM``, ``-FRCNN``, ``-SDP``) only the ``mot17_detector`` one is kept
    (``all`` keeps the three), so no sequence counts three times.
    """
    dataset = Path(dataset)
    if (dataset / "seqinfo.ini").is_file():
        return [dataset]
    if not dataset.is_dir():
        raise MOTFormatError(f"{dataset}: dataset folder not found")
    seqs = _sequence_folders(dataset)
    if not seqs:
        seqs = _sequence_folders(_split_folder(dataset, split))
    return mot17_copies(seqs, mot17_detector)


def _sequence_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if (p / "seqinfo.ini").is_file())


def _split_folder(dataset: Path, split: str | None) -> Path:
    """``dataset/split`` of a dataset root; errors say which splits there are."""
    splits = [s for s in SPLITS if (dataset / s).is_dir()]
    if not splits:
        raise MOTFormatError(f"{dataset}: no sequence folders (with seqinfo.ini) inside")
    if split is None:
        raise MOTFormatError(
            f"{dataset}: holds split folders ({', '.join(splits)}), not sequences; point at "
            f"one (e.g. {dataset / splits[0]}), or set the split (data.train_split in a "
            "training config)"
        )
    folder = dataset / split
    if split not in splits or not _sequence_folders(folder):
        raise MOTFormatError(f"{folder}: no split {split!r} with sequence folders "
                             f"(splits here: {', '.join(splits)})")  # fmt: skip
    return folder


def mot17_copies(seqs: list[Path], detector: str = DEFAULT_MOT17_DETECTOR) -> list[Path]:
    """``seqs`` with one copy of each MOT17 sequence: the ``detector`` one (``DPM``,
    ``FRCNN``, ``SDP``; ``all`` keeps every copy). Other sequences pass unchanged, as
    does a MOT17 sequence present in one copy only.

    >>> names = ["MOT17-02-DPM", "MOT17-02-FRCNN", "MOT17-02-SDP", "MOT17-13-DPM", "TUD"]
    >>> [p.name for p in mot17_copies([Path(n) for n in names], "FRCNN")]
    ['MOT17-02-FRCNN', 'MOT17-13-DPM', 'TUD']
    """
    detector = detector.strip()
    if detector.lower() == "all":
        return list(seqs)
    if detector.upper() not in MOT17_DETECTORS:
        raise ValueError(f"MOT17 detector must be one of {', '.join(MOT17_DETECTORS)} or all, "
                         f"not {detector!r}")  # fmt: skip
    detector = detector.upper()
    copies: dict[str, dict[str, Path]] = {}
    for p in seqs:
        if (m := _MOT17_COPY.match(p.name)) is not None:
            copies.setdefault(m["base"], {})[m["det"]] = p
    out = []
    for p in seqs:
        m = _MOT17_COPY.match(p.name)
        if m is None or len(copies[m["base"]]) == 1 or m["det"] == detector:
            out.append(p)
        elif detector not in copies[m["base"]]:
            raise MOTFormatError(
                f"{p.parent}: {m['base']} has copies {', '.join(sorted(copies[m['base']]))} but "
                f"not {detector}; choose one of those (--mot17-detector, data.mot17_detector) "
                "or all"
            )
    return out
