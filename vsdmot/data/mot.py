"""MOTChallenge / DanceTrack text formats: ``seqinfo.ini``, ``gt.txt``, ``det.txt``, results.

All frame numbers and ids are 1-based, as in the files. Boxes are kept in the
files' own ``left, top, width, height`` form (pixels).

Ground-truth column layouts (detected from the file, or forced with ``fmt``):

- ``mot15``: ``frame,id,left,top,width,height,conf,x,y,z`` (10 columns; columns
  8-10 are world coordinates or -1; no class, no visibility).
- ``mot16``: ``frame,id,left,top,width,height,active,class,visibility`` (9
  columns; MOT16/17/20 and DanceTrack).
"""

from __future__ import annotations

import configparser
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from vsdmot.utils.io import atomic_write

GTFormat = Literal["auto", "mot15", "mot16"]
Kind = Literal["gt", "det", "result"]


class MOTFormatError(ValueError):
    """A MOTChallenge file is malformed. The message names the file (and line)."""


# ---------------------------------------------------------------------------
# seqinfo.ini


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of ``seqinfo.ini``."""

    name: str
    seq_length: int
    frame_rate: float
    im_width: int
    im_height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"


_SEQINFO_KEYS = {
    "name": ("name", str),
    "seqlength": ("seq_length", int),
    "framerate": ("frame_rate", float),
    "imwidth": ("im_width", int),
    "imheight": ("im_height", int),
    "imdir": ("im_dir", str),
    "imext": ("im_ext", str),
}
_REQUIRED_SEQINFO = ("name", "seqlength", "framerate", "imwidth", "imheight")


def read_seqinfo(path: str | Path) -> SeqInfo:
    """Parse ``seqinfo.ini``; raise :class:`MOTFormatError` naming the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise MOTFormatError(f"{path}: seqinfo.ini not found")
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text(), source=str(path))
    except configparser.Error as exc:
        raise MOTFormatError(f"{path}: malformed seqinfo.ini: {exc}") from exc
    if "Sequence" not in parser:
        raise MOTFormatError(f"{path}: no [Sequence] section")
    section = {k.lower(): v.strip() for k, v in parser["Sequence"].items()}
    missing = [k for k in _REQUIRED_SEQINFO if k not in section]
    if missing:
        raise MOTFormatError(f"{path}: missing key(s) {', '.join(missing)} in [Sequence]")
    values: dict[str, object] = {}
    for key, (attr, conv) in _SEQINFO_KEYS.items():
        if key not in section:
            continue
        try:
            values[attr] = conv(float(section[key])) if conv is int else conv(section[key])
        except ValueError as exc:
            msg = f"{path}: {key}={section[key]!r} is not a valid {conv.__name__}"
            raise MOTFormatError(msg) from exc
    info = SeqInfo(**values)  # type: ignore[arg-type]
    if info.seq_length < 0 or info.im_width <= 0 or info.im_height <= 0 or info.frame_rate <= 0:
        raise MOTFormatError(f"{path}: seqLength, imWidth, imHeight and frameRate must be positive")
    return info


def write_seqinfo(path: str | Path, info: SeqInfo) -> None:
    """Write ``seqinfo.ini`` atomically (MOTChallenge key spelling)."""
    rate = int(info.frame_rate) if float(info.frame_rate).is_integer() else info.frame_rate
    text = (
        "[Sequence]\n"
        f"name={info.name}\n"
        f"imDir={info.im_dir}\n"
        f"frameRate={rate}\n"
        f"seqLength={info.seq_length}\n"
        f"imWidth={info.im_width}\n"
        f"imHeight={info.im_height}\n"
        f"imExt={info.im_ext}\n"
    )
    with atomic_write(path) as f:
        f.write(text)


# ---------------------------------------------------------------------------
# annotation tables


def _empty(dtype: type, n: int = 0) -> np.ndarray:
    return np.zeros((n,), dtype=dtype)


