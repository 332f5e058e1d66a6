"""Every section of BENCHMARKS.md: how to rebuild its inputs and re-measure it.

``SECTIONS`` holds one :class:`~steps.Section` per results file that ``collect.py`` puts
in BENCHMARKS.md; ``HISTORY`` names the results files kept only as a record (in
BENCHMARKS-HISTORY.md), each with why it cannot be re-run with the current code. Paths:
``{work}`` is the work folder (default ``work/reproduce``), ``{report}`` the Markdown the
command writes, ``{mot15}`` and ``{mobilenet}`` the real data and weights in ../shared.
Expected minutes are for 2 CPU cores with the inputs built from nothing.
"""

from __future__ import annotations

import dataclasses

from steps import CLASSIC_IQA, RAY, Link, Run, Section

WEIGHTS = "vsdmot/weights/vsdmot-default.pt"
ROBUST = "vsdmot/weights/yolov3-tiny-robust.pt"
#: The quality head the model shipped with until the version-2 head (fitted on real frames,
#: ``quality_real``) replaced it; the sections that measured it keep measuring it.
QUALITY_V1 = "benchmarks/data/quality-head-v1.pt"
ORIGINAL = "yolo:weights=original"  # the Darknet COCO YOLOv3-tiny, not the adapted one
PEERS6 = "vsdmot,bytetrack,ocsort,botsort,sort,deepsort"
TUNE_SEQS = ("--sequence", "PETS09-S2L1:first=601,last=795", "--sequence", "TUD-Stadtmitte")
LQ_CONDITIONS = ("--condition", "clean", "--condition", "mix:severity=3")
#: vsdmot's botsort association as these sections measured it: camera-motion compensation on
#: frames shrunk 2x (BoT-SORT's own value; vsdmot's default became 4 afterwards).
BOTSORT_CORE = "vsdmot:association=botsort,cmc_downscale=2"
BOTSORT_THRESHOLDS = (f"{BOTSORT_CORE},birth_thresh=0.7,min_hits=2,match_iou=0.2,"
                      "low_match_iou=0.5,high_thresh=0.6,miss_tolerance=30,unconfirmed_iou=0.3")


def py(script: str, *args: str, **kw) -> Run:
    """``python benchmarks/SCRIPT ARGS``."""
    return Run(("python", f"benchmarks/{script}", *args), **kw)


def cli(*args: str, makes: str = "") -> Run:
    """``vsdmot ARGS``."""
    return Run(("vsdmot", *args), makes=makes)


def synth(name: str, *args: str) -> Run:
    return cli("synth", f"{{work}}/{name}", *args, makes=f"{{work}}/{name}")


def degrade(source: str, name: str, *args: str) -> Run:
    return cli("degrade", source, f"{{work}}/{name}", *args, makes=f"{{work}}/{name}")


# -- inputs shared by several sections -------------------------------------------------------

GTEST = synth("gtest", "--sequences", "2", "--frames", "80", "--seed", "1000")
GTEST_LQ = (
    degrade("{work}/gtest", "gtest-mix", "--type", "mix", "--severity", "3",
            "--schedule", "random_walk", "--seed", "1001"),
    degrade("{work}/gtest", "gtest-noise", "--type", "gaussian_noise", "--severity", "3",
            "--schedule", "constant", "--seed", "1002"),
    degrade("{work}/gtest", "gtest-lowlight", "--type", "low_light", "--severity", "3",
            "--schedule", "periodic", "--seed", "1003"),
)  # fmt: skip
#: PETS09-S2L1 1-600 degraded as the shipped model's recipe does (scripts/train_default_model.sh).
PETS_LQ = tuple(
    degrade("{mot15}/PETS09-S2L1", f"data/pets-{t}", "--type", t, "--severity", "4",
            "--schedule", "random_walk", "--seed", str(seed), "--max-frames", "600")
    for seed, t in enumerate(("mix", "low_light", "gaussian_noise", "motion_blur"), start=102)
)  # fmt: skip


def adapt(
    name: str, steps: int, *sets: str, folder: str = "detectors", init: str = ""
) -> Run:
    """One ``vsdmot adapt-detector`` run of scripts/adapt_detector_runs.sh (``init``: the
    detector its student starts from, ``--init``)."""
    out = f"{{work}}/{folder}/{name}"
    extra = [w for s in sets for w in ("--set", s)] + (["--init", init] if init else [])
    return cli("adapt-detector", "{mot15}/PETS09-S2L1", "--frames", "1-600", "--out", out,
               "--steps", str(steps), "--threads", "2", "--set", "checkpoint_every=25",
               "--no-progress", *extra, makes=f"{out}/detector.pt")  # fmt: skip


ABLATION_DETECTORS = {
    "full": adapt("abl-full", 250, "size=320"),
    "no-detection": adapt("abl-no-detection", 250, "size=320", "detection=0"),
    "no-response": adapt("abl-no-response", 250, "size=320", "response=0"),
    "no-features": adapt("abl-no-features", 250, "size=320", "feature_align=0",
                         "feature_struct=0"),
    "constant-weights": adapt("abl-constant", 250, "size=320", "weighting=constant"),
}  # fmt: skip


