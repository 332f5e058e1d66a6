"""A study survives what goes wrong in it: a failed defaults trial leaves the defaults
unscored (not another trial's score), an interrupted study leaves no trial running in its
stored study and resumes, and every trial shares one reading of the data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from helpers.sequences import generated_dataset

from vsdmot.experiments import plan as plan_module
from vsdmot.experiments import tune
from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import RunConfig
from vsdmot.experiments.tune import Transfer, TuneConfig, study, transfer_table
from vsdmot.tracking.registry import TrackerSpec


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dataset(tmp_path_factory.mktemp("tune") / "data", sequences=1, frames=10)


def config(dataset: Path, out: Path, trials: int, parallel: int | None = None) -> TuneConfig:
    run = RunConfig(data=dataset, out=out, grid=GridSpec(max_frames=10), trackers=("sort",))
    return TuneConfig("sort", run, trials=trials, parallel=parallel)


class FakeScore:
    """Stands in for :func:`tune.score`: raises ``fail`` on the calls numbered in ``at``
    (from 1), else a score that depends on the settings."""

    def __init__(self, fail: BaseException | None = None, at: tuple[int, ...] = ()) -> None:
        self.fail, self.at, self.calls = fail, at, 0

    def __call__(self, cfg: TuneConfig, spec: TrackerSpec, *rest: object) -> float:
        self.calls += 1
        if self.calls in self.at and self.fail is not None:
            raise self.fail
        return sum(float(v) for v in spec.settings.values() if not isinstance(v, str)) % 1


def states(cfg: TuneConfig) -> list[optuna.trial.TrialState]:
    key = "+".join(cfg.scenes())
    storage = f"sqlite:///{(tune.study_dir(cfg, tuple(cfg.scenes())) / 'study.db').resolve()}"
    return [t.state for t in optuna.load_study(study_name=key, storage=storage).trials]


def test_a_failed_defaults_trial_leaves_the_defaults_unscored(dataset, tmp_path, monkeypatch):
    fake = FakeScore(RuntimeError("defaults failed"), at=(1, 2))  # trial 0 and its retry
    monkeypatch.setattr(tune, "score", fake)
    cfg = config(dataset, tmp_path / "run", trials=3)
    result = study(cfg, tuple(cfg.scenes()), progress=False)
    assert states(cfg)[0] == optuna.trial.TrialState.FAIL
    assert result.default_score is None and len(result.trials) == 2
    row = Transfer("SYNTH-0000", result.default_score, 0.5, result.best_score, result.best)
    table = transfer_table([row, replace(row, scene="B", default=0.25)], cfg)
    assert table.count("not scored") == 2  # the scene's row and the mean


def test_an_interrupted_study_leaves_no_trial_running_and_resumes(dataset, tmp_path, monkeypatch):
    cfg = config(dataset, tmp_path / "run", trials=4, parallel=2)
    monkeypatch.setattr(tune, "score", FakeScore(KeyboardInterrupt(), at=(2,)))
    with pytest.raises(KeyboardInterrupt):
        study(cfg, tuple(cfg.scenes()), progress=False)
    done = states(cfg)
    # Trial 0 scored; trial 1 interrupted and trial 2 asked but not run: told failed.
    assert done == [optuna.trial.TrialState.COMPLETE] + [optuna.trial.TrialState.FAIL] * 2
    monkeypatch.setattr(tune, "score", FakeScore())
    result = study(cfg, tuple(cfg.scenes()), progress=False)
    assert len(result.trials) == 4 and result.default_score is not None
    assert optuna.trial.TrialState.RUNNING not in states(cfg)


def test_a_study_reads_its_data_once(dataset, tmp_path, monkeypatch):
    reads: list[Path] = []
    digests = plan_module.sequence_digests

    def counted(data: Path) -> dict[str, str]:
        reads.append(data)
        return digests(data)

    monkeypatch.setattr(plan_module, "sequence_digests", counted)
    cfg = config(dataset, tmp_path / "run", trials=2)
    result = study(cfg, tuple(cfg.scenes()), progress=False)
    assert len(result.trials) == 2 and 0 < result.best_score <= 1
    assert reads == [dataset]


def test_a_resumed_study_does_not_draw_its_trials_again(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(tune, "score", FakeScore())
    cfg = config(dataset, tmp_path / "run", trials=4)
    first = study(cfg, tuple(cfg.scenes()), progress=False).trials
    resumed = study(replace(cfg, trials=8), tuple(cfg.scenes()), progress=False).trials
    assert resumed[:4] == first and len(resumed) == 8
    drawn = [tuple(sorted(t.items())) for t in resumed]
    assert len(set(drawn)) == len(drawn)  # no trial of the first run drawn again
    # The same command run again reads the study back: nothing new is drawn.
    again = study(replace(cfg, trials=8), tuple(cfg.scenes()), progress=False).trials
    assert again == resumed


def test_defaults_cut_short_are_run_again_on_resume(dataset, tmp_path, monkeypatch):
    # Interrupted inside the defaults trial (Ctrl-C: the trial is told failed).
    cfg = config(dataset, tmp_path / "ctrl-c", trials=3)
    monkeypatch.setattr(tune, "score", FakeScore(KeyboardInterrupt(), at=(1,)))
    with pytest.raises(KeyboardInterrupt):
        study(cfg, tuple(cfg.scenes()), progress=False)
    monkeypatch.setattr(tune, "score", FakeScore())
    result = study(cfg, tuple(cfg.scenes()), progress=False)
    assert result.default_score is not None and len(result.trials) == 3
    assert result.trials[0] == {**result.trials[0], **tune._defaults(
        tune.parse_tracker("sort"), tune.search_space(tune.parse_tracker("sort")))}
    # Killed by a signal inside the defaults trial: the stored trial is left running.
    cfg = replace(cfg, run=replace(cfg.run, out=tmp_path / "killed"))
    folder = tune.study_dir(cfg, tuple(cfg.scenes()))
    folder.mkdir(parents=True)
    st = tune._open_study(cfg, "+".join(cfg.scenes()), folder, 1)
    st.enqueue_trial({"lost_track_buffer": 30}, user_attrs={"defaults": True})
    st.ask()
    result = study(cfg, tuple(cfg.scenes()), progress=False)
    assert result.default_score is not None
    assert optuna.trial.TrialState.RUNNING not in states(cfg)