@dataclass
class MOTAnnotations:
    """Rows of a gt / det / result file as parallel arrays (one row per box).

    ``score`` is column 7 (gt: the active/consider flag; det: detector score;
    result: confidence). ``label`` is the class (-1 where the format has
    none), ``visibility`` is 1.0 where the format has none.

    >>> a = MOTAnnotations.from_rows([[1, 3, 10, 20, 5, 8, 0.9]])
    >>> a.boxes_xyxy().tolist()
    [[10.0, 20.0, 15.0, 28.0]]
    """

    frame: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    track_id: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    score: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    label: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    visibility: np.ndarray = field(default_factory=lambda: _empty(np.float64))

    def __post_init__(self) -> None:
        self.frame = np.asarray(self.frame, dtype=np.int64).reshape(-1)
        n = len(self.frame)
        self.track_id = np.asarray(self.track_id, dtype=np.int64).reshape(n)
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(n, 4)
        self.score = np.asarray(self.score, dtype=np.float64).reshape(n)
        self.label = np.asarray(self.label, dtype=np.int64).reshape(n)
        self.visibility = np.asarray(self.visibility, dtype=np.float64).reshape(n)

    @classmethod
    def from_rows(cls, rows: list[list[float]] | np.ndarray) -> MOTAnnotations:
        """Build from ``frame, id, l, t, w, h[, score[, label[, visibility]]]`` rows."""
        arr = np.asarray(rows, dtype=np.float64)
        if arr.ndim != 2:  # a list of rows, or nothing at all (no rows: no columns)
            arr = arr.reshape(len(rows), -1) if len(rows) else np.zeros((0, 6))
        n, c = arr.shape
        return cls(
            frame=arr[:, 0],
            track_id=arr[:, 1],
            boxes=arr[:, 2:6],
            score=arr[:, 6] if c > 6 else np.ones(n),
            label=arr[:, 7] if c > 7 else -np.ones(n),
            visibility=arr[:, 8] if c > 8 else np.ones(n),
        )

    def __len__(self) -> int:
        return len(self.frame)

    def select(self, mask: np.ndarray) -> MOTAnnotations:
        """Rows where ``mask`` is true (boolean mask or index array)."""
        return MOTAnnotations(
            self.frame[mask],
            self.track_id[mask],
            self.boxes[mask],
            self.score[mask],
            self.label[mask],
            self.visibility[mask],
        )

    def for_frame(self, frame: int) -> MOTAnnotations:
        """Rows of one (1-based) frame."""
        return self.select(self.frame == frame)

    def concat(self, other: MOTAnnotations) -> MOTAnnotations:
        return MOTAnnotations(
            *(np.concatenate([getattr(self, f), getattr(other, f)]) for f in _FIELDS)
        )

    def sorted(self) -> MOTAnnotations:
        """Rows ordered by frame, then id."""
        return self.select(np.lexsort((self.track_id, self.frame)))

    def boxes_xyxy(self) -> np.ndarray:
        b = self.boxes.copy()
        b[:, 2:] += b[:, :2]
        return b

    def with_boxes(self, boxes_ltwh: np.ndarray) -> MOTAnnotations:
        return replace(self, boxes=np.asarray(boxes_ltwh, dtype=np.float64))

    @property
    def ids(self) -> np.ndarray:
        """Distinct track ids (sorted)."""
        return np.unique(self.track_id)


_FIELDS = ("frame", "track_id", "boxes", "score", "label", "visibility")


def detect_gt_format(table: np.ndarray) -> Literal["mot15", "mot16"]:
    """Tell MOT15 (10 cols, world coords) from MOT16+ (9 cols, class + visibility).

    MOT15 columns 8-10 hold world coordinates or -1; MOT16 column 8 is a
    positive integer class and column 9 a visibility in [0, 1].
    """
    if table.shape[1] >= 10:
        return "mot15"
    if table.shape[1] == 9:
        cls_col, vis_col = table[:, 7], table[:, 8]
        looks_mot16 = (
            np.all(cls_col == np.round(cls_col))
            and np.all(cls_col >= 1)
            and np.all((vis_col >= 0) & (vis_col <= 1))
        )
        return "mot16" if looks_mot16 else "mot15"
    return "mot15"


def _fields(line: str) -> list[str]:
    """A line's fields: comma-separated (spaces around them allowed, one trailing comma
    ignored), else separated by whitespace. An empty comma field stays empty: dropping
    it would shift every later column.

    >>> _fields("1, -1, 3.5,4,"), _fields("1 -1\t3.5  4"), _fields("1,,3")
    (['1', '-1', '3.5', '4'], ['1', '-1', '3.5', '4'], ['1', '', '3'])
    """
    if "," not in line:
        return line.split()
    parts = [p.strip() for p in line.split(",")]
    return parts[:-1] if len(parts) > 1 and parts[-1] == "" else parts


def _load_table(path: Path, min_cols: int, max_cols: int) -> np.ndarray:
    rows: list[list[float]] = []
    ncols: int | None = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            parts = _fields(line)
            if "" in parts:
                raise MOTFormatError(
                    f"{path}:{lineno}: empty value in column {parts.index('') + 1}"
                )
            if not (min_cols <= len(parts) <= max_cols):
                raise MOTFormatError(
                    f"{path}:{lineno}: expected {min_cols}-{max_cols} comma-separated columns, "
                    f"found {len(parts)}"
                )
            if ncols is None:
                ncols = len(parts)
            elif len(parts) != ncols:
                raise MOTFormatError(
                    f"{path}:{lineno}: {len(parts)} columns, but earlier lines have {ncols}"
                )
            try:
                values = [float(p) for p in parts]
            except ValueError as exc:
                raise MOTFormatError(f"{path}:{lineno}: non-numeric value ({exc})") from exc
            if not all(math.isfinite(v) for v in values[:7]):
                raise MOTFormatError(f"{path}:{lineno}: NaN or infinite value")
            rows.append(values)
    if not rows:
        return np.zeros((0, min_cols))
    return np.asarray(rows, dtype=np.float64)