def tune(spec: str, out: str, trials: int, *extra: str, keep: str = "") -> Run:
    """A leave-one-out study (``vsdmot tune``) on the two held-out real scenes."""
    folder = f"{{work}}/{out}"
    kept = (f"{folder}/tune.json", f"{folder}/tune-{keep}.json") if keep else None
    return Run(("vsdmot", "tune", spec, "--data", "{mot15}", "--out", folder, "--trials",
                str(trials), "--leave-one-out", *TUNE_SEQS, *extra, "--seed", "0",
                "--no-progress"), makes=kept[1] if kept else f"{folder}/tune.json",
               keep=kept)  # fmt: skip


TUNE_PUBLIC = {
    "vsdmot": tune("vsdmot", "tune-vsdmot", 16),
    "vsdmot (botsort core)": tune(BOTSORT_CORE, "tune-vsdmot-botsort", 20),
    "bytetrack": tune("bytetrack", "tune-bytetrack", 16),
    "botsort": tune("botsort", "tune-botsort", 16),
}
TUNE_LQ = {
    "botsort core at BoT-SORT thresholds, rescore 0": tune(
        BOTSORT_THRESHOLDS + ",rescore=0", "tune-lq", 12, *LQ_CONDITIONS, keep="rescore0"),
    "botsort core at BoT-SORT thresholds": tune(
        BOTSORT_THRESHOLDS, "tune-lq", 12, *LQ_CONDITIONS, keep="thresholds"),
    "botsort core": tune(BOTSORT_CORE, "tune-lq", 12, *LQ_CONDITIONS,
                         keep="botsort-core"),
    "fused/anchor": tune("vsdmot", "tune-lq", 12, *LQ_CONDITIONS, keep="vsdmot"),
    "ByteTrack": tune("bytetrack", "tune-lq", 16, *LQ_CONDITIONS, keep="bytetrack"),
    "BoT-SORT": tune("botsort", "tune-lq", 16, *LQ_CONDITIONS, keep="botsort"),
}  # fmt: skip
#: The default detector re-run on each condition's pixels (what `vsdmot track` does), clean and
#: the types a user's camera meets most, at severity 3: the objective of the studies that
#: test whether the runtime settings transfer on the proposals users get.
ROBUST_TYPES = "low_light,gaussian_noise,motion_blur,jpeg,mix"
ROBUST_PROPOSALS = ("--proposals", "redetect", "--detector", "yolo:weights=robust")
ROBUST_GRID = ("--condition", "clean", *(w for t in ROBUST_TYPES.split(",")
                                         for w in ("--condition", f"{t}:severity=3")))  # fmt: skip
ROBUST_CONDITIONS = (*ROBUST_PROPOSALS, *ROBUST_GRID)
TUNE_ROBUST = {
    "vsdmot": tune("vsdmot", "tune-robust", 10, *ROBUST_CONDITIONS, keep="vsdmot"),
    "ByteTrack": tune("bytetrack", "tune-robust", 16, *ROBUST_CONDITIONS, keep="bytetrack"),
    "BoT-SORT": tune("botsort", "tune-robust", 16, *ROBUST_CONDITIONS, keep="botsort"),
}  # fmt: skip

#: The runtime settings the shipped file recorded until the section below replaced them.
FUSED_BEFORE = ("vsdmot:association=fused,birth_thresh=0.2,high_thresh=0.3,min_hits=1,"
                "miss_tolerance=10,query_keep=0.8,appearance_weight=0.3,"
                "appearance_embedder=head")  # fmt: skip
_CORE = "vsdmot:association=botsort,miss_tolerance=30,query_keep=0.99,appearance_weight=0.19"
_BOT7 = f"{_CORE},birth_thresh=0.7,high_thresh=0.6"
#: Candidate runtime defaults, each written out in full so it means the same whatever the
#: shipped file records; the shipped settings are "0.4 thresholds, reid, rescore 0.3".
DEFAULT_CANDIDATES = {
    "fused (shipped before)": FUSED_BEFORE,
    "BoT-SORT thresholds, head": f"{_BOT7},min_hits=2,rescore=0,appearance_embedder=head",
    "BoT-SORT thresholds, head, no CMC": f"{_BOT7},min_hits=2,rescore=0,"
                                         "appearance_embedder=head,cmc=off",
    "BoT-SORT thresholds, reid": f"{_BOT7},min_hits=2,rescore=0,appearance_embedder=reid",
    "BoT-SORT thresholds, reid, no CMC": f"{_BOT7},min_hits=2,rescore=0,"
                                        "appearance_embedder=reid,cmc=off",
    "BoT-SORT thresholds, reid, min_hits 1": f"{_BOT7},min_hits=1,rescore=0,"
                                             "appearance_embedder=reid",
    **{f"{t} thresholds, reid{', rescore 0.3' if r != '0' else ''}":
       f"{_CORE},min_hits=2,birth_thresh={t},high_thresh={t},rescore={r},"
       "appearance_embedder=reid"
       for t, r in (("0.5", "0"), ("0.5", "0.3"), ("0.4", "0"), ("0.4", "0.3"), ("0.3", "0.3"))},
}  # fmt: skip
DEFAULT_PEERS = {"ByteTrack": "bytetrack", "BoT-SORT": "botsort"}
_AT_04 = "vsdmot:association=botsort,miss_tolerance=30,min_hits=2,birth_thresh=0.4,high_thresh=0.4"
#: The shipped candidate with its evidence taken away, and BoT-SORT at the same thresholds.
DEFAULT_ABLATION = {
    "shipped, appearance off": f"{_AT_04},query_keep=0.99,rescore=0.3,appearance_embedder=reid,"
                               "appearance_weight=0",
    "shipped, every piece of evidence off": f"{_AT_04},rescore=0,query_keep=1.0,"
                                            "appearance_weight=0",
    "BoT-SORT at 0.4 thresholds": "botsort:track_activation_threshold=0.4,"
                                  "high_conf_det_threshold=0.4",
}  # fmt: skip


