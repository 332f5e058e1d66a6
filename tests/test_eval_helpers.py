"""Helpers (no tests): small MOTChallenge GT / result folders for the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsdmot.data.mot import MOTAnnotations, SeqInfo, write_mot, write_seqinfo

#: Two people far apart (no overlap), 20x40 boxes, moving right 2 px a frame.
X0 = {1: 10.0, 2: 300.0}


def track_rows(
    tid_of: dict[int, int], frames: range, *, extra: list[float] | None = None
) -> list[list[float]]:
    """Rows ``frame, id, l, t, w, h, 1[, extra]``; object ``obj`` gets id ``tid_of[obj]``."""
    rows = []
    for f in frames:
        for obj, tid in tid_of.items():
            rows.append([f, tid, X0[obj] + 2 * f, 50.0, 20.0, 40.0, 1.0, *(extra or [])])
    return rows


def make_seq(
    root: Path, name: str, gt_rows: list[list[float]], num_frames: int, fmt: str = "mot16"
) -> Path:
    """``root/name/seqinfo.ini`` and ``root/name/gt/gt.txt`` (rows as given)."""
    folder = root / name
    write_seqinfo(folder / "seqinfo.ini", SeqInfo(name, num_frames, 25.0, 640, 480))
    ann = MOTAnnotations.from_rows(np.asarray(gt_rows, dtype=float))
    write_mot(folder / "gt" / "gt.txt", ann, "gt", fmt=fmt)  # type: ignore[arg-type]
    return folder


def write_pred(pred_dir: Path, name: str, rows: list[list[float]]) -> Path:
    path = pred_dir / f"{name}.txt"
    ann = MOTAnnotations.from_rows(np.asarray(rows, dtype=float).reshape(len(rows), -1))
    write_mot(path, ann, "result")
    return path
