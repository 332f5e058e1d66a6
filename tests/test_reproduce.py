"""benchmarks/reproduce.py: every section of BENCHMARKS.md can be re-run from a fresh clone.

The registry (benchmarks/sections.py) covers every results file that collect.py puts in
BENCHMARKS.md, its commands name scripts and flags that exist, BENCHMARKS.md cites no
untracked folder that no step creates, and the cheapest section runs end to end.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from vsdmot.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_default_choice  # noqa: E402
import collect  # noqa: E402
import common  # noqa: E402
import reproduce  # noqa: E402
import transfer_table  # noqa: E402
from sections import HISTORY, SECTIONS  # noqa: E402
from steps import Context, Extra, Run, Section, StepError, done_marker  # noqa: E402
from tables import compare, parse_tables  # noqa: E402

SHARED_DATA = common.MOT15 / "PETS09-S2L1" / "seqinfo.ini"


def script(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """reproduce.py in its own process (for a run whose steps start processes)."""
    return subprocess.run([sys.executable, "benchmarks/reproduce.py", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """reproduce.py's main in this process: exit code, stdout, stderr."""
    try:
        code = reproduce.main(list(args))
    except SystemExit as exc:  # argparse's errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def in_benchmarks() -> list[str]:
    """The results stems that collect.py puts in BENCHMARKS.md, in its order."""
    return [p.stem for p in collect.ordered(BENCH / "results", collect.ORDER)]


def every_run() -> list[tuple[str, Run]]:
    runs = []
    for s in SECTIONS.values():
        for step in (*s.steps, s.command, *((s.quick,) if s.quick else ()),
                     *(s.quick_steps or ())):  # fmt: skip
            if isinstance(step, Run):
                runs.append((s.stem, step))
    return runs


# -- the registry covers BENCHMARKS.md ------------------------------------------------------


def test_list_names_every_section_of_benchmarks_md(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = cli(capsys, "--list")
    assert code == 0
    listed = {line.split("|")[1].strip() for line in out.splitlines()[2:]}
    assert set(in_benchmarks()) <= listed
    assert set(in_benchmarks()) <= set(SECTIONS)  # in the registry, not merely history
    history = {p.stem for p in (BENCH / "results" / "history").glob("*.md")}
    assert history == set(HISTORY) and not history & set(in_benchmarks())
    assert "| eval | 1 | yes |" in out
    assert re.search(r"\| cuda \| \d+ \| no: needs one NVIDIA GPU", out)


def test_every_section_has_its_published_report() -> None:
    for stem in SECTIONS:
        assert (BENCH / "results" / f"{stem}.md").is_file(), stem


def created_paths() -> list[str]:
    """Every path (shown relative to the project) that a section's steps or command make."""
    ctx = Context(reproduce.DEFAULT_WORK, BENCH / "results" / "x.md")
    made = [ctx.fill("{work}/reports"), ctx.fill("{work}/logs")]
    for s in SECTIONS.values():
        made += [ctx.fill(s.report)]
        for step in (*s.steps, *(s.quick_steps or ())):
            if (path := step.creates(ctx)) is not None:
                made.append(ctx.fill(str(path.relative_to(common.ROOT))))
        made += [w for w in s.command.shown(ctx).split() if w.startswith("work/")]
    return made


def test_benchmarks_md_cites_no_folder_the_steps_do_not_create() -> None:
    text = (ROOT / "BENCHMARKS.md").read_text()
    assert re.findall(r"\bruns\d*/[\w./-]*", text) == []
    made = created_paths()
    cited = set(re.findall(r"work/reproduce/[\w./-]*\w", text))
    assert cited, "the commands name the work folder"
    orphans = sorted(p for p in cited if not any(p.startswith(m) or m.startswith(p)
                                                 or m.split("=")[-1].startswith(p)
                                                 for m in made))  # fmt: skip
    assert orphans == []


def test_each_command_in_benchmarks_md_is_its_sections() -> None:
    text = (ROOT / "BENCHMARKS.md").read_text()
    for stem in in_benchmarks():
        # A section that cannot run on this kind of machine says so through --list.
        how = "--list" if SECTIONS[stem].blocker else stem
        assert f"python benchmarks/reproduce.py {how}" in text, stem
        assert "select_thresholds.py" not in (BENCH / "results" / f"{stem}.md").read_text()


# -- every command names existing scripts and flags -----------------------------------------


def argparse_flags(path: Path) -> set[str]:
    return set(re.findall(r"""add_argument\(\s*["'](--[\w-]+)""", path.read_text())) | {"--help"}


CLI = typer.main.get_command(app)


RUNS = every_run()


@pytest.mark.parametrize(("stem", "run"), RUNS, ids=[stem for stem, _ in RUNS])
def test_registry_command_names_existing_script_and_flags(stem: str, run: Run) -> None:
    words = list(run.words)
    used = {w.split("=", 1)[0] for w in words[1:] if w.startswith("--")}
    if words[0] == "vsdmot":
        used |= {w for w in words[2:] if re.fullmatch(r"-[A-Za-z]", w)}
        cmd = CLI.commands[words[1]]
        accepted = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        assert used <= accepted | {"--help"}, (stem, sorted(used - accepted))
    elif words[:2] == ["python", "-m"]:
        assert words[2] == "pytest" and (ROOT / words[4]).is_file()
    else:
        target = ROOT / words[1]
        assert target.is_file(), (stem, words[1])
        if target.suffix == ".py":
            assert used <= argparse_flags(target), (stem, sorted(used - argparse_flags(target)))


def test_dry_run_shows_the_steps_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = cli(capsys, "motc_tud", "--work", str(tmp_path), "--dry-run")
    assert code == 0
    assert "ln -s" in out and "vsdmot bench --data" in out
    assert "--detector yolo:weights=robust" in out
    assert list(tmp_path.iterdir()) == []


# -- steps, refusals, the command line ----------------------------------------------------


def test_a_finished_step_is_kept_and_a_failing_one_names_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "made").mkdir()
    done_marker(tmp_path / "made").write_text("")
    fails = Run(("python", "-c", "raise SystemExit(3)"))
    section = Section("x", "x", 1, fails, (Run(("python", "-c", "raise SystemExit(1)"),
                                               makes="{work}/made"),))  # fmt: skip
    ctx = Context(tmp_path, tmp_path / "r.md", stem="x")
    with pytest.raises(StepError, match=r"exit 3.*logs/x\.log"):
        reproduce.run_steps(section, ctx, dry_run=False)
    assert "[kept]" in capsys.readouterr().out
    assert "SystemExit(3)" in (tmp_path / "logs" / "x.log").read_text()


