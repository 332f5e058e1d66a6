"""One runtime switch of the shipped model, on and off, out of the box on degraded real
footage: does it earn its place?

Usage (from the project root)::

    python benchmarks/bench_switch.py --switch semantic_fusion --report s0-sev3.json
        --report s0-sev5.json --report s1-sev3.json ... [--out benchmarks/results/X.md]

Each ``--report`` is the JSON ``benchmarks/bench_ootb.py`` writes beside its Markdown,
run with ``--trackers vsdmot`` and the switch's two rows as ``--variant`` (see
:data:`SWITCHES`; reports written before a row was explicit fall back to the default
``vsdmot`` row, which then had that value) at one severity and one degradation seed
(``--seed``). The default detector is re-run on the degraded pixels of PETS09-S2L1
601-795 and TUD-Stadtmitte.

Reported: HOTA and DetA of both rows per condition (mean of the two sequences) and on
TUD-Stadtmitte alone (the scene no learned part saw); the mean over the conditions of
seed 0; and for the conditions run with every seed, each seed's mean difference
(on - off), so the effect can be set beside its spread over degradation draws.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from common import command, table, write_report

TUD = "TUD-Stadtmitte"
#: Each scene alone (one camera each), for the leave-one-scene-out transfer table.
SCENES = ("PETS09-S2L1", TUD)


@dataclass(frozen=True)
class Switch:
    """A setting compared on and off: the report rows that hold each value (the first
    one present is used) and what the report says about it."""

    on_rows: tuple[str, ...]
    off_rows: tuple[str, ...]
    title: str
    about: str


SWITCHES = {
    "semantic_fusion": Switch(
        ("vsdmot, fusion on", "vsdmot"), ("vsdmot, fusion off",),
        "Semantic fusion on and off, out of the box on degraded real footage",
        "`semantic_fusion` on (the default it was trained with) and off (the queries get no "
        "semantic vector; the student is not run)."),
    "appearance_dswr": Switch(
        ("vsdmot + DSWR",), ("vsdmot, DSWR off", "vsdmot"),
        "Quality-weighted appearance (DSWR) on and off, out of the box on degraded real "
        "footage",
        "`appearance_dswr` on (the appearance weight times the frame quality q_t of the "
        "quality head fitted on real frames) and off (the constant `appearance_weight`)."),
}  # fmt: skip


def row(results: dict, names: tuple[str, ...], path: Path) -> str:
    """The first of ``names`` that is a row of the report."""
    first = next(iter(results.values()))
    for name in names:
        if name in first:
            return name
    raise SystemExit(f"{path}: no row {' or '.join(repr(n) for n in names)}")


def read(path: Path) -> tuple[int, float, dict]:
    """(degradation seed, severity, results) of one bench_ootb report."""
    data = json.loads(path.read_text())
    seed = re.search(r"--seed (\d+)", data["command"])
    severity = re.search(r"--severity ([\d.]+)", data["command"])
    return (int(seed.group(1)) if seed else 0, float(severity.group(1)) if severity else 3.0,
            data["results"])  # fmt: skip


def cells(results: dict, condition: str, on: str, off: str) -> list[float]:
    """HOTA on / off, DetA on / off (both sequences), then HOTA on / off on each of
    :data:`SCENES` alone."""
    r = results[condition]
    return [r[on]["HOTA"], r[off]["HOTA"], r[on]["DetA"], r[off]["DetA"],
            *(r[f"{row} [{scene}]"]["HOTA"] for scene in SCENES for row in (on, off))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--switch", choices=sorted(SWITCHES), required=True)
    ap.add_argument("--report", type=Path, action="append", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    switch = SWITCHES[args.switch]
    per_condition: dict[tuple[str, int], list[float]] = {}
    for path in args.report:
        seed, severity, results = read(path)
        on, off = row(results, switch.on_rows, path), row(results, switch.off_rows, path)
        for condition in results:
            label = "clean" if condition == "clean" else f"{condition} {severity:g}"
            per_condition[(label, seed)] = cells(results, condition, on, off)
    lines = report(switch, per_condition)
    write_report(args.out, lines, {"command": command(), "cells": {
        f"{k[0]} (seed {k[1]})": v for k, v in per_condition.items()}})  # fmt: skip


def transfer_rows(scene_means: list[float]) -> list[list[str]]:
    """Per scene left out: the switch value chosen on the other scene (``on`` / ``off``,
    the higher mean HOTA there), its HOTA on the left-out scene and the best there.

    >>> transfer_rows([0.50, 0.52, 0.36, 0.35])
    [['PETS09-S2L1', 'on', '0.500', '0.520'], ['TUD-Stadtmitte', 'off', '0.350', '0.360']]
    """
    by_scene = dict(zip(SCENES, zip(scene_means[::2], scene_means[1::2], strict=True),
                        strict=True))  # fmt: skip
    rows = []
    for left_out, (on, off) in by_scene.items():
        other_on, other_off = next(v for s, v in by_scene.items() if s != left_out)
        chosen_on = other_on > other_off
        rows.append([left_out, "on" if chosen_on else "off", f"{on if chosen_on else off:.3f}",
                     f"{max(on, off):.3f}"])  # fmt: skip
    return rows


def report(switch: Switch, per_condition: dict[tuple[str, int], list[float]]) -> list[str]:
    f = lambda x: f"{x:.3f}"  # noqa: E731
    seed0 = sorted({c for c, s in per_condition if s == 0}, key=lambda c: (c != "clean", c))
    rows = [[c, *map(f, per_condition[(c, 0)])] for c in seed0]
    degraded = [per_condition[(c, 0)] for c in seed0 if c != "clean"]
    mean = [statistics.fmean(col) for col in zip(*degraded, strict=True)]
    rows.append([f"mean of {len(degraded)} degraded", *map(f, mean)])
    seeds = sorted({s for _, s in per_condition})
    shared = [c for c in seed0 if all((c, s) in per_condition for s in seeds) and c != "clean"]
    seed_rows, ons, diffs = [], [], []
    for s in seeds:
        vals = [per_condition[(c, s)] for c in shared]
        on = statistics.fmean(v[0] for v in vals)
        off = statistics.fmean(v[1] for v in vals)
        ons.append(on)
        diffs.append(on - off)
        seed_rows.append([str(s), f(on), f(off), f"{on - off:+.3f}"])
    spread = statistics.stdev(diffs) if len(diffs) > 1 else float("nan")
    on_spread = statistics.stdev(ons) if len(ons) > 1 else float("nan")
    head = ["condition", "HOTA on", "HOTA off", "DetA on", "DetA off",
            *(f"{s.split('-')[0]} HOTA {v}" for s in SCENES for v in ("on", "off"))]
    return [
        f"# {switch.title}",
        "",
        "The shipped model (`vsdmot/weights/vsdmot-default.pt`) with its recorded settings, "
        f"{switch.about} Default detector re-run on the degraded pixels of PETS09-S2L1 "
        "601-795 and TUD-Stadtmitte (`benchmarks/bench_ootb.py`, constant schedule). HOTA "
        "and DetA are the mean of the two sequences; *PETS09* and *TUD* each scene alone "
        "(PETS09-S2L1 601-795: frames never trained on; TUD-Stadtmitte: a scene no learned "
        "part saw).",
        "",
        "## Every condition (degradation seed 0)",
        "",
        *table(head, rows),
        "",
        "## Leave one scene out (degradation seed 0, mean over its degraded conditions)",
        "",
        "The value that scores higher on the other scene, and what it scores on the scene "
        "left out, beside the better of the two there.",
        "",
        *table(["scene left out", "chosen on the other", "left-out HOTA", "best HOTA there"],
               transfer_rows(mean[4:])),
        "",
        f"## Over degradation seeds ({', '.join(shared)}; mean HOTA of both sequences)",
        "",
        *table(["seed", "HOTA on", "HOTA off", "on - off"], seed_rows),
        "",
        f"Mean difference on - off over the seeds: {statistics.fmean(diffs):+.3f} "
        f"(std {spread:.3f}); std of the mean HOTA with it on from seed to seed: "
        f"{on_spread:.3f}.",
        "",
        "Command:",
        "",
        "```",
        command(),
        "```",
    ]


if __name__ == "__main__":
    main()
