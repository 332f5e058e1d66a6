"""The detector adaptation loop: resumable, checkpointed atomically, with a progress bar.

A run folder holds ``checkpoint.pt`` (student, optimiser, step, loss history,
settings and teacher fingerprint; written every ``checkpoint_every`` steps and at the
end), ``metrics.json`` (the loss history) and, when done, ``detector.pt`` (what
``--proposals yolo:weights=OUT/detector.pt`` loads). Running the same command again
continues from the checkpoint; a checkpoint of other settings is refused, naming the
settings that differ (only ``steps`` may grow, to train longer).

The student starts as a copy of the teacher, or of ``init`` (an adapted detector of the
same cfg): training on from an adapted detector keeps the teacher the original network,
so the student keeps learning from clean-frame answers, not from its own.

Data order is a function of the step alone (the sampler is keyed by epoch and batch
index), so a resumed run sees the batches the uninterrupted run would have.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from vsdmot.detection.adapt import AdaptConfig, adaptation_losses
from vsdmot.detection.adapt_data import AdaptBatch, AdaptSource, PairSampler
from vsdmot.detection.darknet import build_darknet
from vsdmot.detection.files import DarknetFiles, save_detector_file
from vsdmot.detection.yolo import load_network
from vsdmot.engine.checkpoint import changed_settings
from vsdmot.models.files import CheckpointError
from vsdmot.utils.io import atomic_write
from vsdmot.utils.schedule import warmup_cosine

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
DETECTOR = "detector.pt"
METRICS = "metrics.json"
#: Settings a resumed run may change.
RESUMABLE_CHANGES = ("steps", "checkpoint_every")


@dataclass
class AdaptResult:
    detector_path: Path
    steps: int
    history: list[dict[str, float]]
    seconds: float  # this call's training time (excludes a resumed run's earlier part)
    steps_run: int

    def mean(self, key: str, first: int | None = None, last: int | None = None) -> float:
        rows = self.history[:first] if first else self.history[-last:] if last else self.history
        values = [r[key] for r in rows if key in r]
        return sum(values) / len(values) if values else math.nan


def freeze_batch_norm(net: nn.Module) -> None:
    """Keep BN statistics (and their affine use) as the teacher's: small, mixed batches of
    degraded frames would otherwise drag the running statistics the clean frames need."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def _lr_factor(step: int, cfg: AdaptConfig) -> float:
    """Linear warm-up, then cosine decay to 10 % of the rate."""
    return warmup_cosine(step, cfg.steps, cfg.warmup, 0.1)


def _check_resume(path: Path, stored: dict, cfg: AdaptConfig, meta: dict[str, Any]) -> None:
    for key, what in (("teacher_sha256", "teacher"), ("init_sha256", "initial student")):
        then, now = stored.get(key), meta.get(key)
        if then != now:
            raise CheckpointError(
                f"{path}: written for another {what} (sha256 {str(then)[:12]}, this run's "
                f"{str(now)[:12]}); use another --out or --overwrite"
            )
    changed = changed_settings(stored.get("config", {}), dataclasses.asdict(cfg),
                               RESUMABLE_CHANGES)  # fmt: skip
    if changed:
        raise CheckpointError(
            f"{path}: written with other settings ({', '.join(changed)}); rerun with them, "
            "or use another --out or --overwrite"
        )


@dataclass
class _Run:
    """One adaptation run's networks, optimiser and files (what a checkpoint holds)."""

    out: Path
    cfg: AdaptConfig
    files: DarknetFiles
    teacher: nn.Module
    student: nn.Module
    optimizer: torch.optim.Optimizer
    meta: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)

    def save(self, step: int) -> None:
        state = {"student": self.student.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "step": step, "history": self.history, "config": dataclasses.asdict(self.cfg),
                 "teacher_sha256": self.files.sha256,
                 "init_sha256": self.meta.get("init_sha256")}  # fmt: skip
        with atomic_write(self.out / CHECKPOINT, "wb") as f:
            torch.save(state, f)
        with atomic_write(self.out / METRICS) as f:
            json.dump({"steps": step, "history": self.history, **self.meta}, f, indent=1)

    def resume(self) -> int:
        """Load the checkpoint in ``out`` if there is one; the step to start from."""
        ckpt_path, detector_path = self.out / CHECKPOINT, self.out / DETECTOR
        if not ckpt_path.is_file():
            if detector_path.is_file():
                raise FileExistsError(f"{detector_path} exists; use --overwrite to train again")
            return 0
        try:
            stored = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged file raises several types
            raise CheckpointError(f"{ckpt_path}: unreadable checkpoint ({exc})") from exc
        _check_resume(ckpt_path, stored, self.cfg, self.meta)
        self.student.load_state_dict(stored["student"])
        self.optimizer.load_state_dict(stored["optimizer"])
        self.history = list(stored["history"])
        start = int(stored["step"])
        log.info("%s: resuming at step %d of %d", ckpt_path, start, self.cfg.steps)
        return start

    def train_step(self, batch: AdaptBatch, step: int) -> dict[str, float]:
        """One optimiser step at ``step``; the loss and its terms as floats."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr * _lr_factor(step, self.cfg)
        with torch.no_grad():
            t_out = self.teacher.forward_features(batch.clean)
        s_out = self.student.forward_features(batch.degraded)
        terms = adaptation_losses(s_out, t_out, batch, self.student.heads, self.cfg)
        loss = sum(terms.values())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.student.parameters(), 10.0)
        self.optimizer.step()
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in terms.items()}}


def _file_label(files: DarknetFiles) -> str:
    # By file name and hash: a path would name this machine's folders.
    return f"{Path(files.origin).name} (sha256 {files.sha256[:12]})"


def _run_meta(
    sources: Sequence[AdaptSource],
    cfg: AdaptConfig,
    files: DarknetFiles,
    init: DarknetFiles | None = None,
) -> dict[str, Any]:
    return {
        "teacher": _file_label(files),
        "teacher_sha256": files.sha256,
        "init": _file_label(init) if init is not None else "teacher",
        "init_sha256": init.sha256 if init is not None else None,
        "sources": [f"{s.name} ({len(s.indices)} frames, "
                    f"{'labelled' if s.labelled else 'unlabelled'})" for s in sources],
        "config": dataclasses.asdict(cfg),
        "train_types": list(cfg.train_types()),
    }  # fmt: skip


def _initial_student(
    teacher: nn.Module, files: DarknetFiles, init: DarknetFiles | None
) -> nn.Module:
    """A trainable copy of the teacher, or of ``init``'s weights when they fit its cfg."""
    student = build_darknet(files.cfg_text, files.cfg_origin)
    if init is None:
        student.load_state_dict(teacher.state_dict())
        return student
    start, _ = load_network(init)
    try:
        student.load_state_dict(start.state_dict())
    except RuntimeError as exc:
        raise CheckpointError(
            f"{init.origin}: its network does not fit the teacher's cfg ({files.cfg_origin}); "
            "an initial student must be an adapted copy of the same network"
        ) from exc
    return student


