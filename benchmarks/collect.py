"""Assemble BENCHMARKS.md from the per-benchmark reports in benchmarks/results/, and
BENCHMARKS-HISTORY.md from those of earlier model generations in benchmarks/results/history/.

Each report is written by its own script together with the exact command that
produced it; this only concatenates them in a stable order under a preface.

    python benchmarks/collect.py
"""

from __future__ import annotations

from pathlib import Path

from vsdmot.utils.io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
ORDER = [
    # settings chosen leave-one-scene-out (vsdmot tune), the association against the peers
    "transfer_public",
    "transfer_degraded",
    "association_loo",
    "association_generated",
    "transfer_robust",
    "default_robust",
    "ootb23",
    "speed_peers",
    "inference_prep",
    # the robust detector (vsdmot adapt-detector) and MOT-C (vsdmot bench)
    "adapt",
    "ootb_robust",
    "adapt_mix",
    "ootb_mix",
    "adapt_ablation",
    "adapt_cost",
    "motc_generated",
    "motc_tud",
    # the current model (embedding head, fused association)
    "ootb",
    "ootb_public",
    "semantic_fusion",
    "appearance_dswr",
    "tracking_generated",
    "reid",
    "reid_tracking",
    "association_speed",
    "quality_iqa",
    "quality_real",
    # detector and pipeline (measured with the previous model where they say so)
    "pipeline",
    "detector",
    "memory",
    "scale",
    "fuzz",
    "cuda",
    "paper_presets",
    # the first model generation's recipe (public detections); models with random weights
    "ablation",
    "speed",
    "speed_interleaved_576",
    "speed_interleaved_288",
    "speed_branches",
    "semantics",
    "degrade",
    "proposals",
    "eval",
]

#: benchmarks/results/history/: sections of earlier model generations, in this order.
HISTORY_ORDER = [
    "association_val",
    "thresholds",
    "thresholds_fine",
    "thresholds_motion",
    "thresholds_motion2",
    "thresholds_recheck",
    "tracking",
    "tracking_semantics_none",
]

PREFACE = """# Benchmarks

Every number below was measured on a 2-core x86_64 CPU machine without a GPU,
shared with other work while measuring, except the one section that says it ran
on an NVIDIA H200: compare rows within one table (measured side by side in one
run), not absolute times across tables. `python benchmarks/collect.py` rebuilds
this file from `benchmarks/results/`.

Each section's command is `python benchmarks/reproduce.py SECTION` followed, as a
shell comment, by the benchmark command it runs with every setting written out (model
file, detector weights). `reproduce.py` first builds the section's inputs under
`work/reproduce/` (generated and degraded sequences, detector adaptation or tuning
runs), then writes the new report there and prints each published table with the
cells that differ marked; `python benchmarks/reproduce.py --list` gives every section
with its expected time on 2 CPU cores. The vsdmot settings are those recorded in the
model file; each section prints them.

The default detector is the robust YOLOv3-tiny (`vsdmot adapt-detector`, the first
sections): every section that says "YOLOv3-tiny" without "robust" ran the original
Darknet COCO weights, `yolo:weights=original` in its command.

Sections measure the current shipped model (trained on YOLOv3-tiny proposals with the
object embedding head; docs/model-card.md) unless
they say otherwise: "End to end: input size vs speed vs HOTA" measured the previous one
(same network size), the semantic-branch ablation trains the first generation's recipe
(public detections), and the speed sections from "Tracker speed" on use random weights.
Results of earlier model generations that the current code cannot re-run (the
runtime-settings grids of `select_thresholds.py`, since replaced by `vsdmot tune`, and
the first model's accuracy tables) are kept in
[BENCHMARKS-HISTORY.md](BENCHMARKS-HISTORY.md).

The shipped file changed twice without retraining: its quality head was refitted on
real frames ("Frame quality on an unseen real scene"; tracks move by at most 0.04 px
and 0.001 in score), then its runtime settings were given `semantic_fusion=off`
("Semantic fusion on and off"). Sections whose settings line (`TrackerParams(...)`)
has no `semantic_fusion` ran the model with fusion on; re-running them measures the
model as shipped now, which differs by what the fusion table shows (mean HOTA over 23
degraded conditions +0.003 with fusion off).
Then its runtime settings moved from the `fused` association to BoT-SORT's core
with the model's evidence ("Runtime defaults chosen leave-one-scene-out among
candidates"). Every section measured before that change (all that come after
"Out of the box on 23 degraded conditions" and mention vsdmot, and the tuning sections
before it) ran the `fused` settings; `reproduce.py --list` marks each of them, and
re-running one measures the settings the file records now.

No CLIP weights can be downloaded on that machine: where a teacher is needed,
the ImageNet MobileNetV2 features file stands in for CLIP, and CLIP ViT-B/32
timings use its architecture with random weights. Each section says which.
"""

HISTORY_PREFACE = """# Benchmarks: history

Results kept as a record: they cannot be re-run with the current code. The script
that produced the runtime-settings grids (`benchmarks/select_thresholds.py`) was removed
when `vsdmot tune` took over its job (a search, not these grids); the appearance grid
measured the current model, the other grids the previous one, and the tracking tables
the first one, whose weights are no longer shipped (`vsdmot/weights/vsdmot-default.pt`
now holds the current model). Paths such as `runs/data/...` were folders of the
machine they ran on (`scripts/train_default_model.sh` makes the same data). Current
numbers, each with a command that re-runs it, are in [BENCHMARKS.md](BENCHMARKS.md).
`python benchmarks/collect.py` rebuilds this file from `benchmarks/results/history/`.
"""


def ordered(folder: Path, order: list[str]) -> list[Path]:
    """The reports of ``folder``: those named in ``order`` first, in that order."""
    reports = {p.stem: p for p in folder.glob("*.md")}
    return [reports[n] for n in order if n in reports] + [
        reports[n] for n in sorted(set(reports) - set(order))]


def assemble(preface: str, reports: list[Path]) -> str:
    parts = [preface]
    for path in reports:
        text = path.read_text().strip()
        # Demote each report's headings one level under the preface.
        parts.append("\n".join("#" + line if line.startswith("#") else line
                               for line in text.splitlines()))  # fmt: skip
    return "\n\n".join(parts) + "\n"


def main() -> None:
    results = ROOT / "benchmarks" / "results"
    with atomic_write(ROOT / "BENCHMARKS.md") as f:
        f.write(assemble(PREFACE, ordered(results, ORDER)))
    with atomic_write(ROOT / "BENCHMARKS-HISTORY.md") as f:
        f.write(assemble(HISTORY_PREFACE, ordered(results / "history", HISTORY_ORDER)))


if __name__ == "__main__":
    main()
