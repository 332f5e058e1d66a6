"""Stage 1: distil the student (and fit the quality head) before joint training.

Run folder layout::

    RUN/config.yaml        the resolved config
    RUN/distill.log        log lines of the run
    RUN/metrics.csv        step, loss, sem_align / sem_struct (as selected), quality_loss
    RUN/summary.json       first/last loss means, cache hits/misses, frame count
    RUN/student.pt         student + quality head: semantic.student_weights=RUN/student.pt

The DCSD terms follow ``semantic.distill``; teacher targets come from the
embedding cache at ``semantic.cache_dir`` (default ``RUN/teacher_cache``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from vsdmot.config import TrainConfig, save_config
from vsdmot.engine.distill_data import PairBatches, PairFrames, resolve_pair_sources
from vsdmot.engine.distributed import resolve_device
from vsdmot.engine.runlog import run_log
from vsdmot.semantics.cache import CacheStats, EmbeddingCache
from vsdmot.semantics.distill import (
    LoopSettings,
    TrainHistory,
    distill_student,
    fit_quality_head,
)
from vsdmot.semantics.quality import QualityHead
from vsdmot.semantics.student import Student
from vsdmot.semantics.student_file import save_student
from vsdmot.semantics.teachers import Teacher, load_teacher
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

#: Steps averaged at each end of the run for the summary's first/last means.
SUMMARY_WINDOW = 5


@dataclass
class DistillResult:
    out_dir: Path
    student_path: Path
    history: TrainHistory
    quality_history: TrainHistory | None
    cache: CacheStats
    frames: int


def _write_metrics(path: Path, history: TrainHistory, quality: TrainHistory | None) -> None:
    """One row per step: the DCSD terms, and the quality head's loss where it ran."""
    terms = [k for k in ("loss", "sem_align", "sem_struct") if k in history.values]
    n_quality = len(quality) if quality is not None else 0
    columns = ["step", *terms, *(["quality_loss"] if quality is not None else [])]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for step in range(max(len(history), n_quality)):
        row: list[str] = [str(step + 1)]
        for k in terms:
            vals = history.values[k]
            row.append(f"{vals[step]:.6g}" if step < len(vals) else "")
        if quality is not None:
            row.append(f"{quality['loss'][step]:.6g}" if step < n_quality else "")
        writer.writerow(row)
    with atomic_write(path, newline="") as fh:
        fh.write(buf.getvalue())


def _summary(history: TrainHistory, quality: TrainHistory | None) -> dict[str, float]:
    n = min(SUMMARY_WINDOW, len(history))
    out = {}
    for key in history.values:
        out[f"{key}_first"] = history.mean(key, first=n)
        out[f"{key}_last"] = history.mean(key, last=n)
    if quality is not None and len(quality):
        m = min(SUMMARY_WINDOW, len(quality))
        out["quality_loss_first"] = quality.mean("loss", first=m)
        out["quality_loss_last"] = quality.mean("loss", last=m)
    return out