WRITE_SEQ = ("import pathlib, sys; d = pathlib.Path(sys.argv[1]); d.mkdir(); "
             "(d / 'seq').write_text('x')")


def test_an_output_left_by_a_killed_step_is_built_again(tmp_path: Path) -> None:
    # What a killed synth leaves: the folder with its first sequence, no done marker.
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "half").write_text("")
    step = Run(("python", "-c", WRITE_SEQ, "{work}/gen"), makes="{work}/gen")
    section = Section("x", "x", 1, Run(("python", "-c", "pass")), (step,))
    ctx = Context(tmp_path, tmp_path / "r.md", stem="x")
    assert not step.done(ctx)
    reproduce.run_steps(section, ctx, dry_run=False)  # refuses an existing folder otherwise
    assert sorted(p.name for p in (tmp_path / "gen").iterdir()) == ["seq"]
    assert step.done(ctx)


def test_a_failing_step_leaves_no_done_marker(tmp_path: Path) -> None:
    fails = "import pathlib, sys; pathlib.Path(sys.argv[1]).mkdir(); raise SystemExit(1)"
    step = Run(("python", "-c", fails, "{work}/gen"), makes="{work}/gen")
    ctx = Context(tmp_path, tmp_path / "r.md", stem="x")
    with pytest.raises(StepError):
        step.execute(ctx, tmp_path / "log")
    assert (tmp_path / "gen").is_dir() and not step.done(ctx)


def test_publish_compares_with_the_report_published_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = "| tracker | HOTA |\n|---|---:|\n| a | 0.500 |\n"
    (tmp_path / "x.md").write_text(published)
    new = published.replace("0.500", "0.600")
    writes = f"import pathlib, sys; pathlib.Path(sys.argv[1]).write_text({new!r})"
    section = Section("x", "x", 1, Run(("python", "-c", writes, "{report}")))
    monkeypatch.setattr(reproduce, "RESULTS", tmp_path)
    monkeypatch.setitem(reproduce.SECTIONS, "x", section)
    code, out, _ = cli(capsys, "x", "--publish", "--work", str(tmp_path / "work"))
    assert code == 0
    assert (tmp_path / "x.md").read_text() == new  # published over
    assert "| a | **0.600** (published 0.500) |" in out
    assert "0 as published, 1 different" in out


