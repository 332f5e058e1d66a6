"""What the benchmark scripts share: paths, the held-out real splits, report writing."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from vsdmot.utils.io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MOT15 = SHARED / "data" / "mot15"
MOBILENET = SHARED / "weights" / "mobilenet_v2_imagenet_features.pt"
#: Real footage never trained on: PETS09-S2L1 601-795 (the shipped model trains on 1-500
#: and picks thresholds on 501-600) and TUD-Stadtmitte.
SPLITS = {"PETS09-S2L1": (601, 795), "TUD-Stadtmitte": (1, 179)}
DEFAULT_TYPES = "low_light,gaussian_noise,motion_blur,jpeg,mix"


def command(script: str | None = None) -> str:
    """This run's command line, ``python benchmarks/X.py ARGS`` (the script named
    relative to the project when ``script`` is given). Run by ``reproduce.py SECTION``
    (which sets ``VSDMOT_REPRODUCE``), that command comes first and this one after it as
    a shell comment, so that the line both reproduces the section and shows every setting."""
    argv = [script, *sys.argv[1:]] if script else sys.argv
    line = "python " + shlex.join(argv)
    section = os.environ.get("VSDMOT_REPRODUCE")
    return f"python benchmarks/reproduce.py {section}  # runs: {line}" if section else line


def table(
    header: list[str], rows: list[list[object]], align: str | list[str] = "---|"
) -> list[str]:
    """Markdown table lines; the first column is left-aligned, the others by ``align`` (one
    for all, or one per column after the first)."""
    aligns = [align] * (len(header) - 1) if isinstance(align, str) else align
    lines = ["| " + " | ".join(header) + " |", "|---|" + "".join(aligns)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def write_report(out: Path, lines: list[str], data: dict | None = None) -> str:
    """Write the markdown report (paths made relative to the project) and, with ``data``,
    its JSON beside it; print the report."""
    text = "\n".join(lines).replace(f"{ROOT}/", "") + "\n"
    with atomic_write(out) as f:
        f.write(text)
    if data is not None:
        with atomic_write(out.with_suffix(".json")) as f:
            json.dump(data, f, indent=1)
    print(text)
    return text