def _validate(path: Path, table: np.ndarray, kind: Kind, seq_length: int | None) -> None:
    if len(table) == 0:
        return
    frames = table[:, 0]
    line_of = _line_numbers(path)

    def fail(idx: int, what: str) -> None:
        raise MOTFormatError(f"{path}:{line_of[idx]}: {what}")

    bad = np.flatnonzero(frames != np.round(frames))
    if bad.size:
        fail(int(bad[0]), f"frame number {frames[bad[0]]} is not an integer")
    bad = np.flatnonzero(frames < 1)
    if bad.size:
        fail(int(bad[0]), f"frame number {int(frames[bad[0]])} < 1 (frames are 1-based)")
    if seq_length is not None:
        bad = np.flatnonzero(frames > seq_length)
        if bad.size:
            fail(int(bad[0]), f"frame {int(frames[bad[0]])} is beyond seqLength={seq_length}")
    bad = np.flatnonzero((table[:, 4] < 0) | (table[:, 5] < 0))
    if bad.size:
        fail(int(bad[0]), f"negative box size {table[bad[0], 4]}x{table[bad[0], 5]}")
    if kind != "det":
        ids = table[:, 1]
        bad = np.flatnonzero((ids != np.round(ids)) | (ids < 1))
        if bad.size:
            fail(int(bad[0]), f"track id {ids[bad[0]]} is not a positive integer")


def _line_numbers(path: Path) -> list[int]:
    """1-based line numbers of the non-blank lines (to name lines in errors)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return [i for i, line in enumerate(f, start=1) if line.strip()]


def read_mot(
    path: str | Path,
    kind: Kind = "gt",
    *,
    fmt: GTFormat = "auto",
    seq_length: int | None = None,
) -> MOTAnnotations:
    """Read a gt / det / result file into :class:`MOTAnnotations`.

    Raises :class:`MOTFormatError` naming the file and line for wrong column
    counts, non-numeric or non-finite values, negative sizes, frames outside
    ``1..seq_length`` and (gt/result) non-positive ids.
    """
    path = Path(path)
    if not path.is_file():
        raise MOTFormatError(f"{path}: file not found")
    min_cols = 6 if kind == "result" else 7 if kind == "det" else 6
    table = _load_table(path, min_cols, 10)
    _validate(path, table, kind, seq_length)
    n, c = table.shape
    ones = np.ones(n)
    label = -np.ones(n)
    vis = ones
    if kind == "gt" and n:
        gt_fmt = detect_gt_format(table) if fmt == "auto" else fmt
        if gt_fmt == "mot16":
            if c < 9:
                raise MOTFormatError(f"{path}: MOT16-style gt needs 9 columns, found {c}")
            label, vis = table[:, 7], table[:, 8]
    return MOTAnnotations(
        frame=table[:, 0],
        track_id=table[:, 1] if kind != "det" else -ones,
        boxes=table[:, 2:6],
        score=table[:, 6] if c > 6 else ones,
        label=label,
        visibility=vis,
    )


def format_rows(ann: MOTAnnotations, kind: Kind, fmt: Literal["mot15", "mot16"] = "mot16") -> str:
    """Text of a gt / det / result file (10 columns except MOT16-style gt)."""
    out: list[str] = []
    for i in range(len(ann)):
        left, top, w, h = (f"{v:.2f}" for v in ann.boxes[i])
        fr, tid = int(ann.frame[i]), int(ann.track_id[i])
        if kind == "gt" and fmt == "mot16":
            out.append(
                f"{fr},{tid},{left},{top},{w},{h},{int(ann.score[i])},{int(ann.label[i])},"
                f"{ann.visibility[i]:.3f}"
            )
        elif kind == "det":
            out.append(f"{fr},-1,{left},{top},{w},{h},{ann.score[i]:.4f},-1,-1,-1")
        else:
            score = f"{ann.score[i]:.4f}" if kind == "result" else str(int(ann.score[i]))
            out.append(f"{fr},{tid},{left},{top},{w},{h},{score},-1,-1,-1")
    return "\n".join(out) + ("\n" if out else "")


def write_mot(
    path: str | Path,
    ann: MOTAnnotations,
    kind: Kind = "result",
    *,
    fmt: Literal["mot15", "mot16"] = "mot16",
) -> None:
    """Write rows sorted by frame then id, atomically."""
    with atomic_write(path) as f:
        f.write(format_rows(ann.sorted(), kind, fmt))