def test_a_missing_extra_is_named_with_its_install_line_before_anything_runs(
    tmp_path: Path,
) -> None:
    extra = Extra("no_such_module_for_vsdmot", "no-such-package", 'pip install -e ".[x]"')
    section = Section("x", "x", 1, Run(("python", "-c", "pass"), needs=(extra,)))
    args = reproduce.argparse.Namespace(publish=False, quick=False)
    why = reproduce.refuse(section, args, Context(tmp_path, tmp_path / "r.md"))
    assert why == 'x needs no-such-package, not installed; install with: pip install -e ".[x]"'
    assert reproduce.status(section).startswith("no: needs no-such-package")


def test_publish_is_refused_for_hand_written_sections(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = cli(capsys, "transfer_public", "--publish", "--work", str(tmp_path))
    assert code == 2 and "written by hand" in err
    code, _, err = cli(capsys, "thresholds")
    assert code == 2 and "history" in err
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_leads_with_the_reproduce_command(monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["benchmarks/bench_eval.py", "--repeats", "5"])
    assert common.command() == "python benchmarks/bench_eval.py --repeats 5"
    monkeypatch.setenv("VSDMOT_REPRODUCE", "eval")
    assert common.command() == ("python benchmarks/reproduce.py eval  "
                                "# runs: python benchmarks/bench_eval.py --repeats 5")  # fmt: skip


# -- tables side by side ------------------------------------------------------------------

PUBLISHED = """| tracker | scene | HOTA |
|---|---|---:|
| a | P | 0.500 |
| a | T | **0.400** |
| b | P | 0.300 / 0.2 |
"""


def test_compare_marks_differing_cells_and_counts_missing_rows() -> None:
    new = PUBLISHED.replace("0.300 / 0.2", "0.330 / 0.2").replace("| a | T | **0.400** |\n", "")
    lines, tally = compare(PUBLISHED, new)
    assert "| b | P | **0.330 / 0.2** (published 0.300 / 0.2) |" in lines
    assert (tally.same, tally.differ, tally.missing_rows) == (1, 1, 1)
    assert tally.largest == pytest.approx(0.1)


def test_compare_pairs_a_relabelled_table_by_position_and_headers_up_to_numbers() -> None:
    published = "| stage | median of 5 (s) |\n|---|---:|\n| load | 0.5 |\n| score | 0.4 |\n"
    new = "| stage | median of 1 (s) |\n|---|---:|\n| reading | 0.5 |\n| scoring | 0.9 |\n"
    lines, tally = compare(published, new)
    assert lines[2:4] == ["| reading | 0.5 |", "| scoring | **0.9** (published 0.4) |"]
    assert (tally.same, tally.differ, tally.missing_rows) == (1, 1, 0)
    _, none = compare(published, "| other | x |\n|---|---|\n| a | 1 |\n")
    assert none.notes and none.same == none.differ == 0
    assert parse_tables("text | not a table") == []


def test_transfer_table_builds_the_published_layouts(tmp_path: Path) -> None:
    rows = [{"scene": "PETS09-S2L1", "default": 0.382, "chosen_elsewhere": 0.3786,
             "chosen_on_it": 0.424},
            {"scene": "TUD-Stadtmitte", "default": 0.528, "chosen_elsewhere": 0.536,
             "chosen_on_it": 0.530}]  # fmt: skip
    (tmp_path / "tune.json").write_text(json.dumps({"tracker": "bytetrack", "rows": rows}))
    for layout in ("long", "wide"):
        transfer_table.main(["--layout", layout, "--study",
                             f"bytetrack={tmp_path / 'tune.json'}", "--out",
                             str(tmp_path / f"{layout}.md")])  # fmt: skip
    published = (BENCH / "results" / "transfer_public.md").read_text()
    lines, tally = compare(published, (tmp_path / "long.md").read_text())
    assert "| bytetrack | **mean** | 0.455 | **0.457** | 0.477 |" in lines
    assert tally.differ == 0 and tally.same == 9
    assert "| bytetrack | 0.379 | 0.536 | **0.457** | 0.455 | 0.477 |" in (
        tmp_path / "wide.md").read_text()


def _bench_report(path: Path, cells: dict[tuple[str, str], dict[str, float]]) -> Path:
    """A vsdmot bench report.json with the given (tracker, condition) -> scene -> HOTA."""
    out = [{"tracker": t, "condition": c, "error": None,
            "scores": {"sequences": {s: {"HOTA": h, "DetA": h, "AssA": h, "IDSW": 1.0}
                                     for s, h in scenes.items()}}}
           for (t, c), scenes in cells.items()]  # fmt: skip
    path.write_text(json.dumps({"trackers": {"v_1": "vsdmot:a=1", "v_2": "vsdmot:a=2"},
                                "cells": out}))  # fmt: skip
    return path


def test_default_choice_picks_on_the_other_scene_only(tmp_path: Path) -> None:
    # a=1 wins on P, a=2 on T: each scene left out gets the other scene's winner.
    first = _bench_report(tmp_path / "r1.json", {
        ("v_1", "clean"): {"P": 0.6, "T": 0.2}, ("v_1", "fog"): {"P": 0.4, "T": 0.2},
        ("bytetrack", "clean"): {"P": 0.5, "T": 0.5}, ("bytetrack", "fog"): {"P": 0.5, "T": 0.5},
    })  # fmt: skip
    second = _bench_report(tmp_path / "r2.json", {
        ("v_2", "clean"): {"P": 0.3, "T": 0.4}, ("v_2", "fog"): {"P": 0.3, "T": 0.6},
        ("v_2", "rain"): {"P": 0.0, "T": 0.0},
    })  # fmt: skip
    args = ["--report", str(first), "--report", str(second), "--candidate", "one=vsdmot:a=1",
            "--candidate", "two=vsdmot:a=2", "--tracker", "ByteTrack=bytetrack",
            "--out", str(tmp_path / "choice.md")]  # fmt: skip
    with pytest.raises(SystemExit, match="different cells"):  # rain only for a=2
        bench_default_choice.main(args)
    bench_default_choice.main([*args, "--conditions", "clean,fog"])
    data = json.loads((tmp_path / "choice.json").read_text())
    assert data["picks"] == {"P": {"chosen": "two", "hota": 0.3},
                             "T": {"chosen": "one", "hota": 0.2}}  # fmt: skip
    assert data["left_out_mean"] == pytest.approx(0.25)
    # P, T, mean, clean, mean of the one degraded condition (fog), IDSW
    row = "| ByteTrack | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 | 4 |"
    assert row in (tmp_path / "choice.md").read_text()
    with pytest.raises(SystemExit, match="not in the reports"):
        bench_default_choice.main([*args[:-2], "--candidate", "x=vsdmot:a=3", "--out",
                                   str(tmp_path / "x.md")])  # fmt: skip


# -- one section end to end ---------------------------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_file(), reason="../shared/data/mot15 is not here")
def test_quick_eval_section_runs_end_to_end_beside_the_published_table(tmp_path: Path) -> None:
    published = (BENCH / "results" / "eval.md").read_text()
    done = script("eval", "--quick", "--work", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    report = tmp_path / "reports-quick" / "eval.md"
    assert "python benchmarks/reproduce.py eval  # runs: python benchmarks/bench_eval.py" in (
        report.read_text())
    assert (BENCH / "results" / "eval.md").read_text() == published  # not overwritten
    # Scores are deterministic: the published score table comes back cell for cell.
    combined = next(line for line in published.splitlines() if line.startswith("| COMBINED"))
    assert combined in done.stdout
    assert re.search(r"Numeric cells: (\d+) as published", done.stdout)
    assert "published 0.504" in done.stdout or "| `evaluate()` total | 0.504" in done.stdout


@pytest.mark.parametrize("stem", ["adapt", "adapt_mix"])
def test_the_detector_summaries_recompute_from_their_per_condition_results(stem: str) -> None:
    """The summary groups of a published detector table follow from its per-type cells
    (whole chains such as realesrgan are in no training group)."""
    import bench_adapt

    data = json.loads((ROOT / "benchmarks" / "results" / f"{stem}.json").read_text())
    results = data["results"]
    conditions = [c for c in next(iter(results.values())) if c != "clean"]
    types = sorted({c.rsplit(" ", 1)[0] for c in conditions})
    severities = sorted({float(c.rsplit(" ", 1)[1]) for c in conditions})
    rows = bench_adapt.summary_rows(results, types, severities,
                                    {name: ["fog", "rain"] for name in results})  # fmt: skip
    singles = bench_adapt.summary_rows(results, [t for t in types if t != "realesrgan"],
                                       severities, {name: ["fog", "rain"] for name in results})
    for published, again, single in zip(data["summary"], rows, singles, strict=True):
        for group in ("clean", "trained", "held_out", "mix"):
            assert again[group] == pytest.approx(published[group], abs=1e-9), (stem, group)
        assert again["trained"] == single["trained"]  # a whole chain is no trained type
