"""Clean/degraded frame pairs for adapting the detector, drawn on the fly.

A training item is one clean frame of a source. Each epoch it gets a new seeded
degradation (``np.random.default_rng([seed, epoch, item])``): a random type, or with
probability ``stack_prob`` two or three types of different camera-chain stages applied
in stage order (as ``mix`` does, but only from the training types, so held-out types
never leak in), at a random severity. With probability ``zoom`` the frame is first
cropped (:func:`zoom_crop`), so people appear at more scales than the footage has.
A share ``clean_fraction`` stays clean, so the student also learns clean-to-clean (it
must not forget clean frames).

Sources are MOTChallenge sequences (their ``gt/gt.txt`` boxes feed the detection
loss), CrowdHuman ``.odgt`` files (each image a labelled one-frame source,
:mod:`vsdmot.data.crowdhuman`) or any video / image folder
:func:`~vsdmot.data.sources.open_source` reads (distillation terms only: they need
no labels).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vsdmot.data.crowdhuman import read_odgt
from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.data.sources import FrameSource, StillImageSource, open_source
from vsdmot.degrade import Degrader
from vsdmot.degrade.base import REGISTRY, sequence_key
from vsdmot.degrade.quality import quality_label
from vsdmot.detection.yolo import PAD_VALUE, preprocess

log = logging.getLogger(__name__)

#: MOT16+ ground-truth classes that are people (pedestrian, person on vehicle, static person);
#: MOT15 files have no class column (-1).
PERSON_LABELS = (-1, 1, 2, 7)


@dataclass
class AdaptSource:
    """One clip to adapt on: its frames, the frame numbers used and, if labelled, the boxes."""

    name: str
    frames: FrameSource
    indices: list[int]
    boxes: dict[int, np.ndarray] | None  # frame -> (N, 4) xyxy people, frame pixels

    @property
    def labelled(self) -> bool:
        return self.boxes is not None


def _frame_range(n: int, frames: tuple[int, int] | None) -> list[int]:
    first, last = frames if frames is not None else (1, n)
    return list(range(max(1, first), min(n, last) + 1))


def _sequence_source(root: Path, frames: tuple[int, int] | None) -> AdaptSource:
    seq = MOTSequence(root)
    indices = _frame_range(len(seq), frames)
    boxes = None
    if seq.gt is not None:
        gt = seq.gt.select((seq.gt.score > 0) & np.isin(seq.gt.label, PERSON_LABELS))
        xyxy = gt.boxes_xyxy()
        boxes = {t: xyxy[gt.frame == t] for t in indices}
    return AdaptSource(seq.name, seq.frames, indices, boxes)


def crowdhuman_sources(path: Path, box: str = "fbox") -> list[AdaptSource]:
    """Every image of a CrowdHuman ``.odgt`` file as a labelled one-frame source."""
    out = []
    for img in read_odgt(path, box=box):
        xyxy = np.concatenate([img.boxes[:, :2], img.boxes[:, :2] + img.boxes[:, 2:]], axis=1)
        out.append(AdaptSource(img.id, StillImageSource(img.image), [1], {1: xyxy}))
    return out


def open_adapt_sources(
    specs: Sequence[str | Path],
    frames: tuple[int, int] | None = None,
    *,
    crowdhuman_box: str = "fbox",
) -> list[AdaptSource]:
    """Sources from paths: a sequence folder, a dataset of sequences, a CrowdHuman
    ``.odgt`` file (its ``crowdhuman_box`` boxes), a video or images.

    ``frames`` (first, last; 1-based, inclusive) limits every source but still images,
    e.g. to keep evaluation frames out of training. Raises ``MOTFormatError`` naming the
    path when a source has no frames in that range.
    """
    out: list[AdaptSource] = []
    for spec in specs:
        path = Path(spec)
        if path.suffix.lower() == ".odgt":
            out.extend(crowdhuman_sources(path, crowdhuman_box))
        elif path.is_dir() and ((path / "seqinfo.ini").is_file() or _holds_sequences(path)):
            out.extend(_sequence_source(root, frames) for root in list_sequences(path))
        else:
            src = open_source(str(spec))
            if src.is_stream:
                raise MOTFormatError(f"{spec}: a live stream cannot be a training source")
            out.append(AdaptSource(path.stem or str(spec), src, _frame_range(len(src), frames),
                                   None))  # fmt: skip
    for src in out:
        if not src.indices:
            raise MOTFormatError(f"{src.frames.uri}: no frames in the range {frames}")
    if not out:
        raise MOTFormatError("no training sources given")
    return out


def _holds_sequences(path: Path) -> bool:
    return any((p / "seqinfo.ini").is_file() for p in path.iterdir() if p.is_dir())


@dataclass(frozen=True)
class DegradePlan:
    """How training frames are degraded (see the module docstring)."""

    types: tuple[str, ...]
    min_severity: float = 1.0
    max_severity: float = 5.0
    clean_fraction: float = 0.2
    stack_prob: float = 0.3

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if t not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown degradation types {unknown}; known: {sorted(REGISTRY)}")
        if not self.types and self.clean_fraction < 1.0:
            raise ValueError("no degradation types to train on")
        if not 0.0 <= self.clean_fraction <= 1.0:
            raise ValueError(f"clean_fraction must be in [0, 1], got {self.clean_fraction}")
        if not 0.0 <= self.min_severity <= self.max_severity <= 5.0:
            raise ValueError(f"min_severity <= max_severity must lie in [0, 5], got "
                             f"{self.min_severity} and {self.max_severity}")  # fmt: skip
        if not 0.0 <= self.stack_prob <= 1.0:
            raise ValueError(f"stack_prob must be in [0, 1], got {self.stack_prob}")

    def draw(self, rng: np.random.Generator) -> tuple[list[str], float]:
        """Types (in stage order; empty = clean) and severity of one frame."""
        if rng.random() < self.clean_fraction:
            return [], 0.0
        severity = float(rng.uniform(self.min_severity, self.max_severity))
        by_stage: dict[int, list[str]] = {}
        for t in self.types:
            by_stage.setdefault(REGISTRY[t].stage, []).append(t)
        if rng.random() < self.stack_prob and len(by_stage) >= 2:
            k = int(rng.integers(2, min(3, len(by_stage)) + 1))
            stages = sorted(rng.choice(sorted(by_stage), size=k, replace=False).tolist())
            return [str(rng.choice(by_stage[s])) for s in stages], severity
        return [str(rng.choice(self.types))], severity


def degrade(
    frame: np.ndarray, types: list[str], severity: float, t: int, name: str, seed: int
) -> tuple[np.ndarray, float]:
    """``frame`` under ``types`` (each at ``severity``) and its quality label (1 if clean)."""
    if not types:
        return frame, 1.0
    h, w = frame.shape[:2]
    out = frame
    for k, kind in enumerate(types):
        d = Degrader(kind, (w, h), seed=seed + k, key=sequence_key(name))
        if d.needs_clip:  # a clip-level codec on one frame: its own one-frame clip
            out = next(iter(d.stream([out], [severity], start=t)))
        else:
            out = d.frame(out, t, severity)
    return out, quality_label(severity, len(types))


@dataclass
class AdaptBatch:
    """One batch: teacher inputs (clean), student inputs (degraded), labels, quality."""

    clean: Tensor  # (B, 3, H, W) unit RGB, letterboxed and padded
    degraded: Tensor  # (B, 3, H, W)
    boxes: list[Tensor]  # per frame (N, 4) xyxy in input pixels (empty when unlabelled)
    labelled: Tensor  # (B,) bool: the frame's boxes are ground truth
    quality: Tensor  # (B,) quality label of the degraded frame

    @property
    def input_hw(self) -> tuple[int, int]:
        return int(self.clean.shape[2]), int(self.clean.shape[3])


class PairSampler:
    """Items of all sources, paired with a seeded degradation per epoch; batches of them."""

    def __init__(
        self,
        sources: Sequence[AdaptSource],
        plan: DegradePlan,
        *,
        size: int,
        batch_size: int,
        seed: int = 0,
        flip: bool = True,
        zoom: float = 0.0,
        zoom_min: float = 0.4,
    ) -> None:
        self.sources, self.plan = list(sources), plan
        self.size, self.seed, self.flip = int(size), int(seed), bool(flip)
        self.zoom, self.zoom_min = float(zoom), float(zoom_min)
        self.items = [(i, t) for i, s in enumerate(self.sources) for t in s.indices]
        if not self.items:
            raise MOTFormatError("the training sources hold no frames")
        self.batch_size = max(1, min(int(batch_size), len(self.items)))

    def __len__(self) -> int:
        """Full batches per epoch."""
        return len(self.items) // self.batch_size

    def item(self, k: int, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
        """Clean frame, degraded frame, boxes (frame pixels, None when unlabelled), quality."""
        i, t = self.items[k]
        src = self.sources[i]
        rng = np.random.default_rng([self.seed, epoch, k])
        clean = src.frames.frame(t)
        boxes = None if src.boxes is None else src.boxes[t].copy()
        if self.flip and rng.random() < 0.5:
            clean = np.ascontiguousarray(clean[:, ::-1])
            if boxes is not None:
                w = clean.shape[1]
                boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
        if rng.random() < self.zoom:
            clean, boxes = zoom_crop(clean, boxes, rng, self.zoom_min)
        types, severity = self.plan.draw(rng)
        seed = int(rng.integers(2**31 - 8))
        degraded, q = degrade(clean, types, severity, t, src.name, seed)
        return clean, degraded, boxes, q

    def batch(self, epoch: int, index: int) -> AdaptBatch:
        """Batch ``index`` of epoch ``epoch`` (each epoch has its own shuffled order)."""
        order = np.random.default_rng([self.seed, epoch, 1]).permutation(len(self.items))
        picks = order[index * self.batch_size : (index + 1) * self.batch_size]
        clean, degraded, boxes, labelled, quality = [], [], [], [], []
        for k in picks.tolist():
            c, d, b, q = self.item(k, epoch)
            blob_c, mapping = preprocess(c, self.size, letterbox=True)
            blob_d, _ = preprocess(d, self.size, letterbox=True)
            clean.append(torch.from_numpy(blob_c[0]))
            degraded.append(torch.from_numpy(blob_d[0]))
            if b is None:
                boxes.append(torch.zeros(0, 4))
            else:
                b = b.astype(np.float64)
                b[:, [0, 2]] = b[:, [0, 2]] * mapping.scale_x + mapping.pad_x
                b[:, [1, 3]] = b[:, [1, 3]] * mapping.scale_y + mapping.pad_y
                boxes.append(torch.from_numpy(b).float())
            labelled.append(b is not None)
            quality.append(q)
        return AdaptBatch(_pad(clean), _pad(degraded), boxes, torch.tensor(labelled),
                          torch.tensor(quality, dtype=torch.float32))  # fmt: skip

    def batches(self, epoch: int, start: int = 0) -> Iterator[AdaptBatch]:
        for index in range(start, len(self)):
            yield self.batch(epoch, index)


def zoom_crop(
    frame: np.ndarray, boxes: np.ndarray | None, rng: np.random.Generator, min_scale: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """A random crop of ``min_scale``-1 of each side (aspect kept), with its boxes.

    Cropping enlarges people once the crop is resized to the network input: a scene of
    small pedestrians also teaches the scales of close-up footage. Boxes are clipped to
    the crop; those keeping less than 40 % of their area are dropped.

    >>> f = np.zeros((100, 200, 3), np.uint8)
    >>> out, b = zoom_crop(f, np.array([[0.0, 0.0, 200.0, 100.0]]), np.random.default_rng(0), 0.5)
    >>> out.shape[1] / out.shape[0], b.tolist() == [[0, 0, out.shape[1], out.shape[0]]]
    (2.0, True)
    """
    h, w = frame.shape[:2]
    scale = float(rng.uniform(min_scale, 1.0))
    cw, ch = max(1, round(w * scale)), max(1, round(h * scale))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    crop = np.ascontiguousarray(frame[y0 : y0 + ch, x0 : x0 + cw])
    if boxes is None or len(boxes) == 0:
        return crop, boxes
    shifted = boxes - np.array([x0, y0, x0, y0], dtype=np.float64)
    clipped = shifted.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, cw)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, ch)

    def area(b: np.ndarray) -> np.ndarray:
        return (b[:, 2] - b[:, 0]).clip(min=0) * (b[:, 3] - b[:, 1]).clip(min=0)

    keep = area(clipped) >= 0.4 * np.maximum(area(shifted), 1e-9)
    return crop, clipped[keep]


def _pad(blobs: list[Tensor]) -> Tensor:
    """Stack ``(3, h, w)`` inputs, padding each bottom-right with the letterbox grey."""
    h = max(b.shape[1] for b in blobs)
    w = max(b.shape[2] for b in blobs)
    out = torch.full((len(blobs), 3, h, w), PAD_VALUE / 255.0)
    for k, b in enumerate(blobs):
        out[k, :, : b.shape[1], : b.shape[2]] = b
    return out
