"""Training of the person-crop embedder (:mod:`vsdmot.reid.model`): the paper's recipe at
object level.

Every step draws ``pairs`` frame pairs ``(t, t + k)`` (``k`` uniform in ``1..max_gap``)
and takes every person of both frames, each in a random variant (degraded, or clean with
probability ``clean_share``), shifted within its margin and mirrored half the time. The
student sees those crops; the frozen teacher has seen the clean crop of the same person.
Losses:

* identity (:func:`~vsdmot.models.embedding.identity_contrastive_loss`): positives are the
  same person in the other frame of the pair, negatives every other person of the batch,
  so the hardest ones (people of the same and of nearby frames) are always there;
* structure (:func:`~vsdmot.nn.losses.structure_loss`): the batch's pairwise similarities
  follow the teacher's on the clean crops (DCSD's relational constraint);
* alignment (:func:`~vsdmot.nn.losses.alignment_loss`): a training-only projection of the
  student's embedding matches the teacher's clean embedding (DCSD's direct constraint).

Checkpoints (resumable: weights, optimiser, step, random state) are written atomically
every ``checkpoint_every`` steps; the final weights with their provenance go to the
embedder's own file format.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from vsdmot.engine.reid_data import CropSet
from vsdmot.models.embedding import identity_contrastive_loss
from vsdmot.nn.losses import alignment_loss, structure_loss
from vsdmot.reid.model import CropEmbeddingNet
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReidTrainConfig:
    """Optimisation and sampling settings (the architecture is
    :class:`~vsdmot.reid.model.CropEmbedderConfig`)."""

    steps: int = 1500
    pairs: int = 6
    max_gap: int = 30
    lr: float = 5e-4
    weight_decay: float = 1e-4
    tau: float = 0.1
    structure_weight: float = 1.0
    align_weight: float = 0.5
    clean_share: float = 0.2
    seed: int = 0
    checkpoint_every: int = 200


@dataclass
class Batch:
    crops: Tensor  # (B, 3, h, w) in [0, 1]
    ids: Tensor
    frames: Tensor
    teacher: Tensor


class PairSampler:
    """Draws the frame pairs and the crops' variants, windows and mirrors (seeded)."""

    def __init__(self, data: CropSet, cfg: ReidTrainConfig, size: tuple[int, int]) -> None:
        self.data, self.cfg, self.size = data, cfg, size
        self.rows = data.rows_of()
        self.times = np.array(sorted(self.rows))
        self.rng = np.random.default_rng(cfg.seed)

    def _pair(self) -> tuple[int, int]:
        while True:
            t = int(self.rng.choice(self.times))
            u = t + int(self.rng.integers(1, self.cfg.max_gap + 1))
            if u in self.rows:
                return t, u

    def draw(self) -> Batch:
        times = [t for _ in range(self.cfg.pairs) for t in self._pair()]
        rows = np.concatenate([self.rows[t] for t in times])
        # A frame drawn twice counts as two frames: its people are positives of each other.
        frames = np.concatenate([np.full(len(self.rows[t]), i) for i, t in enumerate(times)])
        n_var = self.data.crops.shape[1]
        clean = self.rng.random(len(rows)) < self.cfg.clean_share
        variant = np.where(clean, 0, self.rng.integers(1, max(n_var, 2), len(rows)))
        variant = np.minimum(variant, n_var - 1)
        (h, w), (ph, pw) = self.size, self.data.crops.shape[2:4]
        out = np.empty((len(rows), h, w, 3), dtype=np.uint8)
        for i, (r, v) in enumerate(zip(rows, variant, strict=True)):
            top, left = self.rng.integers(0, ph - h + 1), self.rng.integers(0, pw - w + 1)
            crop = self.data.crops[r, v, top : top + h, left : left + w]
            out[i] = crop[:, ::-1] if self.rng.random() < 0.5 else crop
        return Batch(torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255.0,
                     torch.from_numpy(self.data.ids[rows]), torch.from_numpy(frames),
                     torch.from_numpy(self.data.teacher[rows]))  # fmt: skip


