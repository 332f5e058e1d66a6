"""The parts of a reproducible benchmark section: where things go, the steps that build a
section's inputs, and the record of a section itself (the registry is ``sections.py``).

A command is written once, with placeholders, and serves both to show it (in BENCHMARKS.md,
``reproduce.py --list``) and to run it::

    >>> ctx = Context(work=ROOT / "work" / "reproduce", report=ROOT / "r.md")
    >>> Run(("vsdmot", "synth", "{work}/gtest", "--seed", "1000")).shown(ctx)
    'vsdmot synth work/reproduce/gtest --seed 1000'
    >>> Run(("python", "benchmarks/bench_eval.py", "--out", "{report}")).argv(ctx)[1:]
    ['benchmarks/bench_eval.py', '--out', 'r.md']
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from common import MOBILENET, MOT15, ROOT

from vsdmot.utils.io import atomic_write

#: How each program named first in a command is started here (the shown command keeps
#: the name: ``vsdmot`` is the installed entry point, ``python`` the project's Python).
PROGRAMS: dict[str, tuple[str, ...]] = {
    "python": (sys.executable,),
    "vsdmot": (sys.executable, "-m", "vsdmot"),
}


class StepError(RuntimeError):
    """A step of a section could not run or failed (the message says which and why)."""


def shown_path(path: Path) -> str:
    """``path`` as a command shows it: relative to the project when it is inside it or
    beside it (``../shared``), else absolute.

    >>> shown_path(ROOT / "work" / "x")
    'work/x'
    >>> shown_path(Path("/elsewhere/x"))
    '/elsewhere/x'
    """
    path = Path(os.path.abspath(path))
    if path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    if path.is_relative_to(ROOT.parent / "shared"):
        return "../" + str(path.relative_to(ROOT.parent))
    return str(path)


@dataclass(frozen=True)
class Context:
    """Where one run of a section reads and writes."""

    work: Path
    report: Path
    quick: bool = False
    stem: str = ""

    def fill(self, text: str) -> str:
        """``text`` with its placeholders replaced by paths as shown."""
        places = {"work": self.work, "report": self.report, "reports": self.report.parent,
                  "mot15": MOT15, "mobilenet": MOBILENET}  # fmt: skip
        return text.format(**{k: shown_path(v) for k, v in places.items()})

    def path(self, text: str) -> Path:
        """A placeholder path as a real one (relative ones are under the project)."""
        return ROOT / self.fill(text)


@dataclass(frozen=True)
class Extra:
    """An optional dependency: the module to look for, its package, the line that installs it."""

    module: str
    package: str
    install: str

    def missing(self) -> bool:
        return importlib.util.find_spec(self.module) is None


#: The BRISQUE and NIQE model files and scikit-video's test videos (pyproject's extra).
RAY = (Extra("ray", "ray", 'pip install -e ".[ray]"'),)
CLASSIC_IQA = (
    Extra("brisque", "brisque", 'pip install -e ".[classic-iqa]"'),
    Extra("skvideo", "scikit-video", 'pip install -e ".[classic-iqa]"'),
)


class Step(Protocol):
    """One thing a section does; skipped when it is done (what it creates is complete)."""

    needs: tuple[Extra, ...]

    def creates(self, ctx: Context) -> Path | None: ...

    def done(self, ctx: Context) -> bool: ...

    def shown(self, ctx: Context) -> str: ...

    def execute(self, ctx: Context, log: Path) -> None: ...


@dataclass(frozen=True)
class Run:
    """A command line (first word: ``python``, ``vsdmot`` or ``bash``), run from the
    project root; ``makes`` (a placeholder path) is what it creates.

    It is done when ``makes`` exists and so does its marker (:func:`done_marker`), written
    only once the command succeeded: a run killed half-way leaves ``makes`` without the
    marker, and the next run removes that output and builds it again.
    """

    words: tuple[str, ...]
    makes: str = ""
    env: tuple[tuple[str, str], ...] = ()
    needs: tuple[Extra, ...] = ()
    keep: tuple[str, str] | None = None  # copy this output to that path once it succeeds

    def creates(self, ctx: Context) -> Path | None:
        return ctx.path(self.makes) if self.makes else None

    def done(self, ctx: Context) -> bool:
        made = self.creates(ctx)
        return made is not None and made.exists() and done_marker(made).is_file()

    def shown(self, ctx: Context) -> str:
        env = [f"{k}={v}" for k, v in self.env]
        return shlex.join([*env, *(ctx.fill(w) for w in self.words)])

    def argv(self, ctx: Context) -> list[str]:
        first, *rest = (ctx.fill(w) for w in self.words)
        return [*PROGRAMS.get(first, (first,)), *rest]

    def execute(self, ctx: Context, log: Path) -> None:
        # This checkout's vsdmot, whatever the environment installed; shell scripts call the
        # CLI through $VSDMOT; the benchmark scripts print their command as reproduce.py's
        # (common.command reads VSDMOT_REPRODUCE).
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, **dict(self.env), "PYTHONPATH": path, "VSDMOT_REPRODUCE": ctx.stem,
               "VSDMOT": shlex.join(PROGRAMS["vsdmot"])}  # fmt: skip
        log.parent.mkdir(parents=True, exist_ok=True)
        made = self.creates(ctx)
        if made is not None:
            remove_unfinished(made)
        with log.open("a") as f:
            f.write(f"$ {self.shown(ctx)}\n")
            f.flush()
            done = subprocess.run(self.argv(ctx), cwd=ROOT, env=env, stdout=f,
                                  stderr=subprocess.STDOUT, check=False)  # fmt: skip
        if done.returncode != 0:
            raise StepError(f"`{self.shown(ctx)}` failed (exit {done.returncode}); "
                            f"its output is in {shown_path(log)}")  # fmt: skip
        if self.keep is not None:
            # Several studies share one folder whose summary each run overwrites.
            source, target = (ctx.path(p) for p in self.keep)
            shutil.copyfile(source, target)
        if made is not None:
            with atomic_write(done_marker(made)) as f:
                f.write(f"{self.shown(ctx)}\n")


def done_marker(made: Path) -> Path:
    """The file beside ``made`` that says the step creating it finished.

    >>> done_marker(Path("work/gtest")).name
    '.gtest.reproduce-done'
    """
    return made.with_name(f".{made.name}.reproduce-done")


def remove_unfinished(made: Path) -> None:
    """Remove what a killed run of a step left (its output without the done marker): the
    commands refuse an existing output or would take it for a finished one."""
    done_marker(made).unlink(missing_ok=True)
    if made.is_symlink() or made.is_file():
        made.unlink()
    elif made.is_dir():
        shutil.rmtree(made)


@dataclass(frozen=True)
class Link:
    """A symbolic link to a folder or file (a dataset of some sequences of another, a
    weights file where a script expects it)."""

    source: str
    target: str
    needs: tuple[Extra, ...] = ()

    def creates(self, ctx: Context) -> Path | None:
        return ctx.path(self.target)

    def done(self, ctx: Context) -> bool:
        # A link appears whole or not at all.
        return ctx.path(self.target).is_symlink()

    def shown(self, ctx: Context) -> str:
        target = ctx.fill(self.target)
        source = shlex.quote(os.path.abspath(ctx.path(self.source)))
        return f"mkdir -p {shlex.quote(str(Path(target).parent))} && ln -s {source} {target}"

    def execute(self, ctx: Context, log: Path) -> None:
        source, target = ctx.path(self.source), ctx.path(self.target)
        if not source.exists():
            raise StepError(f"{source}: not found (needed for {shown_path(target)})")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source.resolve())


@dataclass(frozen=True)
class Section:
    """One section of BENCHMARKS.md: its report (``benchmarks/results/<stem>.md``), the
    steps that build its inputs and the one command that measures it."""

    stem: str
    title: str
    minutes: float  # expected on 2 CPU cores, inputs built from nothing
    command: Run  # writes the report to {report}
    steps: tuple[Step, ...] = ()
    quick: Run | None = None  # a reduced command (same steps unless quick_steps)
    quick_steps: tuple[Step, ...] | None = None
    report: str = "{report}"  # where the command leaves its Markdown
    blocker: str = ""  # why it cannot be reproduced on this kind of machine
    note: str = ""  # what a re-run measures differently from the published section
    hand_written: bool = False  # prose around the tables written by hand

    def plan(self, ctx: Context) -> tuple[tuple[Step, ...], Run]:
        """The steps and the command of a full or a ``--quick`` run."""
        if ctx.quick and self.quick is not None:
            steps = self.steps if self.quick_steps is None else self.quick_steps
            return steps, self.quick
        return self.steps, self.command

    def needs(self, ctx: Context) -> list[Extra]:
        steps, cmd = self.plan(ctx)
        return list(dict.fromkeys(e for s in (*steps, cmd) for e in s.needs))
