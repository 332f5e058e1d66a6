"""Building blocks of the tracker: box ops, matcher, deformable attention, backbones."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from vsdmot.models.backbone import build_backbone
from vsdmot.models.box_ops import (
    box_cxcywh_to_xyxy,
    box_xyxy_to_cxcywh,
    generalized_box_iou,
    inverse_sigmoid,
)
from vsdmot.models.config import ModelConfig
from vsdmot.models.matcher import HungarianMatcher, assign
from vsdmot.models.ms_deform_attn import MSDeformAttn, ms_deform_attn_core
from vsdmot.nn.frozen_bn import FrozenBatchNorm2d
from vsdmot.nn.mobilenet_v2 import MobileNetV2Features, load_mobilenet_v2_features


# ---------------------------------------------------------------- box ops
def test_box_conversions_round_trip() -> None:
    boxes = torch.rand(10, 4)
    assert torch.allclose(box_xyxy_to_cxcywh(box_cxcywh_to_xyxy(boxes)), boxes, atol=1e-6)


def test_giou_by_hand() -> None:
    a = torch.tensor([[0.0, 0.0, 4.0, 2.0]])
    b = torch.tensor([[2.0, 0.0, 6.0, 2.0], [0.0, 3.0, 4.0, 4.0]])
    # overlap 4, union 12, hull 12 -> 1/3; disjoint: union 12, hull 16 -> -0.25
    assert generalized_box_iou(a, b)[0].tolist() == pytest.approx([1 / 3, -0.25])


def test_inverse_sigmoid_inverts() -> None:
    x = torch.linspace(0.01, 0.99, 7)
    assert torch.allclose(inverse_sigmoid(x).sigmoid(), x, atol=1e-6)


# ---------------------------------------------------------------- matcher
def test_assign_finds_the_optimum_not_the_greedy_choice() -> None:
    # Greedy (row 0 takes its best column 0) costs 1 + 10; the optimum costs 2 + 2.
    cost = torch.tensor([[1.0, 2.0], [2.0, 10.0]])
    rows, cols = assign(cost)
    assert dict(zip(rows.tolist(), cols.tolist(), strict=True)) == {0: 1, 1: 0}


def test_assign_rectangular_and_empty() -> None:
    rows, cols = assign(torch.tensor([[5.0], [1.0], [3.0]]))
    assert rows.tolist() == [1] and cols.tolist() == [0]
    rows, cols = assign(torch.zeros(3, 0))
    assert rows.numel() == 0 and cols.numel() == 0


def test_matcher_pairs_queries_with_their_boxes() -> None:
    gt = torch.tensor([[0.2, 0.2, 0.1, 0.1], [0.7, 0.6, 0.2, 0.3]])
    queries = torch.tensor([[0.71, 0.6, 0.2, 0.3], [0.5, 0.5, 0.5, 0.5], [0.2, 0.21, 0.1, 0.1]])
    logits = torch.zeros(3)
    q, g = HungarianMatcher()(logits, queries, gt)
    assert dict(zip(g.tolist(), q.tolist(), strict=True)) == {0: 2, 1: 0}


def test_matcher_class_cost_prefers_confident_query() -> None:
    gt = torch.tensor([[0.5, 0.5, 0.2, 0.2]])
    boxes = gt.repeat(2, 1)
    q, _ = HungarianMatcher()(torch.tensor([-3.0, 3.0]), boxes, gt)
    assert q.tolist() == [1]


# ---------------------------------------------------------------- deformable attention
def naive_ms_deform_attn(
    value: torch.Tensor,
    shapes: list[tuple[int, int]],
    locations: torch.Tensor,
    weights: torch.Tensor,
) -> torch.Tensor:
    """Point-by-point bilinear sampling written out (align_corners=False, zero outside)."""
    b, _, n_heads, dh = value.shape
    _, q, _, _, n_points, _ = locations.shape
    out = torch.zeros(b, q, n_heads, dh, dtype=value.dtype)
    starts = [0]
    for h, w in shapes:
        starts.append(starts[-1] + h * w)
    for bi in range(b):
        for qi in range(q):
            for hi in range(n_heads):
                for li, (h, w) in enumerate(shapes):
                    level = value[bi, starts[li] : starts[li + 1], hi].view(h, w, dh)
                    for pi in range(n_points):
                        x = float(locations[bi, qi, hi, li, pi, 0]) * w - 0.5
                        y = float(locations[bi, qi, hi, li, pi, 1]) * h - 0.5
                        x0, y0 = math.floor(x), math.floor(y)
                        sample = torch.zeros(dh, dtype=value.dtype)
                        for yy, xx in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)):
                            if 0 <= yy < h and 0 <= xx < w:
                                wgt = (1 - abs(x - xx)) * (1 - abs(y - yy))
                                sample += wgt * level[yy, xx]
                        out[bi, qi, hi] += weights[bi, qi, hi, li, pi] * sample
    return out.view(b, q, n_heads * dh)


def test_ms_deform_attn_core_matches_naive_reference() -> None:
    g = torch.Generator().manual_seed(0)
    shapes = [(5, 7), (3, 4)]
    b, q, n_heads, dh, n_points = 2, 3, 2, 4, 3
    value = torch.randn(b, 5 * 7 + 3 * 4, n_heads, dh, generator=g, dtype=torch.float64)
    # Some locations fall outside [0, 1] to exercise zero padding at the borders.
    loc = torch.rand(b, q, n_heads, 2, n_points, 2, generator=g, dtype=torch.float64) * 1.2 - 0.1
    weights = torch.rand(b, q, n_heads, 2, n_points, generator=g, dtype=torch.float64)
    fast = ms_deform_attn_core(value, shapes, loc, weights)
    ref = naive_ms_deform_attn(value, shapes, loc, weights)
    assert torch.allclose(fast, ref, atol=1e-5)


def test_ms_deform_attn_ignores_masked_values() -> None:
    torch.manual_seed(0)
    attn = MSDeformAttn(d_model=16, n_levels=2, n_heads=2, n_points=2)
    with torch.no_grad():  # make offsets depend on the query so the test is not trivial
        attn.sampling_offsets.weight.normal_(0, 0.5)
        attn.attention_weights.weight.normal_(0, 0.5)
    shapes = [(4, 6), (2, 3)]
    value = torch.randn(1, 30, 16)
    mask = torch.zeros(1, 30, dtype=torch.bool)
    mask[0, 18:24] = True  # the last row of level 0
    mask[0, 26:30] = True
    query, refs = torch.randn(1, 5, 16), torch.rand(1, 5, 2, 4) * 0.5 + 0.25
    out = attn(query, refs, value, shapes, mask)
    garbage = value.clone()
    garbage[mask] = 1e4
    assert torch.allclose(attn(query, refs, garbage, shapes, mask), out, atol=1e-5)
    assert not torch.allclose(attn(query, refs, garbage, shapes, None), out, atol=1e-2)


# ---------------------------------------------------------------- backbones
def test_frozen_bn_matches_eval_batchnorm_and_has_no_parameters() -> None:
    bn = torch.nn.BatchNorm2d(3).eval()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2)
        bn.bias.normal_()
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2)
    frozen = FrozenBatchNorm2d.from_bn(bn)
    x = torch.randn(2, 3, 4, 4)
    assert torch.allclose(frozen(x), bn(x), atol=1e-5)
    assert list(frozen.parameters()) == []
    frozen2 = FrozenBatchNorm2d(3)
    frozen2.load_state_dict(bn.state_dict())  # num_batches_tracked tolerated
    assert torch.allclose(frozen2(x), bn(x), atol=1e-5)


def test_mobilenet_strides_channels_and_stage_freezing() -> None:
    cfg = ModelConfig(trainable_stages=2)
    net = build_backbone(cfg)
    feats = net(torch.zeros(1, 3, 96, 128))
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 12, 16), (96, 6, 8), (1280, 3, 4)]
    stages = net.stages()
    assert not any(p.requires_grad for s in stages[:2] for p in s.parameters())
    assert all(p.requires_grad for s in stages[2:] for p in s.parameters())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    frozen = build_backbone(ModelConfig(freeze_backbone=True))
    assert not any(p.requires_grad for p in frozen.parameters())


def test_missing_mobilenet_weights_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pt"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_mobilenet_v2_features(missing)


def test_mobilenet_real_weights_load_strictly(mobilenet_weights: Path) -> None:
    state = torch.load(mobilenet_weights, map_location="cpu", weights_only=True)
    net = MobileNetV2Features()
    net.load_state_dict(state, strict=True)  # raises on any missing or unexpected key
    loaded = load_mobilenet_v2_features(mobilenet_weights).eval()
    bn = loaded.features[0][1]
    assert torch.equal(bn.running_mean, state["features.0.1.running_mean"])
    # Real BN statistics are not the init's (0, 1): the file's statistics are in use.
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))

    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 8, generator=g), size=(96, 96))
    stripes = torch.sin(torch.arange(96.0) * 0.7).expand(1, 3, 96, 96)
    with torch.no_grad():
        a = loaded(smooth * 2 - 1).mean((2, 3))[0]
        b = loaded(stripes).mean((2, 3))[0]
    assert torch.isfinite(a).all() and a.std() > 0.05  # not constant
    assert (a >= 0).all() and (a <= 6).all()  # ReLU6 output range
    # Different images give clearly different descriptors (a random BN-less net would
    # blow up or collapse these statistics).
    assert torch.nn.functional.cosine_similarity(a, b, dim=0) < 0.95
    # Through the backbone wrapper the pretrained weights are the ones used.
    wrapped = build_backbone(ModelConfig(backbone_weights=str(mobilenet_weights)))
    with torch.no_grad():
        assert torch.allclose(wrapped(smooth * 2 - 1)[-1].mean((2, 3))[0], a, atol=1e-4)


def test_hf_resnet_from_a_local_folder(tmp_path: Path) -> None:
    from transformers import ResNetBackbone, ResNetConfig

    config = ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], layer_type="basic"
    )
    torch.manual_seed(0)
    reference = ResNetBackbone(config)
    reference.save_pretrained(tmp_path)
    net = build_backbone(
        ModelConfig(backbone="hf_resnet", backbone_weights=str(tmp_path), trainable_stages=1)
    )
    assert net.channels == (16, 24, 32)
    x = torch.randn(1, 3, 64, 96)
    feats = net(x)
    assert [tuple(f.shape) for f in feats] == [(1, 16, 8, 12), (1, 24, 4, 6), (1, 32, 2, 3)]
    # Saved weights are the ones loaded (BN frozen from the same statistics).
    reference.eval()
    with torch.no_grad():
        expected = reference(pixel_values=x).feature_maps[-1]
    assert torch.allclose(feats[-1], expected, atol=1e-4)
    trainable = {n.split(".")[2] for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"stages"} and all(
        ".stages.3." in n for n, p in net.named_parameters() if p.requires_grad
    )
