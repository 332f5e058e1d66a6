"""Load and check ground truth and predictions before they reach TrackEval.

TrackEval's own errors on bad input are obscure (or it silently misreads
MOT15 world coordinates as classes), so everything is validated here with
messages that name the file, and the tables handed on are normalised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from vsdmot.data.mot import (
    GTFormat,
    MOTAnnotations,
    MOTFormatError,
    detect_gt_format,
    read_mot,
    read_seqinfo,
)
from vsdmot.data.sequence import DEFAULT_MOT17_DETECTOR, list_sequences

log = logging.getLogger(__name__)

#: MOTChallenge class ids TrackEval accepts in MOT16+ ground truth (1 = pedestrian).
VALID_MOT16_CLASSES = frozenset(range(1, 14))


@dataclass(frozen=True)
class EvalSequence:
    """One sequence ready to score: gt and predictions over frames ``1..num_frames``."""

    name: str
    num_frames: int
    gt: MOTAnnotations
    pred: MOTAnnotations
    gt_format: Literal["mot15", "mot16"]

    def crop(self, frames: Iterable[int]) -> EvalSequence:
        """Keep only ``frames`` (1-based) and renumber them ``1..len(frames)`` in order.

        Association across removed frames is no longer scored: a track seen
        before and after a gap is judged as if the gap frames never existed.

        >>> a = MOTAnnotations.from_rows([[1, 1, 0, 0, 5, 5], [3, 1, 1, 0, 5, 5]])
        >>> s = EvalSequence("s", 3, a, a, "mot15").crop([3])
        >>> s.num_frames, s.gt.frame.tolist(), s.gt.boxes[:, 0].tolist()
        (1, [1], [1.0])
        """
        keep = np.unique(np.asarray(list(frames), dtype=np.int64))
        if keep.size and (keep[0] < 1 or keep[-1] > self.num_frames):
            raise ValueError(
                f"{self.name}: frames {keep[0]}..{keep[-1]} outside 1..{self.num_frames}"
            )
        new_number = np.zeros(self.num_frames + 1, dtype=np.int64)
        new_number[keep] = np.arange(1, keep.size + 1)

        def cut(ann: MOTAnnotations) -> MOTAnnotations:
            kept = ann.select(np.isin(ann.frame, keep))
            kept.frame = new_number[kept.frame]
            return kept

        return EvalSequence(self.name, int(keep.size), cut(self.gt), cut(self.pred), self.gt_format)


def check_unique_ids(ann: MOTAnnotations, path: Path) -> None:
    """Raise :class:`MOTFormatError` when one id appears twice in one frame of ``path``."""
    if len(ann) < 2:
        return
    pairs = np.stack([ann.frame, ann.track_id], axis=1)
    uniq, counts = np.unique(pairs, axis=0, return_counts=True)
    dup = np.flatnonzero(counts > 1)
    if dup.size:
        frame, tid = (int(v) for v in uniq[dup[0]])
        more = f" (and {dup.size - 1} more frame/id pairs)" if dup.size > 1 else ""
        raise MOTFormatError(
            f"{path}: id {tid} appears {counts[dup[0]]} times in frame {frame}{more}"
        )


def _raw_columns(path: Path) -> np.ndarray:
    """The numeric table of a gt file (only to tell formats apart)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line:
                parts = [p for p in line.replace(" ", ",").replace("\t", ",").split(",") if p]
                rows.append([float(p) for p in parts])
    return np.asarray(rows, dtype=np.float64) if rows else np.zeros((0, 10))


