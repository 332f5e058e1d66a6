"""Association ablation and peers, every number a left-out score.

Usage (from the project root), after the leave-one-out studies of ``vsdmot tune``::

    python benchmarks/bench_association_loo.py --tune TUNE_OUT [--jobs 2]

``TUNE_OUT`` is the ``--out`` folder that ``vsdmot tune T --leave-one-out`` wrote for
each tracker of ``--tuned`` (same sequences). For each scene left out, every tuned
tracker gets the settings its study chose on the *other* scenes (the stored Optuna
study is read back, nothing is re-tuned), and vsdmot's ``botsort`` core is also run
with each piece of the model's evidence switched off in turn, and with all of it off
(BoT-SORT's core at the same thresholds). Untuned peers run at their defaults. All
trackers get the same proposals on clean frames and on the degraded copies of
``--types`` at each of ``--severities``: each clean sequence's det.txt in every
condition (``--protocol fixed``, the default), or ``--detector`` re-run on each
condition's pixels (``--protocol redetect``, what ``vsdmot track`` does; the studies
must have been run the same way). The report gives the mean over the left-out scenes.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from common import MOT15, ROOT, command, table, write_report

from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import RunConfig, SequenceRange, run_grid
from vsdmot.experiments.tune import TuneConfig, study, study_dir
from vsdmot.tracking.registry import TrackerSpec, check_settings, parse_tracker
from vsdmot.tracking.tracker import VSDMOTTracker

SEQUENCES = ("PETS09-S2L1:first=601,last=795", "TUD-Stadtmitte")
BOTSORT_THRESHOLDS = ("birth_thresh=0.7,min_hits=2,match_iou=0.2,low_match_iou=0.5,"
                      "high_thresh=0.6,miss_tolerance=30,unconfirmed_iou=0.3")
TUNED = (
    "vsdmot botsort core=vsdmot:association=botsort",
    f"vsdmot botsort core at BoT-SORT thresholds=vsdmot:association=botsort,{BOTSORT_THRESHOLDS}",
    "vsdmot botsort core at BoT-SORT thresholds, rescore off="
    f"vsdmot:association=botsort,{BOTSORT_THRESHOLDS},rescore=0",
    "vsdmot fused/anchor=vsdmot",
    "ByteTrack=bytetrack",
    "BoT-SORT=botsort",
)
PEERS = ("ocsort", "deepsort", "botsort", "bytetrack", "vsdmot")
TYPES = "low_light,gaussian_noise,motion_blur,defocus_blur,jpeg,fog,rain,mix"
#: The model's evidence on BoT-SORT's core, and the setting that switches each off.
EVIDENCE_OFF = {
    "rescore": {"rescore": 0.0},
    "refined boxes": {"refine_boxes": False},
    "query boxes": {"query_keep": 1.0},
    "appearance": {"appearance_weight": 0.0},
}


def chosen_on(tracker: str, tune_out: Path, data: Path, sequences: tuple, scenes: tuple):
    """The spec a study of ``tracker`` on ``scenes`` chose (read back, not re-run)."""
    run = RunConfig(data, tune_out, GridSpec(), sequences=sequences)
    cfg = TuneConfig(tracker, run, trials=1)
    if not (study_dir(cfg, scenes) / "study.db").is_file():
        raise SystemExit(f"{study_dir(cfg, scenes)}: no study; run `vsdmot tune {tracker} "
                         f"--out {tune_out} ...` on {' + '.join(scenes)} first")  # fmt: skip
    best = study(cfg, scenes, progress=False).best
    return check_settings(parse_tracker(tracker).name, best)


def chosen_elsewhere(tracker: str, tune_out: Path, data: Path, scenes: dict, left_out: str):
    """The spec a study on every scene but ``left_out`` chose."""
    sequences = tuple(s for seqs in scenes.values() for s in seqs)
    others = tuple(s for s in scenes if s != left_out)
    return chosen_on(tracker, tune_out, data, sequences, others)


def named(item: str) -> tuple[str, str]:
    """``NAME=SPEC`` (a ``=`` before any ``:``) or a bare spec named by itself.

    >>> named("on BoT-SORT's thresholds=vsdmot:association=botsort"), named("bytetrack")
    (("on BoT-SORT's thresholds", 'vsdmot:association=botsort'), ('bytetrack', 'bytetrack'))
    """
    eq, colon = item.find("="), item.find(":")
    if eq >= 0 and (colon < 0 or eq < colon):
        return item[:eq], item[eq + 1 :]
    return item, item


def ablation(name: str, spec: TrackerSpec) -> dict[str, TrackerSpec]:
    """vsdmot's chosen spec with each part of the model's evidence that counts in its
    association switched off in turn, then all of them (on the ``botsort`` association,
    BoT-SORT's core at the same thresholds).

    >>> for row in ablation("v", parse_tracker("vsdmot:association=fused")):
    ...     print(row)
    v, without query boxes
    v, without appearance
    v, without query boxes, appearance
    """
    settings = {**spec.settings}
    live = {part: off for part, off in EVIDENCE_OFF.items()
            if not VSDMOTTracker.inert_settings({**settings, **off}).intersection(off)}
    rows = {f"{name}, without {part}": spec.replace(**off) for part, off in live.items()}
    everything = {k: v for off in live.values() for k, v in off.items()}
    if settings.get("association") == "botsort":
        rows[f"{name}, no evidence (BoT-SORT core)"] = spec.replace(**everything)
    elif len(live) > 1:
        rows[f"{name}, without {', '.join(live)}"] = spec.replace(**everything)
    return rows


def rows_for_scene(args, scenes: dict, scene: str) -> dict[str, str]:
    """Row name -> tracker spec for one left-out scene."""
    specs = {}
    for name, tracker in map(named, args.tuned):
        spec = chosen_elsewhere(tracker, args.tune, args.data, scenes, scene)
        specs[f"{name} (chosen elsewhere)"] = spec
        if spec.name == "vsdmot":
            specs.update(ablation(name, spec))
    for peer in args.peers:
        specs[f"{peer} (defaults)"] = parse_tracker(peer)
    return {name: str(spec) for name, spec in specs.items()}


def run_scene(args, scenes: dict, scene: str, specs: dict[str, str]) -> dict[str, dict]:
    """Row name -> condition -> combined scores, on the left-out scene."""
    grid = GridSpec(types=tuple(args.types.split(",")), severities=args.severities,
                    protocol=args.protocol)  # fmt: skip
    cfg = RunConfig(args.data, args.out / scene, grid,
                    trackers=tuple(dict.fromkeys(specs.values())), sequences=scenes[scene],
                    cache=args.tune, jobs=args.jobs, detector=args.detector)  # fmt: skip
    by_label = {}
    for cell in run_grid(cfg, progress=True):
        if cell.scores is None:
            raise SystemExit(f"{cell.tracker} on {cell.condition} failed: {cell.error}")
        by_label.setdefault(cell.tracker, {})[cell.condition] = cell.scores["combined"]
    labels = {str(s): parse_tracker(s).label for s in specs.values()}
    return {name: by_label[labels[spec]] for name, spec in specs.items()}


def summary(per_scene: dict[str, dict[str, dict[str, dict]]]) -> list[list[object]]:
    """One row per tracker: clean and degraded means, then each over the scenes."""
    def mean(name: str, metric: str, clean: bool) -> float:
        return statistics.fmean(
            statistics.fmean(v[metric] for c, v in per_scene[scene][name].items()
                             if (c == "clean") == clean)
            for scene in per_scene
        )  # fmt: skip

    return [[name, f"{mean(name, 'HOTA', True):.3f}", f"{mean(name, 'HOTA', False):.3f}",
             f"{mean(name, 'DetA', False):.3f}", f"{mean(name, 'AssA', False):.3f}",
             f"{mean(name, 'IDF1', False):.3f}", f"{mean(name, 'IDSW', True):.1f}",
             f"{mean(name, 'IDSW', False):.1f}"]
            for name in next(iter(per_scene.values()))]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune", type=Path, required=True, help="The tune runs' --out folder.")
    ap.add_argument("--data", type=Path, default=MOT15)
    ap.add_argument("--sequence", action="append", default=None)
    ap.add_argument("--tuned", default=";".join(TUNED),
                    help="Tuned trackers, ';'-separated, each SPEC or NAME=SPEC.")  # fmt: skip
    ap.add_argument("--peers", default=",".join(PEERS), type=lambda s: s.split(","))
    ap.add_argument("--types", default=TYPES)
    ap.add_argument("--severities", default=(3.0,),
                    type=lambda s: tuple(float(v) for v in s.split(",")))
    ap.add_argument("--protocol", choices=("fixed", "redetect"), default="fixed")
    ap.add_argument("--detector", default="auto",
                    help="Proposal spec for --protocol redetect (as in the studies).")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("association-loo"))
    ap.add_argument("--report", type=Path, default=ROOT / "benchmarks/results/association_loo.md")
    args = ap.parse_args(argv)
    args.tuned = [t for t in args.tuned.split(";") if t]
    seqs = [SequenceRange.parse(s) for s in (args.sequence or SEQUENCES)]
    scenes = {s.name: (s,) for s in seqs}
    specs = {scene: rows_for_scene(args, scenes, scene) for scene in scenes}
    per_scene = {scene: run_scene(args, scenes, scene, specs[scene]) for scene in scenes}
    chosen = [f"- left out {scene}: " + "; ".join(
                  f"{name.removesuffix(' (chosen elsewhere)')} `{spec}`"
                  for name, spec in specs[scene].items()
                  if name.endswith("(chosen elsewhere)"))
              for scene in scenes]  # fmt: skip
    cmd = command("benchmarks/bench_association_loo.py")
    n_deg = len(args.types.split(","))
    severities = " and ".join(f"{v:g}" for v in args.severities)
    proposals = ("each clean sequence's public det.txt" if args.protocol == "fixed" else
                 f"`{args.detector}` re-run on each condition's pixels")  # fmt: skip
    lines = [
        "# Association: ablation and peers, left-out scores", "",
        f"Command: `{cmd}` (after `vsdmot tune T --out TUNE --leave-one-out` for each tuned "
        "tracker; see docs/tuning.md)", "",
        f"Left-out scenes: {', '.join(map(str, seqs))}; each is scored with the settings its "
        f"tracker's study chose on the other scene(s). Same proposals for every tracker "
        f"({proposals}), clean frames and the degraded copies of {n_deg} types "
        f"({args.types.replace(',', ', ')}) at severity {severities}. Means over the "
        "left-out scenes; 'degraded' is the mean over the degraded conditions.", "",
        *table(["tracker", "HOTA clean", "HOTA degraded", "DetA degraded", "AssA degraded",
                "IDF1 degraded", "IDSW clean", "IDSW degraded"], summary(per_scene), "---:|"),
        "", "Settings chosen on the other scene (a part already off there leaves its "
        "'without' row equal to the full one):", "", *chosen,
    ]  # fmt: skip
    write_report(args.report, lines, {"command": cmd, "specs": specs, "per_scene": per_scene})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
