"""``vsdmot distill``: stage-1 distillation end to end, the cache, switches and disk pairs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.config import compose_config
from vsdmot.data.synth.generate import generate_sequence
from vsdmot.data.synth.scene import SynthConfig
from vsdmot.degrade.dataset import DegradeJob, degrade_dataset
from vsdmot.engine.distill import distill
from vsdmot.engine.trainer import build_default_model
from vsdmot.semantics import Teacher
from vsdmot.semantics.student_file import load_student_file

SMALL = [
    "semantic.student.input_size=64",
    "semantic.student.width=0.35",
    "semantic.student.depth=8",
    "semantic.student.feature_dim=64",
    "semantic.student.head_hidden=64",
    "semantic.quality.input_size=32",
    "semantic.quality.channels=[8,16]",
    "distillation.batch_size=8",
    "distillation.frame_stride=1",
    "distillation.warmup_steps=5",
    "distillation.lr=3e-3",
    "train.device=cpu",
    "train.seed=0",
]


pytestmark = pytest.mark.usefixtures("offline_hub", "one_thread")


@pytest.fixture(scope="module")
def clean_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two generated clean sequences of 8 frames (16 frames in all)."""
    root = tmp_path_factory.mktemp("distill") / "clean"
    synth = SynthConfig(width=160, height=120, n_frames=8, objects=(2, 3))
    for i, name in enumerate(("SYN-A", "SYN-B")):
        generate_sequence(root / name, synth, seed=i + 1)
    return root


def _args(data: Path, clip: Path, *extra: str) -> list[str]:
    return [*SMALL, f"data.train=[{data}]", f"semantic.teacher.name_or_path={clip}", *extra]


def _metrics(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_cli_distills_and_second_run_reads_the_cache(
    clean_data: Path,
    tiny_clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    args = _args(clean_data, tiny_clip, "distillation.steps=30", "distillation.quality_steps=10",
                 f"semantic.cache_dir={cache}")  # fmt: skip
    run = tmp_path / "run"
    res = CliRunner().invoke(
        app, ["distill", "--config", "distill-cpu", "--out", str(run), "--no-progress", *args]
    )
    assert res.exit_code == 0, res.output
    assert "done: 30 steps on 16 frames" in res.output and "16 computed" in res.output
    rows = _metrics(run)
    assert len(rows) == 30 and list(rows[0]) == [
        "step", "loss", "sem_align", "sem_struct", "quality_loss"
    ]  # fmt: skip
    align = [float(r["sem_align"]) for r in rows]
    first, last = sum(align[:5]) / 5, sum(align[-5:]) / 5
    # Seeded; measured about 0.57 (steps 1-5) -> 0.004 (steps 26-30), a factor of ~0.01.
    assert last < 0.1 * first, align
    assert all(r["quality_loss"] for r in rows[:10]) and not rows[10]["quality_loss"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["cache_misses"] == 16 and summary["cache_hits"] == 0

    blob = load_student_file(run / "student.pt")
    assert blob["embed_dim"] == 16 and blob["quality_head"] is not None
    assert blob["teacher_id"] == summary["teacher_id"]

    # Second run, same cache: the teacher is loaded (to fingerprint it) but never embeds.
    calls = []
    original = Teacher.embed

    def counting(self, images):
        calls.append(len(images))
        return original(self, images)

    monkeypatch.setattr(Teacher, "embed", counting)
    cfg = compose_config(
        "distill-cpu", [*args, "distillation.steps=2", "distillation.quality_steps=0"]
    )
    result = distill(cfg, tmp_path / "run2", progress=False)
    assert calls == []
    assert (result.cache.hits, result.cache.misses) == (16, 0)
    assert result.quality_history is None

    # The file starts joint training: student and quality head are loaded into the branch.
    joint = compose_config(
        "distill-cpu", [*args, f"semantic.student_weights={run / 'student.pt'}", "model.d_model=32"]
    )
    branch = build_default_model(joint).semantic_branch
    assert all(torch.equal(v, blob["student"][k]) for k, v in branch.student.state_dict().items())
    assert all(
        torch.equal(v, blob["quality_head"][k]) for k, v in branch.quality_head.state_dict().items()
    )


@pytest.mark.parametrize(
    ("switch", "columns"),
    [("alignment", {"sem_align"}), ("structure", {"sem_struct"}),
     ("both", {"sem_align", "sem_struct"})],
)  # fmt: skip
def test_distill_switch_selects_the_terms(
    clean_data: Path,
    tiny_clip: Path,
    tmp_path: Path,
    switch: str,
    columns: set[str],
) -> None:
    cfg = compose_config("distill-cpu", _args(clean_data, tiny_clip, f"semantic.distill={switch}",
                         "distillation.steps=2", "semantic.dswr='off'"))  # fmt: skip
    result = distill(cfg, tmp_path / "run", progress=False)
    rows = _metrics(tmp_path / "run")
    assert {k for k in rows[0] if k.startswith("sem_")} == columns
    assert result.quality_history is None and "quality_loss" not in rows[0]
    assert load_student_file(tmp_path / "run" / "student.pt")["quality_head"] is None
    with pytest.raises(ValueError, match="already holds a distilled student"):
        distill(cfg, tmp_path / "run", progress=False)


def test_disk_pairs_need_their_clean_source(
    clean_data: Path,
    tiny_clip: Path,
    tmp_path: Path,
) -> None:
    lq = tmp_path / "lq"
    job = DegradeJob("defocus_blur", severity=4.0, schedule="ramp", seed=0)
    degrade_dataset(clean_data / "SYN-A", lq, job, progress=False)
    runner = CliRunner()
    base = ["distill", "--config", "distill-cpu", "--no-progress"]
    res = runner.invoke(app, [*base, "--out", str(tmp_path / "bad"),
                              *_args(lq, tiny_clip, "distillation.steps=2")])  # fmt: skip
    assert res.exit_code == 2
    assert "no clean pair found" in res.output and str(lq / "SYN-A") in res.output.replace("\n", "")

    pair = f"data.clean_pairs=[{{degraded: {lq}, clean: {clean_data}}}]"
    cfg = compose_config("distill-cpu", _args(lq, tiny_clip, pair, "distillation.steps=2",
                                              "distillation.pairs=disk"))  # fmt: skip
    result = distill(cfg, tmp_path / "ok", progress=False)
    assert result.frames == 8  # SYN-A only: the degraded set names the sequences
    assert result.quality_history is not None and len(result.quality_history) == 2
    # The teacher embedded the clean originals: a clean run shares their cache entries.
    clean_cfg = compose_config("distill-cpu", _args(clean_data, tiny_clip, "distillation.steps=1",
                               f"semantic.cache_dir={tmp_path / 'ok' / 'teacher_cache'}",
                               "semantic.dswr='off'"))  # fmt: skip
    again = distill(clean_cfg, tmp_path / "clean_run", progress=False)
    assert (again.cache.hits, again.cache.misses) == (8, 8)