def load_gt(
    path: Path, num_frames: int, gt_format: GTFormat = "auto"
) -> tuple[MOTAnnotations, Literal["mot15", "mot16"]]:
    """Read a gt file, resolve its format and check it the way TrackEval will use it."""
    gt = read_mot(path, "gt", fmt=gt_format, seq_length=num_frames)
    fmt: Literal["mot15", "mot16"]
    if gt_format != "auto":
        fmt = gt_format
    else:
        # An empty gt has no columns to look at; MOT15 mode then filters nothing.
        fmt = detect_gt_format(_raw_columns(path)) if len(gt) else "mot15"
    if fmt == "mot16" and len(gt):
        bad = ~np.isin(gt.label, list(VALID_MOT16_CLASSES))
        if bad.any():
            raise MOTFormatError(
                f"{path}: class {int(gt.label[bad][0])} is not a MOTChallenge class (1-13) in "
                "MOT16-style gt; if column 8 holds world coordinates this is MOT15 gt "
                "(use gt_format='mot15')"
            )
    check_unique_ids(gt, path)
    return gt, fmt


def load_pred(path: Path, num_frames: int) -> MOTAnnotations:
    """Read a result file (frames must lie in ``1..num_frames``, one box per id and frame)."""
    pred = read_mot(path, "result", seq_length=num_frames)
    check_unique_ids(pred, path)
    return pred


def _warn_unclaimed(gt_dir: Path, pred_dir: Path) -> None:
    """A result file no GT sequence claims is most often a misnamed one: say so. Other
    MOT17 copies are left out on purpose, not misnamed: no warning for them."""
    known = {p.name for p in list_sequences(gt_dir, mot17_detector="all")}
    extra = sorted(p.name for p in pred_dir.glob("*.txt") if p.stem not in known)
    extra = [n for n in extra if not n.endswith(".frames.txt")]
    if extra:
        log.warning(
            "%s: result file(s) without a GT sequence in %s, not scored: %s",
            pred_dir,
            gt_dir,
            ", ".join(extra[:10]) + (f" (+{len(extra) - 10} more)" if len(extra) > 10 else ""),
        )


def load_sequences(
    gt_dir: str | Path,
    pred_dir: str | Path,
    *,
    gt_format: GTFormat = "auto",
    sequences: Sequence[str] | None = None,
    frame_range: tuple[int, int] | None = None,
    allow_missing: bool = False,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> list[EvalSequence]:
    """Pair each GT sequence folder ``gt_dir/SEQ`` with ``pred_dir/SEQ.txt``.

    ``gt_dir`` may be a dataset folder or one sequence folder. Sequences are
    named by their folder. A missing prediction file is an error unless
    ``allow_missing`` (then the sequence is scored as if nothing was
    predicted: every gt box is a miss).
    """
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"{pred_dir}: prediction folder not found")
    folders = list_sequences(gt_dir, mot17_detector=mot17_detector)
    if sequences is not None:
        by_name = {p.name: p for p in list_sequences(gt_dir, mot17_detector="all")}
        unknown = [s for s in sequences if s not in by_name]
        if unknown:
            raise ValueError(f"{gt_dir}: no GT sequence(s) named {', '.join(unknown)}")
        folders = [by_name[s] for s in sequences]
    else:
        _warn_unclaimed(gt_dir, pred_dir)
    out = []
    for folder in folders:
        info = read_seqinfo(folder / "seqinfo.ini")
        gt_path = folder / "gt" / "gt.txt"
        if not gt_path.is_file():
            raise MOTFormatError(f"{gt_path}: ground-truth file not found")
        gt, fmt = load_gt(gt_path, info.seq_length, gt_format)
        pred_path = pred_dir / f"{folder.name}.txt"
        if pred_path.is_file():
            pred = load_pred(pred_path, info.seq_length)
        elif allow_missing:
            log.warning("%s: no prediction file, scoring it as empty", pred_path)
            pred = MOTAnnotations()
        else:
            raise FileNotFoundError(
                f"{pred_path}: prediction file for GT sequence {folder.name} not found "
                "(pass allow_missing / --allow-missing to score it as empty)"
            )
        seq = EvalSequence(folder.name, info.seq_length, gt, pred, fmt)
        if frame_range is not None:
            first, last = frame_range
            if not 1 <= first <= last <= info.seq_length:
                raise ValueError(
                    f"{folder}: frame range {first}-{last} is not within 1..{info.seq_length}"
                )
            seq = seq.crop(range(first, last + 1))
        out.append(seq)
    return out
