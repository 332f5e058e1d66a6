"""The crop embedder's training set: every ground-truth person of a span of frames of one
sequence, clean and degraded, with the frozen teacher's embedding of the clean crop.

Degradations act on whole frames, as at test time (noise, blur and compression depend on
the frame, not on the crop), and only then are the people cropped. Each degraded
*variant* splits the frames into runs of ``run_length`` consecutive frames; every run
draws one type (the single types and ``mix``) and one severity in [1, 5], set up once
per run (:class:`~vsdmot.degrade.degrader.Degrader`, clip-level types stream the run).
Two crops of one person a few frames apart thus often carry different degradations.

Crops keep a margin (:data:`MARGIN` of the box on every side) so that training can shift
the window without leaving the person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from vsdmot.data.mot import MOTAnnotations
from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.base import sequence_key
from vsdmot.degrade.degrader import Degrader
from vsdmot.degrade.registry import single_types
from vsdmot.reid.crops import box_crops
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

MARGIN = 1 / 16  # of the box's width and height, on every side
MIN_SIDE = 8  # px: smaller ground-truth boxes are left out
CACHE_VERSION = 1


@dataclass
class CropSet:
    """``crops[i, v]``: person ``i`` in variant ``v`` (0: clean) as RGB uint8 with the
    margin; ``ids``, ``frames``: its identity and frame; ``teacher``: the teacher's unit
    embedding of its clean crop (the window without margin)."""

    crops: np.ndarray  # (N, V + 1, H', W', 3) uint8
    ids: np.ndarray  # (N,) int64
    frames: np.ndarray  # (N,) int64
    teacher: np.ndarray  # (N, T) float32

    def subset(self, keep: np.ndarray) -> CropSet:
        """The people of the rows where ``keep`` is true."""
        return CropSet(self.crops[keep], self.ids[keep], self.frames[keep], self.teacher[keep])

    def rows_of(self) -> dict[int, np.ndarray]:
        """Frame number -> the rows of its people."""
        return {int(t): np.flatnonzero(self.frames == t) for t in np.unique(self.frames)}

    def save(self, path: Path) -> None:
        with atomic_write(path, "wb") as f:
            np.savez(f, version=CACHE_VERSION, crops=self.crops, ids=self.ids,
                     frames=self.frames, teacher=self.teacher)  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> CropSet:
        with np.load(path) as z:
            if int(z["version"]) != CACHE_VERSION:
                raise ValueError(f"{path}: crop cache version {int(z['version'])} is stale")
            return cls(z["crops"], z["ids"], z["frames"], z["teacher"])


def padded_size(size: tuple[int, int]) -> tuple[int, int]:
    """The stored crop size for a window of ``size`` (h, w).

    >>> padded_size((128, 64))
    (144, 72)
    """
    return tuple(round(s * (1 + 2 * MARGIN)) for s in size)  # type: ignore[return-value]


def degradation_plan(
    n_frames: int, variants: int, run_length: int, seed: int
) -> list[list[tuple[str, float]]]:
    """``plan[v][r]``: the (type, severity) of run ``r`` of variant ``v + 1``.

    >>> plan = degradation_plan(50, 2, 20, seed=0)
    >>> len(plan), len(plan[0]), all(1 <= s <= 5 for v in plan for _, s in v)
    (2, 3, True)
    """
    rng = np.random.default_rng(seed)
    types = [*single_types(), "mix"]
    runs = -(-n_frames // run_length)
    return [[(str(rng.choice(types)), float(rng.uniform(1.0, 5.0))) for _ in range(runs)]
            for _ in range(variants)]  # fmt: skip


def _degraded(frames: list[np.ndarray], start: int, spec: tuple[str, float], key: int,
              seed: int) -> Iterator[np.ndarray]:  # fmt: skip
    type_, severity = spec
    h, w = frames[0].shape[:2]
    d = Degrader(type_, (w, h), seed=seed, key=key)
    if d.needs_clip:
        return d.stream(frames, [severity] * len(frames), start=start)
    return (d.frame(f, start + i, severity) for i, f in enumerate(frames))


def _people(gt: MOTAnnotations, t: int, width: int, height: int):
    rows = gt.for_frame(t)
    boxes = np.clip(rows.boxes_xyxy(), 0, [width, height, width, height])
    keep = (boxes[:, 2:] - boxes[:, :2] >= MIN_SIDE).all(axis=1)
    return rows.track_id[keep].astype(np.int64), boxes[keep]


def build_crop_set(
    seq_dir: Path,
    span: tuple[int, int],
    *,
    size: tuple[int, int],
    variants: int,
    run_length: int = 20,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crops ``(N, variants + 1, H', W', 3)``, identities and frames of every person of
    frames ``span`` (inclusive) of the sequence at ``seq_dir`` (MOT ground truth)."""
    seq = MOTSequence(seq_dir)
    if seq.gt is None:
        raise ValueError(f"{seq_dir}: no ground truth (gt/gt.txt) to train on")
    plan = degradation_plan(span[1] - span[0] + 1, variants, run_length, seed)
    key, padded = sequence_key(seq.name), padded_size(size)
    crops, ids, frames = [], [], []
    bar = tqdm(total=span[1] - span[0] + 1, desc="crops", disable=not progress, leave=False)
    for r, start in enumerate(range(span[0], span[1] + 1, run_length)):
        ts = list(range(start, min(start + run_length, span[1] + 1)))
        clean = [seq.frame(t) for t in ts]
        versions = [clean] + [list(_degraded(clean, start, plan[v][r], key + v, seed))
                              for v in range(variants)]  # fmt: skip
        h, w = clean[0].shape[:2]
        for i, t in enumerate(ts):
            pid, boxes = _people(seq.gt, t, w, h)
            if len(pid):
                crops.append(np.stack([box_crops(v[i], boxes, padded, MARGIN)
                                       for v in versions], axis=1))  # fmt: skip
                ids.append(pid)
                frames.append(np.full(len(pid), t, dtype=np.int64))
        bar.update(len(ts))
    bar.close()
    if not crops:
        raise ValueError(f"{seq_dir}: no ground-truth person in frames {span[0]}-{span[1]}")
    return np.concatenate(crops), np.concatenate(ids), np.concatenate(frames)


def centre_window(crops: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The ``size`` window in the middle of padded crops ``(..., H', W', 3)``."""
    top = (crops.shape[-3] - size[0]) // 2
    left = (crops.shape[-2] - size[1]) // 2
    return crops[..., top : top + size[0], left : left + size[1], :]


@torch.no_grad()
def teacher_embeddings(teacher, clean: np.ndarray, batch: int = 128) -> np.ndarray:
    """The frozen teacher's unit embeddings of RGB uint8 crops ``(N, h, w, 3)``."""
    out = []
    for i in range(0, len(clean), batch):
        x = torch.from_numpy(clean[i : i + batch]).permute(0, 3, 1, 2).float() / 255.0
        out.append(teacher.embed_crops(x))
    return torch.cat(out).numpy().astype(np.float32)
