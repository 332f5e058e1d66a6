"""Query interaction module (MOTR): turns kept decoder states into next-frame track queries."""

from __future__ import annotations

from torch import Tensor, nn

from vsdmot.models.layers import FFN
from vsdmot.models.transformer import BoxPositionEmbedding


class QueryInteraction(nn.Module):
    """Self-attention among one clip's kept track queries, then an FFN.

    Letting the tracks see each other is what helps neighbouring (occluding) tracks keep
    distinct identities. The reference box of the next frame is the predicted box,
    handled by the caller; it only enters here as the positional code.

    >>> import torch
    >>> qim = QueryInteraction(16, 2, 32, 0.0)
    >>> qim(torch.randn(3, 16), torch.rand(3, 4)).shape
    torch.Size([3, 16])
    """

    def __init__(self, d_model: int, n_heads: int, ffn_dim: int, dropout: float) -> None:
        super().__init__()
        self.pos_embed = BoxPositionEmbedding(d_model)
        self.self_attn = nn.MultiheadAttention(d_model, n_heads, dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d_model)
        self.ffn = FFN(d_model, ffn_dim, dropout)

    def forward(self, hidden: Tensor, boxes: Tensor) -> Tensor:
        """``hidden (N, D)``, ``boxes (N, 4)`` of one clip -> updated ``(N, D)``.

        Works on one clip at a time: track sets of different clips never mix and need no
        padding.
        """
        if hidden.shape[0] == 0:
            return hidden
        q = (hidden + self.pos_embed(boxes.detach()))[None]
        attn = self.self_attn(q, q, hidden[None], need_weights=False)[0][0]
        return self.ffn(self.norm(hidden + self.dropout(attn)))
