"""Standalone training loops: DCSD distillation of the student, and the quality head.

Both take any iterable of batches (a list, a generator, a ``DataLoader``), run a
fixed number of steps with AdamW and a cosine schedule, and return a history of
per-step losses. Re-iterable inputs are cycled; a one-shot iterator that runs out
ends the loop early with a warning.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from vsdmot.semantics.config import SemanticConfig
from vsdmot.semantics.losses import dcsd_losses
from vsdmot.semantics.quality import QualityHead
from vsdmot.semantics.student import Student
from vsdmot.semantics.teachers import Teacher
from vsdmot.utils.schedule import warmup_cosine

log = logging.getLogger(__name__)


@dataclass
class DistillBatch:
    """Frames for one distillation step: unit-RGB ``(B, 3, H, W)`` (or lists of crops).

    ``teacher_embeddings`` ``(B, C)``, when given (from the cache), replace running the
    teacher on ``clean``.
    """

    clean: Tensor | list[Tensor]
    degraded: Tensor | list[Tensor]
    teacher_embeddings: Tensor | None = None


@dataclass
class TrainHistory:
    """Per-step values of every loss term (``"loss"`` is their sum)."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def append(self, terms: dict[str, float]) -> None:
        for k, v in terms.items():
            self.values.setdefault(k, []).append(v)

    def __getitem__(self, key: str) -> list[float]:
        return self.values[key]

    def mean(self, key: str, first: int | None = None, last: int | None = None) -> float:
        """Mean of ``key`` over the ``first`` or ``last`` n steps (all when neither)."""
        vals = self.values[key]
        if first is not None:
            vals = vals[:first]
        elif last is not None:
            vals = vals[-last:]
        return sum(vals) / len(vals)

    def __len__(self) -> int:
        return len(self.values.get("loss", []))


def _cycle(batches: Iterable) -> Iterator:
    while True:
        it = iter(batches)
        produced = False
        for item in it:
            produced = True
            yield item
        if it is batches or not produced:  # a one-shot iterator cannot be restarted
            return


def _optimizer(params: list[nn.Parameter], lr: float, weight_decay: float, steps: int, warmup: int):
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    factor = functools.partial(warmup_cosine, total=steps, warmup=warmup, min_ratio=0.05)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _as_batch(item) -> DistillBatch:
    if isinstance(item, DistillBatch):
        return item
    if isinstance(item, tuple | list) and len(item) in (2, 3):
        return DistillBatch(*item)
    raise TypeError(
        "distillation batches must be DistillBatch or (clean, degraded[, teacher_embeddings]) "
        f"tuples, got {type(item).__name__}"
    )


@dataclass(frozen=True)
class LoopSettings:
    """Length, optimiser and seed of a distillation loop (AdamW, warm-up + cosine to 5 %)."""

    steps: int
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 10
    grad_clip: float = 1.0
    seed: int = 0


def distill_student(
    student: Student,
    teacher: Teacher | None,
    pairs: Iterable,
    cfg: SemanticConfig,
    loop: LoopSettings,
    *,
    progress: bool = True,
) -> TrainHistory:
    """Train ``student`` with the DCSD terms ``cfg.distill`` selects on (clean, degraded) pairs.

    The teacher embeds the clean frame (unless the batch carries cached embeddings);
    the student sees the degraded one. ``loop.seed`` fixes any stochastic layer inside
    the loop without disturbing the caller's global RNG state.
    """
    steps = loop.steps
    if steps <= 0:
        raise ValueError(f"steps must be > 0, got {steps}")
    device = next(student.parameters()).device
    opt, sched = _optimizer(
        list(student.parameters()), loop.lr, loop.weight_decay, steps, loop.warmup
    )
    history = TrainHistory()
    student.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(loop.seed)
        bar = tqdm(total=steps, desc="distill", disable=not progress, leave=False)
        for step, item in enumerate(_cycle(pairs)):
            if step >= steps:
                break
            batch = _as_batch(item)
            if batch.teacher_embeddings is not None:
                target = batch.teacher_embeddings.to(device)
            elif teacher is not None:
                target = teacher.embed(batch.clean).to(device)
            else:
                raise ValueError(f"step {step}: no teacher and no cached teacher_embeddings")
            raw = student(student.prepare(batch.degraded))
            terms = dcsd_losses(raw, target, cfg)
            loss = sum(terms.values())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(student.parameters(), loop.grad_clip)
            opt.step()
            sched.step()
            history.append({"loss": loss.item(), **{k: v.item() for k, v in terms.items()}})
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.4f}")
        bar.close()
    if len(history) < steps:
        log.warning(
            "distillation stopped after %d of %d steps: the batches ran out", len(history), steps
        )
    return history


@dataclass
class PreparedBatch:
    """Quality-head inputs already made by ``head.prepare`` ``(B, C, S, S)``, and their
    labels ``(B,)``: a batch :func:`fit_quality_head` does not prepare again."""

    inputs: Tensor
    labels: Tensor


class WeightAverage:
    """Exponential moving average of a module's parameters (``decay`` on the average).

    >>> m = nn.Linear(1, 1, bias=False)
    >>> _ = nn.init.zeros_(m.weight)
    >>> avg = WeightAverage(m, decay=0.5)
    >>> with torch.no_grad(): _ = m.weight.fill_(1.0)
    >>> avg.update(); avg.copy_to(m); m.weight.item()
    0.5
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.module, self.decay = module, float(decay)
        self.shadow = [p.detach().clone() for p in module.parameters()]

    @torch.no_grad()
    def update(self) -> None:
        for avg, p in zip(self.shadow, self.module.parameters(), strict=True):
            avg.mul_(self.decay).add_(p.detach(), alpha=1.0 - self.decay)

    @torch.no_grad()
    def copy_to(self, module: nn.Module) -> None:
        for avg, p in zip(self.shadow, module.parameters(), strict=True):
            p.copy_(avg)


def fit_quality_head(
    head: QualityHead,
    batches: Iterable[tuple[Tensor | list[Tensor], Tensor] | PreparedBatch],
    steps: int,
    *,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    warmup: int = 10,
    seed: int = 0,
    progress: bool = True,
    average: float = 0.0,
) -> TrainHistory:
    """Train the quality head on ``(unit-RGB frames, quality labels in [0, 1])`` batches
    or :class:`PreparedBatch` es. With ``average > 0`` the head ends with the moving
    average of its weights over the steps (decay ``average``): one run then depends less
    on the last few batches it saw."""
    if steps <= 0:
        raise ValueError(f"steps must be > 0, got {steps}")
    opt, sched = _optimizer(list(head.parameters()), lr, weight_decay, steps, warmup)
    history = TrainHistory()
    averaged = WeightAverage(head, average) if average > 0 else None
    head.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step, item in enumerate(
            tqdm(_cycle(batches), total=steps, desc="quality", disable=not progress, leave=False)
        ):
            if step >= steps:
                break
            inputs, labels = _quality_inputs(head, item)
            loss = head.fit_loss(inputs, labels.to(inputs))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if averaged is not None:
                averaged.update()
            history.append({"loss": loss.item()})
    if averaged is not None:
        averaged.copy_to(head)
    return history


def _quality_inputs(head: QualityHead, item) -> tuple[Tensor, Tensor]:
    if isinstance(item, PreparedBatch):
        device = next(head.parameters()).device
        return item.inputs.to(device, torch.float32), item.labels
    frames, labels = item
    return head.prepare(list(frames)), labels
