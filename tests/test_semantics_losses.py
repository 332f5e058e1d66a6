"""DCSD losses against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from vsdmot.nn.losses import alignment_loss, structure_loss
from vsdmot.semantics import SemanticConfig, dcsd_losses
from vsdmot.semantics.config import LossWeights


def test_alignment_identical_orthogonal_opposite() -> None:
    e = torch.tensor([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    assert alignment_loss(e, e).item() == pytest.approx(0.0, abs=1e-6)
    assert alignment_loss(e, 5.0 * e).item() == pytest.approx(0.0, abs=1e-6)  # scale-free
    x, y = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    assert alignment_loss(x, y).item() == pytest.approx(1.0)
    assert alignment_loss(x, -x).item() == pytest.approx(2.0)
    # Mean over frames: cos 1 and cos 0 -> 0.5.
    assert alignment_loss(torch.cat([x, x]), torch.cat([x, y])).item() == pytest.approx(0.5)


def test_alignment_does_not_push_the_teacher() -> None:
    s = torch.randn(4, 8, requires_grad=True)
    t = torch.randn(4, 8, requires_grad=True)
    alignment_loss(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_structure_kl_3x3_by_hand() -> None:
    # Teacher: frames 0 and 2 identical, 1 orthogonal to both -> off-diagonal rows
    #   row 0: sims to (1, 2) = (0, 1); row 1: (0, 0); row 2: sims to (0, 1) = (1, 0).
    # Student: all orthogonal -> every row uniform over the two others.
    teacher = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    student = torch.eye(3)
    p = 1.0 / (1.0 + math.e)  # softmax([0, 1])[0] at tau = 1
    row0 = p * math.log(p / 0.5) + (1 - p) * math.log((1 - p) / 0.5)
    expected = (row0 + 0.0 + row0) / 3.0  # = 0.073961...
    assert expected == pytest.approx(0.07396, abs=1e-5)
    assert structure_loss(student, teacher, tau=1.0).item() == pytest.approx(expected, abs=1e-6)
    # Temperature sharpens: at tau = 0.5 the logits double.
    p2 = 1.0 / (1.0 + math.e**2)
    row0_2 = p2 * math.log(p2 / 0.5) + (1 - p2) * math.log((1 - p2) / 0.5)
    got = structure_loss(student, teacher, tau=0.5).item()
    assert got == pytest.approx(2 * row0_2 / 3, abs=1e-6)


def test_structure_zero_cases_and_diagonal_exclusion() -> None:
    e = torch.randn(5, 6)
    assert structure_loss(e, e, 0.1).item() == pytest.approx(0.0, abs=1e-6)
    assert structure_loss(3.0 * e, e, 0.1).item() == pytest.approx(0.0, abs=1e-5)
    # Two frames: each row has one other frame, nothing to match.
    s = torch.randn(2, 6, requires_grad=True)
    loss = structure_loss(s, torch.randn(2, 6))
    assert loss.item() == 0.0
    loss.backward()  # still part of the graph
    # The diagonal carries no signal: orthogonal-but-equal patterns give 0 even though the
    # self-similarities would dominate a softmax that kept them.
    assert structure_loss(torch.eye(4), torch.eye(4) * 2, tau=0.01).item() == pytest.approx(0.0)


def test_distill_switch_picks_the_terms_and_weights_them() -> None:
    s, t = torch.randn(4, 8), torch.randn(4, 8)
    weights = LossWeights(alignment=2.0, structure=0.5)
    both = dcsd_losses(s, t, SemanticConfig(distill="both", loss_weights=weights, temperature=0.2))
    assert set(both) == {"sem_align", "sem_struct"}
    assert both["sem_align"].item() == pytest.approx(2.0 * alignment_loss(s, t).item())
    assert both["sem_struct"].item() == pytest.approx(0.5 * structure_loss(s, t, 0.2).item())
    assert set(dcsd_losses(s, t, SemanticConfig(distill="alignment"))) == {"sem_align"}
    assert set(dcsd_losses(s, t, SemanticConfig(distill="structure"))) == {"sem_struct"}
