"""Executors: the same grid on the local executor and on a Ray cluster that the tests
start (``ray.init(num_cpus=2)``, once for the module) gives the same prediction files and
scores; a failed task (or one whose worker process dies) is tried once more, then reported
while the rest completes, with the worker's traceback in its error; an
interrupted run resumes with the same files on either executor; ``tune`` and
``track --batch`` on Ray.

The Ray tests skip where Ray is not installed (``pip install "vsdmot[ray]"``); the
scheduler's own tests and the missing-Ray message do not need it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import cv2
import pytest
from helpers import flaky  # noqa: F401  (registers the `flaky` tracker in this process)
from helpers.sequences import generated_dataset
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.executors import Scheduler, Task
from vsdmot.executors.local import InlineExecutor, ProcessExecutor

TESTS = Path(__file__).resolve().parent
GRID = ["--trackers", "bytetrack,sort", "--types", "gaussian_noise", "--severities", "3",
        "--schedules", "constant", "--max-frames", "10", "--threads", "1"]  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    """A two-CPU Ray instance for this module. Its workers import the test helpers (the
    ``flaky`` tracker registers itself on import), as the driver does."""
    ray = pytest.importorskip("ray", reason='Ray is not installed: pip install "vsdmot[ray]"')
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PYTHONPATH": path},
                          "worker_process_setup_hook": "helpers.flaky.register"})  # fmt: skip
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dataset(tmp_path_factory.mktemp("executors") / "data", frames=10)


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, [*args])
    assert result.exit_code == code, result.output
    return result.output


def bench(dataset: Path, out: Path, *args: str) -> str:
    return cli("bench", "--data", str(dataset), "--out", str(out), "--no-progress", *args)


def result_files(out: Path) -> dict[str, bytes]:
    """Every prediction file of a run, by its path under ``results/``."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted((out / "results").rglob("*.txt"))}  # fmt: skip


def scores(out: Path) -> dict[tuple[str, str], object]:
    """Each cell's scores from report.json, without frames/s (a timing)."""
    cells = json.loads((out / "report.json").read_text())["cells"]
    return {(c["tracker"], c["condition"]): c["scores"] and {**c["scores"], "fps": None}
            for c in cells}  # fmt: skip


