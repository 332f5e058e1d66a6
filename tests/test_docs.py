"""The commands and Python snippets of README.md and docs/*.md work as written.

1. Every ``vsdmot`` command in a fenced ``bash`` block is parsed with the real
   click command (``typer.main.get_command(app)``): the sub-command must exist
   and every ``--flag`` must be one it accepts. Commands without synopsis
   brackets (``[--resume]``, ``...``) are also fully parsed (argument count,
   value types, choices) without running them.
2. ``train`` / ``distill`` commands are run with ``--print-config`` appended,
   which resolves the preset and every ``key=value`` override (unknown keys and
   wrong types are errors) without training.
3. The quick start is run command by command, in order, in a fresh working
   folder; selected commands of datasets.md, tracking.md and evaluation.md are
   run in a copy of that folder. To stay within a few seconds each, the runs
   substitute smaller sizes (``synth --frames/--sequences``, ``track
   --max-frames``, ``eval --frames`` clamped to the shorter sequences),
   ``--tracker bytetrack`` for the shipped default model (whose weights file
   is not needed to run the peers), and a tiny randomly initialised model for
   commands that name ``--weights`` or set the model tracker's thresholds.
   ``my_video.mp4`` (the user's own video in the docs) is a short generated clip.
4. The ``python`` blocks are executed in that working folder, with
   ``load_tracker_model()`` returning the tiny model; blocks that need a
   network download are listed in ``SKIP_PYTHON``.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import pytest
import torch
import typer
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.cli.track import SETTING_FLAGS

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGS = {"bash", "sh", "shell", "console"}
LAUNCHERS = {"torchrun", "do", "then", "time", "exec", "nohup"}
OPERATORS = {"&&", "||", ";", "|", "&"}

#: (doc, start of the command) pairs known not to match the CLI: xfail until fixed.
KNOWN_MISMATCHES: dict[tuple[str, str], str] = {}

#: Python blocks not executed: (doc, text the block contains) -> reason.
SKIP_PYTHON = {
    ("docs/distillation.md", "CLIPVisionModelWithProjection"): "downloads CLIP from the hub",
    # Run for real in tests/test_registry.py (on generated gt/ and det/ folders).
    ("docs/tuning.md", "Tuner("): "needs gt/ and det/ folders of MOT files",
}

# Frames of each generated sequence in the runs (the docs use 60-150).
FRAMES = 12
SEQUENCES = 2
# Frames tracked with the tiny model (it is slow at full resolution on a shared CPU).
MODEL_FRAMES = 3


# ---------------------------------------------------------------------------
# extraction


@dataclass(frozen=True)
class DocCommand:
    doc: str  # path relative to the repository root
    line: int  # first line of the command in the doc
    text: str  # the command line as shown (continuations joined)
    args: tuple[str, ...]  # arguments after `vsdmot`

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}:{' '.join(self.args[:1])}"


def fenced_blocks(path: Path, langs: set[str]) -> list[tuple[int, str]]:
    """``(first line number, text)`` of the fenced blocks tagged with one of ``langs``."""
    blocks: list[tuple[int, str]] = []
    fence: str | None = None
    keep = False
    start, body = 0, []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if fence is None:
            m = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if m:
                fence, keep, start, body = m.group(1), m.group(2).lower() in langs, i + 1, []
        elif stripped.startswith(fence) and stripped.strip(fence[0]) == "":
            if keep:
                blocks.append((start, "\n".join(body)))
            fence = None
        else:
            body.append(line)
    return blocks


def logical_lines(start: int, text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; ``(line number, line)``."""
    out: list[tuple[int, str]] = []
    buf, first = "", start
    for i, line in enumerate(text.splitlines(), start=start):
        if not buf:
            first = i
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        out.append((first, buf + line))
        buf = ""
    if buf:
        out.append((first, buf))
    return out


