"""Generated scenes as a further left-out group: each tracker with the settings its study
chose on both real scenes, against the peers, on clean and degraded generated frames.

Usage (from the project root), after ``vsdmot tune T --out TUNE`` on both real scenes
(without ``--leave-one-out``) for each tracker of ``--tuned``::

    python benchmarks/bench_association_generated.py --tune TUNE --data GENERATED

The generated sequences (``vsdmot synth``; a moving camera, a simulated detector) were
never used to choose anything: they are the third scene group of the association's
selection, left out. Every tracker gets the same proposals (each clean sequence's
det.txt, the ``fixed`` protocol) on clean frames and on degraded copies of ``--types``.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from bench_association_loo import SEQUENCES, TYPES, chosen_on, named
from common import MOT15, ROOT, command, table, write_report

from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import RunConfig, SequenceRange, run_grid
from vsdmot.tracking.registry import parse_tracker

TUNED = ("vsdmot fused/anchor=vsdmot;ByteTrack=bytetrack;BoT-SORT=botsort")
FIXED = ("vsdmot (shipped defaults)=vsdmot;vsdmot-botsort preset (chosen on both real scenes)="
         "vsdmot-botsort;ByteTrack (defaults)=bytetrack;BoT-SORT (defaults)=botsort;"
         "OC-SORT (defaults)=ocsort;DeepSORT (defaults)=deepsort")


def chosen_on_real(tracker: str, tune_out: Path) -> str:
    """The spec a study on both real scenes chose."""
    seqs = tuple(SequenceRange.parse(s) for s in SEQUENCES)
    return str(chosen_on(tracker, tune_out, MOT15, seqs, tuple(s.name for s in seqs)))


def score(args, specs: dict[str, str]) -> dict[str, dict[str, dict]]:
    """Row name -> condition -> combined scores over the generated sequences."""
    grid = GridSpec(types=tuple(args.types.split(",")), severities=(args.severity,),
                    protocol="fixed")  # fmt: skip
    cfg = RunConfig(args.data, args.out, grid, trackers=tuple(dict.fromkeys(specs.values())),
                    jobs=args.jobs)  # fmt: skip
    by_label: dict[str, dict] = {}
    for cell in run_grid(cfg, progress=True):
        if cell.scores is None:
            raise SystemExit(f"{cell.tracker} on {cell.condition} failed: {cell.error}")
        by_label.setdefault(cell.tracker, {})[cell.condition] = cell.scores["combined"]
    return {name: by_label[parse_tracker(spec).label] for name, spec in specs.items()}


def summary(scores: dict[str, dict[str, dict]]) -> list[list[object]]:
    def mean(name: str, metric: str, clean: bool) -> float:
        return statistics.fmean(v[metric] for c, v in scores[name].items()
                                if (c == "clean") == clean)  # fmt: skip

    return [[name, f"{mean(name, 'HOTA', True):.3f}", f"{mean(name, 'HOTA', False):.3f}",
             f"{mean(name, 'AssA', False):.3f}", f"{mean(name, 'IDF1', False):.3f}",
             f"{mean(name, 'IDSW', True):.1f}", f"{mean(name, 'IDSW', False):.1f}"]
            for name in scores]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune", type=Path, required=True, help="The tune runs' --out folder.")
    ap.add_argument("--data", type=Path, required=True, help="Generated sequences (vsdmot synth).")
    ap.add_argument("--tuned", default=TUNED, help="';'-separated NAME=SPEC, read from studies.")
    ap.add_argument("--fixed", default=FIXED, help="';'-separated NAME=SPEC, run as given.")
    ap.add_argument("--types", default=TYPES)
    ap.add_argument("--severity", type=float, default=3.0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("association-generated"))
    ap.add_argument("--report", type=Path,
                    default=ROOT / "benchmarks/results/association_generated.md")  # fmt: skip
    args = ap.parse_args(argv)
    specs = {f"{name} (chosen on both real scenes)": chosen_on_real(spec, args.tune)
             for name, spec in map(named, filter(None, args.tuned.split(";")))}  # fmt: skip
    specs.update(dict(map(named, filter(None, args.fixed.split(";")))))
    scores = score(args, specs)
    cmd = command("benchmarks/bench_association_generated.py")
    lines = [
        "# Association on generated scenes, left out of every selection", "",
        f"Command: `{cmd}` (after `vsdmot tune T --out TUNE` on both real scenes for each "
        "tuned tracker; see docs/tuning.md)", "",
        f"Data: `{args.data.name}`, generated sequences with a moving camera and a simulated "
        "detector, never used to choose a setting. Each tuned tracker runs with the settings "
        "its study chose on the two real scenes (PETS09-S2L1 601-795, TUD-Stadtmitte; clean "
        "and `mix` at severity 3); the others at their defaults. Same proposals for every "
        "tracker (each clean sequence's det.txt), clean frames and the degraded copies of "
        f"{len(args.types.split(','))} types at severity {args.severity:g}; scores combined over "
        "the sequences, 'degraded' the mean over the types.", "",
        *table(["tracker", "HOTA clean", "HOTA degraded", "AssA degraded", "IDF1 degraded",
                "IDSW clean", "IDSW degraded"], summary(scores), "---:|"),
        "", "Settings:", "", *[f"- {name}: `{spec}`" for name, spec in specs.items()],
    ]  # fmt: skip
    write_report(args.report, lines, {"command": cmd, "specs": specs, "scores": scores})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