@pytest.fixture(scope="module")
def reference(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small grid, run from scratch on the local executor."""
    out = tmp_path_factory.mktemp("reference") / "run"
    bench(dataset, out, *GRID)
    return out


# --- the same results on both executors ------------------------------------------------------


def test_ray_and_local_give_the_same_files_and_scores(cluster, dataset, reference, tmp_path):
    out = tmp_path / "ray"
    text = bench(dataset, out, *GRID, "--executor", "ray", "--cache-dir", str(tmp_path / "c"))
    assert "4 cells (4 computed now, 0 failed)" in text
    assert result_files(out) == result_files(reference)
    assert len(result_files(out)) == 8  # 2 trackers x 2 conditions x 2 sequences
    assert scores(out) == scores(reference)
    hota = [s["combined"]["HOTA"] for s in scores(out).values()]
    assert all(0.0 < h <= 1.0 for h in hota)
    # Degraded copies went to the named cache, under the data's content key.
    copies = list((tmp_path / "c" / "data").glob("*/gaussian_noise-s3-constant-seed0-first10/*"))
    assert sorted(p.name for p in copies) == ["SYNTH-0000", "SYNTH-0001"]
    assert not (out / "data").exists()


# --- failures: tried again once, then reported -----------------------------------------------


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_a_task_is_retried_once_then_reported(request, executor, dataset, tmp_path):
    if executor == "ray":
        request.getfixturevalue("cluster")
    once, twice = tmp_path / "once", tmp_path / "twice"
    trackers = f"sort,flaky:marker={once},failures=1,flaky:marker={twice},failures=2"
    out = tmp_path / "run"
    text = bench(dataset, out, "--trackers", trackers, "--types", "", "--sequence",
                 "SYNTH-0000", "--max-frames", "10", "--executor", executor)  # fmt: skip
    assert "3 cells (2 computed now, 1 failed)" in text
    assert once.read_text().count("failed") == 1  # failed, then succeeded when tried again
    assert twice.read_text().count("failed") == 2  # failed twice: reported
    cells = {c["tracker"]: c for c in json.loads((out / "report.json").read_text())["cells"]}
    retried = next(c for t, c in cells.items() if "once" in t)
    failed = next(c for t, c in cells.items() if "twice" in t)
    assert retried["scores"]["combined"] == cells["sort"]["scores"]["combined"]  # SORT inside
    assert failed["scores"] is None and "injected failure 2 of 2" in failed["error"]


def _fails_until(marker: str, failures: int) -> str:
    path = Path(marker)
    seen = len(path.read_text().splitlines()) if path.is_file() else 0
    if seen < failures:
        path.write_text("x\n" * (seen + 1))
        raise ValueError(f"attempt {seen + 1}")
    return path.name


@pytest.mark.parametrize("executor", [InlineExecutor, lambda: ProcessExecutor(2, threads=1)])
def test_scheduler_retries_and_reports(executor, tmp_path):
    ex = executor()
    running: list[int] = []
    sched = Scheduler(ex, on_running=running.append)
    for name, failures in (("ok", 0), ("flaky", 1), ("broken", 5)):
        sched.submit(Task(name, _fails_until, (str(tmp_path / name), failures)))
    outcomes = {o.task.key: o for o in sched}
    ex.close()
    assert outcomes["ok"].value == "ok" and outcomes["ok"].attempts == 1
    assert outcomes["flaky"].value == "flaky" and outcomes["flaky"].attempts == 2
    broken = outcomes["broken"]
    assert not broken.ok and broken.attempts == 2 and "ValueError: attempt 2" in broken.error
    assert max(running) == ex.slots and running[-1] == 0


def _done(marker: str) -> str:
    Path(marker).write_text("done\n")
    return Path(marker).name


def _exits_after(markers: tuple[str, ...]) -> None:
    """Kill this worker process (as the out-of-memory killer would), once the tasks that
    write ``markers`` have finished, so that none of them dies with it."""
    deadline = time.monotonic() + 60
    while not all(Path(m).is_file() for m in markers) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # their results reach the parent before the pool breaks
    os._exit(1)


def test_a_dead_worker_fails_its_task_only(tmp_path):
    ex = ProcessExecutor(2, threads=1)
    sched = Scheduler(ex)
    markers = tuple(str(tmp_path / f"ok{k}") for k in range(3))
    sched.submit(Task("dies", _exits_after, (markers,)))
    for marker in markers:
        sched.submit(Task(Path(marker).name, _done, (marker,)))
    outcomes = {o.task.key: o for o in sched}
    # The pool broke twice (the task and its retry) and was started again each time.
    sched.submit(Task("after", _done, (str(tmp_path / "after"),)))
    outcomes.update((o.task.key, o) for o in sched)
    ex.close()
    assert {k: o.value for k, o in outcomes.items() if o.ok} == {
        "ok0": "ok0", "ok1": "ok1", "ok2": "ok2", "after": "after"}  # fmt: skip
    dead = outcomes["dies"]
    assert not dead.ok and dead.attempts == 2 and "BrokenProcessPool" in dead.error


def _slow_done(marker: str) -> str:
    time.sleep(1.5)  # still running when the other worker dies
    return _done(marker)


def _dies_soon() -> None:
    time.sleep(0.3)
    os._exit(1)


def test_a_task_running_beside_a_crash_loses_no_attempt(tmp_path):
    """The pool breaks under both tasks; the bystander runs again alone and succeeds on
    its first counted attempt, the task that crashed is charged for each of its runs."""
    ex = ProcessExecutor(2, threads=1)
    sched = Scheduler(ex)
    sched.submit(Task("bystander", _slow_done, (str(tmp_path / "by"),)))
    sched.submit(Task("dies", _dies_soon))
    outcomes = {o.task.key: o for o in sched}
    ex.close()
    assert outcomes["bystander"].value == "by" and outcomes["bystander"].attempts == 1
    dead = outcomes["dies"]
    assert not dead.ok and dead.attempts == 2 and "BrokenProcessPool" in dead.error


def _raises_in_worker(marker: str) -> None:
    raise ValueError(f"no such thing as {marker}")


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_the_error_says_where_a_worker_task_failed(request, executor):
    if executor == "ray":
        request.getfixturevalue("cluster")
        from vsdmot.executors.ray_cluster import RayExecutor

        ex = RayExecutor(threads=1)
    else:
        ex = ProcessExecutor(2, threads=1)
    sched = Scheduler(ex, retries=0)
    sched.submit(Task("bad", _raises_in_worker, ("x",)))
    (outcome,) = list(sched)
    ex.close()
    assert outcome.error.startswith("ValueError: no such thing as x")
    # The worker's frames, not only those of concurrent.futures in this process.
    assert "_raises_in_worker" in outcome.error and "test_executors.py" in outcome.error


# --- interrupted runs resume -----------------------------------------------------------------


def test_an_interrupted_run_resumes_with_the_same_files(cluster, dataset, reference, tmp_path):
    out = tmp_path / "run"
    # Part of the grid (one tracker) on Ray, the rest on the local executor...
    bench(dataset, out, *GRID[:1], "sort", *GRID[2:], "--executor", "ray")
    kept = out / "results" / "sort" / "clean" / "SYNTH-0000.txt"
    before = kept.stat().st_mtime_ns
    text = bench(dataset, out, *GRID)
    assert "4 cells (2 computed now, 0 failed)" in text and kept.stat().st_mtime_ns == before
    # ...then what a kill leaves: a cell without scores, one of its sequences not done,
    # another cell without scores only; resumed on Ray.
    cell = out / "results" / "bytetrack" / "gaussian_noise-s3-constant"
    for name in ("scores.json", "SYNTH-0001.txt", "SYNTH-0001.run.json"):
        (cell / name).unlink()
    (out / "results" / "sort" / "clean" / "scores.json").unlink()
    done = cell / "SYNTH-0000.txt"
    before = done.stat().st_mtime_ns
    text = bench(dataset, out, *GRID, "--executor", "ray")
    assert "4 cells (2 computed now, 0 failed)" in text
    assert done.stat().st_mtime_ns == before  # the sequence done before is not tracked again
    assert result_files(out) == result_files(reference)
    assert scores(out) == scores(reference)


# --- tune and batch track --------------------------------------------------------------------


def tune(dataset: Path, out: Path, *args: str) -> dict:
    cli("tune", "bytetrack", "--data", str(dataset), "--out", str(out), "--sequence",
        "SYNTH-0000", "--max-frames", "10", "--no-progress", *args)  # fmt: skip
    return json.loads((out / "tune.json").read_text())


def test_tune_on_ray_one_trial_at_a_time_is_the_local_study(cluster, dataset, tmp_path):
    local = tune(dataset, tmp_path / "local", "--trials", "3")
    ray = tune(dataset, tmp_path / "ray", "--trials", "3", "--executor", "ray", "--parallel", "1")
    assert ray["trials"] == local["trials"] and len(local["trials"]) == 3
    assert ray["best"] == local["best"] and ray["best_score"] == local["best_score"]
    # Two at once: other trials, but as many, the defaults first, nothing worse than them.
    both = tune(dataset, tmp_path / "ray2", "--trials", "4", "--executor", "ray", "--parallel", "2")
    assert len(both["trials"]) == 4 and both["trials"][0] == local["trials"][0]
    assert both["best_score"] >= both["default_score"] == local["default_score"]


def write_videos(dataset: Path, folder: Path) -> None:
    """Each generated sequence as an MJPG video in ``folder``."""
    folder.mkdir()
    for seq in sorted(dataset.iterdir()):
        frames = sorted((seq / "img1").iterdir())
        h, w = cv2.imread(str(frames[0])).shape[:2]
        writer = cv2.VideoWriter(str(folder / f"{seq.name}.avi"),
                                 cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))  # fmt: skip
        for frame in frames:
            writer.write(cv2.imread(str(frame)))
        writer.release()


def test_batch_track_on_ray_writes_one_result_per_video_and_resumes(cluster, dataset, tmp_path):
    write_videos(dataset, tmp_path / "videos")
    (tmp_path / "videos" / "notes.txt").write_text("not a video")
    props = str(dataset / "SYNTH-0000" / "det" / "det.txt")
    args = ["track", "--batch", str(tmp_path / "videos"), "--tracker", "sort", "-p", props]
    text = cli(*args, "-o", str(tmp_path / "ray"), "--executor", "ray")
    assert "2 videos (2 tracked now, 0 already done, 0 failed)" in text
    ray_out = sorted(p.name for p in (tmp_path / "ray").iterdir())
    assert ray_out == [f"SYNTH-000{k}.{ext}" for k in (0, 1)
                       for ext in ("frames.csv", "job.json", "txt")]  # fmt: skip
    cli(*args, "-o", str(tmp_path / "local"))
    for k in (0, 1):
        name = f"SYNTH-000{k}.txt"
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    # An interrupted batch: one video's record missing. Only that one is tracked again.
    (tmp_path / "ray" / "SYNTH-0001.job.json").unlink()
    kept = (tmp_path / "ray" / "SYNTH-0000.txt").stat().st_mtime_ns
    text = cli(*args, "-o", str(tmp_path / "ray"), "--executor", "ray")
    assert "2 videos (1 tracked now, 1 already done, 0 failed)" in text
    assert (tmp_path / "ray" / "SYNTH-0000.txt").stat().st_mtime_ns == kept
    assert (tmp_path / "ray" / "SYNTH-0001.job.json").is_file()


# --- without Ray -----------------------------------------------------------------------------


def test_ray_executor_without_ray_says_how_to_install_it(dataset, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    result = CliRunner().invoke(app, ["bench", "--data", str(dataset), "--out",
                                      str(tmp_path / "r"), "--executor", "ray"])  # fmt: skip
    assert result.exit_code == 2
    assert 'pip install "vsdmot[ray]"' in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r" / "results").exists()


def test_a_ray_cluster_without_nodes_ends_the_wait_instead_of_hanging(monkeypatch):
    """Ray waits forever on tasks no node can run; the executor polls and says why."""
    from vsdmot.executors import ray_cluster
    from vsdmot.executors.base import ExecutorUnavailable

    class GoneCluster:  # answers, but every worker node has left
        def __init__(self, cpus: float | None) -> None:
            self.cpus, self.polls = cpus, 0

        def wait(self, handles, num_returns, timeout):
            assert timeout is not None  # never an unbounded wait
            self.polls += 1
            return [], list(handles)

        def cluster_resources(self):
            if self.cpus is None:
                raise ConnectionError("GCS unreachable")
            return {"CPU": self.cpus} if self.cpus else {}

    monkeypatch.setattr(ray_cluster, "POLL_SECONDS", 0.01)
    executor = object.__new__(ray_cluster.RayExecutor)
    executor.threads = 2
    for cpus, message in ((0.0, "0 CPU"), (1.0, "1 CPU"), (None, "stopped answering")):
        executor._ray = GoneCluster(cpus)
        with pytest.raises(ExecutorUnavailable, match=message):
            executor.wait(["a", "b"])
        assert executor._ray.polls == 1


def test_a_slow_task_on_a_live_ray_cluster_is_waited_for(monkeypatch):
    from vsdmot.executors import ray_cluster

    class Busy:  # the task finishes on the third poll; the cluster keeps its CPUs
        polls = 0

        def wait(self, handles, num_returns, timeout):
            self.polls += 1
            return (["b"], ["a"]) if self.polls == 3 else ([], list(handles))

        def cluster_resources(self):
            return {"CPU": 2.0}

    monkeypatch.setattr(ray_cluster, "POLL_SECONDS", 0.01)
    executor = object.__new__(ray_cluster.RayExecutor)
    executor.threads, executor._ray = 1, Busy()
    assert executor.wait(["a", "b"]) == "b" and executor._ray.polls == 3
