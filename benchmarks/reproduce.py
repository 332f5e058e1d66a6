"""Re-measure a section of BENCHMARKS.md from a fresh clone and show it beside the published one.

Usage (from the project root)::

    python benchmarks/reproduce.py --list
    python benchmarks/reproduce.py SECTION [--work DIR] [--quick] [--publish] [--dry-run]

``SECTION`` is a results file stem (``--list`` shows them with the expected time on 2 CPU
cores). The section's steps build its inputs under ``--work`` (default
``work/reproduce/``), each skipped when a previous run of it finished; then its
benchmark command writes the new report to ``DIR/reports/SECTION.md`` (with
``--publish``: over ``benchmarks/results/SECTION.md``, then run ``benchmarks/collect.py``)
and every published table is printed with the cells that differ marked. ``--quick`` runs
a reduced command (fewer frames, rounds or trackers): a check that the section runs, whose
numbers are not the published ones. The registry is ``benchmarks/sections.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import ROOT
from sections import HISTORY, SECTIONS
from steps import Context, Section, StepError, shown_path
from tables import compare

RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_WORK = ROOT / "work" / "reproduce"


def status(section: Section) -> str:
    """Whether the section can be re-run here as it is, and what it needs otherwise."""
    if section.blocker:
        return f"no: {section.blocker}"
    ctx = Context(DEFAULT_WORK, DEFAULT_WORK / "r.md")
    missing = [e for e in section.needs(ctx) if e.missing()]
    if missing:
        return f"no: needs {', '.join(e.package for e in missing)} ({missing[0].install})"
    return "yes"


def list_sections() -> list[str]:
    rows = ["| section | minutes (2 cores) | reproducible as-is | what |", "|---|---:|---|---|"]
    for s in SECTIONS.values():
        what = s.title + (f" (note: {s.note})" if s.note else "")
        rows.append(f"| {s.stem} | {s.minutes:g} | {status(s)} | {what} |")
    for stem, why in HISTORY.items():
        rows.append(f"| {stem} | - | no: history (BENCHMARKS-HISTORY.md) | {why} |")
    return rows


def context(section: Section, args: argparse.Namespace) -> Context:
    work = args.work.resolve()
    if args.publish:
        report = RESULTS / f"{section.stem}.md"
    else:
        report = work / ("reports-quick" if args.quick else "reports") / f"{section.stem}.md"
    return Context(work, report, quick=args.quick, stem=section.stem)


def refuse(section: Section, args: argparse.Namespace, ctx: Context) -> str | None:
    """Why this run cannot start (nothing has run yet), or None."""
    if section.blocker:
        return f"{section.stem} cannot run here: it {section.blocker}"
    missing = [e for e in section.needs(ctx) if e.missing()]
    if missing:
        names = ", ".join(e.package for e in missing)
        return f"{section.stem} needs {names}, not installed; install with: {missing[0].install}"
    if args.publish and (args.quick or section.hand_written or
                         not section.report.startswith("{report")):  # fmt: skip
        return (f"--publish: benchmarks/results/{section.stem}.md is written by hand around "
                "its tables or this is a --quick run; edit it from the report instead")
    return None


def run_steps(section: Section, ctx: Context, dry_run: bool) -> None:
    steps, command = section.plan(ctx)
    log = ctx.work / "logs" / f"{section.stem}.log"
    for step in (*steps, command):
        if step.done(ctx):
            print(f"[kept]  {step.shown(ctx)}")
            continue
        print(f"[run]   {step.shown(ctx)}", flush=True)
        if dry_run:
            continue
        start = time.perf_counter()
        step.execute(ctx, log)
        print(f"        done in {time.perf_counter() - start:.0f} s")


def show_comparison(section: Section, ctx: Context, published: str) -> int:
    """Print ``published`` (read before the run: ``--publish`` writes over it) with the
    new report's values."""
    report = ctx.path(section.report)
    if not report.is_file():
        print(f"no report at {shown_path(report)}", file=sys.stderr)
        return 1
    new = report.read_text()
    lines, tally = compare(published, new)
    print(f"\nNew report: {shown_path(report)}. Published tables with this run's values; "
          "a bold cell differs from the published one (shown after it):\n")
    print("\n".join(lines) if lines else "\n".join(new.splitlines()[-15:]))
    print(f"Numeric cells: {tally.same} as published, {tally.differ} different"
          + (f" (largest relative difference {100 * tally.largest:.1f} %)" if tally.differ else "")
          + (f"; {tally.missing_rows} published rows not in this run" if tally.missing_rows
             else ""))  # fmt: skip
    for note in tally.notes:
        print(f"- {note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("section", nargs="?", help="a results file stem (see --list)")
    ap.add_argument("--list", action="store_true", help="the sections and their expected time")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="inputs and new reports")
    ap.add_argument("--quick", action="store_true", help="a reduced run (not the published size)")
    ap.add_argument("--publish", action="store_true", help="write over benchmarks/results/")
    ap.add_argument("--dry-run", action="store_true", help="show the steps, run nothing")
    args = ap.parse_args(argv)
    if args.list or args.section is None:
        print("\n".join(list_sections()))
        return 0
    if args.section in HISTORY:
        ap.error(f"{args.section} is history: {HISTORY[args.section]}")
    if args.section not in SECTIONS:
        ap.error(f"no section {args.section!r}; --list shows them")
    section = SECTIONS[args.section]
    ctx = context(section, args)
    if (why := refuse(section, args, ctx)) is not None:
        print(why, file=sys.stderr)
        return 2
    published = (RESULTS / f"{section.stem}.md").read_text()
    try:
        run_steps(section, ctx, args.dry_run)
    except StepError as exc:
        print(f"reproduce.py: {exc}", file=sys.stderr)
        return 1
    return 0 if args.dry_run else show_comparison(section, ctx, published)


if __name__ == "__main__":
    raise SystemExit(main())
