"""DCSD: dual-constraint semantic distillation of whole frames.

*Alignment* (:func:`~vsdmot.nn.losses.alignment_loss`): ``1 - cos(student(degraded),
teacher(clean))``, averaged over frames. *Structure*
(:func:`~vsdmot.nn.losses.structure_loss`): the student's distribution of similarities
between the frames of a batch must match the teacher's (details in :mod:`vsdmot.nn.losses`).
Their weights are set in :class:`~vsdmot.semantics.config.LossWeights`.
"""

from __future__ import annotations

from torch import Tensor

from vsdmot.nn.losses import alignment_loss, structure_loss
from vsdmot.semantics.config import SemanticConfig


def dcsd_losses(student: Tensor, teacher: Tensor, cfg: SemanticConfig) -> dict[str, Tensor]:
    """The weighted DCSD terms ``cfg.distill`` selects: ``sem_align`` and/or ``sem_struct``."""
    losses: dict[str, Tensor] = {}
    if cfg.use_alignment:
        losses["sem_align"] = cfg.loss_weights.alignment * alignment_loss(student, teacher)
    if cfg.use_structure:
        losses["sem_struct"] = cfg.loss_weights.structure * structure_loss(
            student, teacher, cfg.temperature
        )
    return losses