def vsdmot_invocations(line: str) -> list[tuple[str, ...]]:
    """Argument lists of every ``vsdmot`` call in one shell line."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    lex.commenters = "#"
    tokens = list(lex)
    segments: list[list[str]] = [[]]
    for tok in tokens:
        if tok in OPERATORS:
            segments.append([])
        else:
            segments[-1].append(tok)
    calls = []
    for seg in segments:
        while seg and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", seg[0]):
            seg = seg[1:]  # environment assignments
        if not seg:
            continue
        if Path(seg[0]).name == "vsdmot":
            calls.append(tuple(seg[1:]))
        elif seg[0] in LAUNCHERS:
            for i, tok in enumerate(seg):
                if Path(tok).name == "vsdmot":
                    calls.append(tuple(seg[i + 1 :]))
                    break
    return calls


def doc_commands() -> list[DocCommand]:
    out = []
    for path in DOCS:
        rel = path.relative_to(ROOT).as_posix()
        for start, block in fenced_blocks(path, SHELL_LANGS):
            for line_no, line in logical_lines(start, block):
                for args in vsdmot_invocations(line):
                    out.append(DocCommand(rel, line_no, " ".join(line.split()), args))
    return out


COMMANDS = doc_commands()


def commands_of(doc: str) -> list[DocCommand]:
    return [c for c in COMMANDS if c.doc == doc]


def find(doc: str, text: str) -> DocCommand:
    """The command of ``doc`` whose shown text starts with ``text`` (so tests track the docs)."""
    hits = [c for c in commands_of(doc) if c.text == text]
    hits = hits or [c for c in commands_of(doc) if c.text.startswith(text)]
    assert len(hits) == 1, f"{doc}: expected one command starting with {text!r}, got {len(hits)}"
    return hits[0]


# ---------------------------------------------------------------------------
# 1. sub-commands and flags


def _root():
    """The click group behind the typer app (typer may bundle its own click)."""
    cmd = typer.main.get_command(app)
    assert hasattr(cmd, "commands"), cmd
    return cmd


ROOT_CMD = _root()


def is_synopsis(args: tuple[str, ...]) -> bool:
    return any(a.startswith("[") or a.endswith("...") or a.endswith("...]") for a in args)


def split_command(args: tuple[str, ...]) -> tuple[Any, str, list[str]]:
    """The sub-command, its name, and its arguments (global options checked)."""
    args = list(args)
    root_opts = {o for p in ROOT_CMD.params for o in (*p.opts, *p.secondary_opts)}
    while args and args[0].startswith("-"):
        assert args[0] in root_opts, f"unknown global option {args[0]}"
        args.pop(0)
    assert args, "no sub-command"
    name = args.pop(0)
    assert name in ROOT_CMD.commands, f"no sub-command {name!r} (have {sorted(ROOT_CMD.commands)})"
    return ROOT_CMD.commands[name], name, args


def flags_used(args: list[str]) -> list[str]:
    flags = []
    for tok in args:
        tok = tok.lstrip("[").rstrip("]")
        if re.match(r"^--?[A-Za-z]", tok):
            flags.append(tok.split("=", 1)[0])
    return flags


def check_command(c: DocCommand) -> None:
    cmd, name, args = split_command(c.args)
    accepted = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    accepted.add("--help")
    unknown = [f for f in flags_used(args) if f not in accepted]
    assert not unknown, f"`vsdmot {name}` does not accept {unknown}; it takes {sorted(accepted)}"
    if not is_synopsis(c.args):
        try:
            cmd.make_context(name, list(args), resilient_parsing=False)
        except Exception as exc:  # click's UsageError, from click or typer's bundled copy
            if not hasattr(exc, "format_message"):
                raise
            raise AssertionError(f"`vsdmot {name}`: {exc.format_message()}") from exc


def known_mismatch(c: DocCommand) -> str | None:
    for (doc, start), reason in KNOWN_MISMATCHES.items():
        if c.doc == doc and c.text.startswith(start):
            return reason
    return None


def _marks(c: DocCommand) -> list[pytest.MarkDecorator]:
    reason = known_mismatch(c)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize("command", [pytest.param(c, id=c.id, marks=_marks(c)) for c in COMMANDS])
def test_command_and_flags_exist(command: DocCommand) -> None:
    check_command(command)


def test_extraction_sees_the_docs() -> None:
    docs = {c.doc for c in COMMANDS}
    assert {"README.md", "docs/quickstart.md", "docs/tracking.md", "docs/datasets.md",
            "docs/evaluation.md"} <= docs  # fmt: skip
    names = {split_command(c.args)[1] for c in COMMANDS if not known_mismatch(c)}
    assert {"synth", "degrade", "eval", "track", "train", "distill", "demo"} <= names
    stale = [
        (doc, start)
        for doc, start in KNOWN_MISMATCHES
        if not any(c.doc == doc and c.text.startswith(start) for c in COMMANDS)
    ]
    assert not stale, f"no longer in the docs, remove from KNOWN_MISMATCHES: {stale}"
    # Continuations, quoting and prefixes are understood.
    assert vsdmot_invocations("HF_HUB_OFFLINE=1 vsdmot distill --out r 'a=[{b: c}]'") == [
        ("distill", "--out", "r", "a=[{b: c}]")
    ]
    assert vsdmot_invocations("bash x.sh && .venv/bin/vsdmot demo --quick  # comment") == [
        ("demo", "--quick")
    ]


def test_checker_rejects_unknown_flags() -> None:
    bad = DocCommand("x.md", 1, "", ("track", "v.mp4", "--no-such-flag"))
    with pytest.raises(AssertionError, match="does not accept"):
        check_command(bad)
    with pytest.raises(AssertionError, match="no sub-command"):
        check_command(DocCommand("x.md", 1, "", ("nosuch",)))
    with pytest.raises(AssertionError, match="Missing argument"):
        check_command(DocCommand("x.md", 1, "", ("synth",)))


# ---------------------------------------------------------------------------
# 2. config overrides of train / distill commands resolve


CONFIG_COMMANDS = [
    c
    for c in COMMANDS
    if c.args
    and c.args[0] in ("train", "distill")
    and not is_synopsis(c.args)
    and "--resume" not in c.args
]


@pytest.mark.parametrize("command", [pytest.param(c, id=c.id) for c in CONFIG_COMMANDS])
def test_config_overrides_resolve(command: DocCommand, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*command.args, "--print-config"])
    assert result.exit_code == 0, f"{command.doc}:{command.line}: {result.output}"
    assert "data:" in result.output


# ---------------------------------------------------------------------------
# 3. running the docs' commands


runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two shared cores: one torch thread is faster than two contending ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_my_video(path: Path) -> None:
    """A short clip of a generated scene, standing in for the user's own video."""
    from vsdmot.data.synth import SynthConfig, generate_sequence

    seq = generate_sequence(
        path.parent / ".my_video_src", SynthConfig(width=320, height=240, n_frames=8), seed=5
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 240))
    for img in sorted((seq / "img1").iterdir()):
        writer.write(cv2.imread(str(img)))
    writer.release()
    shutil.rmtree(seq)


