"""The quality head fitted on real frames: graded frames and their ranking, the training
set, the versioned head, its file, its place in a model file, and that it learns."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.models import TINY_JOINT

from vsdmot.config import compose_config, fingerprint
from vsdmot.data.synth import SynthConfig, generate_sequence
from vsdmot.engine.quality_data import (
    ClipJitter,
    QualitySetSpec,
    RealClips,
    build_quality_set,
    prepare_views,
)
from vsdmot.engine.quality_fit import QualityFitSettings, fit_head_on
from vsdmot.engine.quality_swap import QualitySwapError, install_quality_head
from vsdmot.eval.graded_frames import CLEAN, grade_frames, rank_by_type, read_frames
from vsdmot.eval.rank import srocc
from vsdmot.semantics import QualityConfig, QualityHead
from vsdmot.semantics.quality_file import (
    QualityHeadFileError,
    load_quality_head,
    save_quality_head,
)
from vsdmot.tracking.weights import load_tracker_model

pytestmark = pytest.mark.usefixtures("one_thread")

SIZES = (60, 100)  # a small tracker view: shorter side 60 px
TYPES = ("gaussian_noise", "defocus_blur", "low_light", "fog")
TINY_HEAD = QualityConfig(input_size=32, channels=(8, 16), version=2)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two generated 160 x 120 sequences: one to train on, one held out."""
    root = tmp_path_factory.mktemp("scenes")
    cfg = SynthConfig(width=160, height=120, n_frames=12, objects=(3, 5))
    return generate_sequence(root / "TRAIN", cfg, seed=11), generate_sequence(root / "HELD", cfg,
                                                                              seed=12)


def _spec(scene: Path, seed: int = 0) -> QualitySetSpec:
    real = RealClips(scene, 1, 12, clips=6, clip_frames=2, clip_stride=1, clean_frames=8)
    return QualitySetSpec(real=(real,), generated=0, types=TYPES, sizes=SIZES,
                          jitter=ClipJitter(long_side=(120, 200)), seed=seed)  # fmt: skip


def test_graded_frames_carry_the_quality_csv_labels_and_codec_degrades_a_clip(
    scenes: tuple[Path, Path],
) -> None:
    frames = read_frames(scenes[1], [1, 2, 3])
    graded = grade_frames(frames, "HELD", ["codec", "fog"], [1.0, 5.0], SIZES, seed=3)
    assert len(graded) == 3 + 2 * 2 * 3
    assert graded.types.count(CLEAN) == 3 and graded.views[0].shape == (60, 80, 3)
    assert sorted(set(graded.labels)) == [0.0, 0.8, 1.0]
    codec = [v for v, k, s in zip(graded.views, graded.types, graded.severities, strict=True)
             if k == "codec" and s == 5.0]  # fmt: skip
    assert all(np.abs(c.astype(int) - v.astype(int)).mean() > 1 for c, v
               in zip(codec, graded.views[:3], strict=True))  # fmt: skip
    # A score that is the label itself ranks every type perfectly and falls.
    rows = rank_by_type(graded.label, graded, levels=(0, 1, 5))
    assert [r.type for r in rows] == ["codec", "fog"]
    assert all(r.spearman == pytest.approx(1.0) and r.falls() for r in rows)
    rising = rank_by_type(1.0 - graded.label, graded, levels=(0, 1, 5))
    assert not any(r.falls() for r in rising)
    with pytest.raises(ValueError, match="scores for"):
        rank_by_type(graded.label[:-1], graded)


def test_training_set_is_reproducible_and_has_every_type_and_clean_frames(
    scenes: tuple[Path, Path],
) -> None:
    head = QualityHead(TINY_HEAD)
    a, b = build_quality_set(_spec(scenes[0]), head), build_quality_set(_spec(scenes[0]), head)
    n_graded = 6 * 2 * (1 + len(TYPES) * 5)
    assert len(a) == n_graded + 8 and a.inputs.shape[1:] == (10, 32, 32)
    assert len(a.clean) == 6 * 2 + 8 and set(a.types) == {CLEAN, *TYPES}
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.labels, b.labels)
    other = build_quality_set(_spec(scenes[0], seed=1), head)
    assert not torch.equal(a.inputs, other.inputs)  # the seed picks other variations


def test_a_tiny_version_2_head_learns_to_rank_held_out_degraded_frames(
    scenes: tuple[Path, Path],
) -> None:
    """600 steps on tiny generated frames: the held-out scene's frames are ranked by
    severity (Spearman >= 0.8 pooled over the four types and clean frames; 0.86-0.88 with
    fit seeds 0-2, an untrained head about 0.3 or less)."""
    data = build_quality_set(_spec(scenes[0]), QualityHead(TINY_HEAD))
    fit = QualityFitSettings(steps=600, batch_size=32, lr=3e-3, warmup=20, average=0.98)
    head, history = fit_head_on(data, TINY_HEAD, fit)
    assert history.mean("loss", last=30) < history.mean("loss", first=10) - 0.05
    held = grade_frames(read_frames(scenes[1], range(1, 13, 2)), "HELD", TYPES,
                        (1.0, 3.0, 5.0), SIZES, seed=7)  # fmt: skip
    with torch.no_grad():
        q = head.predict(prepare_views(head, held.views).float()).numpy()
    rho = srocc(q, held.label)
    assert rho >= 0.8, rho
    untrained = QualityHead(TINY_HEAD).eval()
    with torch.no_grad():
        q0 = untrained.predict(prepare_views(untrained, held.views).float()).numpy()
    assert rho > srocc(q0, held.label) + 0.3


