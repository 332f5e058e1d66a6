"""The tracker as a whole: batching, label assignment, semantic injection, inference API."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from vsdmot.models.batch import ClipBatch, FrameTargets
from vsdmot.models.config import ModelConfig
from vsdmot.models.criterion import FrameAssignment, TrackletCriterion
from vsdmot.models.factory import build_model
from vsdmot.models.tracker import LEARNABLE, PROPOSAL, TRACK, VSDMOT, TrackQueries
from vsdmot.nn.fusion import SemanticOutput

H, W = 64, 96


def small_config(**overrides: object) -> ModelConfig:
    kwargs: dict[str, object] = dict(
        d_model=32,
        n_heads=4,
        enc_layers=1,
        dec_layers=2,
        ffn_dim=64,
        num_learnable_queries=3,
        track_drop_prob=0.0,
        fp_insert_prob=0.0,
    )
    kwargs.update(overrides)
    return ModelConfig(**kwargs)  # type: ignore[arg-type]


def clip(seed: int, n_obj: int, n_fp: int, frames: int = 2) -> tuple[Tensor, list, list]:
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(frames, 3, H, W, generator=g)
    centres = torch.rand(n_obj, 2, generator=g) * 0.6 + 0.2
    sizes = torch.rand(n_obj, 2, generator=g) * 0.2 + 0.1
    proposals, targets = [], []
    for t in range(frames):
        boxes = torch.cat((centres + 0.02 * t, sizes), 1)
        fp = torch.cat(
            (torch.rand(n_fp, 4, generator=g) * 0.3 + 0.2, torch.full((n_fp, 1), 0.4)), 1
        )
        proposals.append(torch.cat((torch.cat((boxes, torch.full((n_obj, 1), 0.9)), 1), fp)))
        targets.append(FrameTargets(boxes, torch.arange(n_obj) + 10 * seed, quality=0.5 + 0.1 * t))
    return images, proposals, targets


def make_batch(*clips: tuple[Tensor, list, list]) -> ClipBatch:
    images = torch.stack([c[0] for c in clips])
    return ClipBatch(
        images=images,
        masks=torch.zeros(images.shape[0], images.shape[1], H, W, dtype=torch.bool),
        proposals=[c[1] for c in clips],
        targets=[c[2] for c in clips],
    )


def record_decoder(model: VSDMOT) -> tuple[list, RemovableHandle]:
    """Record every decoder call's ``(args, output)`` until the handle is removed."""
    calls: list = []
    return calls, model.decoder.register_forward_hook(lambda _m, a, o: calls.append((a, o)))


# ---------------------------------------------------------------- batching
def test_batched_clips_with_different_sizes_equal_clips_alone() -> None:
    """B=2, T=2, different numbers of proposals, targets and (frame 2) track queries:
    padding must not change any real query's output, nor the collective loss."""
    clip_a, clip_b = clip(1, n_obj=2, n_fp=1), clip(2, n_obj=3, n_fp=3)
    model = build_model(small_config())
    outs = {}
    for name, batch in (
        ("a", make_batch(clip_a)),
        ("b", make_batch(clip_b)),
        ("ab", make_batch(clip_a, clip_b)),
    ):
        calls, hook = record_decoder(model)
        outs[name] = (model.training_step(batch), calls)
        hook.remove()

    for t in range(2):
        for name, index in (("a", 0), ("b", 1)):
            alone = outs[name][1][t][1]
            both = outs["ab"][1][t][1]
            n = alone.logits.shape[-1]
            assert torch.allclose(both.logits[:, index, :n], alone.logits[:, 0], atol=1e-4)
            assert torch.allclose(both.boxes[:, index, :n], alone.boxes[:, 0], atol=1e-4)
            assert torch.allclose(both.hidden[:, index, :n], alone.hidden[:, 0], atol=1e-4)
    # Frame 2 carries the matched objects as track queries: 2 and 3 of them, then 1+2 / 3+3
    # proposals and 3 learnable queries -> 8 and 12 real queries, padded to 12.
    assert outs["a"][1][1][1].logits.shape[-1] == 2 + 3 + 3
    assert outs["b"][1][1][1].logits.shape[-1] == 3 + 6 + 3
    pad = outs["ab"][1][1][0][3]  # query_padding_mask argument
    assert pad.sum(1).tolist() == [4, 0]
    # Collective average loss: sum over all clips' frames / total number of gt objects.
    n_a, n_b = 4, 6
    la, lb, lab = (float(outs[k][0]["loss"].detach()) for k in ("a", "b", "ab"))
    assert lab == pytest.approx((la * n_a + lb * n_b) / (n_a + n_b), rel=1e-4)
    assert float(outs["ab"][0]["num_gt"]) == n_a + n_b


