"""Teachers (tiny CLIP saved and reloaded offline, generic module, MobileNetV2) and the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from vsdmot.semantics import (
    EmbeddingCache,
    SemanticConfig,
    Teacher,
    TeacherConfig,
    TeacherLoadError,
    load_clip_teacher,
    load_teacher,
    mobilenet_v2_teacher,
)
from vsdmot.semantics.teachers import teacher_embed_dim

# Nothing here may reach the hub: loading is tested on models saved in tmp (``tiny_clip``).
pytestmark = pytest.mark.usefixtures("offline_hub")


def test_tiny_clip_loads_offline_with_its_processor(tiny_clip: Path) -> None:
    teacher = load_clip_teacher(str(tiny_clip))
    assert teacher.embed_dim == 16 and teacher.input_size == 32
    assert teacher.mean == (0.5, 0.4, 0.3) and teacher.std == (0.2, 0.25, 0.3)
    frames = torch.randint(0, 256, (3, 3, 48, 80), dtype=torch.uint8)
    pixels = teacher.preprocess(frames)
    assert pixels.shape == (3, 3, 32, 32)
    # Preprocessing applies the saved mean/std: a mid-grey frame maps to (0.5 - m) / s.
    grey = teacher.preprocess(torch.full((1, 3, 40, 40), 0.5))[0, :, 0, 0]
    assert torch.allclose(grey, torch.tensor([0.0, 0.4, 2 / 3]), atol=1e-5)

    e1, e2 = teacher.embed(frames), teacher.embed(frames)
    assert e1.shape == (3, 16)
    assert torch.equal(e1, e2)
    assert torch.allclose(e1.norm(dim=1), torch.ones(3), atol=1e-5)
    assert not e1.requires_grad
    assert all(not p.requires_grad for p in teacher.parameters())
    teacher.train()
    assert not teacher.training and not teacher.encoder.training
    # Same images as numpy HWC uint8 give the same vectors.
    as_numpy = frames.permute(0, 2, 3, 1).numpy()
    assert torch.allclose(teacher.embed(as_numpy), e1, atol=1e-6)


def test_clip_teacher_id_tracks_weights_not_location(tiny_clip: Path, tmp_path: Path) -> None:
    import shutil

    a = load_clip_teacher(str(tiny_clip))
    copy = tmp_path / "copy"
    shutil.copytree(tiny_clip, copy)
    assert load_clip_teacher(str(copy)).teacher_id == a.teacher_id
    assert load_clip_teacher(str(copy), resize="center_crop").teacher_id != a.teacher_id
    with torch.no_grad():
        a.encoder.visual_projection.weight.add_(0.01)
    a._teacher_id = None  # a changed network must not reuse the cached id
    assert a.teacher_id != load_clip_teacher(str(copy)).teacher_id


def test_clip_defaults_without_processor_and_dim_without_weights(tiny_clip: Path, tmp_path: Path):
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(tiny_clip, bare)
    (bare / "preprocessor_config.json").unlink()
    teacher = load_clip_teacher(str(bare))
    assert teacher.input_size == 32  # the model's own image_size
    assert teacher.mean[0] == pytest.approx(0.48145466)
    assert teacher_embed_dim(TeacherConfig(kind="clip", name_or_path=str(bare))) == 16


def test_missing_clip_weights_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(TeacherLoadError, match=r"no such folder.*save_pretrained"):
        load_clip_teacher(str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TeacherLoadError, match="save_pretrained"):
        load_clip_teacher(str(empty))
    with pytest.raises(TeacherLoadError, match="HF_HUB_OFFLINE"):
        load_teacher(TeacherConfig(kind="clip", name_or_path="openai/clip-vit-base-patch32"))
    with pytest.raises(TeacherLoadError, match="teacher.weights"):
        load_teacher(TeacherConfig(kind="mobilenet_v2"))


def test_generic_module_teacher_pools_and_normalises() -> None:
    torch.manual_seed(0)
    enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU())
    teacher = Teacher(enc, embed_dim=8, input_size=24, resize="center_crop", name="toy")
    x = torch.rand(2, 3, 30, 60)
    pixels = teacher.preprocess(x)
    expected = enc(pixels).mean(dim=(2, 3))
    expected = expected / expected.norm(dim=1, keepdim=True)
    assert torch.allclose(teacher.embed(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="embed_dim=5"):
        Teacher(enc, embed_dim=5, input_size=24).embed(x)


def test_mobilenet_v2_teacher(mobilenet_weights: Path) -> None:
    teacher = mobilenet_v2_teacher(mobilenet_weights, input_size=96)
    frames = torch.rand(2, 3, 80, 120)
    emb = teacher.embed(frames)
    assert emb.shape == (2, 1280)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)
    assert (emb >= 0).all()  # pooled ReLU6 features
    assert teacher.teacher_id.startswith("mobilenet_v2-")
    assert teacher.teacher_id == mobilenet_v2_teacher(mobilenet_weights, input_size=96).teacher_id
    cfg = TeacherConfig(kind="mobilenet_v2", weights=str(mobilenet_weights), input_size=96)
    assert torch.allclose(load_teacher(cfg).embed(frames), emb)
    with pytest.raises(TeacherLoadError, match="teacher.weights"):
        mobilenet_v2_teacher("/no/such/file.pt")


# -- cache ------------------------------------------------------------------------------


class CountingEmbed:
    """Wraps a teacher; counts how many frames it was asked to embed."""

    def __init__(self, teacher: Teacher, frames: dict[int, torch.Tensor]) -> None:
        self.teacher, self.frames, self.calls = teacher, frames, []

    def __call__(self, numbers: list[int]) -> torch.Tensor:
        self.calls.append(list(numbers))
        return self.teacher.embed(torch.stack([self.frames[n] for n in numbers]))


def _toy_teacher(seed: int) -> Teacher:
    torch.manual_seed(seed)
    return Teacher(nn.Conv2d(3, 6, 3), embed_dim=6, input_size=16, name="toy")


def test_cache_hits_misses_and_does_not_rerun_the_teacher(tmp_path: Path) -> None:
    teacher = _toy_teacher(0)
    frames = {n: torch.rand(3, 20, 20) for n in range(1, 8)}
    embed = CountingEmbed(teacher, frames)
    cache = EmbeddingCache(tmp_path, teacher.teacher_id)

    first = cache.embed(embed, "seq-A", [1, 2, 3])
    assert embed.calls == [[1, 2, 3]] and cache.stats.misses == 3
    again = cache.embed(embed, "seq-A", [3, 2, 1])
    assert embed.calls == [[1, 2, 3]]  # a hit: the teacher did not run
    assert torch.allclose(again, first.flip(0))
    mixed = cache.embed(embed, "seq-A", [2, 4])
    assert embed.calls[-1] == [4]  # only the missing frame is embedded
    assert torch.allclose(mixed[0], first[1])
    assert torch.allclose(mixed[1], teacher.embed(frames[4][None])[0], atol=1e-6)

    # Another tag or sequence is another key.
    cache.embed(embed, "seq-A", [1], tag="fog@3")
    cache.embed(embed, "seq-B", [1])
    assert embed.calls[-2:] == [[1], [1]]

    # A fresh instance (a new process) reads the files back: still no teacher call.
    reread = EmbeddingCache(tmp_path, teacher.teacher_id)
    n_calls = len(embed.calls)
    assert torch.allclose(reread.embed(embed, "seq-A", [1, 2, 3, 4])[:3], first)
    assert len(embed.calls) == n_calls and reread.stats.hits == 4
    index = (tmp_path / teacher.teacher_id / "index.json").read_text()
    assert "seq-A\\tfog@3" in index and teacher.teacher_id in index


def test_cache_is_invalidated_when_the_teacher_changes(tmp_path: Path) -> None:
    old, new = _toy_teacher(0), _toy_teacher(1)
    assert old.teacher_id != new.teacher_id
    frames = {1: torch.rand(3, 20, 20)}
    EmbeddingCache(tmp_path, old.teacher_id).embed(CountingEmbed(old, frames), "s", [1])

    embed_new = CountingEmbed(new, frames)
    cache = EmbeddingCache(tmp_path, new.teacher_id)
    assert cache.get("s", [1]) is None
    got = cache.embed(embed_new, "s", [1])
    assert embed_new.calls == [[1]]
    assert torch.allclose(got, new.embed(frames[1][None]), atol=1e-6)

    # A file copied under the wrong teacher's folder is refused, not trusted.
    src = next((tmp_path / old.teacher_id).rglob("*.npz"))
    dst = tmp_path / new.teacher_id / src.relative_to(tmp_path / old.teacher_id)
    dst.write_bytes(src.read_bytes())
    assert EmbeddingCache(tmp_path, new.teacher_id).get("s", [1]) is None

    (tmp_path / "unrelated").mkdir()
    assert cache.prune_other_teachers() == [old.teacher_id]
    assert (tmp_path / "unrelated").is_dir() and not (tmp_path / old.teacher_id).exists()


def test_cache_rejects_bad_input(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "t-1")
    with pytest.raises(ValueError, match=r"\(2, C\)"):
        cache.put("s", [1, 2], torch.zeros(3, 4))
    with pytest.raises(ValueError, match="teacher_id"):
        EmbeddingCache(tmp_path, "")
    cache.put("s", [5], torch.ones(1, 4))
    assert np.allclose(EmbeddingCache(tmp_path, "t-1").get("s", [5]).numpy(), 1.0)


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="dswr='maybe'"):
        SemanticConfig(dswr="maybe")
    with pytest.raises(ValueError, match="teacher.kind"):
        TeacherConfig(kind="dino")
    with pytest.raises(ValueError, match="temperature"):
        SemanticConfig(temperature=0.0)