def _set(args: list[str], flag: str, value: str) -> None:
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]


def _cap(args: list[str], flags: tuple[str, ...], limit: int) -> None:
    for i, tok in enumerate(args[:-1]):
        if tok in flags:
            args[i + 1] = str(min(int(args[i + 1]), limit))


#: Flags that set a vsdmot setting: such a command runs vsdmot (with the tiny weights).
MODEL_FLAGS = (
    *(f"--{name.replace('_', '-')}" for name in SETTING_FLAGS),
    "--set",
    "--input-size",
)


def adapt(c: DocCommand, weights: Path, frames: int = FRAMES) -> list[str]:
    """The doc's arguments with the substitutions described in the module docstring."""
    args = list(c.args)
    name = args[0]
    if name == "synth":
        _cap(args, ("--frames", "-t"), frames)
        _cap(args, ("--sequences", "-n"), SEQUENCES)
        if not {"--frames", "-t"} & set(args):
            args += ["--frames", str(frames)]
    elif name == "track":
        _cap(args, ("--max-frames",), 3)
        if "--device" in args:
            _set(args, "--device", "cpu")
        tracker = args[args.index("--tracker") + 1] if "--tracker" in args else "vsdmot"
        if tracker.split(":")[0] == "vsdmot":
            if "--weights" in args or set(MODEL_FLAGS) & set(args) or ":" in tracker:
                _set(args, "--weights", str(weights))
                _set(args, "--max-frames", str(MODEL_FRAMES))
            else:
                args += ["--tracker", "bytetrack"]
    elif name == "eval" and "--frames" in args:
        i = args.index("--frames") + 1
        first, last = (int(v) for v in args[i].split("-"))
        if last > frames:
            args[i] = f"{min(first, frames // 2 + 1)}-{frames}"
    return args


def run(c: DocCommand, weights: Path, frames: int = FRAMES) -> str:
    args = adapt(c, weights, frames)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{c.doc}:{c.line}: vsdmot {' '.join(args)}\n{result.output}"
    return result.output


