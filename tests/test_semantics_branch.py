"""SemanticBranch modes, shapes, padding, teacher handling and the DSWR gate."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from vsdmot.nn.fusion import SemanticOutput
from vsdmot.semantics import (
    QualityConfig,
    QualitySmoother,
    SemanticBranch,
    SemanticConfig,
    StudentConfig,
    Teacher,
    TeacherConfig,
    build_semantic_branch,
)
from vsdmot.semantics.preprocess import normalize

pytestmark = pytest.mark.usefixtures("offline_hub")

D_MODEL = 24
SMALL_STUDENT = StudentConfig(input_size=32, width=0.25, depth=6, feature_dim=32, head_hidden=32)
SMALL_QUALITY = QualityConfig(input_size=32, channels=(8, 16), gate_hidden=16)


def _teacher(dim: int = 16) -> Teacher:
    torch.manual_seed(0)
    enc = nn.Sequential(nn.Conv2d(3, dim, 3, stride=2), nn.Tanh())
    return Teacher(enc, embed_dim=dim, input_size=24, name="toy")


def _cfg(**kw) -> SemanticConfig:
    base = dict(student=SMALL_STUDENT, quality=SMALL_QUALITY, adapter_hidden=32)
    base.update(kw)
    return SemanticConfig(**base)


def _imagenet(unit: torch.Tensor) -> torch.Tensor:
    return normalize(unit, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def test_none_builds_nothing() -> None:
    assert build_semantic_branch(SemanticConfig(semantics="none"), D_MODEL) is None


def test_student_branch_shapes_losses_and_gradients() -> None:
    teacher = _teacher()
    branch = build_semantic_branch(_cfg(), D_MODEL, teacher=teacher)
    assert isinstance(branch, SemanticBranch)
    torch.manual_seed(1)
    clean = torch.rand(4, 3, 40, 56)
    images = _imagenet((clean + 0.2 * torch.randn_like(clean)).clamp(0, 1))
    masks = torch.zeros(4, 40, 56, dtype=torch.bool)
    branch.train()
    out = branch(images, masks, _imagenet(clean), torch.tensor([0.2, 0.4, 0.6, float("nan")]))
    assert isinstance(out, SemanticOutput)
    assert out.injection.shape == (4, D_MODEL)
    assert out.quality.shape == (4,) and ((out.quality > 0) & (out.quality < 1)).all()
    assert out.weight.shape == (4, D_MODEL) and ((out.weight > 0) & (out.weight < 1)).all()
    assert set(out.losses) == {"sem_align", "sem_struct", "sem_quality"}
    assert all(v.dim() == 0 and torch.isfinite(v) for v in out.losses.values())

    (sum(out.losses.values()) + out.injection.pow(2).sum()).backward()
    assert branch.student.head[-1].weight.grad.abs().sum() > 0
    assert branch.quality_head.mlp[-1].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())
    # The teacher is outside the module: not optimised, not in checkpoints.
    own = {id(p) for p in branch.parameters()}
    assert not any(id(p) in own for p in teacher.parameters())
    assert not any("encoder" in k or "teacher" in k for k in branch.state_dict())


def test_targets_are_the_teacher_on_clean_frames_or_cached() -> None:
    teacher = _teacher()
    cfg = _cfg(distill="alignment", dswr="off")
    branch = SemanticBranch(cfg, D_MODEL, teacher=teacher).train()
    clean = torch.rand(3, 3, 32, 32)
    noisy = (clean + 0.3 * torch.randn_like(clean)).clamp(0, 1)
    student_emb = branch.student(branch.student.prepare(noisy))
    expected = 1 - torch.cosine_similarity(student_emb, teacher.embed(clean)).mean()
    out = branch(_imagenet(noisy), None, _imagenet(clean), None)
    assert out.losses["sem_align"].item() == pytest.approx(expected.item(), abs=1e-5)
    # Precomputed targets replace the teacher altogether.
    branch.attach_teacher(_RaisingTeacher(teacher))
    targets = torch.nn.functional.normalize(torch.randn(3, 16), dim=-1)
    out = branch(_imagenet(noisy), None, None, None, teacher_embeddings=targets)
    expected = 1 - torch.cosine_similarity(student_emb, targets).mean()
    assert out.losses["sem_align"].item() == pytest.approx(expected.item(), abs=1e-5)
    # Eval mode computes no losses and never needs the teacher.
    assert branch.eval()(_imagenet(noisy)).losses == {}


class _RaisingTeacher(Teacher):
    def __init__(self, like: Teacher) -> None:
        super().__init__(nn.Identity(), embed_dim=like.embed_dim, input_size=8)

    def embed(self, images: object) -> torch.Tensor:
        raise AssertionError("the teacher must not run when targets are given")


def test_padding_is_cropped_away() -> None:
    branch = SemanticBranch(_cfg(), D_MODEL, teacher=_teacher()).eval()
    frame = torch.rand(3, 30, 44)
    padded = torch.zeros(1, 3, 48, 64)
    padded[0, :, :30, :44] = _imagenet(frame[None])[0]
    padded[0, :, 30:, :] = 5.0  # garbage in the padding must not matter
    padded[0, :, :, 44:] = -5.0
    mask = torch.ones(1, 48, 64, dtype=torch.bool)
    mask[0, :30, :44] = False
    a = branch(padded, mask)
    b = branch(_imagenet(frame[None]), torch.zeros(1, 30, 44, dtype=torch.bool))
    assert torch.allclose(a.injection, b.injection, atol=1e-5)
    assert torch.allclose(a.quality, b.quality, atol=1e-5)


def test_teacher_mode_runs_the_frozen_teacher(tiny_clip: Path) -> None:
    cfg = _cfg(semantics="teacher", teacher=TeacherConfig(kind="clip", name_or_path=str(tiny_clip)))
    branch = build_semantic_branch(cfg, D_MODEL)
    assert branch.student is None and branch.teacher.embed_dim == 16
    assert all(not p.requires_grad for p in branch.teacher.parameters())
    names = [n for n, _ in branch.named_parameters()]
    assert names and all(n.startswith(("fusion.", "quality_head.")) for n in names)
    branch.train()
    x = _imagenet(torch.rand(2, 3, 32, 48))
    out = branch(x, None, None, torch.tensor([0.5, 0.9]))
    assert set(out.losses) == {"sem_quality"}  # nothing to distil
    assert out.injection.shape == (2, D_MODEL)
    assert not branch.teacher.training
    e = branch.teacher.embed(torch.rand(2, 3, 32, 32))
    assert not e.requires_grad


def test_student_mode_loads_its_teacher_lazily(tiny_clip: Path) -> None:
    cfg = _cfg(teacher=TeacherConfig(kind="clip", name_or_path=str(tiny_clip)))
    branch = SemanticBranch(cfg, D_MODEL)
    assert branch.teacher is None and branch.embed_dim == 16  # read from the config only
    branch.eval()(_imagenet(torch.rand(2, 3, 32, 32)))
    assert branch.teacher is None  # inference never needs it
    out = branch.train()(_imagenet(torch.rand(3, 3, 32, 32)))
    assert branch.teacher is not None and "sem_align" in out.losses


def test_dswr_off_has_no_gate_and_no_quality() -> None:
    branch = SemanticBranch(_cfg(dswr="off"), D_MODEL, teacher=_teacher()).eval()
    assert branch.quality_head is None and branch.fusion.gate is None
    out = branch(_imagenet(torch.rand(2, 3, 32, 32)))
    assert out.weight is None and out.quality is None
    s = branch.student.embed(torch.rand(2, 3, 32, 32))
    assert torch.allclose(branch.fusion(s, None)[0], branch.fusion.adapter(branch.fusion.norm(s)))


def test_injection_changes_with_quality_and_smoothing_is_reset() -> None:
    branch = SemanticBranch(_cfg(), D_MODEL, teacher=_teacher()).eval()
    s = torch.nn.functional.normalize(torch.randn(1, 16), dim=-1)
    lo, w_lo = branch.fusion(s, torch.tensor([0.0]))
    hi, w_hi = branch.fusion(s, torch.tensor([1.0]))
    assert (w_lo - w_hi).abs().max() > 1e-3
    assert not torch.allclose(lo, hi)
    assert torch.allclose(lo / w_lo, hi / w_hi, atol=1e-5)  # same adapter(s), other weights

    smoother = QualitySmoother(ema=0.5)
    frames = [_imagenet(torch.rand(1, 3, 32, 32)) for _ in range(3)]
    raw = [branch(f).quality for f in frames]
    smoothed = [branch(f, smoother=smoother).quality for f in frames]
    assert torch.allclose(smoothed[0], raw[0])
    assert torch.allclose(smoothed[1], 0.5 * raw[0] + 0.5 * raw[1])
    assert torch.allclose(smoothed[2], 0.25 * raw[0] + 0.25 * raw[1] + 0.5 * raw[2])
    smoother.reset()
    assert torch.allclose(branch(frames[2], smoother=smoother).quality, raw[2])


def test_fusion_off_injects_nothing_keeps_q_and_skips_the_student(monkeypatch) -> None:
    branch = SemanticBranch(_cfg(), D_MODEL, teacher=_teacher()).eval()
    frames = _imagenet(torch.rand(2, 3, 32, 32))
    on = branch(frames)
    assert on.injection.abs().max() > 0
    monkeypatch.setattr(branch.student, "forward", lambda *_: pytest.fail("student ran"))
    off = branch(frames, fuse=False)
    assert off.injection.shape == on.injection.shape and off.injection.abs().max() == 0
    assert off.weight.abs().max() == 0 and torch.allclose(off.quality, on.quality)
    with pytest.raises(ValueError, match="inference switch"):
        branch.train()(frames, fuse=False)


def test_adapter_zero_init_starts_from_no_injection() -> None:
    branch = SemanticBranch(_cfg(adapter_zero_init=True), D_MODEL, teacher=_teacher()).eval()
    assert branch(_imagenet(torch.rand(2, 3, 32, 32))).injection.abs().max() == 0


def test_student_starts_from_imagenet_trunk(mobilenet_weights: Path) -> None:
    from vsdmot.semantics import Student

    student = Student(
        StudentConfig(
            input_size=64,
            depth=7,
            feature_dim=32,
            head_hidden=32,
            pretrained=str(mobilenet_weights),
        ),
        embed_dim=16,
    )
    state = torch.load(mobilenet_weights, map_location="cpu", weights_only=True)
    assert torch.equal(student.features[6].conv[0].weight, state["features.6.conv.0.weight"])
    student.train()
    assert not student.features[1].conv[1].training  # ImageNet BN statistics kept
    assert student.head[0].training
    with pytest.raises(ValueError, match="width=1.0"):
        StudentConfig(width=0.5, pretrained=str(mobilenet_weights))


def test_plugs_into_the_tracker_training_step() -> None:
    from vsdmot.models.batch import ClipBatch, FrameTargets
    from vsdmot.models.config import ModelConfig
    from vsdmot.models.factory import build_model

    model_cfg = ModelConfig(d_model=32, n_heads=4, enc_layers=1, dec_layers=2, ffn_dim=64)
    branch = build_semantic_branch(_cfg(), model_cfg.d_model, teacher=_teacher())
    model = build_model(model_cfg, branch).train()
    g = torch.Generator().manual_seed(0)
    b, t, h, w = 1, 2, 64, 96
    boxes = torch.tensor([[0.3, 0.4, 0.1, 0.2], [0.7, 0.6, 0.1, 0.3]])
    props = torch.cat((boxes, torch.full((2, 1), 0.9)), 1)
    batch = ClipBatch(
        images=torch.randn(b, t, 3, h, w, generator=g),
        masks=torch.zeros(b, t, h, w, dtype=torch.bool),
        proposals=[[props, props]],
        targets=[[FrameTargets(boxes, torch.arange(2), quality=q) for q in (0.3, 0.8)]],
        clean_images=torch.randn(b, t, 3, h, w, generator=g),
    )
    out = model.training_step(batch)
    assert {"sem_align", "sem_quality"} <= set(out)
    assert out["quality"].shape == (1, 2) and out["semantic_weight"].shape == (1, 2)
    out["loss"].backward()
    assert branch.student.head[-1].weight.grad.abs().sum() > 0
    assert branch.fusion.gate[-1].weight.grad.abs().sum() > 0
