"""The quality head's training set from real footage: clips of a clean sequence, varied
and degraded by every single type at every severity, plus generated frames.

One real scene is few scenes: a head fitted on its frames as they are learns that scene's
look (its colours, how much texture its ground has) as "clean". So every clip is first
*varied* the way cameras and scenes vary (:class:`ClipJitter`: a crop, a scale, a mirror,
a hue turn and a saturation change, the same for the clip's frames), and only then
degraded (:func:`~vsdmot.eval.graded_frames.grade_frames`: each type set up once per
clip, at each severity; labels as ``quality.csv``'s). Many more varied clean frames are
added (the clean look is what varies most between scenes), and frames of generated
sequences with their own, different look.

Frames are kept as the head's prepared inputs (``head.prepare``, float16), not as
images: about 80 KB a frame (version 2) instead of 330 KB, and the detail-energy maps are
computed once instead of once per step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from vsdmot.data.synth import SynthConfig, render_sequence, sequence_seed
from vsdmot.degrade.registry import single_types
from vsdmot.eval.frame_quality import unit_rgb
from vsdmot.eval.graded_frames import (
    CLEAN,
    GradedFrames,
    grade_frames,
    read_frames,
    spread,
)
from vsdmot.semantics.quality import QualityHead

log = logging.getLogger(__name__)

#: The tracker's input view the shipped model runs at: shorter side, longest side.
TRACKER_VIEW = (288, 512)


@dataclass(frozen=True)
class ClipJitter:
    """How much a clip is varied before it is degraded: the crop keeps ``area`` of the
    frame (its aspect kept), the crop's long side becomes ``long_side`` px, the clip is
    mirrored half the time, its hue turned by any angle and its saturation scaled by
    ``saturation``.

    >>> frames = [np.full((48, 64, 3), (40, 120, 200), np.uint8)] * 2
    >>> a, b = ClipJitter(long_side=(32, 32)).apply(frames, np.random.default_rng(0))
    >>> a.shape, bool((a == b).all())
    ((24, 32, 3), True)
    """

    area: tuple[float, float] = (0.45, 1.0)
    long_side: tuple[int, int] = (480, 800)
    saturation: tuple[float, float] = (0.6, 1.3)

    def apply(self, frames: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """The clip's frames (BGR uint8, one size) varied alike."""
        h, w = frames[0].shape[:2]
        side = float(np.sqrt(rng.uniform(*self.area)))
        ch, cw = max(1, int(h * side)), max(1, int(w * side))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        scale = rng.uniform(*self.long_side) / max(ch, cw)
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        mirror, hue = bool(rng.random() < 0.5), int(rng.integers(0, 180))
        saturation = rng.uniform(*self.saturation)
        out = []
        for img in frames:
            crop = img[top : top + ch, left : left + cw]
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            crop = cv2.resize(crop, size, interpolation=interp)
            if mirror:
                crop = crop[:, ::-1]
            hsv = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_BGR2HSV).astype(np.int32)
            hsv[..., 0] = (hsv[..., 0] + hue) % 180  # OpenCV's hue runs over 0..179
            hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0, 255)
            out.append(cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR))
        return out


@dataclass(frozen=True)
class RealClips:
    """``clips`` clips of ``clip_frames`` frames ``clip_stride`` apart, spread over frames
    ``first..last`` of the clean sequence ``folder``, and ``clean_frames`` more frames
    (spread likewise) varied one by one and kept clean."""

    folder: Path
    first: int = 1
    last: int = 600
    clips: int = 24
    clip_frames: int = 5
    clip_stride: int = 2
    clean_frames: int = 600

    def clip_starts(self) -> list[int]:
        span = (self.clip_frames - 1) * self.clip_stride
        if self.last - span < self.first:
            raise ValueError(f"{self.folder}: frames {self.first}-{self.last} are too few "
                             f"for a clip of {self.clip_frames} x {self.clip_stride}")  # fmt: skip
        return spread(self.first, self.last - span, self.clips)


