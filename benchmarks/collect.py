"""Assemble BENCHMARKS.md from the per-benchmark reports in benchmarks/results/.

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
    "speed_peers",
    "inference_prep",
    # the robust detector (vsdmot adapt-detector) and MOT-C (vsdmot bench)
    "adapt",
    "ootb_robust",
    "adapt_ablation",
    "adapt_cost",
    "motc_generated",
    "motc_tud",
    # the current model (embedding head, fused association)
    "ootb",
    "ootb_public",
    "tracking_generated",
    "association_val",
    "reid",
    "association_speed",
    "quality_iqa",
    # detector and pipeline (measured with the previous model where they say so)
    "pipeline",
    "detector",
    "memory",
    "scale",
    "fuzz",
    "cuda",
    # the previous model (YOLOv3-tiny proposals, anchor association): its settings
    "thresholds",
    "thresholds_fine",
    "thresholds_motion",
    "thresholds_motion2",
    "thresholds_recheck",
    # the model before it (public detections)
    "tracking",
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

PREFACE = """# Benchmarks

Every number below was measured on a 2-core x86_64 CPU machine without a GPU,
shared with other work while measuring, except the one section that says it ran
on an NVIDIA H200: compare rows within one table (measured side by side in one
run), not absolute times across tables. Each section names the command that
produced it; `python benchmarks/collect.py` rebuilds this file from
`benchmarks/results/`.

Three generations of the shipped model appear, each section says which it
measured: the current one (trained on YOLOv3-tiny proposals with the object
embedding head, run with the `fused` association; docs/model-card.md), the
previous one (same proposals, no embedding head, `anchor` association: the
"Runtime settings chosen on validation data" sections), and the first one
(trained on PETS09's public detections: the sections from "Tracking accuracy"
down).

The default detector changed with the robust YOLOv3-tiny (`vsdmot
adapt-detector`, the first sections): every section that says "YOLOv3-tiny"
without "robust" ran the original Darknet COCO weights (`yolo:weights=original`).

No CLIP weights can be downloaded on that machine: where a teacher is needed,
the ImageNet MobileNetV2 features file stands in for CLIP, and CLIP ViT-B/32
timings use its architecture with random weights. Each section says which.
"""


def main() -> None:
    results = ROOT / "benchmarks" / "results"
    reports = {p.stem: p for p in results.glob("*.md")}
    names = [n for n in ORDER if n in reports] + sorted(set(reports) - set(ORDER))
    parts = [PREFACE]
    for name in names:
        text = reports[name].read_text().strip()
        # Demote each report's headings one level under the preface.
        parts.append("\n".join("#" + line if line.startswith("#") else line
                               for line in text.splitlines()))  # fmt: skip
    with atomic_write(ROOT / "BENCHMARKS.md") as f:
        f.write("\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
