"""One transfer table from several ``vsdmot tune --leave-one-out`` studies.

Usage (from the project root)::

    python benchmarks/transfer_table.py --layout long|wide --study LABEL=TUNE_JSON ...
        --out REPORT.md

Each ``TUNE_JSON`` is the ``tune.json`` a leave-one-out study wrote (per left-out scene:
the defaults' score, the score of the settings chosen on the other scenes, and of those
chosen on it). ``long``: one row per tracker and scene plus the mean (the public-detection
table of BENCHMARKS.md); ``wide``: one row per tracker, "chosen elsewhere" per scene and
the three means (the clean-and-degraded table).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import command, table, write_report


def read_study(path: Path) -> list[dict]:
    """The rows of a leave-one-out ``tune.json``."""
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"{path}: not a leave-one-out tune.json ({exc})") from exc
    return rows


def _mean(rows: list[dict], key: str) -> str:
    return f"{statistics.fmean(r[key] for r in rows):.3f}"


def long_rows(studies: dict[str, list[dict]]) -> tuple[list[str], list[list[str]]]:
    header = ["tracker", "left-out scene", "defaults", "chosen elsewhere", "chosen on it"]
    rows = []
    for label, study in studies.items():
        rows += [[label, r["scene"], f"{r['default']:.3f}", f"{r['chosen_elsewhere']:.3f}",
                  f"{r['chosen_on_it']:.3f}"] for r in study]  # fmt: skip
        rows.append([label, "**mean**", _mean(study, "default"),
                     f"**{_mean(study, 'chosen_elsewhere')}**", _mean(study, "chosen_on_it")])
    return header, rows


def wide_rows(studies: dict[str, list[dict]]) -> tuple[list[str], list[list[str]]]:
    scenes = [r["scene"] for r in next(iter(studies.values()))]
    header = ["tracker", *scenes, "**mean, chosen elsewhere**", "mean, defaults",
              "mean, chosen on it"]  # fmt: skip
    rows = [[label, *(f"{r['chosen_elsewhere']:.3f}" for r in study),
             f"**{_mean(study, 'chosen_elsewhere')}**", _mean(study, "default"),
             _mean(study, "chosen_on_it")] for label, study in studies.items()]  # fmt: skip
    return header, rows


LAYOUTS = {"long": long_rows, "wide": wide_rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="long")
    ap.add_argument("--study", action="append", required=True, metavar="LABEL=TUNE_JSON")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    studies = {}
    for spec in args.study:
        label, sep, path = spec.rpartition("=")
        if not sep or not label:
            ap.error(f"--study {spec!r}: expected LABEL=TUNE_JSON")
        studies[label] = read_study(Path(path))
    header, rows = LAYOUTS[args.layout](studies)
    lines = ["# Settings chosen leave-one-scene-out (`vsdmot tune --leave-one-out`)", "",
             f"Command: `{command('benchmarks/transfer_table.py')}`", "",
             *table(header, rows, "---:|" if args.layout == "wide" else "---|")]  # fmt: skip
    write_report(args.out, lines, {"studies": studies})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
