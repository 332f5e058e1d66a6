"""The training loop: AdamW, warm-up schedule, grad clipping, AMP on CUDA, DDP, resume.

Run folder layout (written by rank 0 only)::

    RUN/config.yaml            the resolved config of the run
    RUN/train.log              log lines of the run
    RUN/metrics.csv            step, lr, loss components, grad_norm, it/s
    RUN/tensorboard/           event files (when tensorboard is installed)
    RUN/checkpoints/last.pt    resumable checkpoint (+ step_XXXXXXX.pt snapshots)
    RUN/model.pt               final weights + model config, for ``vsdmot track``

Reproducibility: on CPU with ``num_workers`` anything, a run is bit-identical
for a seed, and ``resume`` continues bit-identically (data order and
augmentation are keyed by the sample's position in the stream, RNG and
optimiser states are checkpointed). On CUDA, atomics in backward passes make
runs differ in the last bits unless ``train.deterministic`` is set; DDP runs
match single-process runs only up to float summation order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from vsdmot.config import TrainConfig, config_to_dict, save_config
from vsdmot.data.clips import ClipDataset, build_clip_dataset, make_loader
from vsdmot.engine.checkpoint import (
    changed_settings,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    save_model,
    set_rng_state,
)
from vsdmot.engine.distributed import DistInfo, barrier, cleanup_distributed, init_distributed
from vsdmot.engine.interrupt import StopRequest
from vsdmot.engine.metrics import MetricsWriter
from vsdmot.engine.optim import build_optimizer, build_scheduler
from vsdmot.engine.runlog import run_log
from vsdmot.models.batch import ClipBatch

log = logging.getLogger(__name__)

ModelFactory = Callable[[TrainConfig], nn.Module]


class TrainingError(RuntimeError):
    """Training cannot go on (non-finite loss, a model that returns no ``loss``)."""


class RunExistsError(ValueError):
    """The output folder already holds a run and ``resume`` was not asked for."""


@dataclass
class TrainResult:
    out_dir: Path
    step: int
    model_path: Path
    checkpoint: Path
    metrics: dict[str, float] = field(default_factory=dict)  # last logged row


def build_default_model(cfg: TrainConfig) -> nn.Module:
    """:func:`build_model` with the semantic branch the config asks for.

    ``semantic.student_weights`` (a ``vsdmot distill`` output) initialises the student and
    the quality head; it is read here, at training time only, never at inference.
    """
    from vsdmot.models.factory import build_vsdmot

    return build_vsdmot(cfg.model, cfg.semantic)


def _run_left_embed_dim_open(out_dir: Path) -> bool:
    """Whether the run being resumed in ``out_dir`` recorded ``semantic.embed_dim: null``."""
    import yaml

    saved = out_dir / "config.yaml"
    if not saved.is_file():
        return False
    data = yaml.safe_load(saved.read_text()) or {}
    semantic = data.get("semantic") or {}
    return "embed_dim" in semantic and semantic["embed_dim"] is None


def record_embed_dim(
    cfg: TrainConfig, model: nn.Module, resumed_from: Path | None = None
) -> TrainConfig:
    """``cfg`` with ``semantic.embed_dim`` set to the branch's size when it was left open.

    Inference builds the model from the recorded config: with the size written down, a
    student-mode checkpoint loads without the teacher's folder or a hub lookup. A resumed
    run that was started without the size keeps it open, so that it still fits its
    checkpoint.
    """
    branch = getattr(model, "semantic_branch", None)
    if branch is None or cfg.semantic.embed_dim is not None:
        return cfg
    if resumed_from is not None and _run_left_embed_dim_open(resumed_from):
        return cfg
    semantic = dataclasses.replace(cfg.semantic, embed_dim=int(branch.embed_dim))
    return dataclasses.replace(cfg, semantic=semantic)


def seed_everything(seed: int) -> None:
    """Seed the global RNGs the model may consume (dropout, query sampling, ...)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def total_steps(cfg: TrainConfig, num_clips: int, world_size: int) -> int:
    """``train.steps``, or enough steps for ``train.epochs`` passes over the clips."""
    if cfg.train.epochs is None:
        return cfg.train.steps
    per_step = cfg.train.batch_size * world_size
    return max(1, math.ceil(cfg.train.epochs * num_clips / per_step))


