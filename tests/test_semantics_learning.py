"""Learning tests: the student distils a frozen teacher; the quality head ranks degradations.

Data are generated textured frames with shapes (``make_frame`` / ``degrade`` from
``helpers/frames.py``); the teacher is a fixed random-init CNN, so nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers.frames import KINDS, degrade, make_frame, to_tensor
from scipy.stats import spearmanr
from torch import nn

from vsdmot.semantics import (
    QualityConfig,
    QualityHead,
    SemanticConfig,
    Student,
    StudentConfig,
    Teacher,
    distill_student,
    fit_quality_head,
)
from vsdmot.semantics.distill import LoopSettings


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # Small convolutions gain nothing from threads on a shared 2-core machine, and
    # oversubscription makes them much slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _random_teacher() -> Teacher:
    """A frozen random CNN (32-d pooled tanh features): the distillation target."""
    torch.manual_seed(0)
    enc = nn.Sequential(
        nn.Conv2d(3, 24, 5, 2, 2),
        nn.Tanh(),
        nn.Conv2d(24, 32, 3, 2, 1),
        nn.Tanh(),
        nn.Conv2d(32, 32, 3, 2, 1),
    )
    return Teacher(enc, embed_dim=32, input_size=32, name="random_cnn")


def _pairs(pool: list[np.ndarray], seed: int, batch: int = 16) -> Iterator[tuple]:
    """Endless (clean, degraded) batches: random frames, random op, severity 2-4."""
    rng = np.random.default_rng(seed)
    while True:
        idx = rng.choice(len(pool), batch, replace=False)
        clean = [pool[i] for i in idx]
        degraded = [
            degrade(c, KINDS[rng.integers(len(KINDS))], rng.uniform(2, 4), rng) for c in clean
        ]
        yield to_tensor(clean), to_tensor(degraded)


def test_distillation_learns_the_teacher() -> None:
    teacher = _random_teacher()
    rng = np.random.default_rng(0)
    pool = [make_frame(rng) for _ in range(256)]
    held = [make_frame(rng) for _ in range(48)]
    held_rng = np.random.default_rng(99)
    held_degraded = to_tensor([degrade(c, KINDS[i % 4], 3.0, held_rng) for i, c in enumerate(held)])
    held_teacher = teacher.embed(to_tensor(held))
    # The trivial predictor that ignores the frame: the teacher's mean direction.
    mean_dir = F.normalize(teacher.embed(to_tensor(pool)).mean(0), dim=0)
    mean_baseline = (held_teacher @ mean_dir).mean().item()

    torch.manual_seed(1)
    student = Student(
        StudentConfig(input_size=32, width=0.5, depth=8, feature_dim=64, head_hidden=64), 32
    )

    def held_cosine() -> float:
        student.eval()
        with torch.no_grad():
            cos = (student.embed(held_degraded) * held_teacher).sum(dim=1).mean().item()
        student.train()
        return cos

    start = held_cosine()
    history = distill_student(
        student,
        teacher,
        _pairs(pool, seed=1),
        SemanticConfig(distill="both", embed_dim=32),
        LoopSettings(steps=200, lr=3e-3),
        progress=False,
    )
    end = held_cosine()

    assert len(history) == 200
    align_first, align_last = history.mean("sem_align", first=5), history.mean("sem_align", last=20)
    assert align_first >= 3.0 * align_last, (align_first, align_last)
    struct_first = history.mean("sem_struct", first=5)
    struct_last = history.mean("sem_struct", last=20)
    assert struct_last <= 0.7 * struct_first, (struct_first, struct_last)
    # Held-out degraded frames end much closer to the teacher's clean embeddings, and
    # closer than the frame-agnostic mean direction: the student uses the frame.
    assert end >= start + 0.5, (start, end)
    assert end >= mean_baseline + 0.03, (end, mean_baseline)


def _quality_batch(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames degraded by a random op at a random severity in [0, 5]; label 1 - severity/5."""
    frames, labels = [], []
    for _ in range(n):
        severity = rng.uniform(0, 5)
        kind = KINDS[rng.integers(len(KINDS))]
        frames.append(degrade(make_frame(rng, 96), kind, severity, rng))
        labels.append(1.0 - severity / 5.0)
    return to_tensor(frames), torch.tensor(labels, dtype=torch.float32)


def test_quality_head_ranks_held_out_frames() -> None:
    rng = np.random.default_rng(0)
    train = [_quality_batch(rng, 32) for _ in range(40)]
    test_x, test_y = _quality_batch(np.random.default_rng(7), 128)
    torch.manual_seed(0)
    head = QualityHead(QualityConfig(input_size=48, channels=(16, 32, 32)))
    history = fit_quality_head(head, train, steps=300, lr=3e-3, progress=False)
    assert history.mean("loss", last=20) < history.mean("loss", first=5) - 0.1
    head.eval()
    with torch.no_grad():
        q = head.predict(head.prepare(list(test_x)))
    rho = spearmanr(q.numpy(), test_y.numpy()).statistic
    assert rho >= 0.8, rho


def test_distill_loop_uses_cached_targets_is_seeded_and_cycles(caplog) -> None:
    from vsdmot.semantics import DistillBatch

    cfg = SemanticConfig(distill="alignment", embed_dim=8)
    small = StudentConfig(input_size=16, width=0.25, depth=4, feature_dim=16, head_hidden=16)
    gen = torch.Generator().manual_seed(0)
    batches = [
        DistillBatch(
            clean=torch.rand(4, 3, 20, 20, generator=gen),
            degraded=torch.rand(4, 3, 20, 20, generator=gen),
            teacher_embeddings=F.normalize(torch.randn(4, 8, generator=gen), dim=-1),
        )
        for _ in range(2)
    ]

    def run() -> list[float]:
        torch.manual_seed(3)
        student = Student(small, embed_dim=8)
        # No teacher at all: the cached embeddings are the only targets.
        return distill_student(student, None, batches, cfg, LoopSettings(5), progress=False)["loss"]

    first = run()
    assert len(first) == 5  # the 2-batch list was cycled
    assert first == run()  # seeded: identical histories

    one_shot = iter(batches)
    with caplog.at_level("WARNING"):
        history = distill_student(
            Student(small, 8), None, one_shot, cfg, LoopSettings(5), progress=False
        )
    assert len(history) == 2 and "ran out" in caplog.text
    with pytest.raises(ValueError, match="no teacher"):
        pairs = [(batches[0].clean, batches[0].degraded)]
        distill_student(Student(small, 8), None, pairs, cfg, LoopSettings(1))
