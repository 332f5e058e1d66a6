"""Fault tests: commands killed (SIGKILL) or interrupted (SIGINT) part-way, in subprocesses.

Afterwards there is either the old complete output or a complete new one,
never a half-written file; an interrupted ``track`` keeps what it tracked and
says so; a killed run's temporaries are cleaned by the next run. Kill times
are drawn from a seeded generator so failures reproduce.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vsdmot.data.mot import read_mot
from vsdmot.data.synth import SynthConfig, generate_sequence

CLI = [sys.executable, "-c", "from vsdmot.cli.main import app; app()"]
RNG = np.random.default_rng(1234)


def _default_sigint() -> None:
    # A child inherits an ignored or blocked SIGINT from its parent, and the test runner's
    # process can carry one from earlier tests or plugins; a terminal's Ctrl-C reaches a
    # fresh process with the default disposition, which is what these tests are about.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        preexec_fn=_default_sigint,
    )  # fmt: skip


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def wait_for(proc: subprocess.Popen, path: Path, timeout: float = 120) -> None:
    """Block until ``path`` exists (the command reached its working phase)."""
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > end:
            out = proc.communicate()[0] if proc.poll() is not None else ""
            pytest.fail(f"{path} never appeared; exit {proc.returncode}: {out[-2000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def long_sequence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = SynthConfig(width=320, height=240, n_frames=400, objects=(3, 4))
    return generate_sequence(tmp_path_factory.mktemp("faults") / "LONG", cfg, seed=5)


def test_sigint_in_track_keeps_the_frames_tracked(long_sequence: Path, tmp_path: Path) -> None:
    out = tmp_path / "res.txt"
    proc = start("track", str(long_sequence), "--out", str(out), "--input-size", "96")
    time.sleep(0.5)
    # The run is in its loop once the tracker prints progress; give it a moment of frames.
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    seen = ""
    # Signal a moment after the first frames are done, by the progress bar rather than by
    # the clock: on a loaded machine a fixed delay can outlast the whole run.
    while (
        not re.search(r"\d\.\d+frame/s", seen)  # a measured rate: frames are done
        and time.monotonic() < deadline
        and proc.poll() is None
    ):
        seen += proc.stdout.read(1)
    time.sleep(0.2 + float(RNG.uniform(0, 0.5)))
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, rest[-2000:]
    assert "interrupted" in rest
    ann = read_mot(out, "result")  # complete and well-formed
    assert 0 < ann.frame.max() < 400
    assert (tmp_path / "res.frames.csv").is_file()


@pytest.mark.parametrize("delay", RNG.uniform(0.5, 4.0, size=2).round(2).tolist())
def test_sigkill_in_track_leaves_the_old_results(
    long_sequence: Path, tmp_path: Path, delay: float
) -> None:
    out = tmp_path / "res.txt"
    out.write_text("1,1,0,0,10,10,1,-1,-1,-1\n")
    proc = start("track", str(long_sequence), "--out", str(out), "--input-size", "96")
    time.sleep(delay)
    proc.kill()
    proc.communicate()
    assert out.read_text() == "1,1,0,0,10,10,1,-1,-1,-1\n"  # old, complete
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_sigkill_in_degrade_then_rerun(tmp_path: Path) -> None:
    cfg = SynthConfig(width=320, height=240, n_frames=120, objects=(2, 3))
    src = generate_sequence(tmp_path / "src" / "SEQ", cfg, seed=6)
    out = tmp_path / "lq"
    proc = start(
        "degrade", str(src.parent), str(out), "--type", "motion_blur", "--image-ext", ".png"
    )
    wait_for(proc, out)
    time.sleep(float(RNG.uniform(0.3, 1.5)))
    proc.kill()
    proc.communicate()
    # Either nothing of SEQ, or all of it: never a half sequence under its final name.
    if (out / "SEQ").exists():
        assert len(list((out / "SEQ" / "img1").iterdir())) == 120
    result = run("degrade", str(src.parent), str(out), "--type", "motion_blur", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["SEQ"]  # the killed run's temporary is gone
    assert len(list((out / "SEQ" / "img1").iterdir())) == 120


def test_sigkill_in_train_then_resume(tmp_path: Path) -> None:
    from helpers.sequences import write_tiny_sequence

    data = tmp_path / "data"
    write_tiny_sequence(data, n_frames=10)
    run_dir = tmp_path / "run"
    args = [
        "train", "--config", "tiny-cpu", "--out", str(run_dir), f"data.train=[{data}]",
        "model.d_model=32", "model.ffn_dim=64", "data.input_size=64", "data.max_size=96",
        "data.augment.scales=[64]", "data.augment.max_size=96", "data.num_workers=0",
        "train.steps=60", "train.ckpt_every=2", "train.log_every=2",
    ]  # fmt: skip
    proc = start(*args)
    wait_for(proc, run_dir / "checkpoints" / "last.pt")
    time.sleep(float(RNG.uniform(0.2, 1.0)))
    proc.kill()
    proc.communicate()
    assert not (run_dir / "model.pt").exists()
    result = run(*args, "--resume")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "from 0" not in result.stderr + result.stdout  # it resumed, it did not restart
    assert (run_dir / "model.pt").is_file()


def test_sigkill_in_distill_keeps_the_old_student(tmp_path: Path) -> None:
    import torch
    from helpers.sequences import write_tiny_sequence

    from vsdmot.nn.mobilenet_v2 import MobileNetV2Features

    data = tmp_path / "data"
    write_tiny_sequence(data, n_frames=12, width=128, height=96)
    teacher = tmp_path / "teacher.pt"
    torch.manual_seed(0)
    torch.save(MobileNetV2Features().state_dict(), teacher)
    out = tmp_path / "student"
    args = [
        "distill", "--config", "distill-cpu", "--out", str(out), "--overwrite", "--no-progress",
        f"data.train=[{data}]", "semantic.teacher.kind=mobilenet_v2",
        f"semantic.teacher.weights={teacher}", "semantic.student.input_size=64",
        "distillation.batch_size=4", "distillation.max_size=128", "distillation.frame_stride=1",
    ]  # fmt: skip
    first = run(*args, "distillation.steps=2")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    old = (out / "student.pt").read_bytes()
    proc = start(*args, "distillation.steps=400")
    time.sleep(float(RNG.uniform(3.0, 6.0)))
    proc.kill()
    proc.communicate()
    assert (out / "student.pt").read_bytes() == old  # the old student, complete
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
