"""Figures quoted in README.md's status and in the model card exist in BENCHMARKS.md,
so a re-measured section cannot leave a stale quote behind. Figures with another
source are listed with it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURE = re.compile(r"(?<![\w.])\d+\.\d+x?(?![\w.])")

#: Model-card figures whose source is not a benchmark: figure -> where it comes from.
ELSEWHERE = {
    "9.16": "training log of the shipped model (first 5 steps' loss)",
    "5.67": "training log of the shipped model (last 5 steps' loss)",
    "2.12": "training log (identity-contrastive loss, first steps)",
    "1.44": "training log (identity-contrastive loss, last steps)",
    "17.7": "size of vsdmot/weights/yolov3-tiny-robust.pt in MB",
}


def _status() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("[BENCHMARKS.md](BENCHMARKS.md). Everything"):
                  readme.index("See the [model card]")]  # fmt: skip


def test_readme_status_figures_are_in_benchmarks() -> None:
    bench = (ROOT / "BENCHMARKS.md").read_text()
    figures = set(FIGURE.findall(_status()))
    assert len(figures) > 20  # the status does quote measurements
    assert sorted(f for f in figures if f not in bench) == []


def test_model_card_figures_are_in_benchmarks_or_named_elsewhere() -> None:
    bench = (ROOT / "BENCHMARKS.md").read_text()
    figures = set(FIGURE.findall((ROOT / "docs" / "model-card.md").read_text()))
    assert sorted(f for f in figures if f not in bench and f not in ELSEWHERE) == []
