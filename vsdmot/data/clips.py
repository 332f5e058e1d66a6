"""Training clips: ``T`` frames of one sequence with targets, proposals and quality labels.

Reproducibility: every sample draws its randomness (interval, augmentation,
proposal noise) from ``np.random.default_rng([seed, draw])`` where ``draw`` is
the sample's position in the global, rank-interleaved sample stream produced
by :class:`ClipSampler`. The clips a run sees therefore depend only on the
seed and the step, not on ``num_workers``, the worker a sample lands on, or on
whether the run was resumed: resuming at step ``s`` restarts the stream at
draw ``s * batch_size * world_size``.

Frame reading: frames are read lazily through :class:`MOTSequence`, opened
once per process (a video capture must not be shared by forked workers).
For video files the frames of a clip are read forward from the first one,
which costs one seek (~37 ms on PETS09-S2L1's MPEG-4) plus ~0.5 ms per frame
spanned, against ~37 ms per frame when seeking to each one; no frame cache
is kept because that is small next to a CPU training step (seconds).
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from vsdmot.config import CleanPair, DataConfig
from vsdmot.data.augment import ClipTransform, eval_transform, sample_transform
from vsdmot.data.det_db import DetDb
from vsdmot.data.mot import MOTAnnotations, MOTFormatError
from vsdmot.data.preprocess import normalize_frame
from vsdmot.data.sequence import DEFAULT_MOT17_DETECTOR, MOTSequence, list_sequences
from vsdmot.data.sources import VideoFileSource
from vsdmot.models.batch import ClipBatch, FrameTargets
from vsdmot.utils.det_db_spec import DetDbSpec, parse_det_db_spec
from vsdmot.utils.specs import Spec, SpecError, parse_spec

log = logging.getLogger(__name__)

#: Forward reading beats a seek up to roughly this many frames (see module docstring).
_MAX_FORWARD_READ = 64


# ---------------------------------------------------------------------------
# sequences


@dataclass(frozen=True)
class SequenceEntry:
    """One sequence of a split, restricted to frames ``first..last`` (inclusive)."""

    root: Path
    first: int
    last: int
    clean_root: Path | None = None


@dataclass
class _Tables:
    """Per-frame annotation rows of one sequence, parsed once in the main process."""

    name: str
    width: int
    height: int
    gt: dict[int, tuple[np.ndarray, np.ndarray]]  # frame -> (ltwh, ids)
    det: dict[int, tuple[np.ndarray, np.ndarray]] | None  # frame -> (ltwh, scores); None: gt
    quality: dict[int, float] = field(default_factory=dict)


def _by_frame(frames: np.ndarray, *cols: np.ndarray) -> dict[int, tuple[np.ndarray, ...]]:
    order = np.argsort(frames, kind="stable")
    frames = frames[order]
    uniq, starts = np.unique(frames, return_index=True)
    bounds = [*starts[1:], len(frames)]
    return {
        int(f): tuple(c[order][s:e] for c in cols)
        for f, s, e in zip(uniq, starts, bounds, strict=True)
    }


def training_gt(gt: MOTAnnotations) -> MOTAnnotations:
    """Rows to train on: MOT16-style files keep pedestrians (class 1) flagged active;
    MOT15 files (no class column, ``label == -1``) keep every row."""
    has_class = gt.label >= 0
    keep = ~has_class | ((gt.label == 1) & (gt.score > 0))
    return gt.select(keep)


def read_quality(path: Path, seq_length: int) -> dict[int, float]:
    """``quality.csv`` -> {frame: quality}. Rows are frames 1.. unless a ``frame`` column says."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "quality" not in reader.fieldnames:
            raise MOTFormatError(f"{path}: no 'quality' column (columns: {reader.fieldnames})")
        out: dict[int, float] = {}
        for i, row in enumerate(reader, start=1):
            try:
                frame = int(row["frame"]) if row.get("frame") else i
                q = float(row["quality"])
            except ValueError as exc:
                raise MOTFormatError(f"{path}:{i + 1}: {exc}") from exc
            if not 0.0 <= q <= 1.0:
                raise MOTFormatError(f"{path}:{i + 1}: quality {q} outside [0, 1]")
            if 1 <= frame <= seq_length:
                out[frame] = q
    return out


#: A sequence's stored proposals as training reads them: ``{frame: (ltwh, scores)}``.
DetRows = dict[int, tuple[np.ndarray, np.ndarray]]
DetReader = Callable[[MOTSequence], DetRows]


