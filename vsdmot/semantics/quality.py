"""DSWR: dynamic semantic weight regulation.

* :class:`QualityHead` predicts the frame quality ``q_t`` in ``[0, 1]`` (1 = clean).
* :class:`QualitySmoother` smooths ``q_t`` over time at inference; the runtime
  tracker owns one per video and ``reset()`` s it between videos.
* :class:`SemanticFusion` maps the semantic vector ``s_t`` into query space
  (the adapter) and scales it by per-channel weights
  ``w_t = sigmoid(MLP([q_t, s_t]))`` (the gate).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.semantics.config import QualityConfig
from vsdmot.semantics.quality_inputs import QUALITY_INPUTS, detail_energy

__all__ = ["QualityHead", "QualitySmoother", "SemanticFusion", "detail_energy"]


class _Member(nn.Module):
    """One CNN + MLP: strided 3x3 convolutions, mean- and std-pooled, with the input
    channels' own global mean/std, into a 2-layer MLP -> one logit per frame."""

    def __init__(self, in_channels: int, channels: Sequence[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for c in channels:
            layers += [nn.Conv2d(cin, c, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
            cin = c
        self.convs = nn.Sequential(*layers)
        self.mlp = nn.Sequential(
            nn.Linear(2 * cin + 2 * in_channels, 32), nn.ReLU(inplace=True), nn.Linear(32, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        f = self.convs(x)
        stats = [f.mean(dim=(2, 3)), f.std(dim=(2, 3)), x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
        return self.mlp(torch.cat(stats, dim=1)).squeeze(-1)


class QualityHead(_Member):
    """A tiny CNN on a downscaled frame + its detail-energy maps -> quality logit.

    The input channels depend on ``cfg.version``
    (:data:`~vsdmot.semantics.quality_inputs.QUALITY_INPUTS`: RGB at ``input_size`` and
    high-frequency energy maps of the full-resolution frame); strided 3x3 convolutions;
    mean- and std-pooling (contrast and noise live in the spread, not only in the mean)
    plus the input channels' own global mean/std; a 2-layer MLP. Batch-norm free, so it
    behaves the same on a batch of one video frame.

    With ``cfg.members > 1`` the head is an ensemble of that many such networks, each
    initialised differently and fitted on its own loss, whose logits are averaged: one
    network fitted on one real scene is swayed by that scene's look in ways that differ
    from one initialisation to the next, and the average of several is steadier. The
    first member keeps the single network's parameter names (``convs``, ``mlp``), so
    files of one-member heads load as before.

    >>> head = QualityHead(QualityConfig(input_size=32))
    >>> x = head.prepare([torch.rand(3, 50, 80), torch.rand(3, 40, 40)])
    >>> x.shape, head.predict(x).shape
    (torch.Size([2, 4, 32, 32]), torch.Size([2]))
    >>> three = QualityHead(QualityConfig(input_size=32, version=2, members=3))
    >>> three.in_channels, tuple(three.member_logits(three.prepare([torch.rand(3, 40, 60)])).shape)
    (10, (3, 1))
    """

    def __init__(self, cfg: QualityConfig) -> None:
        inputs = QUALITY_INPUTS[cfg.version]
        super().__init__(inputs.channels, cfg.channels)
        self.inputs, self.config = inputs, cfg
        self.others = nn.ModuleList(
            _Member(self.in_channels, cfg.channels) for _ in range(cfg.members - 1)
        )

    @property
    def in_channels(self) -> int:
        return self.inputs.channels

    def prepare(self, crops: Sequence[Tensor]) -> Tensor:
        """Unit-RGB crops of any sizes -> the head's ``(B, C, S, S)`` input."""
        device = self.mlp[0].weight.device
        return self.inputs.prepare([c.to(device) for c in crops], self.config.input_size)

    def member_logits(self, x: Tensor) -> Tensor:
        """``(members, B)``: each member's logits."""
        return torch.stack([super().forward(x), *(m(x) for m in self.others)])

    def forward(self, x: Tensor) -> Tensor:
        """Quality logits ``(B,)`` (the members' mean); ``sigmoid`` gives ``q_t``."""
        if not self.others:
            return super().forward(x)
        return self.member_logits(x).mean(dim=0)

    def load_members(self, heads: Sequence[QualityHead]) -> None:
        """Take the weights of one-member heads of the same shape, one per member (an
        ensemble of heads fitted apart)."""
        targets: list[nn.Module] = [self, *self.others]
        if len(heads) != len(targets) or any(h.others for h in heads):
            raise ValueError(f"{len(targets)} one-member heads needed, got {len(heads)}")
        for target, head in zip(targets, heads, strict=True):
            target.convs.load_state_dict(head.convs.state_dict())
            target.mlp.load_state_dict(head.mlp.state_dict())

    def fit_loss(self, x: Tensor, targets: Tensor) -> Tensor:
        """The training loss: each member's :meth:`loss`, averaged (members learn apart)."""
        logits = self.member_logits(x)
        return torch.stack([self.loss(row, targets) for row in logits]).mean()

    def predict(self, x: Tensor) -> Tensor:
        """``q_t`` in ``[0, 1]`` for prepared inputs."""
        return torch.sigmoid(self(x))

    @staticmethod
    def loss(logits: Tensor, targets: Tensor) -> Tensor:
        """Binary cross-entropy against soft quality labels in ``[0, 1]``.

        BCE rather than L1: it is the proper scoring rule for a probability-like target
        and keeps gradients alive near 0 and 1.
        """
        t = targets.to(logits).clamp(0.0, 1.0)
        return F.binary_cross_entropy_with_logits(logits, t)


class QualitySmoother:
    """Exponential moving average of ``q_t`` over the frames of one video.

    ``q_smooth = ema * q_smooth + (1 - ema) * q_t``; the first frame after ``reset()``
    starts the average at its own value. The runtime tracker owns one instance per
    video.

    >>> s = QualitySmoother(ema=0.5)
    >>> [round(s(torch.tensor([q])).item(), 3) for q in (1.0, 0.0, 0.0)]
    [1.0, 0.5, 0.25]
    >>> s.reset(); s(torch.tensor([0.2])).item()
    0.2...
    """

    def __init__(self, ema: float) -> None:
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"QualitySmoother needs ema in [0, 1), got {ema}")
        self.ema = float(ema)
        self._state: Tensor | None = None

    def reset(self) -> None:
        self._state = None

    @property
    def value(self) -> Tensor | None:
        return self._state

    def __call__(self, q: Tensor) -> Tensor:
        q = q.detach()
        if self._state is None or self._state.shape != q.shape:
            self._state = q.clone()
        else:
            self._state = self.ema * self._state.to(q) + (1.0 - self.ema) * q
        return self._state


class SemanticFusion(nn.Module):
    """Adapter ``s_t -> d_model`` and, with DSWR on, the quality-driven per-channel gate.

    ``forward(s, q)`` returns ``(injection, weight)``: ``injection = w * adapter(s)``
    with ``w = sigmoid(MLP([q, s]))``; with ``gate=False`` the weight is ``None`` and
    ``injection = adapter(s)``. ``zero_init`` starts the adapter's output at 0, so a
    pretrained tracker is unchanged until the branch has learnt something.

    >>> fuse = SemanticFusion(16, 8, hidden=32, gate_hidden=16)
    >>> inj, w = fuse(torch.randn(2, 16), torch.tensor([0.1, 0.9]))
    >>> inj.shape, bool(((w > 0) & (w < 1)).all())
    (torch.Size([2, 8]), True)
    """

    def __init__(
        self,
        embed_dim: int,
        d_model: int,
        hidden: int = 256,
        gate_hidden: int = 128,
        gate: bool = True,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(embed_dim)
        self.adapter = nn.Sequential(
            nn.Linear(embed_dim, hidden), nn.GELU(), nn.Linear(hidden, d_model)
        )
        if zero_init:
            nn.init.zeros_(self.adapter[-1].weight)
            nn.init.zeros_(self.adapter[-1].bias)
        self.gate = (
            nn.Sequential(
                nn.Linear(embed_dim + 1, gate_hidden), nn.GELU(), nn.Linear(gate_hidden, d_model)
            )
            if gate
            else None
        )

    def forward(self, s: Tensor, q: Tensor | None) -> tuple[Tensor, Tensor | None]:
        injection = self.adapter(self.norm(s))
        if self.gate is None:
            return injection, None
        if q is None:
            raise ValueError("the DSWR gate needs a quality estimate q (B,)")
        # The gate sees the unit-norm s: with a layer-normed s (513 unit-scale inputs)
        # the single scalar q would be drowned out at initialisation.
        gate_in = torch.cat([q.to(s).unsqueeze(-1), F.normalize(s, dim=-1)], dim=-1)
        weight = torch.sigmoid(self.gate(gate_in))
        return weight * injection, weight
