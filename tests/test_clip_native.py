"""Native CLIP image towers: file formats, shape inference, Hugging Face equivalence,
refused pickles, the teacher spec and its errors.

Tiny random towers stand in for the real weights (the tests download nothing): each is
saved in a format a user may hold, loaded back, and must rebuild the same shape and give
the same embeddings as the module that was saved.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from vsdmot.config import compose_config, fingerprint, model_sections
from vsdmot.nn.torchscript_state import (
    _rebuild_tensor,
    _RestrictedUnpickler,
    is_torchscript_archive,
)
from vsdmot.nn.weights import WeightsFileError, load_state_file
from vsdmot.semantics import TeacherConfig, TeacherLoadError, load_teacher
from vsdmot.semantics.clip.archs import (
    KNOWN_ARCHS,
    ResNetArch,
    VitArch,
    check_named,
    infer_arch,
    named_arch,
)
from vsdmot.semantics.clip.convert import hf_vision_to_openclip
from vsdmot.semantics.clip.load import build_tower, load_clip_tower
from vsdmot.semantics.teachers import CLIP_MEAN, load_clip_teacher, teacher_embed_dim
from vsdmot.utils.specs import SpecError

pytestmark = pytest.mark.usefixtures("offline_hub")

# Default head counts are what the loader infers for these widths (one per 64 channels).
TINY_RN = ResNetArch(layers=(1, 1, 1, 1), width=8, image_size=64, output_dim=16, heads=4)
TINY_VIT = VitArch(
    width=32, layers=2, patch_size=8, image_size=32, output_dim=16, heads=1, mlp_width=128
)


def _tower(arch, seed: int = 0) -> nn.Module:
    """A random tower with non-trivial batch-norm statistics (so they must load too)."""
    torch.manual_seed(seed)
    tower = build_tower(arch).eval()
    for m in tower.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
    return tower


def _images(arch, n: int = 2) -> torch.Tensor:
    size = arch.image_size
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(1))


class _FullClip(nn.Module):
    """Stands for a whole CLIP model: the image tower under ``visual`` plus text weights."""

    def __init__(self, tower: nn.Module) -> None:
        super().__init__()
        self.visual = tower
        self.token_embedding = nn.Embedding(10, 4)
        self.logit_scale = nn.Parameter(torch.tensor(4.6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x)


def _save_openclip_full(tower: nn.Module, path: Path) -> None:
    torch.save(_FullClip(tower).state_dict(), path)


def _save_bare(tower: nn.Module, path: Path) -> None:
    torch.save(tower.state_dict(), path)


def _save_training_checkpoint(tower: nn.Module, path: Path) -> None:
    # What OpenCLIP's trainer writes under distributed training.
    state = {f"module.{k}": v for k, v in _FullClip(tower).state_dict().items()}
    torch.save({"epoch": 3, "name": "run", "state_dict": state}, path)


def _save_safetensors(tower: nn.Module, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in _FullClip(tower).state_dict().items()}, str(path))


def _save_torchscript(tower: nn.Module, path: Path) -> None:
    """As OpenAI's files are made: ``torch.jit.save`` of the whole (traced) model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer on Python control flow over shapes, ...
        traced = torch.jit.trace(_FullClip(tower).eval(), _images(tower.arch, 1), check_trace=False)
        torch.jit.save(traced, str(path))  # deprecated in favour of torch.export: still made
    assert is_torchscript_archive(path)


SAVERS = {
    "openclip-full.pt": _save_openclip_full,
    "bare.pt": _save_bare,
    "checkpoint.pt": _save_training_checkpoint,
    "tower.safetensors": _save_safetensors,
    "openai-torchscript.pt": _save_torchscript,
}