def test_head_file_round_trip_and_errors(tmp_path: Path) -> None:
    torch.manual_seed(0)
    head = QualityHead(TINY_HEAD).eval()
    save_quality_head(tmp_path / "h.pt", head, {"seed": 3})
    loaded, provenance = load_quality_head(tmp_path / "h.pt")
    assert provenance == {"seed": 3} and loaded.config.version == 2
    x = head.prepare([torch.rand(3, 40, 60)])
    assert torch.allclose(loaded(x), head(x))
    (tmp_path / "bad.pt").write_bytes(b"not a torch file")
    for name, message in (("none.pt", "not found"), ("bad.pt", "unreadable")):
        with pytest.raises(QualityHeadFileError, match=message):
            load_quality_head(tmp_path / name)


def _model_file(path: Path, dswr: str) -> Path:
    """A tiny random tracker with a student and (``dswr=on``) a quality head."""
    from vsdmot.engine.checkpoint import save_model
    from vsdmot.engine.trainer import build_default_model

    sem = ["semantic.embed_dim=16", "semantic.semantics=student", f"semantic.dswr='{dswr}'"]
    cfg = compose_config("tiny-cpu", [*TINY_JOINT, *sem])
    save_model(path, build_default_model(cfg), cfg, step=0)
    return path


def test_a_head_of_another_version_goes_into_a_new_model_file(tmp_path: Path) -> None:
    model = _model_file(tmp_path / "model.pt", "on")
    torch.manual_seed(1)
    head = QualityHead(TINY_HEAD).eval()
    save_quality_head(tmp_path / "h.pt", head, {"seed": 1})
    before = model.read_bytes()
    record = install_quality_head(model, tmp_path / "h.pt", tmp_path / "new.pt")
    assert model.read_bytes() == before  # the original is untouched
    assert record["provenance"] == {"seed": 1} and len(record["sha256"]) == 64
    loaded = load_tracker_model(tmp_path / "new.pt")
    swapped = loaded.model.semantic_branch.quality_head
    assert swapped.config.version == 2 and loaded.semantic_config.quality.input_size == 32
    x = head.prepare([torch.rand(3, 48, 64)])
    assert torch.allclose(swapped(x), head(x), atol=1e-6)
    without = _model_file(tmp_path / "no-head.pt", "off")
    with pytest.raises(QualitySwapError, match="no quality head"):
        install_quality_head(without, tmp_path / "h.pt", tmp_path / "other.pt")
    with pytest.raises(QualitySwapError, match="another file"):
        install_quality_head(model, tmp_path / "h.pt", model)


def test_benchmarks_read_a_head_from_a_head_file_or_a_model_file(tmp_path: Path) -> None:
    from vsdmot.bench.quality_sources import tracker_quality_head

    model = _model_file(tmp_path / "model.pt", "on")
    torch.manual_seed(2)
    head = QualityHead(TINY_HEAD).eval()
    save_quality_head(tmp_path / "h.pt", head, {"seed": 2})
    from_file, desc = tracker_quality_head(tmp_path / "h.pt")
    x = head.prepare([torch.rand(3, 48, 64)])
    assert torch.allclose(from_file(x), head(x)) and "quality-head file `h.pt`" in desc
    from_model, desc = tracker_quality_head(model)
    inside = load_tracker_model(model).model.semantic_branch.quality_head.eval()
    y = inside.prepare([torch.rand(3, 48, 64)])
    assert torch.allclose(from_model(y), inside(y)) and "model.pt" in desc


def test_files_without_a_head_version_load_as_version_1() -> None:
    old = {"semantic": {"quality": {"input_size": 64, "channels": [16, 32, 48]}}}
    new = {"semantic": {"quality": {"input_size": 64, "channels": [16, 32, 48], "version": 1}}}
    assert fingerprint(old) == fingerprint(new)
    v2 = {"semantic": {"quality": {"input_size": 64, "channels": [16, 32, 48], "version": 2}}}
    assert fingerprint(v2) != fingerprint(old)
    shipped = load_tracker_model()  # its head was refitted on real frames
    assert shipped.semantic_config.quality.version == 2
    assert shipped.semantic_config.quality.members == 5
    earlier, _ = load_quality_head(Path(__file__).parents[1] / "benchmarks/data/quality-head-v1.pt")
    assert earlier.config.version == 1 and earlier.in_channels == 4


def test_members_average_their_logits_and_one_member_heads_make_an_ensemble() -> None:
    torch.manual_seed(0)
    singles = [QualityHead(TINY_HEAD) for _ in range(3)]
    three = QualityHead(dataclasses.replace(TINY_HEAD, members=3))
    three.load_members(singles)
    x = three.prepare([torch.rand(3, 40, 60), torch.rand(3, 30, 30)])
    each = torch.stack([h(x) for h in singles])
    assert torch.allclose(three.member_logits(x), each)
    assert torch.allclose(three(x), each.mean(dim=0))
    labels = torch.tensor([1.0, 0.2])
    expected = torch.stack([QualityHead.loss(row, labels) for row in each]).mean()
    assert torch.allclose(three.fit_loss(x, labels), expected)
    assert not any(k.startswith("others.") for k in singles[0].state_dict())  # v1 layout
    with pytest.raises(ValueError, match="3 one-member heads"):
        three.load_members(singles[:2])
