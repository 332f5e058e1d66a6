"""``vsdmot bench`` (MOT-C) end to end on generated data: the grid, both proposal protocols,
external results, resuming, failures, and the report's numbers against a direct evaluation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.sequences import generated_dataset
from typer.testing import CliRunner

from vsdmot.bench import Condition, GridSpec, RunConfig, motc_v1, run_grid, summarise
from vsdmot.cli.main import app
from vsdmot.eval import evaluate
from vsdmot.tracking.registry import TrackerSpec, parse_tracker
from vsdmot.utils.specs import SpecError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_dataset(tmp_path_factory.mktemp("bench") / "data", frames=20)


def bench(*args: str) -> str:
    result = CliRunner().invoke(app, ["bench", *args, "--no-progress"])
    assert result.exit_code == 0, result.output
    return result.output


SMALL = ["--trackers", "bytetrack,sort", "--types", "gaussian_noise,fog", "--severities", "1,3",
         "--schedules", "constant"]  # fmt: skip


@pytest.mark.parametrize("protocol", ["redetect", "fixed"])
def test_small_grid_report_matches_direct_evaluation(dataset, tmp_path, protocol, one_thread):
    out = tmp_path / "report"
    text = bench("--data", str(dataset), "--out", str(out), "--proposals", protocol, *SMALL)
    assert "10 cells (10 computed now, 0 failed)" in text  # 2 trackers x (clean + 2 x 2)
    report = json.loads((out / "report.json").read_text())
    assert {c["condition"] for c in report["cells"]} == {
        "clean", "gaussian_noise-s1-constant", "gaussian_noise-s3-constant",
        "fog-s1-constant", "fog-s3-constant"}  # fmt: skip
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["rpc.png", "severity.png",
                                                                  "speed.png"]  # fmt: skip
    md = (out / "report.md").read_text()
    assert f"protocol: **{protocol}**" in md and "| bytetrack |" in md
    # The clean column is a plain evaluation of the same result files.
    for tracker in ("bytetrack", "sort"):
        direct = evaluate(dataset, out / "results" / tracker / "clean", progress=False)
        cell = next(c for c in report["cells"]
                    if c["tracker"] == tracker and c["condition"] == "clean")  # fmt: skip
        assert cell["scores"]["combined"]["HOTA"] == pytest.approx(direct.combined.HOTA)
    summary = {s["tracker"]: s for s in report["summary"]}
    degraded = [c["scores"]["combined"]["HOTA"] for c in report["cells"]
                if c["tracker"] == "sort" and c["condition"] != "clean"]  # fmt: skip
    assert summary["sort"]["mpc"] == pytest.approx(sum(degraded) / 4)
    if protocol == "fixed":
        # Same clean-frame boxes everywhere: pixel-blind peers score the same in every condition.
        assert len({round(h, 9) for h in degraded}) == 1
    else:
        # Redetect on generated data: the simulated detector degrades with severity.
        sev = {c["condition"]: c["scores"]["combined"]["HOTA"] for c in report["cells"]
               if c["tracker"] == "sort"}  # fmt: skip
        assert sev["gaussian_noise-s3-constant"] < sev["gaussian_noise-s1-constant"] < sev["clean"]


def test_rerun_resumes_and_external_results_are_scored(dataset, tmp_path, one_thread):
    out = tmp_path / "report"
    bench("--data", str(dataset), "--out", str(out), *SMALL)
    kept = out / "results" / "sort" / "fog-s3-constant" / "scores.json"
    before = kept.stat().st_mtime_ns
    (out / "results" / "bytetrack" / "fog-s1-constant" / "scores.json").unlink()
    text = bench("--data", str(dataset), "--out", str(out), *SMALL)
    assert "10 cells (1 computed now, 0 failed)" in text
    assert kept.stat().st_mtime_ns == before
    # Results made elsewhere: a copy of sort's files, one condition missing.
    ext = tmp_path / "elsewhere"
    shutil.copytree(out / "results" / "sort", ext)
    shutil.rmtree(ext / "fog-s3-constant")
    text = bench("--data", str(dataset), "--out", str(out), *SMALL, "--external", f"mine={ext}")
    assert "15 cells (4 computed now, 1 failed)" in text
    report = json.loads((out / "report.json").read_text())
    hota = {(c["tracker"], c["condition"]): c["scores"] and c["scores"]["combined"]["HOTA"]
            for c in report["cells"]}  # fmt: skip
    assert hota[("mine", "clean")] == pytest.approx(hota[("sort", "clean")])
    assert hota[("mine", "fog-s3-constant")] is None
    failed = next(c for c in report["cells"] if c["tracker"] == "mine" and c["error"])
    assert "no results for this condition" in failed["error"]


def test_a_failing_tracker_is_reported_not_fatal(dataset, tmp_path, one_thread):
    cfg = RunConfig(data=dataset, out=tmp_path / "r",
                      grid=GridSpec(("gaussian_noise",), (3.0,), max_frames=5),
                      trackers=("sort", f"vsdmot:weights={tmp_path / 'gone.pt'}"))  # fmt: skip
    cells = list(run_grid(cfg, progress=False))
    bad = [c for c in cells if c.scores is None]
    assert len(bad) == 2 and all("weights file not found" in c.error for c in bad)
    assert (tmp_path / "r" / "results" / bad[0].tracker / "clean" / "error.txt").is_file()
    assert all(c.scores for c in cells if c.tracker == "sort")
    summary = {s.tracker: s for s in summarise(cells, cfg.grid)}
    assert summary[bad[0].tracker].failed == 2


def test_vsdmot_with_its_own_weights_in_the_grid(dataset, tmp_path, tiny_weights, one_thread):
    out = tmp_path / "r"
    bench("--data", str(dataset), "--out", str(out), "--trackers",
          f"vsdmot:weights={tiny_weights},association=anchor,sort", "--types", "jpeg",
          "--severities", "3", "--schedules", "constant", "--max-frames", "4")  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    labels = {c["tracker"] for c in report["cells"] if c["scores"]}
    assert labels == {"vsdmot_weights=model_association=anchor", "sort"}


def test_bad_input_is_refused_before_any_work(dataset, tmp_path):
    runner = CliRunner()
    for args, message in [
        (["--trackers", "nosuchtracker"], "unknown tracker"),
        (["--trackers", "bytetrack:nonsense=1"], "no setting 'nonsense'"),
        (["--types", "sepia"], "unknown degradation"),
        (["--proposals", "sometimes"], "protocol"),
        (["--severities", "x"], "--severities"),
        (["--external", "nofolder"], "NAME=DIR"),
    ]:
        result = runner.invoke(app, ["bench", "--data", str(dataset), "--out",
                                     str(tmp_path / "r"), *args])  # fmt: skip
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    assert not (tmp_path / "r" / "results").exists()


def test_specs_and_the_standard_grid():
    spec = parse_tracker("vsdmot:miss_tolerance=20,association=anchor")
    assert spec == TrackerSpec("vsdmot", {"miss_tolerance": 20, "association": "anchor"})
    assert parse_tracker("sort").label == "sort"
    v1 = motc_v1()
    assert len(v1.types) == 12 and v1.severities == (1.0, 3.0, 5.0)
    assert v1.schedules == ("constant", "random_walk") and v1.protocol == "redetect"
    with pytest.raises(SpecError, match="miss_tolerance needs a value of type int"):
        parse_tracker("vsdmot:miss_tolerance=many")
    # Conditions in the same grammar, beside (or instead of) the product grid.
    grid = GridSpec(extra=(Condition.parse("fog:severity=2,schedule=ramp"),
                           Condition.parse("clean")))  # fmt: skip
    assert [c.name for c in grid.conditions] == ["clean", "fog-s2-ramp"]
    with pytest.raises(SpecError, match="unknown degradation type 'sepia'"):
        Condition.parse("sepia:severity=2")
    with pytest.raises(SpecError, match="no option 'strength'"):
        Condition.parse("fog:strength=2")


def test_redetect_on_a_frame_range_detects_only_those_frames(dataset, tmp_path, one_thread):
    from vsdmot.data.mot import read_mot
    from vsdmot.experiments.runner import SequenceRange

    # A det file as the "detector": each frame it is asked for yields that frame's rows.
    det = dataset / "SYNTH-0000" / "det" / "det.txt"
    span = (SequenceRange.parse("SYNTH-0000:first=5,last=12"),)
    cfg = RunConfig(dataset, tmp_path / "run", GridSpec(protocol="redetect"), trackers=("sort",),
                    detector=str(det), sequences=span)  # fmt: skip
    (cell,) = list(run_grid(cfg, progress=False))
    assert cell.scores is not None, cell.error
    (made,) = (tmp_path / "run" / "proposals").rglob("*.txt")
    assert made.name == "SYNTH-0000.frames5-12.txt"
    frames = set(read_mot(made, "det").frame.tolist())
    assert frames and frames <= set(range(5, 13))
    assert frames == set(read_mot(det, "det").frame.tolist()) & set(range(5, 13))