def test_training_step_backpropagates_to_all_trained_parts() -> None:
    model = build_model(small_config(trainable_stages=1))
    losses = model.training_step(make_batch(clip(3, 2, 1), clip(4, 1, 2)))
    assert {"loss", "loss_cls", "loss_l1", "loss_giou", "loss_aux"} <= losses.keys()
    parts = sum(v for k, v in losses.items() if k.startswith("loss_"))
    assert torch.allclose(losses["loss"], parts)
    losses["loss"].backward()
    for name in (
        "qim",
        "proposal_queries",
        "learnable_queries",
        "encoder",
        "decoder",
        "input_proj",
    ):
        grads = [p.grad for n, p in model.named_parameters() if n.startswith(name)]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), name


# ---------------------------------------------------------------- label assignment
def test_assignment_track_queries_keep_their_ids_newborns_matched() -> None:
    crit = TrackletCriterion(small_config())
    gt = FrameTargets(
        boxes=torch.tensor([[0.2, 0.2, 0.1, 0.1], [0.5, 0.5, 0.1, 0.1], [0.8, 0.8, 0.1, 0.1]]),
        ids=torch.tensor([9, 3, 5]),
    )
    # 3 track queries (ids 5, 9 and a vanished 7) whose boxes are deliberately elsewhere:
    # identity, not geometry, decides their targets. Then 2 proposals, 1 learnable.
    boxes = torch.tensor(
        [[0.1, 0.9, 0.1, 0.1]] * 3
        + [[0.8, 0.8, 0.1, 0.1], [0.5, 0.52, 0.1, 0.1], [0.3, 0.3, 0.2, 0.2]]
    )
    kinds = torch.tensor([TRACK] * 3 + [PROPOSAL] * 2 + [LEARNABLE])
    a = crit.assign(torch.zeros(6), boxes, kinds, torch.tensor([5, 9, 7]), gt)
    # proposal 3 sits on id 5, but id 5 is tracked: only newborn id 3 is matched
    assert a.target_idx.tolist() == [2, 0, -1, -1, 1, -1]
    assert a.gt_ids.tolist() == [5, 9, -1, -1, 3, -1]


def test_vanished_track_is_a_negative_and_is_not_carried() -> None:
    crit = TrackletCriterion(small_config())
    gt = FrameTargets(torch.tensor([[0.5, 0.5, 0.2, 0.2]]), torch.tensor([4]))
    kinds = torch.tensor([TRACK, TRACK, PROPOSAL, LEARNABLE])
    boxes = torch.tensor([[0.5, 0.5, 0.2, 0.2]] * 4)
    logits = torch.tensor([2.0, 2.0, 1.0, -1.0])
    a = crit.assign(logits, boxes, kinds, torch.tensor([1, 4]), gt)
    assert a.target_idx.tolist() == [-1, 0, -1, -1]
    idx, ids = crit.carried_queries(a, logits, kinds, torch.Generator().manual_seed(0))
    assert idx.tolist() == [1] and ids.tolist() == [4]
    # Its loss: the matched track query's box is exact, so only classification remains.
    sums = crit.layer_losses(logits[None], boxes[None], a, gt.boxes)
    assert sums[0, 1] == 0 and sums[0, 2].abs() < 1e-6 and sums[0, 0] > 0


def test_track_query_augmentation() -> None:
    kinds = torch.tensor([TRACK, PROPOSAL, PROPOSAL, LEARNABLE, LEARNABLE])
    logits = torch.tensor([0.0, 0.0, 3.0, 2.0, -5.0])
    a = FrameAssignment(torch.tensor([0, 1, -1, -1, -1]), torch.tensor([6, 8, -1, -1, -1]))
    gen = torch.Generator().manual_seed(0)
    crit = TrackletCriterion(small_config(fp_insert_prob=1.0, fp_max_per_frame=2))
    idx, ids = crit.carried_queries(a, logits, kinds, gen)
    # matched 0, 1 carried with their ids; the two best unmatched become negatives
    assert idx.tolist() == [0, 1, 2, 3] and ids.tolist() == [6, 8, -1, -1]
    crit = TrackletCriterion(small_config(track_drop_prob=1.0))
    idx, _ = crit.carried_queries(a, logits, kinds, gen)
    assert idx.numel() == 0
    crit = TrackletCriterion(small_config(track_drop_prob=0.5))
    kept = [crit.carried_queries(a, logits, kinds, gen)[0].numel() for _ in range(400)]
    assert 0.4 < sum(kept) / 800 < 0.6


