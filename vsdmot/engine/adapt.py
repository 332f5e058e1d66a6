"""The detector adaptation loop: resumable, checkpointed atomically, with a progress bar.

A run folder holds ``checkpoint.pt`` (student, optimiser, step, loss history,
settings and teacher fingerprint; written every ``checkpoint_every`` steps and at the
end), ``metrics.json`` (the loss history) and, when done, ``detector.pt`` (what
``--proposals yolo:weights=OUT/detector.pt`` loads). Running the same command again
continues from the checkpoint; a checkpoint of other settings is refused, naming the
settings that differ (only ``steps`` may grow, to train longer).

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
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from vsdmot.detection.adapt import AdaptConfig, adaptation_losses
from vsdmot.detection.adapt_data import AdaptSource, PairSampler
from vsdmot.detection.darknet import build_darknet
from vsdmot.detection.files import DarknetFiles, save_detector_file
from vsdmot.detection.yolo import load_network
from vsdmot.models.files import CheckpointError
from vsdmot.utils.io import atomic_write

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
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress)))


def _check_resume(path: Path, stored: dict, cfg: AdaptConfig, teacher_sha: str) -> None:
    if stored.get("teacher_sha256") != teacher_sha:
        raise CheckpointError(
            f"{path}: adapts another teacher (sha256 {str(stored.get('teacher_sha256'))[:12]}, "
            f"this run's {teacher_sha[:12]}); use another --out or --overwrite"
        )
    now = dataclasses.asdict(cfg)
    then = stored.get("config", {})
    # A setting the checkpoint does not know (added in a later version) is not compared.
    differ = sorted(k for k in now if k not in RESUMABLE_CHANGES and k in then and
                    _plain(then[k]) != _plain(now[k]))  # fmt: skip
    if differ:
        detail = ", ".join(f"{k}: {then.get(k)!r} -> {now[k]!r}" for k in differ)
        raise CheckpointError(
            f"{path}: written with other settings ({detail}); rerun with them, "
            "or use another --out or --overwrite"
        )


def _plain(value: object) -> object:
    return list(value) if isinstance(value, (tuple, list)) else value


def adapt_detector(
    sources: Sequence[AdaptSource],
    out: str | Path,
    cfg: AdaptConfig,
    teacher_files: DarknetFiles,
    *,
    progress: bool = True,
    overwrite: bool = False,
) -> AdaptResult:
    """Adapt a copy of ``teacher_files``' network to degraded frames; writes ``OUT/detector.pt``.

    Raises ``FileExistsError`` when ``OUT`` already holds a finished detector (unless
    ``overwrite``) and :class:`CheckpointError` when its checkpoint does not fit.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path, detector_path = out / CHECKPOINT, out / DETECTOR
    if overwrite:
        for p in (ckpt_path, detector_path, out / METRICS):
            p.unlink(missing_ok=True)
    teacher, names = load_network(teacher_files)
    teacher.eval().requires_grad_(False)
    student = build_darknet(teacher_files.cfg_text, teacher_files.cfg_origin)
    student.load_state_dict(teacher.state_dict())
    student.train()
    freeze_batch_norm(student)
    optimizer = torch.optim.Adam(student.parameters(), lr=cfg.lr)
    start, history = 0, []
    if ckpt_path.is_file():
        try:
            stored = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged file raises several types
            raise CheckpointError(f"{ckpt_path}: unreadable checkpoint ({exc})") from exc
        _check_resume(ckpt_path, stored, cfg, teacher_files.sha256)
        student.load_state_dict(stored["student"])
        optimizer.load_state_dict(stored["optimizer"])
        start, history = int(stored["step"]), list(stored["history"])
        log.info("%s: resuming at step %d of %d", ckpt_path, start, cfg.steps)
    elif detector_path.is_file():
        raise FileExistsError(f"{detector_path} exists; use --overwrite to train again")

    sampler = PairSampler(sources, cfg.plan(), size=cfg.size, batch_size=cfg.batch_size,
                          seed=cfg.seed, flip=cfg.flip, zoom=cfg.zoom,
                          zoom_min=cfg.zoom_min)  # fmt: skip
    meta = {
        # The teacher by file name and hash: a path would name this machine's folders.
        "teacher": f"{Path(teacher_files.origin).name} (sha256 {teacher_files.sha256[:12]})",
        "teacher_sha256": teacher_files.sha256,
        "sources": [f"{s.name} ({len(s.indices)} frames, "
                    f"{'labelled' if s.labelled else 'unlabelled'})" for s in sources],
        "config": dataclasses.asdict(cfg),
        "train_types": list(cfg.train_types()),
    }  # fmt: skip

    def save(step: int) -> None:
        state = {"student": student.state_dict(), "optimizer": optimizer.state_dict(),
                 "step": step, "history": history, "config": dataclasses.asdict(cfg),
                 "teacher_sha256": teacher_files.sha256}  # fmt: skip
        with atomic_write(ckpt_path, "wb") as f:
            torch.save(state, f)
        with atomic_write(out / METRICS) as f:
            json.dump({"steps": step, "history": history, **meta}, f, indent=1)

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
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * _lr_factor(step, cfg)
            with torch.no_grad():
                t_out = teacher.forward_features(batch.clean)
            s_out = student.forward_features(batch.degraded)
            terms = adaptation_losses(s_out, t_out, batch, student.heads, cfg)
            loss = sum(terms.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 10.0)
            optimizer.step()
            step += 1
            history.append({"step": step, "seconds": time.perf_counter() - began,
                            "loss": float(loss.detach()),
                            **{k: float(v.detach()) for k, v in terms.items()}})  # fmt: skip
            bar.update(1)
            bar.set_postfix(loss=f"{history[-1]['loss']:.3f}")
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                save(step)
        bar.close()
    finally:
        pool.shutdown(cancel_futures=True)
    seconds = time.perf_counter() - began
    if start < cfg.steps or not detector_path.is_file():  # the loop saved the last checkpoint
        save_detector_file(detector_path, student.state_dict(), teacher_files.cfg_text, names,
                           {**meta, "steps": step})  # fmt: skip
    return AdaptResult(detector_path, step, history, seconds, step - start)
