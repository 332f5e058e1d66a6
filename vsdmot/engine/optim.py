"""AdamW parameter groups and the warm-up + step/cosine learning-rate schedule."""

from __future__ import annotations

from bisect import bisect_right

import torch
from torch import nn

from vsdmot.config import OptimConfig
from vsdmot.utils.schedule import cosine_decay, linear_warmup


def is_backbone(name: str) -> bool:
    """Parameters of a module called ``backbone`` (at any depth) get the backbone lr."""
    return "backbone" in name.split(".")


def param_groups(model: nn.Module, cfg: OptimConfig) -> list[dict]:
    """Up to four groups: (backbone or not) x (decayed or not).

    Norm weights, biases and other 1-d parameters get no weight decay: decaying a
    norm's scale towards 0 fights the normalisation. Frozen parameters are left out.
    """
    buckets: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    names: dict[tuple[bool, bool], list[str]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        key = (is_backbone(name), p.ndim > 1)
        buckets.setdefault(key, []).append(p)
        names.setdefault(key, []).append(name)
    groups = []
    # Non-backbone groups first, so group 0's lr is the headline lr in the logs.
    for bb in (False, True):
        for decay in (True, False):
            if (bb, decay) not in buckets:
                continue
            groups.append(
                {
                    "params": buckets[(bb, decay)],
                    "lr": cfg.lr * (cfg.backbone_lr_mult if bb else 1.0),
                    "weight_decay": cfg.weight_decay if decay else 0.0,
                    "name": f"{'backbone' if bb else 'main'}{'' if decay else '_no_decay'}",
                }
            )
    if not groups:
        raise ValueError("the model has no trainable parameters")
    return groups


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    betas = (float(cfg.betas[0]), float(cfg.betas[1]))
    return torch.optim.AdamW(param_groups(model, cfg), lr=cfg.lr, betas=betas)


def lr_factor(step: int, total: int, cfg: OptimConfig) -> float:
    """Multiplier of the base lr after ``step`` optimiser steps (``step`` in ``0..total``).

    >>> from vsdmot.config import OptimConfig
    >>> c = OptimConfig(schedule="step", warmup_steps=10, milestones=[0.5], gamma=0.1)
    >>> [round(lr_factor(s, 100, c), 4) for s in (0, 5, 10, 49, 50, 99)]
    [0.001, 0.5005, 1.0, 1.0, 0.1, 0.1]
    >>> c = OptimConfig(schedule="cosine", warmup_steps=0, min_lr_ratio=0.0)
    >>> [round(lr_factor(s, 100, c), 4) for s in (0, 50, 100)]
    [1.0, 0.5, 0.0]
    """
    if step < cfg.warmup_steps:
        return linear_warmup(step, cfg.warmup_steps, cfg.warmup_factor)
    if cfg.schedule == "constant":
        return 1.0
    if cfg.schedule == "step":
        bounds = sorted(round(m * total) for m in cfg.milestones)
        return cfg.gamma ** bisect_right(bounds, step)
    return cosine_decay(step, total, cfg.warmup_steps, cfg.min_lr_ratio)


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, cfg: OptimConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step schedule; its state is just the step count, restored from checkpoints."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total_steps, cfg))
