"""Copy the package's log lines into a run folder's log file while a run lasts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def run_log(path: Path, enabled: bool = True) -> Iterator[None]:
    """Log ``vsdmot.*`` records (INFO and up) to ``path`` inside the ``with`` block.

    ``enabled=False`` (e.g. on non-zero ranks of a distributed run) does nothing.
    """
    if not enabled:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("vsdmot")
    root.addHandler(handler)
    old_level = root.level
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