def bench_robust(name: str, trackers: tuple[str, ...], *grid: str) -> Run:
    """`vsdmot bench` of ``trackers`` on the default detector's proposals (held-out scenes)."""
    return cli("bench", "--data", "{mot15}", "--out", f"{{work}}/{name}",
               "--cache-dir", "{work}/bench-robust-cache", "--trackers", ",".join(trackers),
               *TUNE_SEQS, *ROBUST_PROPOSALS, *grid, "--seed", "0", "--threads", "1",
               "--jobs", "2", "--no-progress",
               makes=f"{{work}}/{name}/report.json")  # fmt: skip


def named(flag: str, specs: dict[str, str]) -> tuple[str, ...]:
    """``--flag NAME=SPEC`` for each entry."""
    return tuple(w for name, spec in specs.items() for w in (flag, f"{name}={spec}"))


DEFAULT_ROBUST = bench_robust(
    "default-robust", (*DEFAULT_CANDIDATES.values(), *DEFAULT_PEERS.values(),
                       *DEFAULT_ABLATION.values()),
    "--types", "", "--schedules", "constant", *ROBUST_GRID)
T23 = ("--types", "codec,contrast,defocus_blur,downscale,fog,gaussian_noise,jpeg,low_light,"
       "motion_blur,rain,shot_noise", "--severities", "3,5", "--schedules", "constant",
       "--condition", "mix:severity=3")  # fmt: skip
OOTB23_TITLE = ("Out of the box on 23 degraded conditions, every tracker on the proposals "
                "of the default detector (PETS09-S2L1 601-795, TUD-Stadtmitte)")
OOTB23_ROWS = {"vsdmot (shipped)": "vsdmot", "fused (shipped before)": FUSED_BEFORE}
OOTB23_PEERS = {**DEFAULT_PEERS, "OC-SORT": "ocsort", "DeepSORT": "deepsort"}
OOTB23 = bench_robust("ootb23", (*OOTB23_ROWS.values(), *OOTB23_PEERS.values()), *T23)


def transfer(layout: str, studies: dict[str, Run]) -> Run:
    """The transfer table of some leave-one-out studies, in the published layout."""
    args = [w for label, run in studies.items() for w in ("--study", f"{label}={run.makes}")]
    return py("transfer_table.py", "--layout", layout, *args, "--out", "{report}")


def _json(markdown: str) -> str:
    """The JSON a benchmark writes beside its Markdown report."""
    return markdown.removesuffix(".md") + ".json"


def ootb(*args: str, quick: bool = False) -> Run:
    """bench_ootb.py with the model file written out (and a 20-frame smoke run)."""
    small = ("--frames", "20", "--types", "low_light", "--trackers", "vsdmot,ByteTrack")
    small = small if quick else ()
    return py("bench_ootb.py", "--weights", WEIGHTS, *args, *small, "--out", "{report}")


T11 = ("codec,contrast,defocus_blur,downscale,fog,gaussian_noise,jpeg,low_light,motion_blur,"
       "rain,shot_noise")
#: bench_ootb runs of the shipped model with semantic fusion on and off, by
#: (degradation seed, severity, types); the first two cover the 23 conditions.
FUSION_RUNS = ((0, "3", f"{T11},mix"), (0, "5", T11),
               (1, "3", "low_light,gaussian_noise,motion_blur,mix"),
               (2, "3", "low_light,gaussian_noise,motion_blur,mix"))


#: bench_ootb's rows of each switch compared by bench_switch.py (names as it reads them).
SWITCH_ROWS = {"fusion": ("vsdmot, fusion on=semantic_fusion=on",
                          "vsdmot, fusion off=semantic_fusion=off"),
               "dswr": ("vsdmot, DSWR off=appearance_dswr=off",
                        "vsdmot + DSWR=appearance_dswr=on")}  # fmt: skip
