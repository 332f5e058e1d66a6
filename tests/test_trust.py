"""Regression tests for inputs that used to lose data, crash or give silently wrong results."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.sources import FrameSizeError, ImageFolderSource
from vsdmot.data.synth import SynthConfig, generate_sequence
from vsdmot.proposals import HOGPeopleProposals
from vsdmot.tracking.registry import build_tracker
from vsdmot.tracking.run import track_frames

runner = CliRunner()


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = SynthConfig(width=160, height=120, n_frames=6, objects=(2, 2))
    return generate_sequence(tmp_path_factory.mktemp("trust") / "SEQ", cfg, seed=1)


@pytest.fixture(scope="module")
def video(sequence: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "in.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for f in sorted((sequence / "img1").iterdir()):
        writer.write(cv2.imread(str(f)))
    writer.release()
    return path


def fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_track_never_overwrites_its_input(video: Path) -> None:
    before = video.read_bytes()
    assert "is an input of this command" in fails("track", str(video), "--video", str(video))
    assert "is an input of this command" in fails("track", str(video), "--out", str(video))
    assert video.read_bytes() == before


def test_unwritable_output_fails_before_tracking(video: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    out = fails("track", str(video), "--out", str(blocker / "res.txt"), "--tracker", "sort")
    assert "cannot write in" in out and "tracked" not in out


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--input-size", "0", "Invalid value for '--input-size': Input should be greater"),
        ("--input-size", "20000", "Invalid value for '--input-size': Input should be less"),
        ("--max-frames", "-5", "Invalid value for '--max-frames': Input should be greater"),
        ("--device", "gpu0", "'gpu0' is not a device"),
    ],
)
def test_bad_track_options_are_clear_errors(
    video: Path, tmp_path: Path, flag: str, value: str, message: str
) -> None:
    out = tmp_path / "res.txt"
    out.write_text("old results\n")
    result = runner.invoke(app, ["track", str(video), "--out", str(out), flag, value])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message in " ".join(result.output.replace("│", " ").split())
    assert out.read_text() == "old results\n"  # nothing overwritten


def test_cuda_on_a_cpu_build_is_a_clear_error(video: Path, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "CUDA is not available" in fails("track", str(video), "--device", "cuda")


def test_glob_results_are_named_after_the_folder(
    sequence: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["track", f"{sequence}/img1/*.jpg", "--tracker", "sort", "-p", "hog:upscale=1.0"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "img1.txt").is_file() and (tmp_path / "img1.frames.csv").is_file()
    assert not list(tmp_path.glob("*[*]*"))


def test_rendered_video_is_not_private(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "render.mp4"
    result = runner.invoke(
        app,
        [
            "track",
            str(video),
            "--tracker",
            "sort",
            "--video",
            str(out),
            "-o",
            str(tmp_path / "r.txt"),
        ],
    )
    assert result.exit_code == 0, result.output
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_mixed_frame_sizes_are_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "1.png"), np.zeros((40, 60, 3), np.uint8))
    cv2.imwrite(str(folder / "2.png"), np.zeros((80, 60, 3), np.uint8))
    source = ImageFolderSource(folder)
    with pytest.raises(
        FrameSizeError, match=r"2\.png: 60x80 image in a source whose frames are 60x40"
    ):
        list(source)
    assert "2.png: 60x80 image" in fails("track", str(folder), "--tracker", "sort", "-p", "hog")


@pytest.mark.parametrize("shape", [(1, 1, 3), (60, 100, 3)])
def test_hog_on_frames_smaller_than_its_window(shape: tuple[int, int, int]) -> None:
    assert HOGPeopleProposals()(np.zeros(shape, np.uint8), 1).shape == (0, 5)


def test_ctrl_c_keeps_what_was_tracked() -> None:
    def frames():
        for t in range(1, 10):
            if t == 5:
                raise KeyboardInterrupt
            yield t, np.zeros((120, 160, 3), np.uint8)

    box = np.array([[10, 10, 40, 80, 0.9]])
    for overlap in (False, True):
        run = track_frames(
            build_tracker("sort:minimum_consecutive_frames=1"),
            frames(),
            lambda f, t: box,
            progress=False,
            overlap=overlap,
        )
        assert run.interrupted and run.frames == 4
        assert set(run.results.frame.tolist()) <= {1, 2, 3, 4}


def test_degrade_refuses_to_replace_its_source(sequence: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sequence, data / "SEQ")
    before = sorted(p.name for p in (data / "SEQ" / "img1").iterdir())
    out = fails("degrade", str(data), str(data), "--type", "fog", "--overwrite")
    assert "would replace source sequence" in out
    assert sorted(p.name for p in (data / "SEQ" / "img1").iterdir()) == before
    assert not (data / "SEQ" / "quality.csv").exists()


def test_loading_trained_weights_does_not_claim_random_init(caplog) -> None:
    import logging

    from vsdmot.tracking.weights import load_tracker_model

    with caplog.at_level(logging.INFO):
        load_tracker_model()
    assert not [r for r in caplog.records if "randomly initialised" in r.getMessage()]


def test_degrade_cleans_temporaries_of_a_killed_run(sequence: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "lq"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = out / f".SEQ.{dead.stdout.strip()}.killed.tmp"  # its process has exited
    (stale / "img1").mkdir(parents=True)
    result = runner.invoke(app, ["degrade", str(sequence), str(out), "--type", "jpeg"])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert sorted(p.name for p in out.iterdir()) == ["SEQ"]


def test_runtime_reads_the_settings_recorded_with_the_weights(tmp_path: Path) -> None:
    from vsdmot.config import compose_config
    from vsdmot.engine.checkpoint import save_model
    from vsdmot.engine.trainer import build_default_model
    from vsdmot.tracking.weights import load_tracker_model

    cfg = compose_config(
        "tiny-cpu",
        ["model.d_model=32", "model.ffn_dim=64", "data.input_size=224", "data.max_size=320",
         "data.proposals.score_threshold=0.25"],
    )  # fmt: skip
    path = tmp_path / "model.pt"
    save_model(path, build_default_model(cfg), cfg, step=0)
    loaded = load_tracker_model(path)
    params = loaded.tracker_params().inputs
    assert (params.input_short_side, params.input_max_side) == (224, 320)
    assert params.proposal_min_score == 0.25  # the lowest proposal score it trained on
    assert loaded.tracker_params(input_short_side=300).inputs.input_short_side == 300


def test_atomic_write_removes_temporaries_of_killed_writers(tmp_path: Path) -> None:
    import subprocess
    import sys

    from vsdmot.utils.io import atomic_write

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".last.pt.{dead}.abc123.tmp"  # what a SIGKILL during torch.save leaves
    live = tmp_path / f".last.pt.{os.getpid()}.def456.tmp"  # a writer still running
    stale.write_bytes(b"half")
    live.write_bytes(b"busy")
    with atomic_write(tmp_path / "last.pt", "wb") as f:
        f.write(b"whole")
    assert (tmp_path / "last.pt").read_bytes() == b"whole"
    assert not stale.exists() and live.exists()


def test_incomplete_training_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    import torch

    from vsdmot.tracking.weights import WeightsError, load_tracker_model

    path = tmp_path / "ckpt.pt"
    torch.save({"format": "vsdmot-train-checkpoint", "model": {}}, path)
    with pytest.raises(WeightsError, match=r"ckpt\.pt: incomplete training checkpoint"):
        load_tracker_model(path)


def test_replacing_a_folder_survives_a_backup_left_by_a_killed_run(tmp_path: Path) -> None:
    from vsdmot.utils.io import atomic_replace_dir

    final, new = tmp_path / "SEQ", tmp_path / ".SEQ.new.tmp"
    (final / "img1").mkdir(parents=True)
    (tmp_path / ".SEQ.old" / "img1").mkdir(parents=True)  # left by a run killed mid-replace
    (tmp_path / ".SEQ.old" / "img1" / "x.jpg").write_bytes(b"old")
    (new / "img1").mkdir(parents=True)
    (new / "img1" / "1.jpg").write_bytes(b"new")
    atomic_replace_dir(new, final)
    assert [p.name for p in (final / "img1").iterdir()] == ["1.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SEQ"]
