"""Content digests of files and folders: keys that change when the bytes change, and only
then (a copy, a touch or a move keeps the key; an edit changes it)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_CHUNK = 1 << 20


def update_with_file(digest: hashlib._Hash, path: Path) -> None:
    """Feed the bytes of ``path`` to ``digest``, a chunk at a time."""
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)


def tree_digest(folder: str | Path) -> str:
    """sha256 (hex) of every regular file under ``folder``: relative paths and bytes, in
    sorted order; symbolic links are followed, hidden files skipped.

    >>> import tempfile
    >>> a, b = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> for root in (a, b):
    ...     (root / "img").mkdir(); _ = (root / "img" / "1.jpg").write_bytes(b"frame")
    >>> tree_digest(a) == tree_digest(b)
    True
    >>> _ = (b / "img" / "1.jpg").write_bytes(b"other")
    >>> tree_digest(a) == tree_digest(b)
    False
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    files = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        files += [Path(dirpath, f) for f in filenames if not f.startswith(".")]
    for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        update_with_file(digest, path)
        digest.update(b"\0")
    return digest.hexdigest()
