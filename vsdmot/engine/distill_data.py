"""Clean/degraded frame pairs for stage-1 distillation, and their teacher embeddings.

A pair is one frame of a clean sequence (what the teacher embeds) and a degraded
version of it (what the student and the quality head see), with the degraded
frame's quality label:

* **from disk**: a sequence written by ``vsdmot degrade`` (``degradation.json``,
  ``quality.csv``) paired with its clean source through ``data.clean_pairs``;
* **on the fly**: a clean sequence degraded here, with a random type and severity
  per frame drawn from ``np.random.default_rng([seed, epoch, item])``: reproducible,
  and a new realisation every epoch, so the student does not memorise one noise.

Teacher embeddings are computed once per clean frame through the on-disk
:class:`~vsdmot.semantics.cache.EmbeddingCache` (a second run reads them back
without running the teacher) and kept in memory for the epochs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from vsdmot.config import DataConfig, DistillRunConfig
from vsdmot.data.clips import SequenceEntry, read_quality, split_entries
from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade import Degrader, create
from vsdmot.degrade.base import sequence_key
from vsdmot.degrade.registry import single_types
from vsdmot.semantics.cache import EmbeddingCache
from vsdmot.semantics.distill import DistillBatch
from vsdmot.semantics.teachers import Teacher

log = logging.getLogger(__name__)


def frame_level_types() -> list[str]:
    """Single degradation types that can degrade one frame on its own (not codec; not the
    whole chains mix and realesrgan).

    >>> "codec" in frame_level_types(), "gaussian_noise" in frame_level_types()
    (False, True)
    """
    return [t for t in single_types() if not create(t).needs_clip]


@dataclass
class PairSource:
    """One sequence of the distillation set."""

    name: str
    clean_root: Path
    degraded_root: Path | None  # None: degraded on the fly
    frames: list[int]
    quality: dict[int, float] = field(default_factory=dict)  # disk labels, by frame

    @property
    def cache_key(self) -> str:
        # The resolved folder, not the bare name: two generated datasets may both hold
        # a "SYNTH-0000" with different frames.
        return str(self.clean_root.resolve())


def resolve_pair_sources(data: DataConfig, run: DistillRunConfig) -> list[PairSource]:
    """The sequences of ``data.train`` as pair sources, per ``distillation.pairs``.

    Raises :class:`MOTFormatError` naming the folder when a degraded sequence has no
    clean pair, or when ``pairs=disk`` meets a sequence without one.
    """
    entries = split_entries(data, "train")
    return [_source(e, run) for e in entries]


def _source(entry: SequenceEntry, run: DistillRunConfig) -> PairSource:
    degraded = (entry.root / "degradation.json").is_file()
    frames = list(range(entry.first, entry.last + 1, run.frame_stride))
    name = MOTSequence(entry.root).name
    if entry.clean_root is None and (degraded or run.pairs == "disk"):
        why = "is a degraded sequence (degradation.json)" if degraded else "has"
        raise MOTFormatError(
            f"{entry.root}: no clean pair found: it {why} but data.clean_pairs names no "
            "clean original for it; add "
            f"'data.clean_pairs=[{{degraded: {entry.root.parent}, clean: <clean dataset>}}]'"
            + ("" if degraded else " or use distillation.pairs=generate")
        )
    if entry.clean_root is not None and run.pairs != "generate":
        clean = Path(entry.clean_root)
        if not (clean / "seqinfo.ini").is_file() and not (clean / "img1").is_dir():
            raise MOTFormatError(f"{clean}: clean pair of {entry.root} not found")
        q_file = entry.root / "quality.csv"
        quality = read_quality(q_file, entry.last) if q_file.is_file() else {}
        if not quality:
            log.warning("%s: no quality.csv: its frames do not train the quality head",
                        entry.root)  # fmt: skip
        return PairSource(name, clean, entry.root, frames, quality)
    clean = Path(entry.clean_root) if entry.clean_root is not None else entry.root
    return PairSource(name, clean, None, frames)


def _shrink(img: np.ndarray, max_size: int) -> np.ndarray:
    h, w = img.shape[:2]
    if max_size <= 0 or max(h, w) <= max_size:
        return img
    scale = max_size / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _to_unit_rgb(bgr: np.ndarray) -> Tensor:
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0)


@dataclass
class Pair:
    degraded: Tensor  # (3, H, W) unit RGB
    quality: float  # NaN when unknown
    embedding: Tensor  # (C,) the teacher's, of the clean frame


class PairFrames:
    """Frame access, on-the-fly degradation and cached teacher targets of a pair set."""

    def __init__(self, sources: Sequence[PairSource], run: DistillRunConfig, seed: int) -> None:
        if not sources:
            raise MOTFormatError("data.train lists no sequence to distil on")
        self.sources = list(sources)
        self.run = run
        self.seed = int(seed)
        self.types = list(run.types) or frame_level_types()
        for t in self.types:
            if create(t).needs_clip:
                raise ValueError(
                    f"distillation.types: {t!r} degrades whole clips; on-the-fly pairs need "
                    f"frame-level types ({', '.join(frame_level_types())})"
                )
        self.items = [(i, f) for i, s in enumerate(self.sources) for f in s.frames]
        self._open: dict[Path, MOTSequence] = {}
        self._embeddings: dict[tuple[int, int], Tensor] = {}

    def __len__(self) -> int:
        return len(self.items)

    def _read(self, root: Path, t: int) -> np.ndarray:
        if root not in self._open:
            self._open[root] = MOTSequence(root)
        return _shrink(self._open[root].frame(t), self.run.max_size)

    def close(self) -> None:
        for seq in self._open.values():
            seq.frames.close()
        self._open.clear()

    # -- teacher targets ----------------------------------------------------------------

    def _tag(self, source: PairSource) -> str:
        """Cache tag: the clean frame, at the working size when frames are shrunk."""
        info = MOTSequence(source.clean_root).info
        shrunk = _shrink(np.zeros((info.im_height, info.im_width, 1), np.uint8),
                         self.run.max_size)  # fmt: skip
        h, w = shrunk.shape[:2]
        return "clean" if (h, w) == (info.im_height, info.im_width) else f"clean@{w}x{h}"

    def embed_clean(self, teacher: Teacher, cache: EmbeddingCache, progress: bool = True) -> None:
        """Teacher embeddings of every clean frame; the teacher runs only on cache misses."""
        chunk = max(1, self.run.batch_size)
        bar = tqdm(total=len(self.items), desc="teacher", unit="frame", disable=not progress,
                   leave=False)  # fmt: skip
        for i, source in enumerate(self.sources):
            tag = self._tag(source)
            for k in range(0, len(source.frames), chunk):
                frames = source.frames[k : k + chunk]

                def run_teacher(missing: list[int], root: Path = source.clean_root) -> Tensor:
                    return teacher.embed([_to_unit_rgb(self._read(root, t)) for t in missing])

                emb = cache.embed(run_teacher, source.cache_key, frames, tag)
                for f, e in zip(frames, emb, strict=True):
                    self._embeddings[(i, f)] = e
                bar.update(len(frames))
        bar.close()

    # -- pairs ----------------------------------------------------------------------------

    def pair(self, item: int, epoch: int) -> Pair:
        """Item ``item`` of the set in epoch ``epoch`` (on-the-fly degradation is keyed by both)."""
        i, t = self.items[item]
        source = self.sources[i]
        key = (i, t)
        if key not in self._embeddings:
            raise RuntimeError("embed_clean() must run before pairs are drawn")
        if source.degraded_root is not None:
            img = self._read(source.degraded_root, t)
            q = source.quality.get(t, math.nan)
            return Pair(_to_unit_rgb(img), q, self._embeddings[key])
        clean = self._read(source.clean_root, t)
        rng = np.random.default_rng([self.seed, epoch, item])
        if rng.random() < self.run.clean_fraction:
            return Pair(_to_unit_rgb(clean), 1.0, self._embeddings[key])
        kind = self.types[int(rng.integers(len(self.types)))]
        severity = float(rng.uniform(self.run.min_severity, self.run.max_severity))
        h, w = clean.shape[:2]
        degrader = Degrader(kind, (w, h), seed=int(rng.integers(2**31)),
                            key=sequence_key(source.name))  # fmt: skip
        img = degrader.frame(clean, t, severity)
        return Pair(_to_unit_rgb(img), degrader.quality(severity), self._embeddings[key])


class PairBatches:
    """Re-iterable batches of pairs: each pass is a new seeded epoch (shuffled, re-degraded).

    ``kind="distill"`` yields :class:`DistillBatch` with cached teacher embeddings;
    ``kind="quality"`` yields ``(frames, labels)`` of the labelled frames only.
    Incomplete last batches are dropped (the structure term wants full batches), unless
    the whole set is smaller than one batch.
    """

    def __init__(self, frames: PairFrames, batch_size: int, seed: int, kind: str) -> None:
        if kind not in ("distill", "quality"):
            raise ValueError(f"kind must be distill or quality, got {kind!r}")
        self.frames, self.kind = frames, kind
        self.batch_size = min(batch_size, len(frames))
        self.seed = int(seed)
        self.epoch = 0

    def __iter__(self) -> Iterator[DistillBatch | tuple[list[Tensor], Tensor]]:
        epoch = self.epoch
        self.epoch += 1
        order = np.random.default_rng([self.seed, epoch, 1]).permutation(len(self.frames))
        n_full = len(order) // self.batch_size
        for b in range(n_full):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            pairs = [self.frames.pair(int(k), epoch) for k in idx]
            if self.kind == "distill":
                yield DistillBatch(
                    clean=[],
                    degraded=[p.degraded for p in pairs],
                    teacher_embeddings=torch.stack([p.embedding for p in pairs]),
                )
                continue
            known = [p for p in pairs if math.isfinite(p.quality)]
            if known:
                yield [p.degraded for p in known], torch.tensor([p.quality for p in known])

    def has_labels(self) -> bool:
        """Whether any frame carries a quality label (on-the-fly frames always do)."""
        return any(s.degraded_root is None or s.quality for s in self.frames.sources)
