"""Pick a runtime default among candidate settings, leave one scene out, from `vsdmot bench`.

Usage (from the project root)::

    python benchmarks/bench_default_choice.py --report OUT/report.json [--report ...]
        [--candidate "NAME=SPEC" ...] [--tracker "NAME=SPEC" ...]
        [--conditions clean,low_light-s3-constant,...] --out REPORT.md

Each report is the ``report.json`` of a ``vsdmot bench`` run over the same scenes and
conditions (several runs with identical grids may each hold some of the trackers). Per
scene, a tracker's score is its HOTA averaged over the conditions; with two candidates
or more, for each scene left out, the candidate with the best mean over the other scenes
is chosen and scored on it. The tables give each candidate's and each other tracker's
(``--tracker``: peers, for reference) per-scene score, clean HOTA, `mix` at severity 3
where it was run, the mean over the degraded conditions and IDSW; then the picks.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import command, table, write_report

METRICS = ("HOTA", "DetA", "AssA", "IDSW")
CLEAN, MIX = "clean", "mix-s3-constant"


def read_scores(paths: list[Path], conditions: list[str] | None) -> dict[str, dict]:
    """Spec -> scene -> metric -> per-condition values, from bench reports."""
    scores: dict[str, dict] = {}
    for path in paths:
        try:
            report = json.loads(path.read_text())
            labels = report["trackers"]
            cells = report["cells"]
        except (OSError, ValueError, KeyError) as exc:
            raise SystemExit(f"{path}: not a vsdmot bench report.json ({exc})") from exc
        for cell in cells:
            if cell.get("error") or (conditions and cell["condition"] not in conditions):
                continue
            spec = labels.get(cell["tracker"], cell["tracker"])
            for scene, values in cell["scores"]["sequences"].items():
                per = scores.setdefault(spec, {}).setdefault(scene, {})
                for m in METRICS:
                    per.setdefault(m, {})[cell["condition"]] = values[m]
    return scores


def scene_means(scores: dict[str, dict], metric: str = "HOTA") -> dict[str, float]:
    """Scene -> the metric averaged over conditions.

    >>> scene_means({"A": {"HOTA": {"clean": 0.5, "fog": 0.3}}})
    {'A': 0.4}
    """
    return {scene: round(statistics.fmean(per[metric].values()), 12)
            for scene, per in scores.items()}  # fmt: skip


def leave_one_out(means: dict[str, dict[str, float]]) -> dict[str, tuple[str, float]]:
    """Left-out scene -> (the candidate best on the other scenes, its score there).

    >>> leave_one_out({"a": {"S": 0.5, "T": 0.2}, "b": {"S": 0.4, "T": 0.3}})
    {'S': ('b', 0.4), 'T': ('a', 0.2)}
    """
    scenes = sorted(next(iter(means.values())))
    out = {}
    for left in scenes:
        rest = [s for s in scenes if s != left]
        pick = max(means, key=lambda c: statistics.fmean(means[c][s] for s in rest))
        out[left] = (pick, means[pick][left])
    return out


def _named(items: list[str]) -> dict[str, str]:
    named = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not spec:
            raise SystemExit(f"{item!r}: expected NAME=SPEC")
        named[name] = spec
    return named


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", type=Path, action="append", required=True)
    ap.add_argument("--candidate", action="append", default=[], metavar="NAME=SPEC")
    ap.add_argument("--tracker", action="append", default=[], metavar="NAME=SPEC",
                    help="a row for reference (a peer), not a candidate")
    ap.add_argument("--conditions", default="", help="comma list (default: every condition)")
    ap.add_argument("--title", default="Runtime defaults chosen leave-one-scene-out among "
                    "candidates")
    ap.add_argument("--per-condition", action="store_true",
                    help="also a table of every condition's HOTA (mean of the scenes)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    conditions = [c for c in args.conditions.split(",") if c] or None
    scores = read_scores(args.report, conditions)
    candidates, others = _named(args.candidate), _named(args.tracker)
    rows = {**candidates, **others}
    if not rows:
        raise SystemExit("nothing to report: give --candidate or --tracker")
    missing = [s for s in rows.values() if s not in scores]
    if missing:
        raise SystemExit(f"not in the reports: {', '.join(missing)}")
    cells = {n: sorted((sc, c) for sc, per in scores[s].items() for c in per["HOTA"])
             for n, s in rows.items()}  # fmt: skip
    if len({tuple(v) for v in cells.values()}) != 1:
        counts = {n: len(v) for n, v in cells.items()}
        raise SystemExit(f"trackers were scored on different cells: {counts}")
    means = {n: scene_means(scores[s]) for n, s in rows.items()}
    scenes = sorted(next(iter(means.values())))
    conds = sorted({c for _, c in next(iter(cells.values()))})
    extra = [c for c in (CLEAN, MIX) if c in conds]
    degraded = [c for c in conds if c != CLEAN]

    def over(spec: str, which: list[str]) -> float:
        """HOTA averaged over the ``which`` conditions per scene, then over the scenes."""
        per = scores[spec].values()
        return statistics.fmean(statistics.fmean(p["HOTA"][c] for c in which) for p in per)

    def row(name: str, spec: str) -> list[str]:
        ids = sum(sum(per["IDSW"].values()) for per in scores[spec].values())
        mean = statistics.fmean(means[name].values())
        return [name, *(f"{means[name][s]:.3f}" for s in scenes), f"{mean:.3f}",
                *(f"{over(spec, [c]):.3f}" for c in extra),
                f"{over(spec, degraded):.3f}" if degraded else "-", f"{ids:.0f}"]  # fmt: skip

    header = ["settings", *scenes, "mean", *extra, f"mean of {len(degraded)} degraded", "IDSW"]
    lines = [f"# {args.title}", "",
             f"Command: `{command()}`", "",
             "HOTA per scene averaged over the conditions, their mean, and each further "
             "column's conditions averaged per scene then over the scenes (IDSW summed over "
             f"every cell); conditions: {', '.join(conds)}.", ""]  # fmt: skip
    if candidates:
        lines += ["Candidates:", "", *table(header, [row(n, s) for n, s in candidates.items()]),
                  ""]  # fmt: skip
    if others:
        lines += ["Other rows on the same proposals (a peer without settings runs its defaults):",
                  "",
                  *table(header, [row(n, s) for n, s in others.items()]), ""]  # fmt: skip
    if args.per_condition:
        per = [[c, *(f"{over(spec, [c]):.3f}" for spec in rows.values())] for c in conds]
        lines += ["HOTA per condition, mean of the scenes:", "",
                  *table(["condition", *rows], per), ""]  # fmt: skip
    data = {"candidates": candidates, "trackers": others, "means": means, "conditions": conds}
    if len(candidates) >= 2:
        picks = leave_one_out({n: means[n] for n in candidates})
        sel = [[left, pick, f"{score:.3f}", f"{max(means[c][left] for c in candidates):.3f}"]
               for left, (pick, score) in picks.items()]  # fmt: skip
        loo = statistics.fmean(score for _, score in picks.values())
        lines += ["Chosen on the other scene, scored on the one left out:", "",
                  *table(["scene left out", "chosen", "left-out HOTA", "best candidate there"],
                         sel), "", f"Mean left-out HOTA: **{loo:.3f}**."]  # fmt: skip
        data["picks"] = {k: {"chosen": p, "hota": s} for k, (p, s) in picks.items()}
        data["left_out_mean"] = loo
    write_report(args.out, lines, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
