"""Training engine: optimiser groups, schedule, checkpoints, exact resume, metrics, errors.

Most tests use ``ToyTracker`` (from ``helpers/models.py``), a small stand-in with the model's
``training_step`` contract (so they test the engine, not the tracker);
``test_engine_real.py`` trains the real model.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from helpers.models import ToyTracker, toy_config
from helpers.sequences import write_tiny_sequence
from torch import Tensor, nn

from vsdmot.config import TrainConfig, compose_config
from vsdmot.engine.checkpoint import CheckpointError, load_checkpoint, load_model_file
from vsdmot.engine.optim import param_groups
from vsdmot.engine.trainer import RunExistsError, Trainer, TrainingError, train


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engine") / "ds"
    write_tiny_sequence(root, n_frames=8)
    return root


def _weights(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_resume_continues_exactly(data: Path, tmp_path: Path) -> None:
    cfg = toy_config(data)
    full = train(cfg, tmp_path / "full", model_factory=ToyTracker)
    half = train(cfg, tmp_path / "half", model_factory=ToyTracker, stop_at=3)
    assert half.step == 3 and not (tmp_path / "half" / "model.pt").exists()
    resumed = train(cfg, tmp_path / "half", model_factory=ToyTracker, resume=True)
    assert resumed.step == full.step == 6
    a = load_model_file(full.model_path)["model"]
    b = load_model_file(resumed.model_path)["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # ... and the weights did move.
    init = ToyTracker(cfg).state_dict()
    assert not torch.equal(a["head.0.weight"], init["head.0.weight"])
    # The metrics file of the resumed run has every logged step once.
    with open(tmp_path / "half" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 3, 4, 6]
    with open(tmp_path / "full" / "metrics.csv") as f:
        full_rows = {int(r["step"]): r for r in csv.DictReader(f)}
    assert rows[-1]["loss"] == full_rows[6]["loss"]


def test_metrics_and_schedule(data: Path, tmp_path: Path) -> None:
    cfg = toy_config(data, "optim.schedule=step", "optim.milestones=[0.5]", "optim.gamma=0.1")
    res = train(cfg, tmp_path / "run", model_factory=ToyTracker)
    with open(tmp_path / "run" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "lr", "loss", "loss_l1", "num_gt", "grad_norm", "it_s"]
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    # lr of the step logged: warm-up (0.001 -> 1 over 2 steps) then x0.1 from step 3 on.
    assert [float(r["lr"]) for r in rows] == pytest.approx([3e-3 * 0.5005, 3e-4, 3e-4])
    assert float(rows[0]["num_gt"]) == 4  # 2 clips x 2 frames
    assert all(float(r["it_s"]) > 0 for r in rows)
    ckpts = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert ckpts == ["last.pt", "step_0000003.pt", "step_0000006.pt"]  # no temp files left
    assert res.metrics["step"] == 6
    assert (tmp_path / "run" / "config.yaml").is_file()
    assert "training 6 steps" in (tmp_path / "run" / "train.log").read_text()


def test_param_groups_backbone_lr_and_no_decay() -> None:
    cfg = compose_config(None, ["optim.lr=1e-3", "optim.backbone_lr_mult=0.1"])
    model = ToyTracker(cfg)
    model.unused.requires_grad_(False)
    groups = {g["name"]: g for g in param_groups(model, cfg.optim)}
    names = {n: id(p) for n, p in model.named_parameters()}
    ids = {k: {id(p) for p in g["params"]} for k, g in groups.items()}
    assert ids["backbone"] == {names["backbone.0.weight"]}
    assert ids["backbone_no_decay"] == {names[f"backbone.{n}"] for n in
                                        ("0.bias", "1.weight", "1.bias")}  # fmt: skip
    assert ids["main"] == {names["head.0.weight"], names["head.3.weight"]}
    assert ids["main_no_decay"] == {names["head.0.bias"], names["head.3.bias"]}
    assert groups["backbone"]["lr"] == pytest.approx(1e-4)
    assert groups["main"]["lr"] == pytest.approx(1e-3)
    assert groups["main_no_decay"]["weight_decay"] == 0.0
    assert groups["main"]["weight_decay"] == cfg.optim.weight_decay


def test_checkpoint_from_another_model_config(data: Path, tmp_path: Path) -> None:
    cfg = toy_config(data, "train.steps=1")
    train(cfg, tmp_path / "run", model_factory=ToyTracker)
    other = toy_config(data, "train.steps=2", "model.d_model=64", "model.enc_layers=1")
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    with pytest.raises(CheckpointError) as err:
        train(other, tmp_path / "run", model_factory=ToyTracker, resume=True)
    assert str(last) in str(err.value)
    assert "model.d_model" in str(err.value) and "model.enc_layers" in str(err.value)
    # Only the model sections matter: another lr resumes fine.
    assert load_checkpoint(last, toy_config(data, "optim.lr=1"))["step"] == 1
    last.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="unreadable checkpoint"):
        load_checkpoint(last, cfg)


def test_refuses_to_overwrite_and_reports_nan(data: Path, tmp_path: Path) -> None:
    cfg = toy_config(data, "train.steps=1")
    train(cfg, tmp_path / "run", model_factory=ToyTracker)
    with pytest.raises(RunExistsError, match="already holds a run"):
        train(cfg, tmp_path / "run", model_factory=ToyTracker)

    def failing(c: TrainConfig) -> nn.Module:
        m = ToyTracker(c)
        m.fail_at = 2
        return m

    with pytest.raises(TrainingError, match=r"step 2: non-finite loss .*TINY-01"):
        train(toy_config(data), tmp_path / "nan", model_factory=failing)


def test_epochs_set_the_step_count(data: Path, tmp_path: Path) -> None:
    from vsdmot.data.clips import build_clip_dataset

    cfg = toy_config(data, "train.epochs=1")
    ds = build_clip_dataset(cfg.data, "train")
    trainer = Trainer(cfg, ToyTracker(cfg), ds, tmp_path)
    assert len(ds) == 7 and trainer.total == 4  # ceil(7 clips / batch 2)


class _Payload:
    """A pickle that writes a file when unpickled (the attack a crafted checkpoint makes)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (exec, (f"open({str(self.target)!r}, 'w').write('x')",))


