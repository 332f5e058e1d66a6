"""The tensors that cross the boundary between the data pipeline and the model.

Boxes are ``(cx, cy, w, h)`` normalised by the *unpadded* image size, in
[0, 1]. Images are RGB floats normalised with ImageNet mean/std
(:mod:`vsdmot.nn.imagenet`), padded at the bottom/right to a common size inside a
batch; ``masks`` is True on padding (DETR convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass
class FrameTargets:
    """Ground truth of one frame of one clip.

    ``ids`` are track ids, unique inside a clip, consistent across its frames.
    """

    boxes: Tensor  # (N, 4) cxcywh, normalised
    ids: Tensor  # (N,) int64
    quality: float | None = None  # frame quality label in [0, 1] (1 = clean), when known

    def to(self, device: torch.device | str) -> FrameTargets:
        return FrameTargets(self.boxes.to(device), self.ids.to(device), self.quality)


@dataclass
class ClipBatch:
    """``B`` clips of ``T`` frames each.

    ``proposals[b][t]`` is a ``(P, 5)`` tensor: ``cx, cy, w, h`` (normalised)
    and the detector score. ``clean_images`` holds the clean version of the
    frames when the clip was degraded from a clean source (for distillation),
    else ``None``.
    """

    images: Tensor  # (B, T, 3, H, W)
    masks: Tensor  # (B, T, H, W) bool, True = padding
    proposals: list[list[Tensor]]
    targets: list[list[FrameTargets]]
    clean_images: Tensor | None = None  # (B, T, 3, H, W)
    meta: list[dict] = field(default_factory=list)  # per clip: sequence, frame numbers, ...

    @property
    def batch_size(self) -> int:
        return self.images.shape[0]

    @property
    def clip_length(self) -> int:
        return self.images.shape[1]

    def to(self, device: torch.device | str) -> ClipBatch:
        return ClipBatch(
            images=self.images.to(device, non_blocking=True),
            masks=self.masks.to(device, non_blocking=True),
            proposals=[[p.to(device) for p in clip] for clip in self.proposals],
            targets=[[t.to(device) for t in clip] for clip in self.targets],
            clean_images=None if self.clean_images is None else self.clean_images.to(device),
            meta=self.meta,
        )
