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
    # the current model and detector
    "ootb",
    "pipeline",
    "detector",
    "thresholds",
    "thresholds_fine",
    "thresholds_motion",
    "thresholds_motion2",
    "thresholds_recheck",
    "memory",
    "fuzz",
    "cuda",
    # the previous model (public detections)
    "tracking",
    "ablation",
    "speed",
    "speed_interleaved_576",
    "speed_interleaved_288",
    "speed_branches",
    "semantics",
    "quality_iqa",
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

The sections from "Tracking accuracy" down were measured with the previous
shipped model (trained on PETS09's public detections); the sections above it
with the current one (trained on YOLOv3-tiny proposals, docs/model-card.md).

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