@dataclass(frozen=True)
class QualitySetSpec:
    """Everything that decides a training set (the seed included: same spec, same set)."""

    real: tuple[RealClips, ...]
    generated: int = 8  # generated sequences
    generated_frames: int = 40  # frames rendered per generated sequence
    generated_graded: int = 6  # of those, degraded by every type and severity
    generated_clean: int = 20  # of those, kept clean (varied one by one)
    types: tuple[str, ...] = field(default_factory=single_types)
    severities: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, 5.0)
    sizes: tuple[int, int] = TRACKER_VIEW
    jitter: ClipJitter = field(default_factory=ClipJitter)
    seed: int = 0


@dataclass
class PreparedSet:
    """The head's prepared inputs (float16) with each frame's label and type."""

    inputs: Tensor
    labels: Tensor
    types: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def clean(self) -> np.ndarray:
        """Indices of the clean frames."""
        return np.flatnonzero(np.asarray(self.types) == CLEAN)


def build_quality_set(spec: QualitySetSpec, head: QualityHead) -> PreparedSet:
    """The training set ``spec`` describes, prepared for ``head`` (its version and size)."""
    parts: list[Tensor] = []
    labels: list[float] = []
    types: list[str] = []
    for i, graded in enumerate(_graded_parts(spec)):
        parts.append(prepare_views(head, graded.views))
        labels += graded.labels
        types += graded.types
        log.debug("quality set: part %d, %d frames so far", i, len(labels))
    return PreparedSet(torch.cat(parts), torch.tensor(labels, dtype=torch.float32), types)


def prepare_views(head: QualityHead, views: Sequence[np.ndarray], chunk: int = 64) -> Tensor:
    """``head.prepare`` of BGR views, in chunks, as float16."""
    out = []
    with torch.no_grad():
        for k in range(0, len(views), chunk):
            crops = [unit_rgb(v) for v in views[k : k + chunk]]
            out.append(head.prepare(crops).to("cpu", torch.float16))
    return torch.cat(out)


def _graded_parts(spec: QualitySetSpec) -> Iterator[GradedFrames]:
    """The set, one graded clip (or one batch of clean frames) at a time."""
    for r, real in enumerate(spec.real):
        name = Path(real.folder).name
        rng = np.random.default_rng([spec.seed, r])
        for c, start in enumerate(real.clip_starts()):
            numbers = [start + k * real.clip_stride for k in range(real.clip_frames)]
            frames = read_frames(real.folder, numbers)
            varied = spec.jitter.apply([f for _, f in frames], rng)
            yield grade_frames(list(zip(numbers, varied, strict=True)), name, spec.types,
                               spec.severities, spec.sizes, seed=_seed(spec, r, c))  # fmt: skip
        numbers = spread(real.first, real.last, real.clean_frames)
        for k in range(0, len(numbers), 50):
            frames = read_frames(real.folder, numbers[k : k + 50])
            yield _clean(frames, spec, rng)
    yield from _generated_parts(spec)


def _generated_parts(spec: QualitySetSpec) -> Iterator[GradedFrames]:
    rng = np.random.default_rng([spec.seed, len(spec.real)])
    for g in range(spec.generated):
        cfg = SynthConfig(n_frames=spec.generated_frames)
        rendered = [(f.frame, f.image) for f in render_sequence(cfg, sequence_seed(spec.seed, g))]
        picked = set(spread(1, spec.generated_frames, spec.generated_graded))
        graded = [item for item in rendered if item[0] in picked]
        yield grade_frames(graded, f"GENERATED-{g:04d}", spec.types, spec.severities,
                           spec.sizes, seed=_seed(spec, len(spec.real), g))  # fmt: skip
        kept = set(spread(1, spec.generated_frames, spec.generated_clean))
        yield _clean([item for item in rendered if item[0] in kept], spec, rng)


def _clean(frames: list[tuple[int, np.ndarray]], spec: QualitySetSpec,
           rng: np.random.Generator) -> GradedFrames:  # fmt: skip
    """Frames varied one by one and kept clean."""
    varied = [(t, spec.jitter.apply([img], rng)[0]) for t, img in frames]
    return grade_frames(varied, "clean", (), (), spec.sizes, seed=0)


def _seed(spec: QualitySetSpec, source: int, clip: int) -> int:
    """Degrade seed of one clip: distinct per (set seed, source, clip)."""
    return int(np.random.default_rng([spec.seed, source, clip]).integers(2**31 - 64))