def proposal_reader(source: str) -> DetReader | None:
    """How training reads each sequence's proposals for ``data.proposals.source``:
    ``det`` (``det/det.txt``), ``det_db:FILE`` (the file is read once, here) or ``gt``
    (``None``: proposals come from the ground truth)."""
    try:
        spec = parse_spec(source)
        make = _PROPOSAL_READERS.get(spec.name)
        if make is None:
            raise SpecError("expected det, det_db:FILE or gt")
        return make(spec)
    except SpecError as exc:
        raise MOTFormatError(f"data.proposals.source={source!r}: {exc}") from None


def _det_db_reader(spec: Spec) -> DetReader:
    options = parse_det_db_spec(spec)
    db = DetDb(options.path)
    return lambda seq: _det_db_rows(db, seq, options)


def _public_detections(seq: MOTSequence) -> DetRows:
    if seq.det is None:
        raise MOTFormatError(
            f"{seq.det_path}: data.proposals.source=det, but the file is missing "
            "(use data.proposals.source=gt to train from noisy ground-truth boxes)"
        )
    return _by_frame(seq.det.frame, seq.det.boxes, seq.det.score)  # type: ignore[return-value]


#: How training reads stored proposals, by the source's name (``gt``: none are read).
_PROPOSAL_READERS: dict[str, Callable[[Spec], DetReader | None]] = {
    "gt": lambda _spec: None,
    "det": lambda _spec: _public_detections,
    "det_db": _det_db_reader,
}


def _det_db_rows(db: DetDb, seq: MOTSequence, options: DetDbSpec) -> DetRows:
    """A sequence's det_db boxes, found by its folder name (as MOTRv2 names it) unless
    the spec names the sequence (``seq=NAME``)."""
    name = options.seq or seq.root.name
    frames, rows = db.rows(name, options.prefix)
    if len(frames) and frames.max() > len(seq):
        raise MOTFormatError(f"{db.path}: sequence {name} has boxes for frame "
                             f"{frames.max()}, beyond its {len(seq)} frames")  # fmt: skip
    return _by_frame(frames, rows[:, :4], rows[:, 4])  # type: ignore[return-value]


def _load_tables(entry: SequenceEntry, seq: MOTSequence, read_det: DetReader | None) -> _Tables:
    if seq.gt is None:
        raise MOTFormatError(f"{seq.gt_path}: training needs ground truth, file not found")
    gt = training_gt(seq.gt)
    quality_path = entry.root / "quality.csv"
    quality = read_quality(quality_path, len(seq)) if quality_path.is_file() else {}
    return _Tables(
        name=seq.name,
        width=seq.info.im_width,
        height=seq.info.im_height,
        gt=_by_frame(gt.frame, gt.boxes, gt.track_id),  # type: ignore[arg-type]
        det=None if read_det is None else read_det(seq),
        quality=quality,
    )


def _clean_root(seq_root: Path, dataset: Path, pairs: Sequence[CleanPair]) -> Path | None:
    for pair in pairs:
        degraded, clean = Path(pair.degraded).resolve(), Path(pair.clean)
        if degraded == seq_root.resolve():
            return clean
        if degraded == dataset.resolve():
            return clean / seq_root.name
    if (seq_root / "degradation.json").is_file():
        log.warning(
            "%s is a degraded sequence (degradation.json) but data.clean_pairs names no clean "
            "original: the teacher will see degraded frames",
            seq_root,
        )
    return None


def resolve_entries(
    datasets: Sequence[str],
    frames: dict[str, list[int]],
    pairs: Sequence[CleanPair] = (),
    split: str = "train",
    *,
    split_folder: str | None = None,
    mot17_detector: str = DEFAULT_MOT17_DETECTOR,
) -> list[SequenceEntry]:
    """Sequences of the listed dataset folders with their frame ranges and clean originals.

    A dataset root with split folders is read from ``split_folder``; of MOT17's detector
    copies only ``mot17_detector``'s are kept (:func:`~vsdmot.data.sequence.list_sequences`).
    """
    if not datasets:
        raise MOTFormatError(
            f"data.{split} lists no dataset: set it, e.g. data.{split}=[/data/MOT17/train]"
        )
    entries: list[SequenceEntry] = []
    seen: set[str] = set()
    for dataset in datasets:
        for root in list_sequences(dataset, split=split_folder, mot17_detector=mot17_detector):
            seq = MOTSequence(root)
            first, last = frames.get(seq.name, [1, len(seq)])
            if last > len(seq):
                raise MOTFormatError(
                    f"data.{split}_frames.{seq.name}=[{first}, {last}]: {root} has "
                    f"only {len(seq)} frames"
                )
            clean = _clean_root(root, Path(dataset), pairs)
            if clean is not None:
                clean_seq = MOTSequence(clean)
                if len(clean_seq) != len(seq):
                    raise MOTFormatError(
                        f"{clean}: {len(clean_seq)} frames, but its degraded copy {root} "
                        f"has {len(seq)}"
                    )
            entries.append(SequenceEntry(root, first, last, clean))
            seen.add(seq.name)
    unknown = sorted(set(frames) - seen)
    if unknown:
        raise MOTFormatError(
            f"data.{split}_frames names sequence(s) {', '.join(unknown)} that are not in "
            f"data.{split} ({', '.join(sorted(seen))})"
        )
    return entries


