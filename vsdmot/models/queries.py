"""Proposal queries (MOTRv2) and learnable queries: content vectors plus reference boxes.

The positional part of every query is computed from its reference box inside the
decoder (:class:`~vsdmot.models.transformer.BoxPositionEmbedding`), so a query is fully
described by ``(content, reference box)`` whatever its kind.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vsdmot.models.box_ops import inverse_sigmoid
from vsdmot.models.layers import MLP
from vsdmot.models.position import sine_encode


class ProposalQueries(nn.Module):
    """Detector proposals as anchor queries.

    The box becomes the reference box as is; the content is one shared learned vector
    plus an MLP of the detector score's sine code, so the decoder knows how much to
    trust each proposal.

    >>> enc = ProposalQueries(16)
    >>> proposals = torch.tensor([[0.5, 0.5, 0.2, 0.3, 0.9]])
    >>> content, ref = enc(proposals)
    >>> tuple(content.shape), torch.equal(ref, proposals[:, :4])
    ((1, 16), True)
    """

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.content = nn.Parameter(torch.zeros(d_model))
        nn.init.normal_(self.content, std=0.02)
        self.score_mlp = MLP(d_model, d_model, d_model, num_layers=2)

    def forward(self, proposals: Tensor) -> tuple[Tensor, Tensor]:
        """``proposals (P, 5)`` cxcywh + score -> ``content (P, D)``, ``ref (P, 4)``."""
        boxes = proposals[:, :4].clamp(1e-4, 1 - 1e-4)
        score = sine_encode(proposals[:, 4:5], self.d_model)
        return self.content + self.score_mlp(score), boxes


class LearnableQueries(nn.Module):
    """DETR-style queries with learned content and learned reference boxes."""

    def __init__(self, num_queries: int, d_model: int) -> None:
        super().__init__()
        self.content = nn.Embedding(num_queries, d_model)
        # Spread centres over the image, small boxes; learned from there.
        centres = torch.rand(num_queries, 2) * 0.8 + 0.1
        sizes = torch.full((num_queries, 2), 0.1)
        self.ref_logits = nn.Parameter(inverse_sigmoid(torch.cat((centres, sizes), -1)))

    def forward(self) -> tuple[Tensor, Tensor]:
        """``content (K, D)``, ``ref (K, 4)`` cxcywh."""
        return self.content.weight, self.ref_logits.sigmoid()