DSWR_RUNS = tuple((seed, "3", "low_light,gaussian_noise,motion_blur,mix") for seed in (0, 1, 2))


def switch_run(switch: str, seed: int, severity: str, types: str,
               frames: tuple[str, ...] = ()) -> Run:  # fmt: skip
    """One bench_ootb report of a bench_switch section: both rows of ``switch``."""
    out = f"{{work}}/{switch}/s{seed}-sev{severity}.md"
    variants = (w for v in SWITCH_ROWS[switch] for w in ("--variant", v))
    return py("bench_ootb.py", "--weights", WEIGHTS, "--no-hog", "--trackers", "vsdmot",
              *variants, "--types", types, "--severity", severity, "--seed", str(seed),
              *frames, "--out", out, makes=out)  # fmt: skip


def switch_section(switch: str, stem: str, title: str, minutes: float,
                   runs: tuple[tuple[int, str, str], ...]) -> Section:  # fmt: skip
    """A bench_switch.py section: its bench_ootb runs as steps, two short ones quick."""
    steps = tuple(switch_run(switch, *r) for r in runs)
    quick = tuple(switch_run(switch, s, "3", "jpeg", ("--frames", "10")) for s in (0, 1))

    def command(reports: tuple[Run, ...]) -> Run:
        return py("bench_switch.py", "--switch", stem,
                  *(w for r in reports for w in ("--report", _json(r.makes))),
                  "--out", "{report}")  # fmt: skip

    return Section(stem, title, minutes, command(steps), steps, quick=command(quick),
                   quick_steps=quick)


ASSOCIATION_LOO_TUNED = (
    f"vsdmot botsort core={BOTSORT_CORE};"
    f"vsdmot botsort core at BoT-SORT thresholds={BOTSORT_THRESHOLDS};"
    f"vsdmot botsort core at BoT-SORT thresholds, rescore off={BOTSORT_THRESHOLDS},rescore=0;"
    "vsdmot fused/anchor=vsdmot;ByteTrack=bytetrack;BoT-SORT=botsort"
)
ABLATION_DATA = (
    synth("ablation/synth-train", "--sequences", "8", "--frames", "100", "--seed", "100"),
    degrade("{work}/ablation/synth-train", "ablation/synth-train-lq", "--type", "mix",
            "--severity", "4", "--schedule", "random_walk", "--seed", "101"),
    Link("{mot15}", "{work}/ablation/MOT15"),
    Link("{mobilenet}", "{work}/ablation/mobilenet_v2_imagenet_features.pt"),
    synth("ablation/synth-test", "-n", "3", "-t", "100", "--seed", "900"),
    degrade("{work}/ablation/synth-test", "ablation/synth-test-lq", "--type", "mix",
            "--severity", "3", "--schedule", "constant", "--seed", "901"),
    degrade("{work}/ablation/MOT15", "ablation/MOT15-lq", "--type", "mix", "--severity", "3",
            "--schedule", "constant", "--seed", "903"),
)  # fmt: skip


def tune_on_both(spec: str, trials: int) -> Run:
    """A study on both held-out real scenes together (clean and mix at severity 3)."""
    label = spec.split(":")[0]
    return Run(("vsdmot", "tune", spec, "--data", "{mot15}", "--out", "{work}/tune-both",
                "--trials", str(trials), *TUNE_SEQS, *LQ_CONDITIONS, "--seed", "0",
                "--no-progress"), makes=f"{{work}}/tune-both/tune-{label}.json",
               keep=("{work}/tune-both/tune.json", f"{{work}}/tune-both/tune-{label}.json"))


GENERATED_GROUP = (
    synth("gen-group", "--sequences", "3", "--frames", "120", "--seed", "2000"),
    tune_on_both("vsdmot", 12), tune_on_both("bytetrack", 12), tune_on_both("botsort", 12),
)


#: Sections that ran the shipped model with the runtime settings its file recorded before
#: section default_robust replaced them (association fused, ...: FUSED_BEFORE).
EARLIER_BLOCK = ("transfer_public", "transfer_degraded", "association_generated",
                 "transfer_robust", "association_loo", "ootb_robust", "ootb_mix", "motc_tud",
                 "ootb", "semantic_fusion", "appearance_dswr", "ootb_public",
                 "tracking_generated", "reid_tracking", "association_speed",
                 "pipeline", "memory")  # fmt: skip
EARLIER_BLOCK_NOTE = ("measured with the runtime settings the shipped file recorded before "
                      "section default_robust (the fused association); a re-run measures the "
                      "settings it records now")  # fmt: skip


def _with_block_note(section: Section) -> Section:
    if section.stem not in EARLIER_BLOCK:
        return section
    note = "; ".join(n for n in (section.note, EARLIER_BLOCK_NOTE) if n)
    return dataclasses.replace(section, note=note)


def _sections() -> list[Section]:
    return [_with_block_note(s) for s in (
        *_tuning(), *_detector(), *_motc(), *_model(), *_pipeline(), *_first_generation(),
        *_random_weights())]  # fmt: skip


