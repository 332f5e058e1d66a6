"""VSD-MOT: a MOTRv2-style query-based tracker with an optional semantic branch."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vsdmot.models.batch import ClipBatch
from vsdmot.models.config import ModelConfig
from vsdmot.models.fusion import SemanticOutput

TRACK, PROPOSAL, LEARNABLE = 0, 1, 2
"""Values of :attr:`FrameOutput.kinds`."""


@dataclass
class TrackQueries:
    """Queries carried from one frame to the next (one per live track)."""

    embed: Tensor  # (N, D) content, already updated by the query interaction module
    ref_boxes: Tensor  # (N, 4) cxcywh normalised, detached

    def __len__(self) -> int:
        return self.embed.shape[0]

    @staticmethod
    def empty(d_model: int, device: torch.device | str = "cpu") -> TrackQueries:
        z = torch.zeros
        return TrackQueries(z(0, d_model, device=device), z(0, 4, device=device))


@dataclass
class FrameOutput:
    """Decoder output of one frame (final layer). Query order: track, proposal, learnable."""

    logits: Tensor  # (Q,) object logit
    boxes: Tensor  # (Q, 4) cxcywh normalised
    hidden: Tensor  # (Q, D) decoder hidden state
    kinds: Tensor  # (Q,) int64: 0 track, 1 proposal, 2 learnable
    num_track: int
    semantic: SemanticOutput | None = None


class VSDMOT(nn.Module):
    """Backbone + deformable encoder/decoder + query interaction module."""

    def __init__(self, cfg: ModelConfig, semantic_branch: nn.Module | None = None) -> None:
        super().__init__()
        self.config = cfg
        self.semantic_branch = semantic_branch

    def training_step(self, batch: ClipBatch) -> dict[str, Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def inference_step(
        self, image: Tensor, mask: Tensor, proposals: Tensor, tracks: TrackQueries | None
    ) -> FrameOutput:
        raise NotImplementedError

    def next_track_queries(self, out: FrameOutput, keep: Tensor) -> TrackQueries:
        raise NotImplementedError
