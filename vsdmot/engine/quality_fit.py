"""Fit the DSWR quality head alone on real frames (:mod:`vsdmot.engine.quality_data`).

Only the head is trained: it is detached from the tracking loss, so the rest of a model
stays as it is and a fitted head can be swapped into a model file. The loss is the
head's own (:meth:`QualityHead.loss`, BCE against the ``quality.csv`` label), the loop
:func:`~vsdmot.semantics.distill.fit_quality_head`; what is new here is the sampling:
every batch holds a fixed share of clean frames (one clean frame per 56 graded ones
would otherwise leave the top of the scale almost untaught), each network ends with the
moving average of its weights, and a head of several members (``QualityConfig.members``)
is an ensemble of networks fitted apart (each its own seed), whose logits it averages:
fitted on one real scene, single networks differ from seed to seed in which mild
degradation they miss on another scene, and their average misses fewer.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from vsdmot.engine.quality_data import PreparedSet, QualitySetSpec, build_quality_set
from vsdmot.semantics.config import QualityConfig
from vsdmot.semantics.distill import PreparedBatch, TrainHistory, fit_quality_head
from vsdmot.semantics.quality import QualityHead
from vsdmot.semantics.quality_file import head_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityFitSettings:
    """The loop: steps, batch, share of clean frames per batch, AdamW + warm-up/cosine,
    decay of the weight average (0: none)."""

    steps: int = 4000
    batch_size: int = 64
    clean_fraction: float = 0.2
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 200
    average: float = 0.995
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.clean_fraction < 1.0:
            raise ValueError(f"clean_fraction must be in (0, 1), got {self.clean_fraction}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2, got {self.batch_size}")


class MixedBatches:
    """Endless seeded batches of a :class:`PreparedSet`: ``clean_fraction`` of each batch
    drawn from its clean frames, the rest from its degraded ones (with replacement).

    >>> s = PreparedSet(torch.zeros(6, 1, 2, 2), torch.tensor([1.0, 1, .5, .2, .4, .0]),
    ...                 ["clean", "clean", "fog", "fog", "jpeg", "jpeg"])
    >>> b = next(iter(MixedBatches(s, 4, 0.5, seed=0)))
    >>> sorted(b.labels.tolist())[2:]
    [1.0, 1.0]
    """

    def __init__(self, data: PreparedSet, batch_size: int, clean_fraction: float,
                 seed: int) -> None:  # fmt: skip
        self.data = data
        self.clean = data.clean
        self.degraded = np.setdiff1d(np.arange(len(data)), self.clean)
        if not len(self.clean) or not len(self.degraded):
            raise ValueError("the quality set needs both clean and degraded frames")
        self.n_clean = max(1, round(batch_size * clean_fraction))
        self.n_degraded = max(1, batch_size - self.n_clean)
        self.seed = seed

    def __iter__(self) -> Iterator[PreparedBatch]:
        rng = np.random.default_rng([self.seed, 1])
        while True:
            idx = np.concatenate([rng.choice(self.clean, self.n_clean),
                                  rng.choice(self.degraded, self.n_degraded)])  # fmt: skip
            yield PreparedBatch(self.data.inputs[idx], self.data.labels[idx])


def fit_head_on(
    data: PreparedSet, cfg: QualityConfig, fit: QualityFitSettings, progress: bool = False
) -> tuple[QualityHead, TrainHistory]:
    """A fresh head trained on ``data`` (prepared for ``cfg``). Each of the
    ``cfg.members`` members is fitted apart, member ``i`` with seed ``fit.seed + i`` (its
    initialisation and its batches), then they are put together; the history holds the
    members' mean loss per step."""
    single = dataclasses.replace(cfg, members=1)
    members, histories = [], []
    for i in range(cfg.members):
        member, history = _fit_one(data, single, dataclasses.replace(fit, seed=fit.seed + i),
                                   progress)  # fmt: skip
        members.append(member)
        histories.append(history["loss"])
    head = QualityHead(cfg)
    head.load_members(members)
    history = TrainHistory()
    for losses in zip(*histories, strict=True):
        history.append({"loss": sum(losses) / len(losses)})
    return head.eval(), history


def _fit_one(data: PreparedSet, cfg: QualityConfig, fit: QualityFitSettings,
             progress: bool) -> tuple[QualityHead, TrainHistory]:  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(fit.seed)
        head = QualityHead(cfg)
    if data.inputs.shape[1] != head.in_channels:
        raise ValueError(f"the set was prepared with {data.inputs.shape[1]} channels, the head "
                         f"(version {cfg.version}) takes {head.in_channels}")  # fmt: skip
    batches = MixedBatches(data, fit.batch_size, fit.clean_fraction, fit.seed)
    history = fit_quality_head(head, iter(batches), fit.steps, lr=fit.lr,
                               weight_decay=fit.weight_decay, warmup=fit.warmup,
                               seed=fit.seed, progress=progress,
                               average=fit.average)  # fmt: skip
    return head, history


def train_real_quality_head(
    spec: QualitySetSpec, cfg: QualityConfig, fit: QualityFitSettings, progress: bool = False
) -> tuple[QualityHead, dict[str, Any]]:
    """Build the set ``spec`` describes and fit a head on it; the head and its provenance
    (for :func:`~vsdmot.semantics.quality_file.save_quality_head`)."""
    start = time.perf_counter()
    data = build_quality_set(spec, QualityHead(cfg))
    built = time.perf_counter() - start
    log.info("quality set: %d frames (%d clean) in %.0f s", len(data), len(data.clean), built)
    head, history = fit_head_on(data, cfg, fit, progress)
    return head, {
        "trainer": "vsdmot.engine.quality_fit.train_real_quality_head",
        "config": head_config(cfg),
        "data": _spec_record(spec),
        "frames": len(data),
        "clean_frames": len(data.clean),
        "fit": asdict(fit),
        "loss_first": history.mean("loss", first=50),
        "loss_last": history.mean("loss", last=50),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _spec_record(spec: QualitySetSpec) -> dict[str, Any]:
    """``spec`` as JSON-like values, folders by name only (no local path is recorded)."""
    record = asdict(spec)
    record["real"] = [{**r, "folder": r["folder"].name} for r in record["real"]]
    return record
