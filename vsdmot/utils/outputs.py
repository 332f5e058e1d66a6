"""The output guard: every command checks its output paths here before any work.

A target is refused when it is one of the command's inputs (a sequence's frames,
``det/``, ``gt/``, ``seqinfo.ini``, a video, the weights it reads), an existing
file that is not a regular file (a FIFO or a device would be replaced by the
atomic rename), a folder, another output of the same command, or in a folder
that cannot be written. Names that become path parts (``--external NAME``) must
be plain names. Errors are one line and name the flag and the path.
"""

from __future__ import annotations

import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path


class OutputError(ValueError):
    """An output path that would destroy an input or escape its folder."""


def sequence_inputs(folder: str | Path) -> set[Path]:
    """The files and folders of a MOTChallenge sequence that a command reads: its
    ``seqinfo.ini``, ``det/``, ``gt/``, frame folder and video files (none for a
    path that is not a sequence)."""
    folder = Path(folder)
    if not (folder / "seqinfo.ini").is_file():
        return set()
    found = {folder / "seqinfo.ini", folder / "det", folder / "gt", folder / "img1"}
    found |= {p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _VIDEO}
    return {p.resolve() for p in found}


def dataset_inputs(root: str | Path) -> set[Path]:
    """:func:`sequence_inputs` of a sequence folder or of every sequence in a dataset."""
    root = Path(root)
    if not root.is_dir():
        return set()
    if (root / "seqinfo.ini").is_file():
        return sequence_inputs(root)
    return {p for child in root.iterdir() if child.is_dir() for p in sequence_inputs(child)}


def check_outputs(outputs: Mapping[str, Path | None], inputs: Iterable[Path] = ()) -> None:
    """Refuse outputs (flag -> path) that are inputs, non-regular files, folders,
    each other, or unwritable; nothing is written here but a probe file."""
    protected = {Path(p).resolve() for p in inputs}
    seen: dict[Path, str] = {}
    for flag, path in outputs.items():
        if path is None:
            continue
        target = Path(path).resolve()
        if any(target == p or p in target.parents for p in protected):
            raise OutputError(f"{flag} {path} is an input of this command; choose another path")
        if target in seen:
            raise OutputError(f"{seen[target]} and {flag} are the same file: {path}")
        seen[target] = flag
        _check_target(flag, Path(path))


def _check_target(flag: str, path: Path) -> None:
    if path.is_dir():
        raise OutputError(f"{flag} {path} is a folder; give a file name")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise OutputError(f"{flag} {path} exists and is not a regular file (a pipe or device)")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OSError(f"{flag} {path}: cannot write in {folder} ({exc.strerror or exc})") from exc


def plain_name(name: str, what: str) -> str:
    """``name`` if it can be one path part (no separators, not ``.``/``..``), else an
    error naming ``what``.

    >>> plain_name("motrv2", "--external NAME")
    'motrv2'
    >>> plain_name("../../x", "NAME")
    Traceback (most recent call last):
    ...
    vsdmot.utils.outputs.OutputError: NAME '../../x' must be a plain name (no /, \\ or ..)
    """
    if not name or name in (".", "..") or any(c in name for c in "/\\") or "\0" in name:
        raise OutputError(f"{what} {name!r} must be a plain name (no /, \\ or ..)")
    return name


_VIDEO = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"}


def default_stem(source: str) -> str:
    """Results file stem for a source: its name; ``camera0`` for a camera; a glob's folder.

    >>> default_stem("clips/walk.mp4"), default_stem("0"), default_stem("frames/*.png")
    ('walk', 'camera0', 'frames')
    >>> default_stem("http://cam.local/live/video.mjpg?user=a&fps=10")
    'video'

    """
    if source.isdigit():
        return f"camera{source}"
    if "://" in source:  # a stream: its path, without query or fragment
        source = re.split(r"[?#]", source.split("://", 1)[1], maxsplit=1)[0]
    elif any(c in source for c in "*?["):
        # A glob: name the results after the folder before the first wildcard.
        head = re.split(r"[*?\[]", source, maxsplit=1)[0]
        source = head if head.endswith("/") or not head else str(Path(head).parent)
    stem = re.sub(r"[^\w.-]+", "_", Path(source.rstrip("/")).stem).strip("._")
    return stem or "tracks"
