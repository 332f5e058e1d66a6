"""Object embeddings: the head, its losses (hand-computed), switches, and learning."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from helpers.models import TINY_JOINT, joint_config
from helpers.sequences import make_lq_pair

from vsdmot.data.clips import build_clip_dataset, collate_clips
from vsdmot.engine.trainer import build_default_model
from vsdmot.models.config import ModelConfig
from vsdmot.models.embedding import (
    crop_boxes,
    identity_contrastive_loss,
    object_alignment_loss,
    object_structure_loss,
)

pytestmark = pytest.mark.usefixtures("offline_hub", "one_thread")

TINY = [*TINY_JOINT, "model.embed_dim=16", "data.clip_length=3"]


@pytest.fixture(scope="module")
def lq_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_lq_pair(tmp_path_factory.mktemp("emb"), objects=(3, 4), seed=5, schedule="constant")


def _config(lq_data: tuple[Path, Path], teacher: Path, *extra: str):
    return joint_config(TINY, lq_data, teacher, *extra)


# -- losses by hand ------------------------------------------------------------------------


def test_identity_contrastive_loss_by_hand() -> None:
    e = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    ids = torch.tensor([1, 1, 2, 3])
    frames = torch.tensor([0, 1, 1, 1])
    tau = 0.5
    got = identity_contrastive_loss(e, ids, frames, tau)
    # Anchors 0 and 1 (id 1, different frames) are each other's only positive.
    s01, s02, s03, s12, s13 = 0.6, 0.0, 1.0, 0.8, 0.6
    a0 = -(s01 / tau - math.log(sum(math.exp(s / tau) for s in (s01, s02, s03))))
    a1 = -(s01 / tau - math.log(sum(math.exp(s / tau) for s in (s01, s12, s13))))
    assert got.item() == pytest.approx((a0 + a1) / 2, rel=1e-5)


def test_identity_loss_ignores_same_frame_pairs_and_is_zero_without_positives() -> None:
    e = torch.randn(3, 4, requires_grad=True)
    loss = identity_contrastive_loss(e, torch.tensor([1, 1, 2]), torch.tensor([0, 0, 0]))
    assert loss.item() == 0.0
    loss.backward()
    assert e.grad is not None and e.grad.abs().sum() == 0


def test_identity_loss_prefers_separated_identities() -> None:
    ids, frames = torch.tensor([1, 1, 2, 2]), torch.tensor([0, 1, 0, 1])
    good = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    bad = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert identity_contrastive_loss(good, ids, frames) < identity_contrastive_loss(
        bad, ids, frames
    )


def test_object_alignment_and_structure_by_hand() -> None:
    s = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    t = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert object_alignment_loss(s, t).item() == pytest.approx(0.5)  # (0 + 1) / 2
    assert object_alignment_loss(s[:0], t[:0]).item() == 0.0
    # Structure: frames with fewer than three objects carry no structure.
    frames = torch.tensor([0, 0])
    assert object_structure_loss(s, t, frames).item() == 0.0
    x = torch.randn(5, 3)
    y = torch.randn(5, 3)
    frames = torch.tensor([0, 0, 0, 1, 1])
    from vsdmot.nn.losses import structure_loss

    assert object_structure_loss(x, y, frames).item() == pytest.approx(
        structure_loss(x[:3], y[:3]).item(), rel=1e-6
    )


def test_crop_boxes_takes_the_box_region() -> None:
    img = torch.zeros(1, 40, 40)
    img[:, 10:20, 20:30] = 1.0  # a bright square
    inside = crop_boxes(img, torch.tensor([[25 / 40, 15 / 40, 8 / 40, 8 / 40]]), (4, 4))
    outside = crop_boxes(img, torch.tensor([[0.2, 0.8, 0.1, 0.1]]), (4, 4))
    assert inside.min().item() == pytest.approx(1.0)
    assert outside.max().item() == 0.0


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="embed_dim"):
        ModelConfig(embed_dim=-1)
    with pytest.raises(ValueError, match="embedding head"):
        ModelConfig(object_distill="both")
    with pytest.raises(ValueError, match="object_distill"):
        ModelConfig(embed_dim=8, object_distill="maybe")


# -- the model's switches ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "align", "structure", "both"])
def test_object_distill_switches(lq_data, tiny_clip: Path, mode: str) -> None:
    torch.manual_seed(0)
    cfg = _config(lq_data, tiny_clip, "semantic.semantics=student",
                  f"model.object_distill={mode}")  # fmt: skip
    model = build_default_model(cfg)
    dataset = build_clip_dataset(cfg.data, "train", seed=0)
    batch = collate_clips([dataset[i] for i in range(2)])
    model.train()
    out = model.training_step(batch)
    out["loss"].backward()
    assert out["loss_id"].item() > 0
    assert model.embed_head.net[-1].weight.grad.abs().sum() > 0
    expected = {"align": {"loss_obj_align"}, "structure": {"loss_obj_struct"},
                "both": {"loss_obj_align", "loss_obj_struct"}, "none": set()}[mode]  # fmt: skip
    assert {k for k in out if k.startswith("loss_obj")} == expected
    assert all(out[k].item() > 0 for k in expected)
    if "loss_obj_align" in expected:
        assert model.object_projector.weight.grad.abs().sum() > 0
    else:
        assert model.object_projector is None or model.object_projector.weight.grad is None


def test_no_head_no_embedding_losses(lq_data, tiny_clip: Path) -> None:
    cfg = _config(lq_data, tiny_clip, "semantic.semantics=none", "model.embed_dim=0")
    model = build_default_model(cfg)
    dataset = build_clip_dataset(cfg.data, "train", seed=0)
    out = model.train().training_step(collate_clips([dataset[0]]))
    assert model.embed_head is None
    assert not any(k in out for k in ("loss_id", "loss_obj_align", "loss_obj_struct"))


def test_id_weight_zero_turns_the_term_off(lq_data, tiny_clip: Path) -> None:
    cfg = _config(lq_data, tiny_clip, "semantic.semantics=none", "model.id_loss_weight=0")
    model = build_default_model(cfg)
    dataset = build_clip_dataset(cfg.data, "train", seed=0)
    out = model.train().training_step(collate_clips([dataset[0]]))
    assert out["loss_id"].item() == 0.0
    out["loss"].backward()
    grad = model.embed_head.net[-1].weight.grad
    assert grad is None or grad.abs().sum() == 0


def test_identity_loss_falls_when_training_the_embeddings(lq_data, tiny_clip: Path) -> None:
    """Learning: a few steps on two tiny clips separate their identities. Two-frame clips
    give each object exactly one positive, so the loss can approach 0 (with ``P``
    positives its floor is ``log P``)."""
    torch.manual_seed(0)
    cfg = _config(lq_data, tiny_clip, "semantic.semantics=none", "data.clip_length=2")
    model = build_default_model(cfg).train()
    dataset = build_clip_dataset(cfg.data, "train", seed=0)
    batch = collate_clips([dataset[0], dataset[3]])
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    first = None
    for _ in range(60):
        out = model.training_step(batch)
        if first is None:
            first = out["loss_id"].item()
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    last = model.training_step(batch)["loss_id"].item()
    assert last < 0.3 * first, (first, last)


def test_structure_compares_similarities_of_any_widths() -> None:
    """A 16-d student is matched to a 1280-d teacher through their n x n similarities."""
    x, y = torch.randn(4, 16), torch.randn(4, 1280)
    assert object_structure_loss(x, y, torch.zeros(4, dtype=torch.long)).item() > 0
    with pytest.raises(ValueError, match="rows"):
        object_structure_loss(x, y[:3], torch.zeros(4, dtype=torch.long))