def distill(
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    teacher: Teacher | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> DistillResult:
    """Distil ``cfg``'s student into ``out_dir`` (see the module docstring for the files).

    ``teacher`` lets a caller pass an already loaded teacher; otherwise
    ``semantic.teacher`` is loaded (only to fingerprint it when every target is cached).
    """
    out_dir = Path(out_dir)
    if (out_dir / "student.pt").exists() and not overwrite:
        raise ValueError(
            f"{out_dir} already holds a distilled student ({out_dir / 'student.pt'}); "
            "choose another output folder or pass --overwrite"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    sem, run = cfg.semantic, cfg.distillation
    with run_log(out_dir / "distill.log"):
        save_config(cfg, out_dir / "config.yaml")
        if sem.semantics != "student":
            log.warning("semantic.semantics=%s: joint training uses the distilled student only "
                        "with semantic.semantics=student", sem.semantics)  # fmt: skip
        device = resolve_device(cfg.train.device)
        sources = resolve_pair_sources(cfg.data, run)
        frames = PairFrames(sources, run, seed=cfg.train.seed)
        log.info("distilling on %d frames of %d sequence(s) (%s), device %s",
                 len(frames), len(sources), run.pairs, device)  # fmt: skip
        teacher = _ready_teacher(cfg, teacher, device)
        cache = _embed_targets(cfg, out_dir, frames, teacher, progress)
        student = Student(sem.student, teacher.embed_dim).to(device)
        history = distill_student(student, None,  # every batch carries its cached targets
                                  PairBatches(frames, run.batch_size, cfg.train.seed, "distill"),
                                  sem, _loop_settings(cfg), progress=progress)  # fmt: skip
        head, quality_history = _fit_quality(cfg, frames, device, progress)
        frames.close()
        student_path = out_dir / "student.pt"
        save_student(student_path, student=student, quality_head=head, cfg=sem,
                     embed_dim=teacher.embed_dim, teacher_id=teacher.teacher_id,
                     extra={"steps": len(history), "frames": len(frames)})  # fmt: skip
        _write_metrics(out_dir / "metrics.csv", history, quality_history)
        _write_summary(out_dir / "summary.json", history, quality_history, len(frames), cache,
                       teacher.teacher_id)  # fmt: skip
        log.info("student: %s", student_path)
    return DistillResult(out_dir, student_path, history, quality_history, cache.stats,
                         len(frames))  # fmt: skip


def _ready_teacher(cfg: TrainConfig, teacher: Teacher | None, device: torch.device) -> Teacher:
    """The given or configured teacher on ``device``, checked against ``semantic.embed_dim``."""
    sem = cfg.semantic
    teacher = teacher if teacher is not None else load_teacher(sem.teacher)
    if sem.embed_dim is not None and sem.embed_dim != teacher.embed_dim:
        raise ValueError(
            f"semantic.embed_dim={sem.embed_dim}, but teacher {teacher.teacher_id} gives "
            f"{teacher.embed_dim}-d vectors"
        )
    teacher.to(device)
    return teacher


def _embed_targets(
    cfg: TrainConfig, out_dir: Path, frames: PairFrames, teacher: Teacher, progress: bool
) -> EmbeddingCache:
    """Teacher embeddings of every clean frame, from the cache where it has them."""
    cache_dir = cfg.semantic.cache_path or out_dir / "teacher_cache"
    cache = EmbeddingCache(cache_dir, teacher.teacher_id)
    frames.embed_clean(teacher, cache, progress=progress)
    log.info("teacher targets: %d from the cache, %d computed (%s)",
             cache.stats.hits, cache.stats.misses, cache.dir)  # fmt: skip
    return cache


def _loop_settings(cfg: TrainConfig) -> LoopSettings:
    run = cfg.distillation
    return LoopSettings(steps=run.steps, lr=run.lr, weight_decay=run.weight_decay,
                        warmup=run.warmup_steps, grad_clip=run.grad_clip,
                        seed=cfg.train.seed)  # fmt: skip


def _fit_quality(
    cfg: TrainConfig, frames: PairFrames, device: torch.device, progress: bool
) -> tuple[QualityHead | None, TrainHistory | None]:
    """The quality head and its history, or ``None``s when DSWR is off or nothing is labelled."""
    sem, run = cfg.semantic, cfg.distillation
    q_steps = run.steps if run.quality_steps is None else run.quality_steps
    if sem.dswr != "on" or q_steps <= 0:
        return None, None
    batches = PairBatches(frames, run.batch_size, cfg.train.seed + 1, "quality")
    if not batches.has_labels():
        log.warning("no frame carries a quality label: the quality head is not trained")
        return None, None
    head = QualityHead(sem.quality).to(device)
    history = fit_quality_head(
        head, batches, q_steps, lr=run.quality_lr, weight_decay=run.weight_decay,
        warmup=run.warmup_steps, seed=cfg.train.seed, progress=progress,
    )  # fmt: skip
    return head, history


def _write_summary(
    path: Path,
    history: TrainHistory,
    quality: TrainHistory | None,
    n_frames: int,
    cache: EmbeddingCache,
    teacher_id: str,
) -> None:
    summary = {
        **_summary(history, quality),
        "steps": len(history),
        "frames": n_frames,
        "cache_hits": cache.stats.hits,
        "cache_misses": cache.stats.misses,
        "teacher_id": teacher_id,
    }
    with atomic_write(path) as fh:
        json.dump(summary, fh, indent=1)