# ---------------------------------------------------------------------------
# samples


@dataclass
class ClipSample:
    """One clip before batching (images already normalised, CHW)."""

    images: torch.Tensor  # (T, 3, H, W)
    proposals: list[torch.Tensor]  # T x (P, 5)
    targets: list[FrameTargets]
    clean_images: torch.Tensor | None
    meta: dict


def to_tensor(bgr: np.ndarray, transform: ClipTransform) -> torch.Tensor:
    """BGR uint8 -> ImageNet-normalised RGB float tensor (3, H, W), photometric jitter applied."""
    return normalize_frame(bgr, transform.apply_photometric)


class ClipDataset(Dataset):
    """Clips of ``clip_length`` frames from MOTChallenge-layout sequences.

    Item keys are ``(index, draw)`` pairs from :class:`ClipSampler` (or a plain
    index, which uses ``draw = index``). ``train=False`` gives deterministic
    clips: interval 1, resize only, no proposal noise.
    """

    def __init__(
        self,
        entries: Sequence[SequenceEntry],
        cfg: DataConfig,
        *,
        train: bool = True,
        seed: int = 0,
    ) -> None:
        self.cfg = cfg
        self.train = train
        self.seed = seed
        self.entries = list(entries)
        self.tables: list[_Tables] = []
        self.index: list[tuple[int, int]] = []  # (entry, first frame of the clip)
        span = cfg.clip_length - 1
        read_det = proposal_reader(cfg.proposals.source)
        for i, entry in enumerate(self.entries):
            seq = MOTSequence(entry.root, gt_format=cfg.gt_format)
            self.tables.append(_load_tables(entry, seq, read_det))
            seq.frames.close()
            starts = range(entry.first, entry.last - span + 1)
            if not starts:
                log.warning(
                    "%s: frames %d-%d are fewer than data.clip_length=%d; skipped",
                    entry.root,
                    entry.first,
                    entry.last,
                    cfg.clip_length,
                )
            self.index.extend((i, s) for s in starts)
        if not self.index:
            roots = ", ".join(str(e.root) for e in self.entries)
            raise MOTFormatError(f"no clip of {cfg.clip_length} frames fits in: {roots}")
        self._pid = -1
        self._open: dict[Path, MOTSequence] = {}

    def __len__(self) -> int:
        return len(self.index)

    # -- frame access (per process) -------------------------------------------------

    def _sequence(self, root: Path) -> MOTSequence:
        if self._pid != os.getpid():  # forked worker: never reuse the parent's captures
            self._open, self._pid = {}, os.getpid()
        if root not in self._open:
            self._open[root] = MOTSequence(root, gt_format=self.cfg.gt_format)
        return self._open[root]

    def _read(self, root: Path, frames: list[int]) -> list[np.ndarray]:
        seq = self._sequence(root)
        span = frames[-1] - frames[0]
        if isinstance(seq.frames, VideoFileSource) and 0 < span <= _MAX_FORWARD_READ:
            wanted = set(frames)
            got = {}
            for t in range(frames[0], frames[-1] + 1):
                img = seq.frame(t)  # sequential reads: the capture never seeks
                if t in wanted:
                    got[t] = img
            return [got[t] for t in frames]
        return [seq.frame(t) for t in frames]

    # -- sampling -----------------------------------------------------------------

    def __getitem__(self, key: int | tuple[int, int]) -> ClipSample:
        index, draw = (key, key) if isinstance(key, int) else key
        rng = np.random.default_rng([self.seed, int(draw)])
        entry_idx, start = self.index[index]
        entry, tab = self.entries[entry_idx], self.tables[entry_idx]
        cfg = self.cfg
        span = cfg.clip_length - 1
        interval = 1
        if self.train and span > 0:
            feasible = min(cfg.max_interval, (entry.last - start) // span)
            interval = int(rng.integers(1, feasible + 1))
        frames = [start + k * interval for k in range(cfg.clip_length)]
        if self.train:
            tf = sample_transform(cfg.augment, tab.width, tab.height, rng)
        else:
            tf = eval_transform(tab.width, tab.height, cfg.input_size, cfg.max_size)

        images = self._read(entry.root, frames)
        clean = self._read(entry.clean_root, frames) if entry.clean_root else None
        for img in images:
            if img.shape[:2] != (tab.height, tab.width):
                raise MOTFormatError(
                    f"{entry.root}: frame size {img.shape[1]}x{img.shape[0]} differs from "
                    f"seqinfo.ini ({tab.width}x{tab.height})"
                )
        targets, proposals = [], []
        for t in frames:
            targets.append(self._targets(tab, t, tf))
            proposals.append(self._proposals(tab, t, tf, targets[-1], rng))
        return ClipSample(
            images=torch.stack([to_tensor(tf.apply_image(im), tf) for im in images]),
            proposals=proposals,
            targets=targets,
            clean_images=None
            if clean is None
            else torch.stack([to_tensor(tf.apply_image(im), tf) for im in clean]),
            meta={
                "sequence": tab.name,
                "root": str(entry.root),
                "frames": frames,
                "interval": interval,
                "flip": tf.flip,
                "crop": list(tf.crop),
                "size": list(tf.out_size),
                "draw": int(draw),
            },
        )

    def _targets(self, tab: _Tables, t: int, tf: ClipTransform) -> FrameTargets:
        ltwh, ids = tab.gt.get(t, (np.zeros((0, 4)), np.zeros(0, dtype=np.int64)))
        boxes, keep = tf.apply_boxes(ltwh, self.cfg.augment.min_box_size if self.train else 0)
        return FrameTargets(
            boxes=torch.from_numpy(boxes),
            ids=torch.from_numpy(np.asarray(ids)[keep].astype(np.int64)),
            quality=tab.quality.get(t),
        )

    def _proposals(
        self,
        tab: _Tables,
        t: int,
        tf: ClipTransform,
        targets: FrameTargets,
        rng: np.random.Generator,
    ) -> torch.Tensor:
        pc = self.cfg.proposals
        if tab.det is not None:
            ltwh, scores = tab.det.get(t, (np.zeros((0, 4)), np.zeros(0)))
            ok = scores >= pc.score_threshold
            boxes, keep = tf.apply_boxes(ltwh[ok], 1.0)
            scores = scores[ok][keep].astype(np.float32)
        else:
            boxes = targets.boxes.numpy().copy()
            lo, hi = pc.gt_score_range
            scores = rng.uniform(lo, hi, size=len(boxes)).astype(np.float32)
        if self.train:
            boxes, scores = _add_noise(
                boxes, scores, pc.jitter, pc.drop, pc.false_positives, pc.score_threshold, rng
            )
        out = np.concatenate([boxes.reshape(-1, 4), scores.reshape(-1, 1)], axis=1)
        return torch.from_numpy(out.astype(np.float32))


def _add_noise(
    boxes: np.ndarray,
    scores: np.ndarray,
    jitter: float,
    drop: float,
    false_positives: float,
    min_score: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Detector-like noise on normalised cxcywh proposals: jitter, misses, false alarms."""
    n = len(boxes)
    boxes = boxes.astype(np.float64).reshape(-1, 4)
    if jitter > 0 and n:
        noise = rng.normal(0.0, jitter, size=(n, 4))
        boxes[:, :2] += noise[:, :2] * boxes[:, 2:]
        boxes[:, 2:] *= np.exp(noise[:, 2:])
    keep = rng.random(n) >= drop if drop > 0 else np.ones(n, dtype=bool)
    boxes, scores = boxes[keep], scores[keep]
    n_fp = int(rng.poisson(false_positives)) if false_positives > 0 else 0
    if n_fp:
        wh = rng.uniform(0.02, 0.25, size=(n_fp, 2))
        ctr = rng.uniform(0.0, 1.0, size=(n_fp, 2))
        boxes = np.concatenate([boxes, np.concatenate([ctr, wh], axis=1)])
        scores = np.concatenate([scores, rng.uniform(min_score, 1.0, n_fp).astype(np.float32)])
    # Clip in xyxy so jittered boxes stay inside the image and keep a positive size.
    xyxy = np.concatenate([boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], 1)
    xyxy = np.clip(xyxy, 0.0, 1.0)
    wh = np.maximum(xyxy[:, 2:] - xyxy[:, :2], 1e-3)
    boxes = np.concatenate([(xyxy[:, :2] + xyxy[:, 2:]) / 2, wh], axis=1)
    return boxes.astype(np.float32), scores.astype(np.float32)


# ---------------------------------------------------------------------------
# batching


def collate_clips(samples: list[ClipSample]) -> ClipBatch:
    """Pad clips to the largest height/width of the batch (bottom/right); mask = padding."""
    if not samples:
        raise ValueError("collate_clips: empty batch")
    lengths = {s.images.shape[0] for s in samples}
    if len(lengths) != 1:
        raise ValueError(f"collate_clips: clips of different lengths {sorted(lengths)}")
    (t,) = lengths
    h = max(s.images.shape[2] for s in samples)
    w = max(s.images.shape[3] for s in samples)
    b = len(samples)
    images = torch.zeros(b, t, 3, h, w)
    masks = torch.ones(b, t, h, w, dtype=torch.bool)
    any_clean = any(s.clean_images is not None for s in samples)
    clean = torch.zeros(b, t, 3, h, w) if any_clean else None
    for i, s in enumerate(samples):
        hh, ww = s.images.shape[2:]
        images[i, :, :, :hh, :ww] = s.images
        masks[i, :, :hh, :ww] = False
        if clean is not None:
            # A clip from a clean sequence is its own clean version.
            src = s.clean_images if s.clean_images is not None else s.images
            clean[i, :, :, :hh, :ww] = src
    return ClipBatch(
        images=images,
        masks=masks,
        proposals=[s.proposals for s in samples],
        targets=[s.targets for s in samples],
        clean_images=clean,
        meta=[s.meta for s in samples],
    )


# ---------------------------------------------------------------------------
# sampling order and loaders


class ClipSampler(Sampler):
    """Endless, seeded, rank-sharded stream of ``(index, draw)`` keys.

    Draw ``g`` of the global stream picks ``perm_e[g % n]`` with ``e = g // n``
    and ``perm_e`` a permutation seeded by ``(seed, e)``. Rank ``r`` of ``W``
    takes draws ``r, r + W, r + 2W, ...``, so ranks see disjoint clips within
    an epoch. ``start`` skips the first ``start`` local draws (resume).
    """

    def __init__(
        self,
        num_items: int,
        *,
        seed: int = 0,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world of size {world_size}")
        self.n, self.seed, self.shuffle = num_items, seed, shuffle
        self.rank, self.world_size, self.start = rank, world_size, start

    def _perm(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        local = self.start
        epoch, perm = -1, np.arange(0)
        while True:
            g = local * self.world_size + self.rank
            if g // self.n != epoch:
                epoch = g // self.n
                perm = self._perm(epoch)
            yield int(perm[g % self.n]), g
            local += 1


def _worker_init(worker_id: int) -> None:
    # Items carry their own RNGs; seeding the globals only tames third-party randomness.
    import random

    import cv2

    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
    cv2.setNumThreads(1)  # workers already run in parallel; nested threads oversubscribe


def make_loader(
    dataset: ClipDataset,
    batch_size: int,
    *,
    seed: int,
    num_workers: int = 0,
    rank: int = 0,
    world_size: int = 1,
    start_step: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """Endless loader of :class:`ClipBatch` starting at optimiser step ``start_step``."""
    sampler = ClipSampler(
        len(dataset),
        seed=seed,
        rank=rank,
        world_size=world_size,
        start=start_step * batch_size,
    )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=collate_clips,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
        worker_init_fn=_worker_init if num_workers > 0 else None,
        persistent_workers=num_workers > 0,
        pin_memory=pin_memory,
        # Fresh worker processes, not forks: a fork of a process whose OpenCV (or
        # OpenMP) thread pool has run can deadlock in the child's first cv2 call.
        multiprocessing_context="spawn" if num_workers > 0 else None,
    )


def build_clip_dataset(cfg: DataConfig, split: str = "train", seed: int = 0) -> ClipDataset:
    """The train or val :class:`ClipDataset` described by ``cfg``."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be train or val, got {split!r}")
    return ClipDataset(split_entries(cfg, split), cfg, train=split == "train", seed=seed)


def split_entries(cfg: DataConfig, split: str = "train") -> list[SequenceEntry]:
    """The sequences of ``data.train`` or ``data.val`` as the config names them (frame
    ranges, clean pairs, split folders of dataset roots, MOT17 detector copy)."""
    train = split == "train"
    return resolve_entries(
        cfg.train if train else cfg.val,
        cfg.train_frames if train else cfg.val_frames,
        cfg.clean_pairs,
        split,
        split_folder=cfg.train_split if train else cfg.val_split,
        mot17_detector=cfg.mot17_detector,
    )
