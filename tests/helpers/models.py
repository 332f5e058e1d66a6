"""Small models and configs: a toy tracker for the engine tests, a tiny joint model."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from vsdmot.config import TrainConfig, compose_config
from vsdmot.models.batch import ClipBatch

# -- a toy tracker for the engine tests (also imported by the DDP worker script) ----------


class ToyTracker(nn.Module):
    """Regresses each frame's mean target box from pooled features and proposals.

    It has a backbone (for the lr multiplier), norms and biases (no weight decay),
    dropout (consumes the global torch RNG), a private generator (like the real
    model's track-query augmentation) and a head that never gets gradients (DDP).
    """

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        torch.manual_seed(cfg.model.seed)
        self.config = cfg.model
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4), nn.GroupNorm(2, 8), nn.ReLU())
        self.head = nn.Sequential(
            nn.Linear(8 + 4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4)
        )
        self.unused = nn.Linear(3, 3)
        self.fail_at: int | None = None
        self._calls = 0
        self._gen = torch.Generator().manual_seed(cfg.model.seed)

    def training_step(self, batch: ClipBatch) -> dict[str, Tensor]:
        self._calls += 1
        feats = self.backbone(batch.images.flatten(0, 1)).mean((2, 3))
        props = torch.stack([p[:, :4].mean(0) if len(p) else torch.zeros(4)
                             for clip in batch.proposals for p in clip])  # fmt: skip
        noise = 0.01 * torch.randn(props.shape, generator=self._gen)
        pred = self.head(torch.cat([feats, props + noise], 1)).sigmoid()
        target = torch.stack([t.boxes.mean(0) for clip in batch.targets for t in clip])
        l1 = (pred - target).abs().mean()
        loss = l1 * (float("nan") if self._calls == self.fail_at else 1.0)
        return {"loss": loss, "loss_l1": l1.detach(), "num_gt": torch.tensor(float(len(target)))}


def toy_config(data: Path, *extra: str) -> TrainConfig:
    return compose_config(
        None,
        [
            f"data.train=[{data}]",
            "data.clip_length=2",
            "data.augment.scales=[48,64]",
            "data.proposals.source=gt",
            "semantic.semantics=none",
            "optim.lr=3e-3",
            "optim.schedule=cosine",
            "optim.warmup_steps=2",
            "optim.grad_clip=1.0",
            "train.steps=6",
            "train.batch_size=2",
            "train.log_every=2",
            "train.ckpt_every=3",
            "train.tensorboard=false",
            *extra,
        ],
    )


# -- joint training on a generated clean sequence and its degraded copy -------------------

#: A tiny model and semantic branch for joint-training tests (test files add their own
#: clip length, heads and logging).
TINY_JOINT = [
    "model.backbone=mobilenet_v2",
    "model.d_model=32",
    "model.n_heads=4",
    "model.enc_layers=1",
    "model.dec_layers=2",
    "model.ffn_dim=64",
    "model.n_points=2",
    "model.num_learnable_queries=3",
    "data.augment.scales=[96]",
    "data.augment.max_size=128",
    "data.proposals.source=det",
    "data.num_workers=0",
    "semantic.adapter_hidden=32",
    "semantic.student.input_size=32",
    "semantic.student.width=0.25",
    "semantic.student.depth=6",
    "semantic.student.feature_dim=32",
    "semantic.student.head_hidden=32",
    "semantic.quality.input_size=32",
    "semantic.quality.channels=[8,16]",
    "semantic.quality.gate_hidden=16",
    "train.tensorboard=false",
    "train.device=cpu",
]


def joint_config(
    tiny: list[str], lq_data: tuple[Path, Path], teacher: Path, *extra: str
) -> TrainConfig:
    """A training config on the degraded copy, paired with its clean original."""
    clean, lq = lq_data
    return compose_config(
        None,
        [*tiny, f"data.train=[{lq}]", f"data.clean_pairs=[{{degraded: {lq}, clean: {clean}}}]",
         f"semantic.teacher.name_or_path={teacher}", *extra],
    )  # fmt: skip
