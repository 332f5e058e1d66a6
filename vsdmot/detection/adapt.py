"""What adapting the detector to degraded frames optimises: its settings and its loss.

The teacher is the frozen detector on the clean frame; the student, initialised from
it, sees the degraded copy of the same frame. :func:`adaptation_losses` returns the
weighted terms of :mod:`vsdmot.detection.losses` that :class:`AdaptConfig` switches
on; a term whose weight is 0 is absent (no value, no gradient). The training loop
lives in :mod:`vsdmot.engine.adapt`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from vsdmot.degrade.base import REGISTRY
from vsdmot.degrade.registry import single_types
from vsdmot.detection.adapt_data import AdaptBatch, DegradePlan
from vsdmot.detection.darknet import YoloHead
from vsdmot.detection.losses import (
    WEIGHTINGS,
    detection_loss,
    feature_losses,
    quality_weights,
    response_loss,
)

#: Types kept out of training by default, to measure generalisation to unseen corruptions.
HELD_OUT = ("fog", "rain")


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of one adaptation run (``vsdmot adapt-detector --set NAME=VALUE``).

    Loss weights: ``detection`` (a, ground truth where a source has it), ``response``
    (b), ``feature_align`` and ``feature_struct`` (c); 0 switches a term off.
    ``weighting`` (d) spreads the distillation terms over frames by quality (``dswr``:
    ``1 + gamma (1 - q)``, normalised to mean 1) or evenly (``constant``).
    """

    size: int = 416
    batch_size: int = 8
    steps: int = 1200
    lr: float = 1e-4
    warmup: int = 50
    seed: int = 0
    detection: float = 1.0
    response: float = 1.0
    feature_align: float = 1.0
    feature_struct: float = 1.0
    struct_tau: float = 0.1
    weighting: str = "dswr"
    gamma: float = 1.0
    types: tuple[str, ...] = ()
    held_out: tuple[str, ...] = HELD_OUT
    min_severity: float = 1.0
    max_severity: float = 5.0
    clean_fraction: float = 0.2
    stack_prob: float = 0.3
    flip: bool = True
    zoom: float = 0.5
    zoom_min: float = 0.4
    checkpoint_every: int = 100

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")
        for name in ("detection", "response", "feature_align", "feature_struct"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} weight must be >= 0, got {getattr(self, name)}")
        if not any((self.detection, self.response, self.feature_align, self.feature_struct)):
            raise ValueError("every loss weight is 0: nothing to train")
        if self.size <= 0 or self.size % 32:
            raise ValueError(f"size must be a positive multiple of 32, got {self.size}")
        if not (0.0 <= self.zoom <= 1.0 and 0.0 < self.zoom_min <= 1.0):
            raise ValueError("zoom must be in [0, 1] and zoom_min in (0, 1]")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size must be >= 1")
        unknown = sorted(set(self.held_out) - set(REGISTRY))
        if unknown:
            raise ValueError(f"held_out: unknown degradation types {unknown}; "
                             f"known: {sorted(REGISTRY)}")  # fmt: skip
        overlap = set(self.types) & set(self.held_out)
        if overlap:
            raise ValueError(f"types {sorted(overlap)} are also held out")
        self.plan()  # validates the types and degradation ranges

    def train_types(self) -> tuple[str, ...]:
        """The degradation types trained on: ``types``, or every single type (not the
        whole chains ``mix`` and ``realesrgan``) but the held-out.

        >>> "fog" in AdaptConfig().train_types(), "gaussian_noise" in AdaptConfig().train_types()
        (False, True)
        """
        if self.types:
            return self.types
        return tuple(t for t in single_types() if t not in self.held_out)

    def plan(self) -> DegradePlan:
        return DegradePlan(self.train_types(), self.min_severity, self.max_severity,
                           self.clean_fraction, self.stack_prob)  # fmt: skip

    def with_settings(self, settings: dict) -> AdaptConfig:
        return dataclasses.replace(self, **settings)


def adaptation_losses(
    student: tuple[Sequence[Tensor], Sequence[Tensor]],
    teacher: tuple[Sequence[Tensor], Sequence[Tensor]],
    batch: AdaptBatch,
    heads: Sequence[YoloHead],
    cfg: AdaptConfig,
) -> dict[str, Tensor]:
    """Weighted loss terms of one batch; ``student`` / ``teacher`` are ``(maps, neck features)``
    (the student's on the degraded frames, the teacher's on the clean ones)."""
    s_maps, s_feats = student
    t_maps, t_feats = teacher
    terms: dict[str, Tensor] = {}
    labelled = batch.labelled.float()
    if cfg.detection > 0 and labelled.sum() > 0:
        labels = [torch.zeros(len(b), dtype=torch.long) for b in batch.boxes]
        det = detection_loss(s_maps, heads, batch.boxes, labels, batch.input_hw)
        terms["detection"] = cfg.detection * (det * labelled).sum() / labelled.sum()
    weights = quality_weights(batch.quality, cfg.weighting, cfg.gamma)
    if cfg.response > 0:
        terms["response"] = cfg.response * (weights * response_loss(s_maps, t_maps, heads)).mean()
    if cfg.feature_align > 0 or cfg.feature_struct > 0:
        align, struct = feature_losses(s_feats, t_feats, cfg.struct_tau)
        if cfg.feature_align > 0:
            terms["feature_align"] = cfg.feature_align * (weights * align).mean()
        if cfg.feature_struct > 0:
            terms["feature_struct"] = cfg.feature_struct * (weights * struct).mean()
    return terms
