"""MOTRv2's ``det_db``: the detector boxes of many sequences in one JSON file.

The layout MOTRv2-family code reads: a JSON object with one key per frame, the
frame image's path under the data root with ``.txt`` for its extension,
``<dataset>/<split>/<sequence>/img1/<image stem>.txt`` (DanceTrack's images have 8
digits, ``DanceTrack/train/dancetrack0001/img1/00000001.txt``; MOTChallenge's 6,
``MOT17/train/MOT17-02-SDP/img1/000001.txt``), and as value a list of lines
``"left,top,width,height,score\\n"`` in pixels. Keys of CrowdHuman images
(``crowdhuman/train_image/<ID>.txt``) may share the file; they belong to no
sequence and are passed over here.

Reading finds a sequence by its folder name and a frame by its number: a key is
matched by its ``<sequence>/img1/<number>.txt`` tail, so the ``<dataset>/<split>``
prefix and the width of the number do not matter, unless one sequence name sits
under two prefixes (a clean and a degraded copy, say): then ``prefix`` chooses.
A frame without a key has no proposals.

Writing gives every frame of a sequence a key, an empty list when nothing was
detected, because MOTRv2 looks every frame up. Numbers are written with the fewest
decimals that read back to the very same ``float32`` box, so a ``det.txt`` converted
to a det_db and read back gives the proposals the ``det.txt`` gives.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsdmot.utils.io import atomic_write


class DetDbError(ValueError):
    """A det_db file is missing or malformed; the message names the file (and key)."""


#: ``.../<sequence>/img1/<frame number>.txt``: the part of a key that names a frame.
_KEY_TAIL = re.compile(r"(?:^|/)(?P<seq>[^/]+)/img1/(?P<frame>\d+)\.txt$")


@dataclass(frozen=True)
class FrameKey:
    """Where a key points: ``prefix`` (``DanceTrack/train``; may be empty), sequence, frame."""

    prefix: str
    sequence: str
    frame: int


def parse_key(key: str) -> FrameKey | None:
    """The frame a key names, or ``None`` for a key of no sequence (a CrowdHuman image).

    >>> parse_key("DanceTrack/train/dancetrack0001/img1/00000012.txt")
    FrameKey(prefix='DanceTrack/train', sequence='dancetrack0001', frame=12)
    >>> parse_key("crowdhuman/train_image/273271,c9db000d5146c15.txt") is None
    True
    """
    m = _KEY_TAIL.search(key)
    if m is None:
        return None
    return FrameKey(key[: m.start("seq")].rstrip("/"), m["seq"], int(m["frame"]))


def frame_key(prefix: str, sequence: str, stem: str) -> str:
    """The key of one frame: ``prefix/sequence/img1/stem.txt`` (no leading ``/``).

    >>> frame_key("MOT17/train", "MOT17-02-SDP", "000001")
    'MOT17/train/MOT17-02-SDP/img1/000001.txt'
    """
    return "/".join(p for p in (prefix.strip("/"), sequence, "img1", f"{stem}.txt") if p)


def parse_line(line: object, where: str) -> list[float]:
    """``"left,top,width,height,score\\n"`` -> five floats; errors name ``where``.

    >>> parse_line("1088.1,368.6,221.4,543.4,0.98\\n", "k")
    [1088.1, 368.6, 221.4, 543.4, 0.98]
    >>> parse_line("1,2,3,nan,0.5", "k")
    Traceback (most recent call last):
    ...
    vsdmot.data.det_db.DetDbError: k: 'nan' in '1,2,3,nan,0.5' is not a finite number
    """
    if not isinstance(line, str):
        raise DetDbError(f"{where}: {line!r} is not a line of text")
    fields = [f.strip() for f in line.strip().split(",")]
    if len(fields) != 5:
        raise DetDbError(
            f"{where}: {line.strip()!r} has {len(fields)} fields, expected 5 "
            "(left,top,width,height,score)"
        )
    out = []
    for f in fields:
        try:
            value = float(f)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise DetDbError(f"{where}: {f!r} in {line.strip()!r} is not a finite number")
        out.append(value)
    if out[2] < 0 or out[3] < 0:
        raise DetDbError(f"{where}: negative box size in {line.strip()!r}")
    return out


class DetDb:
    """A det_db file, read once; :meth:`rows` gives one sequence's boxes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.doc = read_det_db(self.path)
        #: sequence -> prefix -> frame -> key
        self.index: dict[str, dict[str, dict[int, str]]] = {}
        for key in self.doc:
            fk = parse_key(key)
            if fk is not None:
                by_prefix = self.index.setdefault(fk.sequence, {})
                by_prefix.setdefault(fk.prefix, {})[fk.frame] = key

    @property
    def sequences(self) -> list[str]:
        return sorted(self.index)

    def frame_keys(self, sequence: str, prefix: str | None = None) -> dict[int, str]:
        """``{frame: key}`` of one sequence; errors name the file and show a key it has."""
        by_prefix = self.index.get(sequence)
        if not by_prefix:
            example = next(iter(self.doc), None)
            shown = f"e.g. {example!r}" if example is not None else "it is empty"
            raise DetDbError(
                f"{self.path}: no key for sequence {sequence!r} "
                f"(expected '<dataset>/<split>/{sequence}/img1/<frame>.txt'; {shown})"
            )
        if prefix is not None:
            prefix = prefix.strip("/")
            if prefix not in by_prefix:
                raise DetDbError(f"{self.path}: sequence {sequence!r} has no keys under "
                                    f"prefix {prefix!r} (it has {sorted(by_prefix)})")  # fmt: skip
            return by_prefix[prefix]
        if len(by_prefix) > 1:
            raise DetDbError(
                f"{self.path}: sequence {sequence!r} is under several prefixes "
                f"{sorted(by_prefix)}; choose one with prefix=..."
            )
        return next(iter(by_prefix.values()))

    def rows(self, sequence: str, prefix: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``frames (N,)`` and ``left, top, width, height, score (N, 5)`` (float64) of a
        sequence; a malformed line is an error naming the file and its key."""
        frames: list[int] = []
        rows: list[list[float]] = []
        for t, key in sorted(self.frame_keys(sequence, prefix).items()):
            for n, line in enumerate(self.doc[key], start=1):
                rows.append(parse_line(line, f"{self.path}: key {key!r}, line {n}"))
                frames.append(t)
        return np.asarray(frames, dtype=np.int64), np.asarray(rows, np.float64).reshape(-1, 5)


def read_det_db(path: Path) -> dict[str, list[Any]]:
    """The JSON object of a det_db file, checked to map keys to lists."""
    if not path.is_file():
        raise DetDbError(f"{path}: det_db file not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DetDbError(f"{path}: not a readable det_db JSON file ({exc})") from exc
    if not isinstance(doc, dict):
        raise DetDbError(f"{path}: a det_db is a JSON object of frame keys, "
                            f"found a {type(doc).__name__}")  # fmt: skip
    for key, lines in doc.items():
        if not isinstance(lines, list):
            raise DetDbError(
                f"{path}: key {key!r} holds a {type(lines).__name__}, expected a list of "
                "'left,top,width,height,score' lines"
            )
    return doc


# --- writing ------------------------------------------------------------------------------


def _fixed(value: float, decimals: int) -> str:
    """``value`` with at most ``decimals`` decimals, trailing zeros dropped.

    >>> _fixed(1088.1000001, 3), _fixed(5.0, 2), _fixed(-0.0001, 2)
    ('1088.1', '5', '0')
    """
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _shortest(value: float, reads_back: Callable[[str], bool]) -> str:
    """The shortest fixed-point text of ``value`` that ``reads_back`` accepts, else its repr."""
    for decimals in range(0, 10):
        text = _fixed(value, decimals)
        if reads_back(text):
            return text
    return repr(float(value))


def format_line(box: Iterable[float]) -> str:
    """One ``x1, y1, x2, y2, score`` proposal (float32 values) as a det_db line that
    :func:`parse_line` reads back to the very same float32 numbers (``x2`` being
    ``float32(left + width)``, as every reader of boxes computes it).

    >>> format_line(np.array([1088.1, 368.6, 1309.5, 912.0, 0.98], np.float32))
    '1088.1,368.6,221.4,543.4,0.98\\n'
    """
    x1, y1, x2, y2, score = (np.float32(v) for v in box)
    if x2 < x1 or y2 < y1:
        raise DetDbError(f"proposal {[float(v) for v in box]} has x2 < x1 or y2 < y1")
    (left, width), (top, height) = _start_size(x1, x2), _start_size(y1, y2)
    s = _shortest(float(score), lambda t: np.float32(float(t)) == score)
    return f"{left},{top},{width},{height},{s}\n"


def _start_size(lo: np.float32, hi: np.float32) -> tuple[str, str]:
    """Texts ``a``, ``b`` with ``float32(float(a)) == lo`` and ``float32(float(a) + float(b))
    == hi``, each as short as it can be."""
    start_text = _shortest(float(lo), lambda s: np.float32(float(s)) == lo)
    start = float(start_text)
    size = _shortest(float(hi) - start, lambda s: np.float32(start + float(s)) == hi)
    if np.float32(start + float(size)) == hi:
        return start_text, size
    # float32 differences are exact in float64, so this pair always reads back.
    return repr(float(lo)), repr(float(hi) - float(lo))


def sequence_entries(
    prefix: str, sequence: str, stems: dict[int, str], proposals: dict[int, np.ndarray]
) -> dict[str, list[str]]:
    """The det_db keys and lines of one sequence: every frame of ``stems``
    (``{frame: image stem}``), proposals ``(P, 5)`` xyxy + score per frame."""
    out: dict[str, list[str]] = {}
    for t, stem in sorted(stems.items()):
        props = np.asarray(proposals.get(t, np.zeros((0, 5))), np.float32).reshape(-1, 5)
        out[frame_key(prefix, sequence, stem)] = [format_line(row) for row in props]
    return out


def merge_det_db(path: str | Path, entries: dict[str, list[str]]) -> int:
    """Write ``entries`` into the det_db at ``path`` (created if missing), atomically.

    Every sequence (under its prefix) that ``entries`` holds replaces that sequence's
    keys in the file, so a frame dropped since an earlier run leaves no stale key; other
    keys are kept as they are. Returns the number of keys in the file written.
    """
    path = Path(path)
    doc = read_det_db(path) if path.exists() else {}

    def owner(key: str) -> tuple[str, str] | None:
        fk = parse_key(key)
        return None if fk is None else (fk.prefix, fk.sequence)

    rewritten = {owner(k) for k in entries} - {None}
    kept = {k: v for k, v in doc.items() if owner(k) is None or owner(k) not in rewritten}
    merged = {**kept, **entries}
    with atomic_write(path) as f:
        json.dump(merged, f, indent=0, sort_keys=True)
    return len(merged)