class _TrainingStep(nn.Module):
    """Routes ``forward`` to ``training_step`` so DDP's forward hooks see the step."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: ClipBatch) -> dict[str, Tensor]:
        return self.model.training_step(batch)


def _scalars(out: dict[str, Tensor]) -> dict[str, float]:
    return {
        k: float(v.detach()) for k, v in out.items() if isinstance(v, Tensor) and v.numel() == 1
    }


class Trainer:
    """One training run into ``out_dir``; :meth:`fit` trains (or resumes) to the last step."""

    def __init__(
        self,
        cfg: TrainConfig,
        model: nn.Module,
        dataset: ClipDataset,
        out_dir: str | Path,
        dist: DistInfo | None = None,
    ) -> None:
        self.cfg = cfg
        self.dist = dist or DistInfo()
        self.device = self.dist.device
        self.out_dir = Path(out_dir)
        self.ckpt_dir = self.out_dir / "checkpoints"
        self.dataset = dataset
        self.model = model.to(self.device)
        self.total = total_steps(cfg, len(dataset), self.dist.world_size)
        self.optimizer = build_optimizer(self.model, cfg.optim)
        self.scheduler = build_scheduler(self.optimizer, self.total, cfg.optim)
        self.amp = cfg.train.amp and self.device.type == "cuda"
        self.amp_dtype = getattr(torch, cfg.train.amp_dtype)
        # Loss scaling is only needed for float16; bfloat16 has float32's range.
        self.scaler = torch.amp.GradScaler(
            "cuda", enabled=self.amp and self.amp_dtype == torch.float16
        )
        self.step = 0
        step_module = _TrainingStep(self.model)
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            # device_ids=None: the batch is moved to the device by us (ClipBatch.to),
            # DDP would not know how to scatter a ClipBatch anyway.
            step_module = DistributedDataParallel(
                step_module, find_unused_parameters=cfg.train.find_unused_parameters
            )
        self.step_module = step_module

    # -- checkpoints ----------------------------------------------------------------

    @property
    def last_checkpoint(self) -> Path:
        return self.ckpt_dir / "last.pt"

    def save(self) -> None:
        """Checkpoint (a collective under DDP: every rank's RNG state is gathered)."""
        states = [rng_state(self.model)]
        if self.dist.enabled:
            states = [{} for _ in range(self.dist.world_size)]
            torch.distributed.all_gather_object(states, rng_state(self.model))
        if not self.dist.is_main:
            return
        kwargs = dict(
            rng_states=states,
            cfg=self.cfg,
            step=self.step,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            scaler=self.scaler if self.scaler.is_enabled() else None,
        )
        snapshot = self.ckpt_dir / f"step_{self.step:07d}.pt"
        save_checkpoint(snapshot, **kwargs)
        save_checkpoint(self.last_checkpoint, **kwargs)
        self._prune()
        log.debug("checkpoint %s", snapshot)

    def _prune(self) -> None:
        keep = self.cfg.train.keep_checkpoints
        if keep <= 0:
            return
        snaps = sorted(p for p in self.ckpt_dir.glob("step_*.pt") if re.match(r"step_\d+", p.stem))
        for old in snaps[:-keep]:
            old.unlink(missing_ok=True)

    def resume(self, path: str | Path | None = None) -> None:
        """Restore model, optimiser, schedule, scaler, step and RNG states."""
        path = Path(path) if path is not None else self.last_checkpoint
        ckpt = load_checkpoint(path, self.cfg)
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(ckpt["scaler"])
        self.step = int(ckpt["step"])
        states = ckpt["rng"]
        if len(states) == self.dist.world_size:
            set_rng_state(states[self.dist.rank], self.model)
        else:
            # Another world size: the data stream still resumes exactly (it is keyed by
            # sample position), but model-side randomness restarts from a fresh seed.
            log.warning(
                "%s: saved by %d process(es), resumed by %d: model RNG reseeded",
                path, len(states), self.dist.world_size,
            )  # fmt: skip
            seed_everything(self.cfg.train.seed + self.dist.rank + self.step)
        # The model sections were checked on loading; the others may change, with a warning.
        sections = ("data", "optim", "train")
        now = {k: config_to_dict(getattr(self.cfg, k)) for k in sections}
        changed = changed_settings({k: ckpt["config"].get(k, {}) for k in sections}, now)
        if changed:
            log.warning("%s: settings differ from the checkpoint's (%s)", path, ", ".join(changed))
        log.info("resumed from %s at step %d", path, self.step)

    # -- the loop -------------------------------------------------------------------

    def _train_step(self, batch: ClipBatch) -> dict[str, float]:
        batch = batch.to(self.device)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
            out = self.step_module(batch)
        if "loss" not in out:
            raise TrainingError(f"training_step returned no 'loss' (keys: {sorted(out)})")
        loss = out["loss"]
        metrics = _scalars(out)
        if not math.isfinite(metrics["loss"]):
            meta = [(m.get("sequence"), m.get("frames")) for m in batch.meta]
            raise TrainingError(f"step {self.step + 1}: non-finite loss {metrics} on clips {meta}")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        max_norm = self.cfg.optim.grad_clip if self.cfg.optim.grad_clip > 0 else math.inf
        metrics["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        metrics["lr"] = self.optimizer.param_groups[0]["lr"]
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        return metrics

    def _reduce(self, sums: dict[str, float], counts: dict[str, int]) -> dict[str, float]:
        local = {k: sums[k] / counts[k] for k in sums}
        if not self.dist.enabled:
            return local
        # Components may differ between ranks (a semantic loss only some clips have):
        # gather the dicts instead of all-reducing a fixed-layout tensor.
        gathered: list[dict[str, float]] = [{} for _ in range(self.dist.world_size)]
        torch.distributed.all_gather_object(gathered, local)
        keys = sorted({k for d in gathered for k in d})
        return {k: float(np.mean([d[k] for d in gathered if k in d])) for k in keys}

    def fit(self, resume: bool = False, stop_at: int | None = None) -> TrainResult:
        """Train to the last step (or pause after ``stop_at``, with a checkpoint there).

        The schedule always spans the full run, so a run paused at ``stop_at`` and
        resumed ends exactly where an uninterrupted one does.
        """
        end = self.total if stop_at is None else min(stop_at, self.total)
        self._start(resume)
        writer = self._metrics_writer(resume)
        loader = make_loader(
            self.dataset,
            self.cfg.train.batch_size,
            seed=self.cfg.train.seed,
            num_workers=self.cfg.data.num_workers,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
            start_step=self.step,
            pin_memory=self.device.type == "cuda",
        )
        if self.dist.is_main:
            log.info(
                "training %d steps (from %d), %d clips, batch %d x %d process(es), device %s",
                self.total, self.step, len(self.dataset), self.cfg.train.batch_size,
                self.dist.world_size, self.device,
            )  # fmt: skip
        try:
            last = self._loop(iter(loader), end, writer)
        finally:
            if writer is not None:
                writer.close()
        model_path = self.out_dir / "model.pt"
        if self.dist.is_main and self.step == self.total:
            save_model(model_path, self.model, self.cfg, self.step)
            log.info("final model: %s", model_path)
        barrier(self.dist)
        return TrainResult(self.out_dir, self.step, model_path, self.last_checkpoint, last)

    def _start(self, resume: bool) -> None:
        """Resume, or refuse to overwrite a run, or seed a fresh one; record the config."""
        if resume:
            self.resume()
        elif self.dist.is_main and self.last_checkpoint.exists():
            raise RunExistsError(
                f"{self.out_dir} already holds a run ({self.last_checkpoint}); "
                "resume it (--resume) or choose another output folder"
            )
        else:
            seed_everything(self.cfg.train.seed + self.dist.rank)
        if self.dist.is_main:
            save_config(self.cfg, self.out_dir / "config.yaml")

    def _metrics_writer(self, resume: bool) -> MetricsWriter | None:
        """The metrics files, on the main process only."""
        if not self.dist.is_main:
            return None
        return MetricsWriter(
            self.out_dir,
            resume_step=self.step if resume else None,
            tensorboard=self.cfg.train.tensorboard,
        )

    def _loop(
        self, batches: Iterator[ClipBatch], end: int, writer: MetricsWriter | None
    ) -> dict[str, float]:
        """Steps up to ``end``: log every ``log_every``, checkpoint every ``ckpt_every``.

        Returns the last logged row.
        """
        cfg, main = self.cfg, self.dist.is_main
        self.step_module.train()
        last: dict[str, float] = {}
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        t0, n0 = time.perf_counter(), self.step
        bar = tqdm(total=self.total, initial=self.step, disable=not main, unit="step",
                   dynamic_ncols=True, desc="train")  # fmt: skip
        stop = StopRequest(enabled=not self.dist.enabled)
        try:
            with stop, logging_redirect_tqdm() if main else contextlib.nullcontext():
                while self.step < end:
                    metrics = self._train_step(next(batches))
                    for k, v in metrics.items():
                        sums[k] = sums.get(k, 0.0) + v
                        counts[k] = counts.get(k, 0) + 1
                    bar.update(1)
                    if self.step % cfg.train.log_every == 0 or self.step == end:
                        last = self._log_row(sums, counts, metrics["lr"], t0, n0)
                        t0, n0, sums, counts = time.perf_counter(), self.step, {}, {}
                        if writer is not None:
                            writer.write(last)
                        bar.set_postfix(loss=f"{last['loss']:.4f}", it_s=f"{last['it_s']:.2f}")
                    if self.step % cfg.train.ckpt_every == 0 or self.step == end or stop.requested:
                        self.save()
                    if stop.requested:
                        log.warning("interrupted at step %d: saved %s; continue with --resume",
                                    self.step, self.last_checkpoint)  # fmt: skip
                        raise KeyboardInterrupt
        finally:
            bar.close()
        return last

    def _log_row(
        self, sums: dict[str, float], counts: dict[str, int], lr: float, t0: float, n0: int
    ) -> dict[str, float]:
        """Means since the last row (over every rank), speed since ``t0``, lr and step."""
        row = self._reduce(sums, counts)
        row["it_s"] = (self.step - n0) / max(time.perf_counter() - t0, 1e-9)
        row["lr"] = lr
        row["step"] = self.step
        return row


def _check_teacher(model: nn.Module) -> None:
    """A teacher the run will need is there (else the first step would find out)."""
    from vsdmot.semantics.teachers import check_teacher_files

    branch = getattr(model, "semantic_branch", None)
    if branch is None:
        return
    objects = getattr(getattr(model, "config", None), "object_distill", "none") != "none"
    if branch.student is None or branch.distilling or objects:
        check_teacher_files(branch.config.teacher)


def _init_from(model: nn.Module, path: str) -> None:
    from vsdmot.models.files import init_from_file

    left = init_from_file(model, path)
    total = len(model.state_dict())
    log.info("initialised from %s: %d of %d tensors copied", path, total - len(left), total)
    if left:
        more = " ..." if len(left) > 20 else ""
        log.info("left as initialised: %s%s", ", ".join(left[:20]), more)


def train(
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    model_factory: ModelFactory = build_default_model,
    dist: DistInfo | None = None,
    stop_at: int | None = None,
) -> TrainResult:
    """Train ``cfg`` into ``out_dir`` (joining a torchrun process group when there is one).

    A process group this call joins is left when it returns or fails; one a caller passes
    in ``dist`` stays the caller's.
    """
    out_dir = Path(out_dir)
    owns_group = dist is None
    dist = dist or init_distributed(cfg.train.device)
    try:
        if cfg.train.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        with run_log(out_dir / "train.log", dist.is_main):
            dataset = build_clip_dataset(cfg.data, "train", seed=cfg.train.seed)
            model = model_factory(cfg)
            _check_teacher(model)
            if cfg.train.init_from and not resume:
                _init_from(model, cfg.train.init_from)
            cfg = record_embed_dim(cfg, model, out_dir if resume else None)
            trainer = Trainer(cfg, model, dataset, out_dir, dist)
            return trainer.fit(resume=resume, stop_at=stop_at)
    finally:
        if owns_group:
            cleanup_distributed()