def _start_run(
    sources: Sequence[AdaptSource],
    out: Path,
    cfg: AdaptConfig,
    files: DarknetFiles,
    init: DarknetFiles | None = None,
) -> tuple[_Run, list[str]]:
    """The run with a frozen teacher and a student copied from it (or from ``init``); the
    network's class names."""
    teacher, names = load_network(files)
    teacher.eval().requires_grad_(False)
    student = _initial_student(teacher, files, init)
    student.train()
    freeze_batch_norm(student)
    optimizer = torch.optim.Adam(student.parameters(), lr=cfg.lr)
    meta = _run_meta(sources, cfg, files, init)
    run = _Run(out, cfg, files, teacher, student, optimizer, meta)
    return run, names


def _train(run: _Run, sampler: PairSampler, start: int, progress: bool) -> int:
    """Train from ``start`` to ``cfg.steps``, checkpointing on the way; the last step."""
    cfg = run.cfg
    bar = tqdm(total=cfg.steps, initial=start, desc="adapt", unit="step", disable=not progress)
    began = time.perf_counter()
    step = start
    # The next batch is degraded in a worker thread (OpenCV and NumPy release the GIL)
    # while the network trains on this one.
    pool = ThreadPoolExecutor(1)
    try:
        pending = pool.submit(sampler.batch, *divmod(step, len(sampler)))
        while step < cfg.steps:
            batch = pending.result()
            if step + 1 < cfg.steps:
                pending = pool.submit(sampler.batch, *divmod(step + 1, len(sampler)))
            terms = run.train_step(batch, step)
            step += 1
            run.history.append({"step": step, "seconds": time.perf_counter() - began, **terms})
            bar.update(1)
            bar.set_postfix(loss=f"{terms['loss']:.3f}")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                run.save(step)
        bar.close()
    finally:
        pool.shutdown(cancel_futures=True)
    return step


def adapt_detector(
    sources: Sequence[AdaptSource],
    out: str | Path,
    cfg: AdaptConfig,
    teacher_files: DarknetFiles,
    *,
    progress: bool = True,
    overwrite: bool = False,
    init: DarknetFiles | None = None,
) -> AdaptResult:
    """Adapt a copy of ``teacher_files``' network (or of ``init``, an adapted detector of the
    same cfg) to degraded frames; writes ``OUT/detector.pt``.

    Raises ``FileExistsError`` when ``OUT`` already holds a finished detector (unless
    ``overwrite``) and :class:`CheckpointError` when its checkpoint does not fit.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    detector_path = out / DETECTOR
    if overwrite:
        for p in (out / CHECKPOINT, detector_path, out / METRICS):
            p.unlink(missing_ok=True)
    run, names = _start_run(sources, out, cfg, teacher_files, init)
    start = run.resume()
    sampler = PairSampler(sources, cfg.plan(), size=cfg.size, batch_size=cfg.batch_size,
                          seed=cfg.seed, flip=cfg.flip, zoom=cfg.zoom,
                          zoom_min=cfg.zoom_min)  # fmt: skip
    began = time.perf_counter()
    step = _train(run, sampler, start, progress)
    seconds = time.perf_counter() - began
    if start < cfg.steps or not detector_path.is_file():  # the loop saved the last checkpoint
        save_detector_file(detector_path, run.student.state_dict(), teacher_files.cfg_text,
                           names, {**run.meta, "steps": step})  # fmt: skip
    return AdaptResult(detector_path, step, run.history, seconds, step - start)
