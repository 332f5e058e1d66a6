"""The paper presets resolve to the published setting, and a run missing its data, its
proposals or its teacher's weights stops with one line naming what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers.sequences import generated_dataset
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.config import compose_config

runner = CliRunner()
PRESETS = ("paper-dancetrack", "paper-mot17")


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_is_the_published_setting(preset: str) -> None:
    cfg = compose_config(preset)
    m = cfg.model
    assert (m.d_model, m.enc_layers, m.dec_layers, m.n_levels) == (256, 6, 6, 4)
    assert (cfg.data.clip_length, cfg.optim.lr, cfg.train.epochs) == (5, 2e-4, 10)
    teacher = cfg.semantic.teacher
    assert (teacher.kind, teacher.source, teacher.arch) == ("clip", "openai", "RN50")
    assert cfg.semantic.semantics == "student" and cfg.semantic.dswr == "on"
    assert cfg.data.proposals.source.startswith("det_db:")


def test_print_config_shows_the_settings(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "-o", str(tmp_path / "run"), "-c", "paper-dancetrack",
                                 "--print-config"])  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert printed["semantic"]["teacher"]["arch"] == "RN50"
    assert printed["train"]["epochs"] == 10 and printed["model"]["d_model"] == 256


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dataset(tmp_path_factory.mktemp("paper") / "data", sequences=1, frames=8)


def _train(tmp_path: Path, *overrides: str) -> str:
    # backbone_weights=null: the hub id of the preset cannot be reached here.
    result = runner.invoke(app, ["train", "-o", str(tmp_path / "run"), "-c", "paper-dancetrack",
                                 "model.backbone_weights=null", *overrides])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_without_data_the_run_names_data_train(tmp_path: Path) -> None:
    assert "data.train lists no dataset" in _train(tmp_path)


def test_without_the_det_db_file_the_run_names_it(tmp_path: Path, data: Path) -> None:
    out = _train(tmp_path, f"data.train=[{data}]")
    assert "det_db_motrv2.json: det_db file not found" in out


def test_without_the_teacher_weights_the_run_names_them(tmp_path: Path, data: Path) -> None:
    out = _train(tmp_path, f"data.train=[{data}]", "data.proposals.source=det",
                 f"semantic.teacher.weights={tmp_path / 'RN50.pt'}")  # fmt: skip
    assert f"no such file '{tmp_path / 'RN50.pt'}'" in out
    assert "semantic.teacher=clip:source=openai,arch=RN50,path=<file>" in out
    assert not (tmp_path / "run" / "checkpoints").exists() or not any(
        (tmp_path / "run" / "checkpoints").iterdir()
    )