def _tuning() -> list[Section]:
    quick_peers = {k: TUNE_PUBLIC[k] for k in ("bytetrack", "botsort")}
    return [
        Section("transfer_public", "Tracker settings chosen leave-one-scene-out, public detections",
                60, transfer("long", TUNE_PUBLIC), tuple(TUNE_PUBLIC.values()),
                quick=transfer("long", quick_peers), quick_steps=tuple(quick_peers.values()),
                hand_written=True),
        Section("transfer_degraded", "Settings chosen leave-one-scene-out on clean and degraded "
                "frames", 240, transfer("wide", TUNE_LQ), tuple(TUNE_LQ.values()),
                hand_written=True),
        Section("association_generated", "Association on generated scenes, left out of every "
                "selection", 60,
                py("bench_association_generated.py", "--tune", "{work}/tune-both", "--data",
                   "{work}/gen-group", "--out", "{work}/association-generated", "--report",
                   "{report}"), GENERATED_GROUP),
        Section("transfer_robust", "Runtime settings chosen leave-one-scene-out on the default "
                "detector's proposals", 150, transfer("wide", TUNE_ROBUST),
                tuple(TUNE_ROBUST.values()), hand_written=True),
        Section("default_robust", "Runtime defaults chosen leave-one-scene-out among "
                "candidates on the default detector's proposals", 60,
                py("bench_default_choice.py", "--report", DEFAULT_ROBUST.makes,
                   *named("--candidate", DEFAULT_CANDIDATES),
                   *named("--tracker", {**DEFAULT_PEERS, **DEFAULT_ABLATION}),
                   "--out", "{report}"), (DEFAULT_ROBUST,), hand_written=True),
        Section("ootb23", OOTB23_TITLE, 60,
                py("bench_default_choice.py", "--report", OOTB23.makes, "--title", OOTB23_TITLE,
                   "--per-condition",
                   *named("--tracker", {**OOTB23_ROWS, **OOTB23_PEERS}),
                   "--out", "{report}"), (OOTB23,), hand_written=True),
        Section("association_loo", "Association: ablation and peers, left-out scores", 300,
                py("bench_association_loo.py", "--tune", "{work}/tune-lq", "--tuned",
                   ASSOCIATION_LOO_TUNED, "--peers", "ocsort,deepsort,botsort,bytetrack,vsdmot",
                   "--out", "{work}/association-loo", "--jobs", "2", "--report", "{report}"),
                tuple(TUNE_LQ.values())),
    ]  # fmt: skip


#: The shipped detector trained on with more stacked degradations (docs/detector.md,
#: "Compound degradation"); ``--init robust`` is the detector shipped before it.
ROBUST_MIX = adapt("robust-mix", 1100, "stack_prob=0.6", "seed=1", init="robust")
MIX_NOTE = ("the published detector was trained with --threads 1 and checkpoint_every=50, "
            "and begun as a 1400-step run cut to 1100 steps at step 450 (its learning rate "
            "fell faster from there); --init robust must be the detector shipped before it "
            "(sha256 aff518d3c3ad)")