def reid_losses(net: CropEmbeddingNet, align: nn.Module, batch: Batch,
                cfg: ReidTrainConfig) -> dict[str, Tensor]:  # fmt: skip
    """The three losses of one batch and their weighted sum (``loss``)."""
    z = net(batch.crops)
    parts = {
        "identity": identity_contrastive_loss(z, batch.ids, batch.frames, cfg.tau),
        "structure": structure_loss(z, batch.teacher, cfg.tau),
        "align": alignment_loss(F.normalize(align(z), dim=-1), batch.teacher),
    }
    parts["loss"] = (parts["identity"] + cfg.structure_weight * parts["structure"]
                     + cfg.align_weight * parts["align"])  # fmt: skip
    return parts


@dataclass
class TrainState:
    net: CropEmbeddingNet
    align: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    step: int = 0


def new_state(net: CropEmbeddingNet, cfg: ReidTrainConfig, teacher_dim: int) -> TrainState:
    """The student, its training-only projection to the teacher's width, AdamW with a
    cosine schedule."""
    align = nn.Linear(net.cfg.dim, teacher_dim)
    params = [p for p in [*net.parameters(), *align.parameters()] if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.steps, 1))
    return TrainState(net, align, opt, sched)


def save_state(path: Path, state: TrainState, sampler: PairSampler, history: list) -> None:
    blob = {"step": state.step, "net": state.net.state_dict(), "align": state.align.state_dict(),
            "optimizer": state.optimizer.state_dict(), "scheduler": state.scheduler.state_dict(),
            "sampler": sampler.rng.bit_generator.state, "torch": torch.get_rng_state(),
            "history": history}  # fmt: skip
    with atomic_write(path, "wb") as f:
        torch.save(blob, f)


def resume_state(path: Path, state: TrainState, sampler: PairSampler) -> list:
    """Restore a checkpoint written by :func:`save_state`; the loss history so far."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    state.net.load_state_dict(blob["net"])
    state.align.load_state_dict(blob["align"])
    state.optimizer.load_state_dict(blob["optimizer"])
    state.scheduler.load_state_dict(blob["scheduler"])
    sampler.rng.bit_generator.state = blob["sampler"]
    torch.set_rng_state(blob["torch"])
    state.step = int(blob["step"])
    return list(blob["history"])


def train_reid(
    net: CropEmbeddingNet,
    data: CropSet,
    cfg: ReidTrainConfig,
    checkpoint: Path | None = None,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Train ``net`` in place; the per-step losses. Resumes from ``checkpoint`` when it
    exists and writes it every ``cfg.checkpoint_every`` steps."""
    torch.manual_seed(cfg.seed)
    state = new_state(net, cfg, data.teacher.shape[1])
    sampler = PairSampler(data, cfg, (net.cfg.height, net.cfg.width))
    history: list[dict[str, float]] = []
    if checkpoint is not None and checkpoint.is_file():
        history = resume_state(checkpoint, state, sampler)
        log.info("resumed from %s at step %d", checkpoint, state.step)
    net.train()
    bar = tqdm(total=cfg.steps, initial=state.step, desc="train-reid", disable=not progress)
    while state.step < cfg.steps:
        parts = reid_losses(net, state.align, sampler.draw(), cfg)
        state.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        state.optimizer.step()
        state.scheduler.step()
        state.step += 1
        history.append({k: float(v.detach()) for k, v in parts.items()})
        bar.update(1)
        bar.set_postfix(loss=f"{history[-1]['loss']:.3f}")
        if checkpoint is not None and state.step % cfg.checkpoint_every == 0:
            save_state(checkpoint, state, sampler, history)
    bar.close()
    net.eval()
    return history


def config_record(cfg: ReidTrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