def test_crafted_checkpoint_is_refused_before_running_code(tmp_path: Path) -> None:
    pwned = tmp_path / "PWNED"
    for fmt in ("vsdmot-model", "vsdmot-train-checkpoint"):
        path = tmp_path / f"{fmt}.pt"
        torch.save({"format": fmt, "x": _Payload(pwned)}, path)
        with pytest.raises(CheckpointError, match="refused: the file needs arbitrary unpickling"):
            load_model_file(path)
        assert not pwned.exists()


def test_rng_state_survives_a_weights_only_round_trip(tmp_path: Path) -> None:
    import random

    import numpy as np

    from vsdmot.engine.checkpoint import rng_state, set_rng_state

    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    path = tmp_path / "rng.pt"
    torch.save(rng_state(), path)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(torch.load(path, weights_only=True))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_SG12_ctrl_c_saves_a_checkpoint_that_resumes_exactly(data: Path, tmp_path: Path,
                                                            monkeypatch) -> None:  # fmt: skip
    """Hostile case SG12: Ctrl-C before the first periodic checkpoint saved nothing."""
    import os
    import signal

    cfg = toy_config(data)
    full = train(cfg, tmp_path / "full", model_factory=ToyTracker)
    step = Trainer._train_step

    def interrupted_after_two(self, batch):
        metrics = step(self, batch)
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # lands mid-step; the step still completes
        return metrics

    monkeypatch.setattr(Trainer, "_train_step", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "run", model_factory=ToyTracker)
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", cfg)["step"] == 2
    monkeypatch.setattr(Trainer, "_train_step", step)
    resumed = train(cfg, tmp_path / "run", model_factory=ToyTracker, resume=True)
    a = load_model_file(full.model_path)["model"]
    b = load_model_file(resumed.model_path)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_init_from_starts_a_run_from_another_runs_weights(data: Path, tmp_path: Path) -> None:
    cfg = toy_config(data)
    first = train(cfg, tmp_path / "first", model_factory=ToyTracker)
    trained = load_model_file(first.model_path)["model"]
    cfg.train.init_from = str(first.model_path)
    cfg.train.steps = 1
    init_weights = {k: v.clone() for k, v in ToyTracker(cfg).state_dict().items()}
    assert not torch.equal(init_weights["head.0.weight"], trained["head.0.weight"])
    second = train(cfg, tmp_path / "second", model_factory=ToyTracker)
    assert second.step == 1
    # One step from the first run's weights, not from a fresh initialisation: closer to
    # where the first run ended than to where it began.
    after = load_model_file(second.model_path)["model"]["head.0.weight"]
    to_trained = (after - trained["head.0.weight"]).norm()
    assert to_trained < (after - init_weights["head.0.weight"]).norm()


def test_init_from_refuses_a_missing_or_foreign_file(data: Path, tmp_path: Path) -> None:
    cfg = toy_config(data)
    cfg.train.init_from = str(tmp_path / "nowhere.pt")
    with pytest.raises(CheckpointError, match="nowhere.pt: checkpoint not found"):
        train(cfg, tmp_path / "a", model_factory=ToyTracker)
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "vsdmot-model", "model": {"other.weight": torch.ones(2)},
                "config": {}}, foreign)  # fmt: skip
    cfg.train.init_from = str(foreign)
    with pytest.raises(CheckpointError, match="no tensor of the file fits"):
        train(cfg, tmp_path / "b", model_factory=ToyTracker)