def _detector() -> list[Section]:
    robust = f"robust={ROBUST}"
    return [
        Section("adapt", "Robust detector: clean-to-degraded distillation of YOLOv3-tiny", 80,
                py("bench_adapt.py", "--detector", robust, "--detector",
                   "no-labels={work}/detectors/robust-zoom-nolabels/detector.pt", "--detector",
                   "no-zoom={work}/detectors/robust/detector.pt", "--frames", "30",
                   "--out", "{report}"),
                (adapt("robust-zoom-nolabels", 500, "detection=0"),
                 adapt("robust", 600, "zoom=0")),
                quick=py("bench_adapt.py", "--detector", robust, "--frames", "2", "--types",
                         "gaussian_noise", "--severities", "3", "--out", "{report}"),
                quick_steps=()),
        Section("ootb_robust", "Tracking with the robust detector vs the original", 15,
                ootb("--no-hog", "--trackers", "vsdmot,ByteTrack", "--proposals", ORIGINAL,
                     "--detector", "robust=yolo:weights=robust", "--types",
                     "low_light,gaussian_noise,motion_blur,jpeg,mix,fog"),
                quick=ootb("--no-hog", "--proposals", ORIGINAL, "--detector",
                           "robust=yolo:weights=robust", quick=True)),
        Section("adapt_mix", "Robust detector trained on under compound degradation", 40,
                py("bench_adapt.py", "--detector", robust, "--detector",
                   f"robust-mix={ROBUST_MIX.makes}", "--frames", "30", "--out", "{report}"),
                (ROBUST_MIX,), note=MIX_NOTE),
        Section("ootb_mix", "Tracking with the robust detector trained under compound "
                "degradation", 20,
                ootb("--no-hog", "--trackers", "vsdmot,ByteTrack", "--proposals", ORIGINAL,
                     "--detector", "robust=yolo:weights=robust", "--detector",
                     f"robust-mix=yolo:weights={ROBUST_MIX.makes}", "--types",
                     "low_light,gaussian_noise,motion_blur,jpeg,mix,fog"),
                (ROBUST_MIX,), note=MIX_NOTE),
        Section("adapt_ablation", "Robust detector: ablation of the loss terms", 40,
                py("bench_adapt.py",
                   *(w for name, run in ABLATION_DETECTORS.items()
                     for w in ("--detector", f"{name}={run.makes}")),
                   "--frames", "16", "--types", "gaussian_noise,low_light,motion_blur,jpeg,fog,mix",
                   "--severities", "3,5", "--out", "{report}"),
                tuple(ABLATION_DETECTORS.values()),
                quick=py("bench_adapt.py", "--detector",
                         "full={work}/quick/abl-full/detector.pt", "--frames", "2", "--types",
                         "gaussian_noise", "--severities", "3", "--out", "{report}"),
                quick_steps=(adapt("abl-full", 3, "size=320", folder="quick"),)),
        Section("adapt_cost", "Robust detector: training cost on 2 CPU cores", 3,
                py("bench_adapt_cost.py", "--steps", "12", "--size", "416", "--batch-size", "8",
                   "--out", "{report}"),
                quick=py("bench_adapt_cost.py", "--steps", "3", "--out", "{report}")),
        Section("detector", "Person proposals: HOG vs YOLOv3-tiny; detector runtimes", 12,
                py("bench_detector.py", "--frames", "20", "--sizes", "320,416,512",
                   "--severities", "1,3,5", "--out", "{report}"),
                quick=py("bench_detector.py", "--frames", "2", "--sizes", "320", "--severities",
                         "3", "--runtime-frames", "2", "--out", "{report}"),
                note="the runtime table was re-measured on a quiet machine with --runtimes-only"),
    ]  # fmt: skip


def _motc() -> list[Section]:
    grid = ("--trackers", PEERS6, "--proposals", "redetect", "--schedules", "constant",
            "--no-progress")
    return [
        Section("motc_generated", "MOT-C (vsdmot bench) on held-out generated sequences", 30,
                cli("bench", "--data", "{work}/gtest", "--out", "{work}/motc-gen", *grid,
                    "--detector", "auto", "--types",
                    "gaussian_noise,low_light,motion_blur,fog,jpeg,mix", "--severities", "1,3,5"),
                (GTEST,), report="{work}/motc-gen/report.md",
                quick=cli("bench", "--data", "{work}/gtest", "--out", "{work}/motc-gen-quick",
                          "--trackers", "bytetrack,sort", "--proposals", "redetect",
                          "--detector", "auto", "--types", "jpeg", "--severities", "3",
                          "--schedules", "constant", "--no-progress")),
        Section("motc_tud", "MOT-C (vsdmot bench) on TUD-Stadtmitte", 12,
                cli("bench", "--data", "{work}/tud", "--out", "{work}/motc-tud", *grid,
                    "--detector", "yolo:weights=robust", "--types",
                    "gaussian_noise,low_light,motion_blur,mix", "--severities", "3"),
                (Link("{mot15}/TUD-Stadtmitte", "{work}/tud/TUD-Stadtmitte"),),
                report="{work}/motc-tud/report.md"),
    ]  # fmt: skip


