"""The contract between the semantic branch and the tracker.

The semantic branch (``vsdmot.semantics``) is any ``nn.Module`` with::

    forward(images: Tensor,               # (B, 3, H, W) ImageNet-normalised RGB
            masks: Tensor,                # (B, H, W) bool, True = padding
            clean_images: Tensor | None,  # (B, 3, H, W) clean frames (distillation), or None
            quality_targets: Tensor | None,  # (B,) frame-quality labels in [0, 1], or None
            ) -> SemanticOutput

The tracker calls it on all ``B * T`` frames of a training batch at once and on one frame
at inference, and adds the frame's ``injection[:, None, :]`` to every query
(track, proposal, learnable) right before the decoder
(:meth:`vsdmot.models.tracker.VSDMOT._inject_semantics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class SemanticOutput:
    """What the semantic branch returns for one frame of a batch.

    ``losses`` are already weighted; the tracker's criterion adds them (averaged over the
    clip's frames) to the training loss.
    """

    injection: Tensor  # (B, d_model): the vector added to every query
    quality: Tensor | None = None  # (B,) predicted frame quality q_t in [0, 1]
    weight: Tensor | None = None  # (B, d_model) fusion weight w_t
    losses: dict[str, Tensor] = field(default_factory=dict)

    def detach(self) -> SemanticOutput:
        """A copy cut from the graph (for logging without holding activations)."""
        return SemanticOutput(
            injection=self.injection.detach(),
            quality=None if self.quality is None else self.quality.detach(),
            weight=None if self.weight is None else self.weight.detach(),
            losses={k: v.detach() for k, v in self.losses.items()},
        )
