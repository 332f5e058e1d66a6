"""Embedding-matching losses: the two constraints of DCSD (dual-constraint distillation).

*Alignment*: ``1 - cos(student, teacher)`` between matching rows, averaged.

*Structure*: the rows of a batch are compared with each other. Each row's
pairwise cosine similarities, divided by a temperature ``tau`` and
softmax-ed, are a distribution over the *other* rows; the student's rows must
match the teacher's: ``KL(P_teacher || P_student)`` averaged over rows.

The diagonal is excluded (each row is a distribution over the ``B - 1`` other
rows). A row's similarity to itself is 1 for both networks, carries no
information, and at a small ``tau`` would take almost all of the softmax mass,
hiding the off-diagonal pattern the constraint is about. Batches of fewer than
three rows therefore have no structure to match and give 0.

No Hinton ``tau**2`` factor: the logits here are cosines in ``[-1, 1]`` and
``tau < 1``, so the loss is on a natural KL scale already.

Used on whole frames by the semantic branch (:mod:`vsdmot.semantics.losses`), per object
by the tracker's embedding head and by the detector adaptation; they live here so that
none of those has to import another.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


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
