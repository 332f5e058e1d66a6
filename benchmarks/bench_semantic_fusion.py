"""Does the semantic branch earn its place? The shipped model with and without semantic
fusion, out of the box on degraded real footage.

Usage (from the project root)::

    python benchmarks/bench_semantic_fusion.py --report s0-sev3.json --report s0-sev5.json
        --report s1-sev3.json ... [--out benchmarks/results/semantic_fusion.md]

Each ``--report`` is the JSON ``benchmarks/bench_ootb.py`` writes beside its Markdown,
run with ``--trackers vsdmot --variant 'vsdmot, fusion on=semantic_fusion=on' --variant
'vsdmot, fusion off=semantic_fusion=off'`` at one severity and one degradation seed
(``--seed``); reports from before the shipped model recorded ``semantic_fusion=off``
have no "fusion on" row, and their ``vsdmot`` row (then fused) stands for it. The
default detector is re-run on the degraded pixels of PETS09-S2L1 601-795 and
TUD-Stadtmitte. The two rows differ only in
``semantic_fusion`` (off: the queries get no semantic vector and the student is not run).

Reported: HOTA and DetA of both per condition (mean of the two sequences) and on
TUD-Stadtmitte alone (the scene no learned part saw); the mean over the conditions of
seed 0 (the 11 types at severities 3 and 5 plus ``mix`` at 3: 23 conditions); and for
the conditions run with every seed, each seed's mean difference (on - off), so the
effect can be set beside its spread over degradation draws.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from pathlib import Path

from common import ROOT, command, table, write_report

OFF = "vsdmot, fusion off"
TUD = "TUD-Stadtmitte"


def on_row(results: dict) -> str:
    """The fused row: the explicit variant, else (older reports) the default row."""
    first = next(iter(results.values()))
    return "vsdmot, fusion on" if "vsdmot, fusion on" in first else "vsdmot"


def read(path: Path) -> tuple[int, float, dict]:
    """(degradation seed, severity, results) of one bench_ootb report."""
    data = json.loads(path.read_text())
    cmd = data["command"]
    seed = re.search(r"--seed (\d+)", cmd)
    severity = re.search(r"--severity ([\d.]+)", cmd)
    if severity is None or OFF not in json.dumps(data["results"]):
        raise SystemExit(f"{path}: not a bench_ootb report with --severity and the "
                         f"'{OFF}' variant")  # fmt: skip
    return int(seed.group(1)) if seed else 0, float(severity.group(1)), data["results"]


def cells(results: dict, condition: str) -> list[float]:
    """HOTA on / off, DetA on / off (both sequences), HOTA on / off on TUD-Stadtmitte."""
    r, on = results[condition], on_row(results)
    return [r[on]["HOTA"], r[OFF]["HOTA"], r[on]["DetA"], r[OFF]["DetA"],
            r[f"{on} [{TUD}]"]["HOTA"], r[f"{OFF} [{TUD}]"]["HOTA"]]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", type=Path, action="append", required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/semantic_fusion.md")
    args = ap.parse_args()
    runs = [read(p) for p in args.report]
    per_condition: dict[tuple[str, int], list[float]] = {}
    for seed, severity, results in runs:
        for condition in results:
            label = "clean" if condition == "clean" else f"{condition} {severity:g}"
            per_condition[(label, seed)] = cells(results, condition)
    lines = report(args, per_condition)
    write_report(args.out, lines, {"command": command(), "cells": {
        f"{k[0]} (seed {k[1]})": v for k, v in per_condition.items()}})  # fmt: skip


def report(args, per_condition: dict[tuple[str, int], list[float]]) -> list[str]:
    f = lambda x: f"{x:.3f}"  # noqa: E731
    seed0 = sorted({c for c, s in per_condition if s == 0}, key=lambda c: (c != "clean", c))
    rows = [[c, *map(f, per_condition[(c, 0)])] for c in seed0]
    degraded = [per_condition[(c, 0)] for c in seed0 if c != "clean"]
    mean = [statistics.fmean(col) for col in zip(*degraded, strict=True)]
    rows.append([f"mean of {len(degraded)} degraded", *map(f, mean)])
    seeds = sorted({s for _, s in per_condition})
    shared = [c for c in seed0 if all((c, s) in per_condition for s in seeds) and c != "clean"]
    seed_rows, diffs = [], []
    for s in seeds:
        vals = [per_condition[(c, s)] for c in shared]
        on = statistics.fmean(v[0] for v in vals)
        off = statistics.fmean(v[1] for v in vals)
        diffs.append(on - off)
        seed_rows.append([str(s), f(on), f(off), f"{on - off:+.3f}"])
    spread = statistics.stdev(diffs) if len(diffs) > 1 else float("nan")
    ons = [float(r[1]) for r in seed_rows]
    on_spread = statistics.stdev(ons) if len(ons) > 1 else float("nan")
    head = ["condition", "HOTA on", "HOTA off", "DetA on", "DetA off", "TUD HOTA on",
            "TUD HOTA off"]  # fmt: skip
    return [
        "# Semantic fusion on and off, out of the box on degraded real footage",
        "",
        "The shipped model (`vsdmot/weights/vsdmot-default.pt`) with its recorded settings, "
        "`semantic_fusion` on (the default it was trained with) and off (the queries get no "
        "semantic vector; the student is not run). Default detector re-run on the degraded "
        "pixels of PETS09-S2L1 601-795 and TUD-Stadtmitte (`benchmarks/bench_ootb.py`, "
        "constant schedule). HOTA and DetA are the mean of the two sequences; *TUD* is "
        "TUD-Stadtmitte alone, the scene no learned part saw.",
        "",
        "## Every condition (degradation seed 0)",
        "",
        *table(head, rows),
        "",
        f"## Over degradation seeds ({', '.join(shared)}; mean HOTA of both sequences)",
        "",
        *table(["seed", "HOTA on", "HOTA off", "on - off"], seed_rows),
        "",
        f"Mean difference on - off over the seeds: {statistics.fmean(diffs):+.3f} "
        f"(std {spread:.3f}); std of the fused model's mean HOTA from seed to seed: "
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
