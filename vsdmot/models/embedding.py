"""Object-level semantics: an appearance embedding for every query, and its losses.

The head maps a query's final decoder state to an L2-normalised vector. Two
signals train it (see :meth:`~vsdmot.models.tracker.VSDMOT.training_step`):

* **identity-contrastive** (supervised contrastive, Khosla et al. 2020): within
  one clip, the embeddings of queries assigned to the same ground-truth id in
  *other* frames are positives, every other assigned query of the clip a
  negative. The tracklet-aware assignment already knows each query's id;
* **object-level DCSD**: the embedding of an object in the (degraded) frame,
  through a linear projector, is aligned to the frozen teacher's embedding of
  the same object's crop in the *clean* frame, and the similarity structure
  between the objects of a frame is preserved (the same two constraints as the
  global DCSD, :mod:`vsdmot.nn.losses`, applied per object).

The runtime tracker reads the embeddings as its appearance cue
(:mod:`vsdmot.tracking.association`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.nn.losses import alignment_loss, structure_loss


class EmbeddingHead(nn.Module):
    """Two-layer MLP on decoder states -> L2-normalised appearance embeddings.

    >>> head = EmbeddingHead(16, 8)
    >>> e = head(torch.randn(5, 16))
    >>> e.shape, bool(torch.allclose(e.norm(dim=-1), torch.ones(5)))
    (torch.Size([5, 8]), True)
    """

    def __init__(self, d_model: int, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, dim))

    def forward(self, hidden: Tensor) -> Tensor:
        return F.normalize(self.net(hidden), dim=-1)


def identity_contrastive_loss(
    embeddings: Tensor, ids: Tensor, frames: Tensor, tau: float = 0.1
) -> Tensor:
    """Supervised contrastive loss over the assigned queries of one clip.

    For each anchor ``i`` with at least one positive (same id, another frame):
    ``-mean_{p in P(i)} log( exp(s_ip / tau) / sum_{a != i} exp(s_ia / tau) )``, where
    ``s`` is the cosine similarity. Anchors without a positive do not count; a clip
    without any positive pair gives 0 (keeping the graph).

    >>> e = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> ids, frames = torch.tensor([1, 1, 2]), torch.tensor([0, 1, 1])
    >>> round(identity_contrastive_loss(e, ids, frames, tau=1.0).item(), 4)
    0.3133
    """
    n = len(embeddings)
    if n < 2:
        return embeddings.sum() * 0.0
    z = F.normalize(embeddings, dim=-1)
    logits = z @ z.T / tau
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    log_prob = torch.log_softmax(logits.masked_fill(eye, float("-inf")), dim=-1)
    positive = (ids[:, None] == ids[None, :]) & (frames[:, None] != frames[None, :])
    counts = positive.sum(dim=-1)
    has = counts > 0
    if not has.any():
        return embeddings.sum() * 0.0
    per_anchor = -(log_prob.masked_fill(~positive, 0.0).sum(dim=-1)[has] / counts[has])
    return per_anchor.mean()


def object_structure_loss(
    student: Tensor, teacher: Tensor, frames: Tensor, tau: float = 0.1
) -> Tensor:
    """:func:`~vsdmot.nn.losses.structure_loss` within each frame, averaged over the
    frames that have at least three objects (0 if none has).

    >>> s = torch.randn(6, 4)
    >>> abs(object_structure_loss(s, s, torch.tensor([0, 0, 0, 1, 1, 1])).item()) < 1e-6
    True
    """
    if not len(student) == len(teacher) == len(frames):
        raise ValueError(
            f"{len(student)} student rows, {len(teacher)} teacher rows, {len(frames)} frames"
        )
    terms = [
        structure_loss(student[frames == f], teacher[frames == f], tau)
        for f in torch.unique(frames)
        if int((frames == f).sum()) >= 3
    ]
    if not terms:
        return student.sum() * 0.0
    return torch.stack(terms).mean()


def object_alignment_loss(projected: Tensor, teacher: Tensor) -> Tensor:
    """``1 - cos`` between each projected student embedding and its teacher crop embedding."""
    if len(projected) == 0:
        return projected.sum() * 0.0
    return alignment_loss(projected, teacher)


def crop_boxes(image: Tensor, boxes_cxcywh: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear crops ``(N, C, h, w)`` of ``image (C, H, W)`` at normalised cxcywh boxes.

    Boxes are relative to ``valid`` (the unpadded region) through ``grid_sample``'s
    [-1, 1] coordinates, so the caller passes the unpadded image.

    >>> img = torch.arange(16.0).view(1, 4, 4)
    >>> crop_boxes(img, torch.tensor([[0.5, 0.5, 1.0, 1.0]]), (4, 4)).shape
    torch.Size([1, 1, 4, 4])
    """
    if len(boxes_cxcywh) == 0:
        return image.new_zeros(0, image.shape[0], *size)
    h, w = size
    ys = torch.linspace(-0.5, 0.5, h, device=image.device, dtype=image.dtype)
    xs = torch.linspace(-0.5, 0.5, w, device=image.device, dtype=image.dtype)
    b = boxes_cxcywh.to(image)
    gx = (b[:, 0, None] + xs[None] * b[:, 2, None]) * 2 - 1  # (N, w)
    gy = (b[:, 1, None] + ys[None] * b[:, 3, None]) * 2 - 1  # (N, h)
    grid = torch.stack((gx[:, None, :].expand(-1, h, -1), gy[:, :, None].expand(-1, -1, w)), dim=-1)
    src = image[None].expand(len(b), -1, -1, -1)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)