@pytest.mark.parametrize("arch", [TINY_RN, TINY_VIT], ids=["resnet", "vit"])
@pytest.mark.parametrize("filename", list(SAVERS))
def test_every_format_rebuilds_the_saved_tower(
    arch, filename: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tower = _tower(arch)
    path = tmp_path / filename
    SAVERS[filename](tower, path)

    def no_jit_load(*args, **kwargs):
        raise AssertionError("torch.jit.load runs the archive's code; it must not be called")

    monkeypatch.setattr(torch.jit, "load", no_jit_load)
    loaded, found = load_clip_tower(path, source="openai")
    assert found == arch
    assert type(loaded) is type(tower)
    x = _images(arch)
    with torch.no_grad():
        assert torch.allclose(loaded(x), tower(x), atol=1e-6, rtol=0)
    assert not any(p.requires_grad for p in loaded.parameters()) and not loaded.training


def test_fp16_weights_load_as_float32(tmp_path: Path) -> None:
    tower = _tower(TINY_VIT)
    half = {k: v.half() if v.is_floating_point() else v for k, v in tower.state_dict().items()}
    torch.save({f"visual.{k}": v for k, v in half.items()}, tmp_path / "half.pt")
    loaded, _ = load_clip_tower(tmp_path / "half.pt", source="openai")
    assert loaded.conv1.weight.dtype == torch.float32
    tower.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    x = _images(TINY_VIT)
    with torch.no_grad():
        assert torch.allclose(loaded(x), tower(x), atol=1e-6, rtol=0)


def test_heads_and_activation_change_the_tower(tmp_path: Path) -> None:
    """Neither can be read from the weights: the caller's choice must be honoured."""
    arch = dataclasses.replace(TINY_VIT, heads=4)
    tower = _tower(arch)
    _save_bare(tower, tmp_path / "vit.pt")
    x = _images(arch)
    four, found = load_clip_tower(tmp_path / "vit.pt", source="openai", heads=4)
    one, _ = load_clip_tower(tmp_path / "vit.pt", source="openai")
    gelu, gelu_arch = load_clip_tower(tmp_path / "vit.pt", source="openclip", heads=4)
    with torch.no_grad():
        expected = tower(x)
        assert torch.allclose(four(x), expected, atol=1e-6, rtol=0)
        assert not torch.allclose(one(x), expected, atol=1e-3)
        assert not torch.allclose(gelu(x), expected, atol=1e-3)
    assert found.quick_gelu and not gelu_arch.quick_gelu


def test_matches_hugging_face_clip_vision_tower(tmp_path: Path) -> None:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    config = CLIPVisionConfig(
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        patch_size=8,
        image_size=32,
        projection_dim=16,
    )
    hf = CLIPVisionModelWithProjection(config).eval()
    hf.save_pretrained(tmp_path / "hf")
    torch.save(hf_vision_to_openclip(hf.state_dict()), tmp_path / "converted.pt")

    tower, arch = load_clip_tower(tmp_path / "converted.pt", source="openai")
    assert (arch.width, arch.layers, arch.heads, arch.output_dim) == (128, 2, 2, 16)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ours, theirs = tower(x), hf(pixel_values=x).image_embeds
    assert torch.allclose(ours, theirs, atol=1e-5, rtol=0)

    # Through the teachers: same preprocessing (CLIP mean/std, 32 px), same vectors.
    frames = torch.randint(0, 256, (2, 3, 40, 70), dtype=torch.uint8)
    spec = f"clip:source=openai,path={tmp_path}/converted.pt"
    native = load_teacher(TeacherConfig.from_spec(spec))
    reference = load_clip_teacher(str(tmp_path / "hf"))
    assert native.input_size == reference.input_size == 32
    assert torch.allclose(native.embed(frames), reference.embed(frames), atol=1e-5, rtol=0)


def test_converter_refuses_keys_it_cannot_place() -> None:
    with pytest.raises(ValueError, match="vision_model.encoder.layers.0.extra.weight"):
        hf_vision_to_openclip(
            {
                "vision_model.encoder.layers.0.extra.weight": torch.zeros(1),
                "visual_projection.weight": torch.zeros(2, 2),
            }
        )


def test_attention_pool_equals_full_multi_head_attention() -> None:
    """The pool computes only the summary token's query; the reference formulation runs
    multi-head attention over every token and keeps the first output."""
    import torch.nn.functional as F

    from vsdmot.semantics.clip.modified_resnet import AttentionPool2d

    torch.manual_seed(0)
    pool = AttentionPool2d(grid=3, embed_dim=32, heads=4, output_dim=8).eval()
    x = torch.randn(2, 32, 3, 3)
    tokens = x.flatten(2).permute(2, 0, 1)  # (HW, B, C)
    tokens = torch.cat([tokens.mean(dim=0, keepdim=True), tokens])
    tokens = tokens + pool.positional_embedding[:, None]
    full, _ = F.multi_head_attention_forward(
        tokens, tokens, tokens, 32, 4,
        in_proj_weight=None,
        in_proj_bias=torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]),
        bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
        out_proj_weight=pool.c_proj.weight, out_proj_bias=pool.c_proj.bias,
        use_separate_proj_weight=True,
        q_proj_weight=pool.q_proj.weight, k_proj_weight=pool.k_proj.weight,
        v_proj_weight=pool.v_proj.weight, need_weights=False,
    )  # fmt: skip
    with torch.no_grad():
        assert torch.allclose(pool(x), full[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", list(KNOWN_ARCHS))
def test_shape_inference_recovers_every_published_tower(name: str) -> None:
    arch = KNOWN_ARCHS[name]
    with torch.device("meta"):  # shapes only: no memory for ViT-bigG
        state = build_tower(arch).state_dict()
    assert infer_arch(state) == arch
    check_named(infer_arch(state), name)


def test_known_embedding_sizes_need_no_file() -> None:
    expected = {"RN50": 1024, "RN101": 512, "RN50x4": 640, "ViT-B-32": 512, "ViT-B/16": 512,
                "ViT-L-14": 768}  # fmt: skip
    for arch, dim in expected.items():
        cfg = TeacherConfig.from_spec(f"clip:source=openai,arch={arch},path=/nowhere/x.pt")
        assert teacher_embed_dim(cfg) == dim
    assert named_arch("RN50").image_size == 224


def test_embedding_size_read_from_the_file_when_arch_is_not_named(tmp_path: Path) -> None:
    _save_bare(_tower(TINY_RN), tmp_path / "rn.pt")
    cfg = TeacherConfig.from_spec(f"clip:source=openclip,path={tmp_path}/rn.pt")
    assert teacher_embed_dim(cfg) == TINY_RN.output_dim
    missing = TeacherConfig.from_spec(f"clip:source=openclip,path={tmp_path}/none.pt")
    with pytest.raises(TeacherLoadError, match="none.pt"):
        teacher_embed_dim(missing)


def test_named_arch_must_fit_the_weights(tmp_path: Path) -> None:
    _save_bare(_tower(TINY_RN), tmp_path / "rn.pt")
    with pytest.raises(WeightsFileError, match=r"rn\.pt: the weights are not a RN50 tower: layers"):
        load_clip_tower(tmp_path / "rn.pt", source="openai", arch="RN50")
    with pytest.raises(WeightsFileError, match="a ResNet tower, not ViT-B-32"):
        load_clip_tower(tmp_path / "rn.pt", source="openai", arch="ViT-B-32")


def test_files_that_are_no_clip_tower_say_so(tmp_path: Path) -> None:
    torch.save({"visual.fc.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(WeightsFileError, match="not a CLIP image tower"):
        load_clip_tower(tmp_path / "other.pt", source="openai")
    torch.save({"vision_model.embeddings.class_embedding": torch.zeros(2)}, tmp_path / "hf.pt")
    with pytest.raises(WeightsFileError, match="source=hf"):
        load_clip_tower(tmp_path / "hf.pt", source="openai")


# -- refusing code -----------------------------------------------------------------------


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_torchscript_archive(path: Path, marker: Path) -> None:
    """A zip laid out like ``torch.jit.save``'s whose data.pkl would run a command."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("evil/data.pkl", pickle.dumps({"visual": _Evil(marker)}, protocol=2))
        z.writestr("evil/code/__torch__.py", "")
        z.writestr("evil/constants.pkl", pickle.dumps(()))


@pytest.mark.parametrize("kind", ["torchscript", "torch.save", "bare pickle"])
def test_pickles_that_would_run_code_are_refused(kind: str, tmp_path: Path) -> None:
    marker, path = tmp_path / "ran", tmp_path / "evil.pt"
    if kind == "torchscript":
        _evil_torchscript_archive(path, marker)
    elif kind == "torch.save":
        torch.save({"visual.proj": _Evil(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"visual.proj": _Evil(marker)}, protocol=2))
    with pytest.raises(WeightsFileError, match=r"evil\.pt"):
        load_state_file(path, "CLIP image tower")
    with pytest.raises(WeightsFileError, match=r"evil\.pt"):
        load_clip_tower(path, source="openai")
    assert not marker.exists()


def _rewritten(source: Path, path: Path, change) -> None:
    """``source``'s zip with each record passed through ``change(name, data)`` (None drops it)."""
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(path, "w") as out:
        for name in z.namelist():
            if (data := change(name, z.read(name))) is not None:
                out.writestr(name, data)


DAMAGE = {
    "truncated pickle": lambda n, d: d[: len(d) // 2] if n.endswith("data.pkl") else d,
    "missing record": lambda n, d: None if "/data/" in n else d,
    "short record": lambda n, d: d[:2] if "/data/" in n else d,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_archives_are_named_damaged_not_refused(damage: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.save is deprecated, still what files hold
        torch.jit.save(torch.jit.script(nn.Linear(3, 2)), str(tmp_path / "whole.pt"))
    assert set(load_state_file(tmp_path / "whole.pt", "x")) == {"weight", "bias"}
    path = tmp_path / "damaged.pt"
    _rewritten(tmp_path / "whole.pt", path, DAMAGE[damage])
    with pytest.raises(WeightsFileError, match=r"damaged\.pt.*damaged TorchScript archive") as e:
        load_state_file(path, "CLIP image tower")
    assert "run code" not in str(e.value) and "\n" not in str(e.value)


def test_build_on_a_rebuild_function_does_not_outlive_its_load() -> None:
    """GLOBAL torch._utils._rebuild_tensor_v2, then BUILD {"marker": 1} onto it."""
    data = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}X\x06\x00\x00\x00markerK\x01sb.")
    built = _RestrictedUnpickler(data, zipfile.ZipFile(io.BytesIO(_EMPTY_ZIP)), "").load()
    assert built.marker == 1  # the pickle did write into what it was handed ...
    again = _RestrictedUnpickler(data, zipfile.ZipFile(io.BytesIO(_EMPTY_ZIP)), "")
    assert not hasattr(again.find_class("torch._utils", "_rebuild_tensor_v2"), "marker")
    assert not vars(_rebuild_tensor)  # ... and nothing every load shares
    assert not any(hasattr(f, "marker") for f in vars(_RestrictedUnpickler).values())


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    return buffer.getvalue()


_EMPTY_ZIP = _empty_zip()


# -- teachers, specs, config -------------------------------------------------------------


def test_native_teacher_preprocessing_and_id(tmp_path: Path) -> None:
    _save_openclip_full(_tower(TINY_RN), tmp_path / "rn.pt")
    spec = f"clip:source=openai,path={tmp_path}/rn.pt"
    teacher = load_teacher(TeacherConfig.from_spec(spec))
    assert teacher.input_size == 64  # from the attention pool's position table
    assert teacher.mean == tuple(CLIP_MEAN) and teacher.embed_dim == 16
    frames = torch.randint(0, 256, (2, 3, 48, 90), dtype=torch.uint8)
    emb = teacher.embed(frames)
    assert emb.shape == (2, 16) and torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)
    crops = teacher.embed_crops(torch.rand(3, 3, 20, 12))  # resized to 64 px first
    assert crops.shape == (3, 16)
    # Another input size: the position table is resized, the embedding size is kept.
    bigger = load_teacher(TeacherConfig.from_spec(spec + ",input_size=96"))
    assert bigger.embed(frames).shape == (2, 16)

    again = load_teacher(TeacherConfig.from_spec(spec))
    assert again.teacher_id == teacher.teacher_id and teacher.teacher_id.startswith("clip-resnet-")
    cropped = load_teacher(TeacherConfig.from_spec(spec + ",resize=center_crop"))
    assert cropped.teacher_id != teacher.teacher_id


def test_same_vit_weights_under_another_activation_get_another_id(tmp_path: Path) -> None:
    _save_bare(_tower(TINY_VIT), tmp_path / "vit.pt")
    openai = load_teacher(TeacherConfig.from_spec(f"clip:source=openai,path={tmp_path}/vit.pt"))
    gelu = load_teacher(TeacherConfig.from_spec(f"clip:source=openclip,path={tmp_path}/vit.pt"))
    assert openai.teacher_id != gelu.teacher_id


def test_missing_weights_name_the_file_and_what_to_pass(tmp_path: Path) -> None:
    cfg = TeacherConfig.from_spec(f"clip:source=openai,arch=RN50,path={tmp_path}/RN50.pt")
    with pytest.raises(TeacherLoadError, match=r"RN50\.pt.*semantic\.teacher=clip:source=openai"):
        load_teacher(cfg)
    with pytest.raises(TeacherLoadError, match="no weights file given.*path=<file>"):
        load_teacher(TeacherConfig.from_spec("clip:source=openclip,arch=ViT-B-32"))


def test_spec_grammar() -> None:
    openai = TeacherConfig.from_spec("clip:source=openai,arch=RN50,path=w/RN50.pt")
    assert (openai.kind, openai.source, openai.arch, openai.weights) == (
        "clip", "openai", "RN50", "w/RN50.pt")  # fmt: skip
    hf = TeacherConfig.from_spec("clip:source=hf,id=openai/clip-vit-base-patch16,input_size=160")
    assert (hf.backend, hf.name_or_path, hf.input_size) == (
        "hf", "openai/clip-vit-base-patch16", 160)  # fmt: skip
    mobile = TeacherConfig.from_spec("mobilenet_v2:path=m.pt")
    assert (mobile.backend, mobile.weights) == ("mobilenet_v2", "m.pt")
    for cfg in (openai, hf, mobile, TeacherConfig(source="openclip", weights="a.safetensors")):
        assert TeacherConfig.from_spec(cfg.to_spec()) == cfg
    # The fields of before still mean a Hugging Face tower.
    assert TeacherConfig(kind="clip", name_or_path="x/y").backend == "hf"

    bad = {
        "dino:path=x": "unknown teacher 'dino'",
        "clip:source=openai,id=x": "takes path=",
        "clip:source=hf,path=x.pt": "takes id=",
        "clip:source=openai,weights=x": "no option 'weights'",
        "clip:source=openai,arch=RN51": "unknown CLIP tower 'RN51'",
        "clip:source=elsewhere": "teacher.source",
        "clip:source=openai,input_size=big": "input_size needs a value of type int",
    }
    for text, message in bad.items():
        with pytest.raises((SpecError, ValueError), match=message):
            TeacherConfig.from_spec(text)
    with pytest.raises(ValueError, match="teacher.arch='RN50' applies to"):
        TeacherConfig(arch="RN50")


def test_config_takes_the_teacher_as_one_spec() -> None:
    spec = "clip:source=openai,arch=RN50,path=R.pt"
    cfg = compose_config(None, ["semantic.teacher.input_size=300", f"semantic.teacher={spec}"])
    assert cfg.semantic.teacher == TeacherConfig(source="openai", arch="RN50", weights="R.pt")
    with pytest.raises(ValueError, match="<command line>: semantic.teacher: .*unknown teacher"):
        compose_config(None, ["semantic.teacher=vgg:path=x"])


def test_checkpoints_written_before_the_new_teacher_keys_still_fit() -> None:
    now = model_sections(compose_config(None, []))
    older = {**now, "semantic": {**now["semantic"], "teacher": dict(now["semantic"]["teacher"])}}
    del older["semantic"]["teacher"]["source"], older["semantic"]["teacher"]["arch"]
    assert fingerprint(older) == fingerprint(now)
    native = model_sections(compose_config(None, ["semantic.teacher=clip:source=openai,arch=RN50"]))
    assert fingerprint(native) != fingerprint(now)