def _model() -> list[Section]:
    return [
        Section("ootb", "Out of the box on degraded real footage", 40,
                ootb("--proposals", ORIGINAL, "--variant", "vsdmot motion only=appearance_weight=0",
                     "--variant", "vsdmot + ImageNet embedder=appearance_embedder=imagenet",
                     "--variant", "vsdmot + DSWR=appearance_dswr=on"),
                quick=ootb("--proposals", ORIGINAL, "--no-hog", quick=True)),
        switch_section("fusion", "semantic_fusion", "Semantic fusion on and off, out of the box",
                       150, FUSION_RUNS),
        switch_section("dswr", "appearance_dswr", "Quality-weighted appearance (DSWR) on and "
                       "off, out of the box", 30, DSWR_RUNS),
        Section("ootb_public", "Out of the box on degraded real footage, public detections", 25,
                ootb("--protocol", "public", "--variant", "vsdmot motion only=appearance_weight=0",
                     "--variant", "vsdmot + DSWR=appearance_dswr=on"),
                quick=ootb("--protocol", "public", quick=True)),
        Section("tracking_generated", "Tracking accuracy: vsdmot vs every peer (generated)", 6,
                py("bench_tracking.py", "--weights", WEIGHTS, "--data", "clean={work}/gtest",
                   "--data", "mix3-random_walk={work}/gtest-mix", "--data",
                   "gaussian_noise3={work}/gtest-noise", "--data",
                   "low_light3-periodic={work}/gtest-lowlight", "--out", "{report}"),
                (GTEST, *GTEST_LQ),
                quick=py("bench_tracking.py", "--weights", WEIGHTS, "--data",
                         "clean={work}/gtest", "--out", "{report}"), quick_steps=(GTEST,)),
        Section("reid", "Re-identification on held-out footage", 10,
                py("bench_reid.py", "--weights", WEIGHTS, "--stride", "10", "--out", "{report}"),
                quick=py("bench_reid.py", "--weights", WEIGHTS, "--stride", "60", "--types",
                         "jpeg", "--out", "{report}")),
        Section("reid_tracking", "Tracking with the distilled crop embedder on TUD-Stadtmitte", 12,
                ootb("--title", "Tracking with the distilled crop embedder", "--sequences",
                     "TUD-Stadtmitte", "--no-hog", "--trackers", "vsdmot,ByteTrack",
                     "--variant", "vsdmot reid=appearance_embedder=reid",
                     "--variant", "vsdmot reid + colour=appearance_embedder=reid_colour"),
                quick=ootb("--sequences", "TUD-Stadtmitte", "--no-hog", "--variant",
                           "vsdmot reid=appearance_embedder=reid", quick=True)),
        Section("association_speed", "Association's share of a frame", 2,
                py("bench_association.py", "--weights", WEIGHTS, "--frames", "601-795",
                   "--out", "{report}"),
                quick=py("bench_association.py", "--weights", WEIGHTS, "--frames", "601-620",
                         "--out", "{report}")),
        Section("quality_iqa", "Frame quality: DSWR quality head vs no-reference IQA", 12,
                Run(("python", "benchmarks/bench_quality.py", "--real",
                     *(s.makes for s in PETS_LQ), "--weights", QUALITY_V1, "--threads", "1",
                     "--out", "{report}"), env=(("OMP_NUM_THREADS", "1"),), needs=CLASSIC_IQA),
                PETS_LQ,
                quick=py("bench_quality.py", "--weights", QUALITY_V1, "--types", "jpeg", "--frames",
                         "12", "--stride", "4", "--out", "{report}"), quick_steps=()),
        Section("quality_real", "Frame quality on an unseen real scene: the quality head "
                "refitted on real frames", 17,
                Run(("python", "benchmarks/bench_quality_real.py", "--weights", QUALITY_V1,
                     "--threads", "1", "--save-head", "{work}/quality-head-v2.pt", "--out",
                     "{report}"),
                    env=(("OMP_NUM_THREADS", "1"),)),
                quick=py("bench_quality_real.py", "--clips", "1", "--clean-frames", "10",
                         "--generated", "1", "--steps", "30", "--members", "2", "--val-frames",
                         "2", "--out", "{report}")),
        Section("inference_prep", "The runtime tracker's model: as loaded vs prepared", 1,
                py("bench_inference_prep.py", "--rounds", "5", "--steps", "20", "--out",
                   "{report}"),
                quick=py("bench_inference_prep.py", "--rounds", "1", "--steps", "2", "--out",
                         "{report}")),
    ]  # fmt: skip


def _pipeline() -> list[Section]:
    return [
        Section("speed_peers", "End to end against the peers: vsdmot track video.mp4", 5,
                py("bench_speed_peers.py", "--rounds", "3", "--proposals", "yolo:weights=robust",
                   "--trackers", f"vsdmot,{FUSED_BEFORE},vsdmot-botsort,bytetrack,botsort,ocsort",
                   "--out", "{report}"),
                quick=py("bench_speed_peers.py", "--rounds", "1", "--trackers", "bytetrack",
                         "--out", "{report}")),
        Section("pipeline", "End to end: input size vs speed vs HOTA", 8,
                py("bench_pipeline.py", "--proposals", ORIGINAL, "--model-sizes", "288,384,480",
                   "--yolo-sizes", "320,416,512", "--out", "{report}"),
                quick=py("bench_pipeline.py", "--proposals", ORIGINAL, "--model-sizes", "288",
                         "--yolo-sizes", "320", "--out", "{report}"),
                note="published with the previous model generation: a re-run measures the "
                     "shipped model (same network size, so speeds compare; HOTA does not)"),
        Section("memory", "Memory on long streams: vsdmot track over 1k and 10k frames", 12,
                py("bench_memory.py", "--frames", "1000,10000", "--out", "{report}"),
                quick=py("bench_memory.py", "--frames", "60", "--out", "{report}")),
        Section("fuzz", "Parser fuzzing: generated cases per property", 1,
                Run(("python", "-m", "pytest", "-q", "tests/test_fuzz.py",
                     "--hypothesis-show-statistics")),
                report="{work}/logs/fuzz.log",
                quick=Run(("python", "-m", "pytest", "-q", "tests/test_fuzz.py"),
                          env=(("FUZZ_EXAMPLES", "10"),))),
        Section("cuda", "CUDA paths on one NVIDIA H200", 7,
                Run(("bash", "benchmarks/gpu/run.sh", "--budget", "380")),
                report="benchmarks/gpu/results_h200/README.md",
                blocker="needs one NVIDIA GPU with CUDA (measured on an H200)"),
    ]  # fmt: skip