@pytest.fixture(scope="module")
def quickstart_dir(tmp_path_factory: pytest.TempPathFactory, tiny_weights: Path) -> Path:
    """A working folder after running every command of docs/quickstart.md in order."""
    work = tmp_path_factory.mktemp("work")
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    try:
        write_my_video(work / "my_video.mp4")
        commands = commands_of("docs/quickstart.md")
        assert len(commands) >= 10
        for c in commands:
            run(c, tiny_weights)
        (work / "runs" / "tiny").mkdir(parents=True)
        shutil.copy(tiny_weights, work / "runs" / "tiny" / "model.pt")
    finally:
        mp.undo()
    return work


@pytest.fixture
def work(quickstart_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the quick-start folder, as the current directory."""
    dst = tmp_path / "work"
    shutil.copytree(quickstart_dir, dst)
    monkeypatch.chdir(dst)
    return dst


def test_quickstart_runs_as_written(quickstart_dir: Path) -> None:
    q = quickstart_dir
    for path in (
        "data/clean/SYNTH-0001/gt/gt.txt",
        "data/lq/SYNTH-0000/quality.csv",
        "tracks/clean/SYNTH-0001.txt",
        "tracks/lq/SYNTH-0000.frames.csv",
        "tracks/lq-bytetrack/SYNTH-0000.txt",
        "lq.mp4",
        "robustness.png",
        "my_video.txt",
        "my_video.frames.csv",
        "my_video_tracked.mp4",
    ):
        assert (q / path).is_file(), path
    rob = json.loads((q / "robustness.json").read_text())
    assert set(rob["rPC"]["sequences"]) == {"SYNTH-0000", "SYNTH-0001"}
    assert 0 < rob["rPC"]["combined"] <= 1.5
    assert "4" in rob["HOTA_by_severity"]  # the ramp reaches severity 4


def test_readme_quick_start_runs(
    tmp_path: Path, tiny_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_my_video(tmp_path / "my_video.mp4")
    shown = [c for c in commands_of("README.md") if c.args[0] != "demo"]
    assert [c.args[0] for c in shown] == ["synth", "degrade", "track", "eval", "track"]
    for c in shown:
        run(c, tiny_weights, frames=8)
    for path in ("data/lq/SYNTH-0001/quality.csv", "tracks/lq/SYNTH-0000.txt", "lq.mp4"):
        assert (tmp_path / path).is_file(), path
    assert (tmp_path / "my_video_tracked.mp4").is_file()


TRACKING_RUNS = [
    "vsdmot track data/lq/SYNTH-0000 --out tracks/SYNTH-0000.txt",
    "vsdmot track data/lq/SYNTH-0000/img1 --proposals data/lq/SYNTH-0000/det/det.txt",
    'vsdmot track "data/lq/SYNTH-0000/img1/*.jpg" --proposals hog',
    "vsdmot track my_video.mp4 --proposals hog:upscale=2 --cache-dir cache --out my_video.txt",
    "vsdmot track my_video.mp4 --proposals hog:upscale=2 --cache-dir cache --birth-thresh 0.6",
    "vsdmot track data/lq/SYNTH-0000 --format jsonl",
    "vsdmot track data/lq/SYNTH-0000 --birth-thresh 0.3",
    "vsdmot track my_video.mp4 --set appearance_weight=0.5",
    "vsdmot track my_video.mp4 --association anchor --motion velocity",
    "vsdmot track my_video.mp4 --weights runs/tiny/model.pt",
    "vsdmot track data/lq/SYNTH-0000 --tracker bytetrack",
    "vsdmot track data/lq/SYNTH-0000 --tracker deepsort",
    "vsdmot track data/lq/SYNTH-0000 --tracker 'bytetrack:lost_track_buffer=10'",
    "vsdmot track data/lq/SYNTH-0000 --tracker cbiou",
    "vsdmot track data/lq/SYNTH-0000 --tracker 'vsdmot:association=anchor,miss_tolerance=20'",
]


def test_tracking_commands_run(work: Path, tiny_weights: Path) -> None:
    outputs = [run(find("docs/tracking.md", text), tiny_weights) for text in TRACKING_RUNS]
    assert "proposals: det" in outputs[0]
    assert len(list((work / "cache").glob("*.npz"))) == 1  # one cache for both HOG runs
    lines = (work / "tracks" / "SYNTH-0000.jsonl").read_text().splitlines()
    assert {"frame", "tracks"} <= set(json.loads(lines[0]))
    assert (work / "tracks" / "SYNTH-0000.mp4").is_file()
    for name in ("img1", "glob", "tuned", "bytetrack/SYNTH-0000", "deepsort/SYNTH-0000", "b10",
                 "cbiou/SYNTH-0000", "a"):  # fmt: skip
        assert (work / "tracks" / f"{name}.txt").is_file(), name
    header = (work / "tracks" / "tuned.frames.csv").read_text().splitlines()[0]
    assert header.startswith("frame,tracks")


EVAL_RUNS = [
    "vsdmot eval --gt data/lq --pred tracks/lq",
    "vsdmot eval --gt data/lq --pred tracks/lq --json scores.json --csv scores.csv",
    "vsdmot eval --gt data/lq --pred tracks/lq --seq SYNTH-0000 --frames",
    "vsdmot eval --gt data/lq --pred tracks/lq-bytetrack --allow-missing",
    "vsdmot eval --gt data/clean --pred tracks/clean --lq-gt data/lq",
]


def test_evaluation_commands_run(work: Path, tiny_weights: Path) -> None:
    outputs = [run(find("docs/evaluation.md", text), tiny_weights) for text in EVAL_RUNS]
    assert "COMBINED" in outputs[0]
    scores = json.loads((work / "scores.json").read_text())
    assert set(scores) == {"sequences", "combined"} and "HOTA" in scores["combined"]
    rows = (work / "scores.csv").read_text().splitlines()
    assert rows[0].startswith("sequence,HOTA,") and rows[-1].startswith("COMBINED,")
    assert "SYNTH-0001" not in outputs[2]
    assert "Robustness" in outputs[4] and "rPC" in outputs[4]
    severity = (work / "severity.csv").read_text().splitlines()
    assert severity[0].startswith("severity,frames,HOTA,") and severity[0].endswith(",HOTA_clean")
    rob = json.loads((work / "robustness.json").read_text())
    assert {"rPC", "HOTA_by_severity", "clean", "lq", "severity"} <= set(rob)
    assert (work / "robustness.png").stat().st_size > 0


DATASET_RUNS = [
    "vsdmot synth data/synth --sequences",
    "vsdmot synth data/synth-small",
    "vsdmot degrade data/synth data/synth-fog",
    "vsdmot degrade data/synth data/synth-mix",
    "vsdmot degrade data/synth data/synth-bursts",
]


def test_dataset_commands_run(work: Path, tiny_weights: Path) -> None:
    for text in DATASET_RUNS:
        run(find("docs/datasets.md", text), tiny_weights, frames=8)
    assert sorted(p.name for p in (work / "data" / "synth-small").iterdir()) == [
        "SYNTH-0000",
        "SYNTH-0001",
    ]
    quality = (work / "data" / "synth-mix" / "SYNTH-0000" / "quality.csv").read_text()
    assert quality.startswith("frame,types,severity,quality,psnr,ssim")
    meta = json.loads((work / "data" / "synth-mix" / "SYNTH-0000" / "degradation.json").read_text())
    assert meta["schedule"] == "periodic" and meta["type"] == "mix"
    assert any((work / "data" / "synth-bursts" / "SYNTH-0001" / "img1").glob("*.png"))


# ---------------------------------------------------------------------------
# 4. Python snippets


def python_blocks() -> list[tuple[str, int, str]]:
    out = []
    for path in DOCS:
        rel = path.relative_to(ROOT).as_posix()
        out += [(rel, line, text) for line, text in fenced_blocks(path, {"python", "py"})]
    return out


def _skip_reason(doc: str, text: str) -> str | None:
    for (skip_doc, needle), reason in SKIP_PYTHON.items():
        if doc == skip_doc and needle in text:
            return reason
    return None


@pytest.mark.parametrize(
    ("doc", "line", "code"),
    [pytest.param(*b, id=f"{b[0]}:{b[1]}") for b in python_blocks()],
)
def test_python_snippet_runs(
    doc: str, line: int, code: str, work: Path, tiny_weights: Path, monkeypatch
) -> None:
    reason = _skip_reason(doc, code)
    if reason:
        pytest.skip(reason)
    import vsdmot.tracking.weights as weights_module

    real = weights_module.load_tracker_model
    monkeypatch.setattr(
        weights_module,
        "load_tracker_model",
        lambda path=None, device="cpu": real(path or tiny_weights, device=device),
    )
    exec(compile(code, f"{doc}:{line}", "exec"), {"__name__": "__docs__"})
