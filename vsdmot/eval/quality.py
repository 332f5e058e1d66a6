"""Read the per-frame degradation record ``SEQ/quality.csv`` written by ``vsdmot degrade``.

Columns: ``frame,types,severity,quality,psnr,ssim`` (header line first). Only
``frame`` and ``severity`` are needed here; ``types`` may itself contain
separators inside quotes, so the file is read with :mod:`csv`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from vsdmot.data.mot import MOTFormatError

MAX_SEVERITY = 5


def severity_bucket(severity: float) -> int:
    """Nearest integer severity, halves rounded up (2.5 -> 3), clipped to 0..5.

    >>> [severity_bucket(s) for s in (0.0, 0.49, 0.5, 2.5, 4.9, 5.0)]
    [0, 0, 1, 3, 5, 5]
    """
    return int(min(MAX_SEVERITY, max(0, math.floor(severity + 0.5))))


def read_severity(path: str | Path, num_frames: int) -> dict[int, float]:
    """``{frame: severity}`` from a ``quality.csv``; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise MOTFormatError(f"{path}: quality.csv not found (written by `vsdmot degrade`)")
    out: dict[int, float] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = {name.strip() for name in (reader.fieldnames or [])}
        missing = {"frame", "severity"} - fields
        if missing:
            raise MOTFormatError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            row = {k.strip(): v for k, v in row.items() if k is not None}
            line = reader.line_num
            try:
                frame_f, severity = float(row["frame"]), float(row["severity"])
            except (TypeError, ValueError) as exc:
                raise MOTFormatError(f"{path}:{line}: non-numeric frame or severity") from exc
            if frame_f != round(frame_f) or not 1 <= frame_f <= num_frames:
                raise MOTFormatError(f"{path}:{line}: frame {row['frame']} outside 1..{num_frames}")
            if not (math.isfinite(severity) and 0 <= severity <= MAX_SEVERITY):
                raise MOTFormatError(f"{path}:{line}: severity {severity} outside 0..5")
            frame = int(frame_f)
            if frame in out:
                raise MOTFormatError(f"{path}:{line}: frame {frame} listed twice")
            out[frame] = severity
    return out


def frames_by_bucket(severity: dict[int, float]) -> dict[int, np.ndarray]:
    """Frames of each non-empty severity bucket, sorted.

    >>> {k: v.tolist() for k, v in frames_by_bucket({1: 0.2, 2: 1.6, 3: 0.0}).items()}
    {0: [1, 3], 2: [2]}
    """
    buckets: dict[int, list[int]] = {}
    for frame, sev in severity.items():
        buckets.setdefault(severity_bucket(sev), []).append(frame)
    return {b: np.sort(np.asarray(fr, dtype=np.int64)) for b, fr in sorted(buckets.items())}