def _first_generation() -> list[Section]:
    return [
        Section("ablation", "Ablation: semantic branch switches over training seeds", 540,
                py("bench_ablation.py", "--root", "{work}/ablation", "--work",
                   "{work}/ablation/runs", "--seeds", "0", "1", "2", "--arms", "none",
                   "student+dswr", "teacher+dswr", "student", "teacher", "--jobs", "2",
                   "--data", "synth-clean={work}/ablation/synth-test",
                   "--data", "synth-mix3={work}/ablation/synth-test-lq",
                   "--mot15", "{work}/ablation/MOT15", "--mot15-lq", "{work}/ablation/MOT15-lq",
                   "--out", "{report}"),
                ABLATION_DATA,
                quick=py("bench_ablation.py", "--root", "{work}/ablation", "--work",
                         "{work}/ablation/quick-runs", "--seeds", "0", "--arms", "none",
                         "--steps", "2", "--data", "synth-clean={work}/ablation/synth-test",
                         "--out", "{report}"),
                note="trains the recipe of the first model generation (public detections) "
                     "with the current trainer: expect differences within the seed spread"),
    ]  # fmt: skip


def interleaved(size: int, minutes: float) -> Section:
    """bench_speed.py --interleave at one input size (its report renamed after the size)."""
    def run(frames: int) -> Run:
        return Run(("python", "benchmarks/bench_speed.py", "--interleave", "--frames", str(frames),
                    "--input-size", str(size), "--out", "{reports}/speed.md"),
                   env=(("BENCH_THREADS", "1"),))  # fmt: skip

    return Section(f"speed_interleaved_{size}", f"Tracker speed, interleaved, input {size}",
                   minutes, run(25), report=f"{{reports}}/speed_interleaved_{size}.md",
                   quick=run(3))  # fmt: skip


def _random_weights() -> list[Section]:
    speed = Run(("python", "benchmarks/bench_speed.py", "--frames", "25", "--out", "{report}"))
    return [
        Section("speed", "Tracker speed at 768x576, one process per configuration", 3, speed,
                quick=py("bench_speed.py", "--frames", "3", "--out", "{report}")),
        interleaved(576, 4),
        interleaved(288, 2),
        Section("speed_branches", "Semantic branch alone, per 768x576 frame", 1,
                py("bench_speed.py", "--branches", "--out", "{reports}/speed.md"),
                report="{reports}/speed_branches.md"),
        Section("semantics", "Semantic branch: student vs teachers", 2,
                py("bench_semantics.py", "--reps", "30", "--threads", "1", "--out", "{report}"),
                quick=py("bench_semantics.py", "--reps", "2", "--threads", "1", "--out",
                         "{report}")),
        Section("degrade", "Degradation throughput", 1,
                py("bench_degrade.py", "--frames", "20", "--severity", "3", "--out", "{report}"),
                quick=py("bench_degrade.py", "--frames", "2", "--out", "{report}")),
        Section("proposals", "Proposal sources on real MOT15 footage", 2,
                py("bench_proposals.py", "--frames", "50", "--out", "{report}"),
                quick=py("bench_proposals.py", "--frames", "3", "--out", "{report}")),
        Section("scale", "Ray executor vs local: overhead per task, one and two workers", 5,
                py("bench_scale.py", "--rounds", "3", "--out", "{report}", needs=RAY),
                quick=py("bench_scale.py", "--rounds", "1", "--frames", "10", "--out",
                         "{report}", needs=RAY)),
        Section("paper_presets", "Paper presets: cost per training iteration", 12,
                py("bench_paper_presets.py", "--steps", "4", "--out", "{report}"),
                quick=py("bench_paper_presets.py", "--steps", "2", "--input-size", "128",
                         "--out", "{report}")),
        Section("eval", "Evaluation speed: vsdmot.eval.evaluate on real MOT15", 1,
                py("bench_eval.py", "--repeats", "5", "--out", "{report}"),
                quick=py("bench_eval.py", "--repeats", "1", "--out", "{report}")),
    ]  # fmt: skip


SECTIONS: dict[str, Section] = {s.stem: s for s in _sections()}

_SELECT = ("benchmarks/select_thresholds.py (removed; its job is now `vsdmot tune`) measured "
           "the previous model generation, whose weights the current file replaced")
#: Results kept as a record only: stem -> why they cannot be re-run with the current code.
HISTORY: dict[str, str] = {
    "thresholds": _SELECT,
    "thresholds_fine": _SELECT,
    "thresholds_motion": _SELECT,
    "thresholds_motion2": _SELECT,
    "thresholds_recheck": _SELECT,
    "association_val": "benchmarks/select_thresholds.py (removed; its job is now `vsdmot tune`)",
    "tracking": "measured the first model generation (trained on public detections), whose "
                "weights vsdmot/weights/vsdmot-default.pt no longer holds",
    "tracking_semantics_none": "compares a `semantics: none` training with the first model "
                               "generation, whose weights are no longer shipped",
}  # fmt: skip
