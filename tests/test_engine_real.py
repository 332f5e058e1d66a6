"""The engine with the real VSD-MOT model, and the ``vsdmot train`` command."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from helpers.sequences import write_tiny_sequence
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.config import compose_config
from vsdmot.engine.checkpoint import load_model_file
from vsdmot.engine.trainer import train
from vsdmot.models.config import ModelConfig
from vsdmot.models.factory import build_model

TINY_MODEL = [
    "semantic.semantics=none",
    "model.d_model=32",
    "model.n_heads=4",
    "model.enc_layers=1",
    "model.dec_layers=2",
    "model.ffn_dim=64",
    "model.n_points=2",
    "model.trainable_stages=4",
    "data.clip_length=2",
    "data.augment.scales=[96]",
    "data.augment.max_size=160",
    "data.proposals.source=det",
    "train.batch_size=2",
    "train.log_every=1",
    "train.tensorboard=false",
    "train.device=cpu",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real") / "ds"
    write_tiny_sequence(root, n_frames=12, width=128, height=96)
    return root


def test_real_model_loss_goes_down(data: Path, tmp_path: Path) -> None:
    torch.set_num_threads(2)
    cfg = compose_config(
        None,
        [f"data.train=[{data}]", *TINY_MODEL, "train.steps=10", "optim.lr=1e-3",
         "optim.schedule=constant", "train.ckpt_every=100", "train.seed=0"],
    )  # fmt: skip
    train(cfg, tmp_path / "run")
    with open(tmp_path / "run" / "metrics.csv") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert len(losses) == 10
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    # Seeded; measured mean of steps 1-3 = 8.11, of steps 8-10 = 4.13 (factor 0.51) on CPU.
    assert last < 0.7 * first, losses


def test_cli_train_resume_and_model_file(data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run = tmp_path / "run"
    args = ["train", "--config", "tiny-cpu", "--out", str(run), f"data.train=[{data}]",
            *TINY_MODEL, "train.steps=1", "train.num_workers=0"]  # fmt: skip
    bad = runner.invoke(app, args)
    assert bad.exit_code == 2 and "unknown key 'train.num_workers'" in bad.output
    args[-1] = "data.num_workers=0"
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert f"run folder:  {run}" in res.output and "checkpoints" in res.output
    # Resume without --config reads the run's config.yaml; overrides still apply.
    res = runner.invoke(app, ["train", "--out", str(run), "--resume", "train.steps=2"])
    assert res.exit_code == 0, res.output
    assert "done: step 2" in res.output
    saved = load_model_file(run / "model.pt")
    assert saved["step"] == 2
    model = build_model(ModelConfig(**saved["config"]["model"]))
    model.load_state_dict(saved["model"])  # what `vsdmot track` does with model.pt
    res = runner.invoke(app, ["train", "--out", str(run), "--resume", "model.d_model=64"])
    assert res.exit_code == 2 and "model.d_model" in res.output and "last.pt" in res.output
