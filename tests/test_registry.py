"""One tracker interface: vsdmot and DeepSORT in ``trackers``' registry, one spec grammar,
flags that never silently drop, and tuning (ours and ``trackers``' own Tuner)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import supervision as sv
from helpers.sequences import generated_dataset
from typer.testing import CliRunner

import vsdmot  # noqa: F401  (registers vsdmot and deepsort)
from vsdmot.cli.main import app
from vsdmot.tracking.registry import (
    TrackerSpec,
    build_tracker,
    parse_tracker,
    step,
    tracker_names,
    tracker_settings,
)
from vsdmot.utils.specs import SpecError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dataset(tmp_path_factory.mktemp("registry") / "data", frames=16)


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_import_vsdmot_registers_its_trackers_with_trackers() -> None:
    from trackers.core.base import BaseTracker

    names = BaseTracker._registered_trackers()
    assert {"vsdmot", "deepsort", "bytetrack", "botsort", "ocsort", "sort", "cbiou"} <= set(names)
    assert tracker_names() == names
    info = BaseTracker._lookup_tracker("vsdmot")
    # The registry reads typed settings with their meanings from the flat signature.
    assert info.parameters["miss_tolerance"].param_type is int
    assert "unseen" in info.parameters["miss_tolerance"].description
    assert "association" in info.tracker_class.search_space


def test_specs_are_typed_from_the_registry_and_errors_list_the_valid_names() -> None:
    spec = parse_tracker("ByteTrack:lost_track_buffer=10,minimum_iou_threshold=0.25")
    settings = {"lost_track_buffer": 10, "minimum_iou_threshold": 0.25}
    assert spec == TrackerSpec("bytetrack", settings)
    assert parse_tracker(str(spec)) == spec
    assert parse_tracker("deepsort:nn_budget=none").settings == {"nn_budget": None}
    assert parse_tracker("vsdmot:appearance_dswr=on").settings == {"appearance_dswr": True}
    with pytest.raises(SpecError, match="unknown tracker 'nosuch'.*bytetrack"):
        parse_tracker("nosuch")
    with pytest.raises(SpecError, match="no setting 'nonsense'.*lost_track_buffer"):
        parse_tracker("bytetrack:nonsense=1")
    with pytest.raises(SpecError, match="lost_track_buffer needs a value of type int"):
        parse_tracker("bytetrack:lost_track_buffer=long")
    # Objects (a state-estimator class) are not settings a spec can set.
    assert "state_estimator_class" not in tracker_settings("bytetrack")


def test_every_registered_tracker_runs_through_one_step(tiny_weights) -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = np.array([[10, 10, 40, 80, 0.9], [90, 20, 120, 100, 0.8]], dtype=np.float64)
    for name in ("bytetrack", "sort", "ocsort", "botsort", "cbiou", "deepsort", "vsdmot"):
        spec = f"vsdmot:weights={tiny_weights},birth_thresh=0.0" if name == "vsdmot" else name
        tracker = build_tracker(spec, frame_rate=10)
        for _ in range(4):
            tracks = step(tracker, frame, boxes)
        assert (tracks.tracker_ids >= 1).all(), name  # MOTChallenge ids from 1
        tracker.reset()


def test_vsdmot_in_a_plain_supervision_loop(tiny_weights) -> None:
    from trackers.core.base import BaseTracker

    cls = BaseTracker._lookup_tracker("vsdmot").tracker_class
    tracker = cls(weights=str(tiny_weights), birth_thresh=0.0, min_hits=1)
    frame = np.zeros((120, 160, 3), np.uint8)
    dets = sv.Detections(xyxy=np.array([[10.0, 10, 40, 80]]), confidence=np.array([0.9]))
    out = tracker.update(dets, frame=frame)
    assert isinstance(out, sv.Detections) and (out.tracker_id >= 0).all()
    assert all(hasattr(t, "get_state_bbox") for t in tracker.tracks)
    with pytest.raises(ValueError, match="pass update"):
        tracker.update(dets)
    with pytest.raises(TypeError, match="keyword"):
        cls(str(tiny_weights))


def test_settings_passed_win_over_those_recorded_with_the_weights(tiny_weights) -> None:
    t = build_tracker(f"vsdmot:weights={tiny_weights},input_short_side=96")
    assert t.params.inputs.input_short_side == 96
    recorded = t.loaded.runtime
    t2 = build_tracker(f"vsdmot:weights={tiny_weights}")
    for name, value in recorded.items():
        assert t2.params.flat()[name] == value


def test_track_cli_takes_any_tracker_spec_and_refuses_what_it_cannot_apply(dataset, tmp_path):
    seq = str(dataset / "SYNTH-0000")
    ok = cli("track", seq, "--out", str(tmp_path / "a.txt"), "--tracker",
             "bytetrack:lost_track_buffer=10", "--max-frames", "5")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert cli("track", seq, "--out", str(tmp_path / "b.txt"), "--tracker", "cbiou",
               "--max-frames", "5").exit_code == 0  # fmt: skip
    for args, message in [
        (["--tracker", "bytetrack:nonsense=1"], "no setting 'nonsense'"),
        (["--tracker", "bytetrack", "--association", "anchor"], "--association: bytetrack"),
        (["--tracker", "sort", "--weights", "m.pt"], "--weights: sort"),
        (["--tracker", "bytetrack", "--set", "miss_tolerance=3"], "no setting 'miss_tolerance'"),
        (["--tracker", "vsdmot", "--association", "nosuch"], "nosuch"),
    ]:
        bad = cli("track", seq, "--out", str(tmp_path / "c.txt"), *args)
        assert bad.exit_code != 0, args
        assert message in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output
    assert not (tmp_path / "c.txt").exists()


def test_trackers_command_lists_settings_and_defaults() -> None:
    out = cli("trackers")
    assert out.exit_code == 0
    assert "vsdmot  (" in out.output and "miss_tolerance = 10 *" in out.output
    assert "deepsort  (" in out.output and "cbiou  (" in out.output
    assert cli("track", "--list-trackers").output == out.output


def test_tune_selects_on_other_scenes_and_reports_the_transfer(dataset, tmp_path) -> None:
    out = tmp_path / "tune"
    res = cli("tune", "sort", "--data", str(dataset), "--out", str(out), "--trials", "3",
              "--leave-one-out", "--no-progress")  # fmt: skip
    assert res.exit_code == 0, res.output
    payload = json.loads((out / "tune.json").read_text())
    rows = {r["scene"]: r for r in payload["rows"]}
    assert set(rows) == {"SYNTH-0000", "SYNTH-0001"}
    for r in rows.values():
        # Tuned on a scene, the best trial is at least the defaults (trial 0) there.
        assert r["chosen_on_it"] >= r["default"] - 1e-9
        assert 0 <= r["chosen_elsewhere"] <= 1
    assert "chosen on the other scenes" in (out / "transfer.md").read_text()
    # Resumed: a finished study is read back, not re-run.
    again = cli("tune", "sort", "--data", str(dataset), "--out", str(out), "--trials", "3",
                "--leave-one-out", "--no-progress")  # fmt: skip
    assert again.exit_code == 0 and json.loads((out / "tune.json").read_text()) == payload


def test_trackers_own_tuner_tunes_a_vsdmot_registered_tracker(dataset, tmp_path) -> None:
    """``trackers.tune.Tuner`` works on deepsort (registered by vsdmot) with frames."""
    from trackers.tune import Tuner

    gt, det = tmp_path / "gt", tmp_path / "det"
    gt.mkdir()
    det.mkdir()
    for seq in sorted(dataset.iterdir()):
        shutil.copy(seq / "gt" / "gt.txt", gt / f"{seq.name}.txt")
        shutil.copy(seq / "det" / "det.txt", det / f"{seq.name}.txt")
    tuner = Tuner("deepsort", gt, det, objective="HOTA", n_trials=2, seed=0,
                  images_dir=dataset, fixed_params={"max_age": 10})  # fmt: skip
    best = tuner.run()
    assert best["max_age"] == 10 and set(best) >= {"n_init", "max_cosine_distance"}


def test_a_checkpoint_with_a_bad_runtime_block_is_refused_naming_it(tiny_weights, tmp_path):
    import torch

    from vsdmot.tracking.weights import WeightsError

    blob = torch.load(tiny_weights, map_location="cpu", weights_only=True)
    assert blob["runtime"]["version"] == 1  # what training writes
    for block, message in [
        ({"version": 1, "settings": {"speed": 3}}, "unknown runtime setting(s) speed"),
        ({"version": 7, "settings": {}}, "version 7"),
        ({"version": 1, "settings": {"min_hits": "2"}}, "min_hits='2' is not a int"),
    ]:
        path = tmp_path / "model.pt"
        torch.save({**blob, "runtime": block}, path)
        with pytest.raises(WeightsError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
            build_tracker(f"vsdmot:weights={path}")


def test_a_preset_is_its_base_tracker_with_chosen_settings_and_yours_win() -> None:
    from vsdmot.tracking.registry import PRESETS

    spec = parse_tracker("vsdmot-botsort:appearance_weight=0.1")
    assert spec.name == "vsdmot"
    assert spec.settings == {**PRESETS["vsdmot-botsort"].settings, "appearance_weight": 0.1}
    with pytest.raises(SpecError, match="has no setting 'nosuch'"):
        parse_tracker("vsdmot-botsort:nosuch=1")
    assert "vsdmot-botsort  (preset of vsdmot)" in cli("trackers").output


def test_track_with_a_preset(dataset, tmp_path) -> None:
    out = tmp_path / "p.txt"
    result = cli("track", str(sorted(dataset.iterdir())[0]), "-o", str(out), "--tracker",
                 "vsdmot-botsort", "--max-frames", "4")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_text().strip()
