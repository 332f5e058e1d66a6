"""DCSD: dual-constraint semantic distillation.

*Alignment*: ``1 - cos(student(degraded), teacher(clean))``, averaged over frames.

*Structure*: the frames of a batch are compared with each other. Each frame's
row of pairwise cosine similarities, divided by a temperature ``tau`` and
softmax-ed, is a distribution over the *other* frames; the student's rows must
match the teacher's: ``KL(P_teacher || P_student)`` averaged over rows.

The diagonal is excluded (each row is a distribution over the ``B - 1`` other
frames). A frame's similarity to itself is 1 for both networks, carries no
information, and at a small ``tau`` would take almost all of the softmax mass,
hiding the off-diagonal pattern the constraint is about. Batches of fewer than
three frames therefore have no structure to match and give 0.

No Hinton ``tau**2`` factor: the logits here are cosines in ``[-1, 1]`` and
``tau < 1``, so the loss is on a natural KL scale already and its weight is
set in :class:`~vsdmot.semantics.config.LossWeights`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vsdmot.semantics.config import SemanticConfig


def alignment_loss(student: Tensor, teacher: Tensor) -> Tensor:
    """Mean ``1 - cos`` between matching rows (the teacher side is treated as a constant).

    >>> alignment_loss(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])).item()
    1.0
    """
    if student.shape != teacher.shape:
        raise ValueError(
            f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)} differ"
        )
    return (1.0 - F.cosine_similarity(student, teacher.detach(), dim=-1)).mean()


def similarity_log_probs(embeddings: Tensor, tau: float) -> Tensor:
    """Row-wise log-softmax of pairwise cosine similarities / ``tau``, diagonal excluded.

    The diagonal entries are returned as 0 log-probability placeholders: callers mask
    them out.
    """
    z = F.normalize(embeddings, dim=-1)
    logits = z @ z.T / tau
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(eye, float("-inf"))
    return torch.log_softmax(logits, dim=-1).masked_fill(eye, 0.0)


def structure_loss(student: Tensor, teacher: Tensor, tau: float = 0.1) -> Tensor:
    """``KL(softmax(S_t / tau) || softmax(S_s / tau))`` over off-diagonal rows, averaged.

    >>> e = torch.randn(4, 8)
    >>> structure_loss(e, e).abs().item() < 1e-6
    True
    """
    if len(student) != len(teacher):
        # Only the n x n similarity matrices are compared: the widths may differ.
        raise ValueError(f"{len(student)} student rows but {len(teacher)} teacher rows")
    n = len(student)
    if n < 3:
        return student.sum() * 0.0  # keeps the graph (and device/dtype) intact
    log_p_t = similarity_log_probs(teacher.detach(), tau)
    log_p_s = similarity_log_probs(student, tau)
    off = ~torch.eye(n, dtype=torch.bool, device=student.device)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).masked_fill(~off, 0.0).sum(dim=-1)
    return kl.mean()


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