# ---------------------------------------------------------------- semantic hook
class ConstantSemantics(nn.Module):
    """Returns a fixed injection; records what it was given."""

    def __init__(self, injection: Tensor) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.injection = injection
        self.seen_quality: list[Tensor | None] = []

    def forward(
        self,
        images: Tensor,
        masks: Tensor,
        clean_images: Tensor | None,
        quality_targets: Tensor | None,
    ) -> SemanticOutput:
        self.seen_quality.append(quality_targets)
        b = images.shape[0]
        inj = (self.injection * self.scale).expand(b, -1)
        return SemanticOutput(
            injection=inj,
            # Echo the labels so tests can follow frames through the batch's reshaping.
            quality=torch.full((b,), 0.25) if quality_targets is None else quality_targets,
            weight=torch.full_like(inj, 0.5),
            losses={"loss_distill": self.scale * 0.5},
        )


def test_semantic_injection_shifts_every_query_by_the_vector() -> None:
    cfg = small_config()
    injection = torch.linspace(-1, 1, cfg.d_model)
    plain = build_model(cfg)
    with_sem = build_model(cfg, semantic_branch=ConstantSemantics(injection))
    assert not any("semantic" in n for n, _ in plain.named_parameters())
    n_plain = sum(p.numel() for p in plain.parameters())
    assert sum(p.numel() for p in with_sem.parameters()) == n_plain + 1

    images, proposals, _ = clip(5, 2, 1)
    tracks = TrackQueries(
        torch.randn(2, cfg.d_model), torch.tensor([[0.3, 0.3, 0.1, 0.1], [0.6, 0.5, 0.2, 0.2]])
    )
    inputs = []
    for model in (plain, with_sem):
        calls, _ = record_decoder(model)
        out = model.inference_step(
            images[:1], torch.zeros(1, H, W, dtype=torch.bool), proposals[0], tracks
        )
        inputs.append(calls[0][0][0][0])  # decoder's first argument, clip 0
    assert set(out.kinds.tolist()) == {TRACK, PROPOSAL, LEARNABLE}
    assert torch.allclose(inputs[1] - inputs[0], injection.expand_as(inputs[0]), atol=1e-6)
    assert out.semantic is not None and float(out.semantic.quality[0]) == 0.25


def test_semantic_losses_and_diagnostics_reach_the_training_outputs() -> None:
    sem = ConstantSemantics(torch.zeros(32))
    model = build_model(small_config(), semantic_branch=sem)
    out = model.training_step(make_batch(clip(6, 2, 1), clip(7, 1, 0)))
    assert float(out["loss_distill"].detach()) == pytest.approx(0.5)  # one call over the batch
    tracking = out["loss_cls"] + out["loss_l1"] + out["loss_giou"] + out["loss_aux"]
    assert float((out["loss"] - tracking).detach()) == pytest.approx(0.5, abs=1e-5)
    assert out["semantic_weight"].shape == (2, 2)
    # One call over all B * T frames, clip-major; per-frame outputs go back to (B, T).
    assert len(sem.seen_quality) == 1
    assert torch.allclose(sem.seen_quality[0], torch.tensor([0.5, 0.6, 0.5, 0.6]))
    assert torch.allclose(out["quality"], torch.tensor([[0.5, 0.6], [0.5, 0.6]]))
    out["loss"].backward()
    assert sem.scale.grad is not None and sem.scale.grad != 0


# ---------------------------------------------------------------- inference API
def test_inference_query_order_and_next_track_queries() -> None:
    cfg = small_config()
    model = build_model(cfg).eval()
    images, proposals, _ = clip(8, 3, 1)
    mask = torch.zeros(1, H, W, dtype=torch.bool)
    out = model.inference_step(images[:1], mask, proposals[0], None)
    assert out.num_track == 0
    assert out.kinds.tolist() == [PROPOSAL] * 4 + [LEARNABLE] * 3
    assert out.logits.shape == (7,) and out.boxes.shape == (7, 4) and out.hidden.shape == (7, 32)
    # Untrained refinement starts at zero: proposal queries predict their own boxes.
    assert torch.allclose(out.boxes[:4], proposals[0][:, :4], atol=1e-4)
    keep = torch.tensor([False, True, False, True, False, False, True])
    tracks = model.next_track_queries(out, keep)
    assert len(tracks) == 3 and torch.equal(tracks.ref_boxes, out.boxes[keep])
    out2 = model.inference_step(images[1:], mask, proposals[1][:0], tracks)
    assert out2.num_track == 3 and out2.kinds.tolist() == [TRACK] * 3 + [LEARNABLE] * 3
    assert torch.allclose(out2.boxes[:3], tracks.ref_boxes, atol=1e-4)
    assert model.config is cfg
