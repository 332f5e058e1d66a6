"""A disk cache in front of any proposal source, so re-tracking does not re-detect.

One ``.npz`` proposal database (format in :mod:`vsdmot.proposals.detfile`) per
(source configuration, video): the file name joins the source's
:attr:`~vsdmot.proposals.base.ProposalSource.key` (name + hash of its
parameters) with a hash of the video's identity (resolved path, size and
modification time for a file, so an edited video is not served stale boxes).
Tracking the same video again with other tracker settings reads the boxes
back; changing a detector parameter gives a new key and a new file. The file
is rewritten atomically every ``flush_every`` new frames and on
:meth:`CachedProposals.close`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from vsdmot.proposals.base import ProposalError, ProposalSource
from vsdmot.proposals.detfile import load_proposal_db, read_db_meta, save_proposal_db

log = logging.getLogger(__name__)


def video_identity(video: str | Path) -> str:
    """A string that changes when the video (file or folder) changes.

    Streams and cameras are identified by their spec alone.
    """
    path = Path(video)
    if path.exists():
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return str(video)


class CachedProposals(ProposalSource):
    """Wrap ``source``; answer frames of ``video`` from ``cache_dir`` when known.

    ``hits`` and ``misses`` count answers from the cache and from the source.
    Use as a context manager (or call :meth:`close`) so the last frames are
    written.
    """

    def __init__(
        self,
        source: ProposalSource,
        cache_dir: str | Path,
        video: str | Path,
        *,
        flush_every: int = 100,
    ) -> None:
        self.source = source
        self.video_id = video_identity(video)
        vid_hash = hashlib.sha1(self.video_id.encode()).hexdigest()[:12]
        self.path = Path(cache_dir) / f"{source.key}-{vid_hash}.npz"
        self.flush_every = max(1, int(flush_every))
        self.hits = 0
        self.misses = 0
        self._unsaved = 0
        self._table: dict[int, np.ndarray] = self._load()

    def _load(self) -> dict[int, np.ndarray]:
        if not self.path.is_file():
            return {}
        try:
            meta = read_db_meta(self.path)
            if meta.get("source") != self.source.key or meta.get("video") != self.video_id:
                log.warning("%s: cache written for another source or video; ignoring it", self.path)
                return {}
            return load_proposal_db(self.path)
        except ProposalError as exc:
            # A damaged cache only costs a re-detection; never fail tracking over it.
            log.warning("ignoring unreadable proposal cache: %s", exc)
            return {}

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def params(self) -> dict[str, Any]:
        return self.source.params

    @property
    def cached_frames(self) -> int:
        return len(self._table)

    def __call__(self, frame_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        t = int(frame_index)
        hit = self._table.get(t)
        if hit is not None:
            self.hits += 1
            return hit.copy()
        self.misses += 1
        props = self.source(frame_bgr, t)
        self._table[t] = props.copy()
        self._unsaved += 1
        if self._unsaved >= self.flush_every:
            self.flush()
        return props

    def flush(self) -> None:
        """Write every known frame to the cache file (atomically) if anything is new."""
        if not self._unsaved:
            return
        meta = {"source": self.source.key, "params": self.source.params, "video": self.video_id}
        save_proposal_db(self.path, self._table, meta)
        self._unsaved = 0

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> CachedProposals:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Frames detected before an error are still valid: keep them.
        self.close()
