"""On-disk cache of teacher embeddings, so distillation runs the teacher once per frame.

Layout (one folder per teacher; the folder name *is* the teacher id, which hashes
the teacher's weights and preprocessing, so a changed teacher never reads stale
vectors)::

    <root>/<teacher_id>/index.json                  # teacher id, embed dim, entries
    <root>/<teacher_id>/<sequence>/<tag>.npz        # frames (N,), embeddings (N, C)

``tag`` names the degradation the frames carry (``"clean"`` for the teacher's
usual input). Every file is written atomically and also records the teacher id,
which is checked on read.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)


def _safe_name(name: str) -> str:
    """A file-name-safe, collision-free rendering of a sequence name or tag.

    >>> _safe_name("MOT17-02/FRCNN") != _safe_name("MOT17-02_FRCNN")
    True
    """
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
    return f"{safe}-{zlib.crc32(name.encode('utf-8')):08x}"


@dataclass
class CacheStats:
    hits: int = 0  # frames served from the cache
    misses: int = 0  # frames the teacher had to embed


class EmbeddingCache:
    """Teacher embeddings keyed by ``(teacher id, sequence, frame, degradation tag)``.

    >>> import tempfile
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), teacher_id="toy-0123")
    >>> cache.get("seq", [1, 2]) is None
    True
    >>> cache.put("seq", [1, 2], torch.eye(2))
    >>> cache.get("seq", [2]).tolist()
    [[0.0, 1.0]]
    """

    def __init__(self, root: str | os.PathLike[str], teacher_id: str) -> None:
        if not teacher_id:
            raise ValueError("EmbeddingCache needs a non-empty teacher_id (Teacher.teacher_id)")
        self.root = Path(root)
        self.teacher_id = teacher_id
        self.dir = self.root / teacher_id
        self.stats = CacheStats()
        self._loaded: dict[tuple[str, str], dict[int, np.ndarray]] = {}

    def _file(self, sequence: str, tag: str) -> Path:
        return self.dir / _safe_name(sequence) / f"{_safe_name(tag)}.npz"

    def _entries(self, sequence: str, tag: str) -> dict[int, np.ndarray]:
        key = (sequence, tag)
        if key not in self._loaded:
            self._loaded[key] = self._read(self._file(sequence, tag))
        return self._loaded[key]

    def _read(self, file: Path) -> dict[int, np.ndarray]:
        if not file.is_file():
            return {}
        try:
            with np.load(file, allow_pickle=False) as data:
                stored_id = str(data["teacher_id"])
                frames, emb = data["frames"], data["embeddings"]
        except (OSError, KeyError, ValueError) as err:
            log.warning("ignoring unreadable embedding cache file %s: %s", file, err)
            return {}
        if stored_id != self.teacher_id:
            log.warning(
                "ignoring %s: written by teacher %s, not %s", file, stored_id, self.teacher_id
            )
            return {}
        return {int(f): e for f, e in zip(frames, emb, strict=True)}

    def get(self, sequence: str, frames: Sequence[int], tag: str = "clean") -> Tensor | None:
        """``(N, C)`` embeddings of ``frames``, or ``None`` unless every frame is cached."""
        entries = self._entries(sequence, tag)
        if not all(int(f) in entries for f in frames):
            return None
        return torch.from_numpy(np.stack([entries[int(f)] for f in frames]))

    def put(
        self, sequence: str, frames: Sequence[int], embeddings: Tensor, tag: str = "clean"
    ) -> None:
        """Store ``(N, C)`` embeddings of ``frames`` (merged with what is there; atomic)."""
        emb = embeddings.detach().to("cpu", torch.float32).numpy()
        if emb.ndim != 2 or emb.shape[0] != len(frames):
            raise ValueError(f"put() needs ({len(frames)}, C) embeddings, got {emb.shape}")
        entries = self._entries(sequence, tag)
        entries.update({int(f): e for f, e in zip(frames, emb, strict=True)})
        order = sorted(entries)
        file = self._file(sequence, tag)
        with atomic_write(file, "wb") as fh:
            np.savez(
                fh,
                teacher_id=np.array(self.teacher_id),
                frames=np.asarray(order, dtype=np.int64),
                embeddings=np.stack([entries[f] for f in order]),
            )
        self._write_index(sequence, tag, len(order), emb.shape[1])

    def _write_index(self, sequence: str, tag: str, count: int, dim: int) -> None:
        index_file = self.dir / "index.json"
        index = {"teacher_id": self.teacher_id, "embed_dim": dim, "entries": {}}
        if index_file.is_file():
            try:
                index = json.loads(index_file.read_text())
            except json.JSONDecodeError:
                log.warning("rewriting corrupt cache index %s", index_file)
        index["entries"][f"{sequence}\t{tag}"] = {
            "file": str(self._file(sequence, tag).relative_to(self.dir)),
            "frames": count,
        }
        with atomic_write(index_file) as fh:
            json.dump(index, fh, indent=1, sort_keys=True)

    def embed(
        self,
        embed_fn: Callable[[list[int]], Tensor],
        sequence: str,
        frames: Sequence[int],
        tag: str = "clean",
    ) -> Tensor:
        """Embeddings of ``frames``; ``embed_fn(missing_frames)`` runs only for cache misses.

        ``embed_fn`` gets the list of missing frame numbers and returns their ``(M, C)``
        embeddings (typically ``lambda fs: teacher.embed(load_clean(fs))``).
        """
        entries = self._entries(sequence, tag)
        missing = [int(f) for f in dict.fromkeys(int(f) for f in frames) if int(f) not in entries]
        self.stats.hits += len(frames) - len(missing)
        self.stats.misses += len(missing)
        if missing:
            self.put(sequence, missing, embed_fn(missing), tag)
        result = self.get(sequence, frames, tag)
        assert result is not None  # every frame was just stored
        return result

    def prune_other_teachers(self) -> list[str]:
        """Delete the cache folders of every other teacher; return their ids.

        Only folders with a cache ``index.json`` are touched, so a shared root is safe.
        """
        removed = []
        if self.root.is_dir():
            for child in self.root.iterdir():
                if child.name != self.teacher_id and (child / "index.json").is_file():
                    shutil.rmtree(child, ignore_errors=True)
                    removed.append(child.name)
        return sorted(removed)
