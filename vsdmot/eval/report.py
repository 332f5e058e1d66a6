"""Present an :class:`EvalResult`: a rich table, JSON and CSV files (written atomically)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from vsdmot.eval.results import (
    INT_METRICS,
    TABLE_METRICS,
    EvalResult,
    SequenceMetrics,
    json_safe,
)
from vsdmot.utils.io import atomic_write

if TYPE_CHECKING:
    from vsdmot.eval.robustness import RobustnessResult

COMBINED = "COMBINED"
_HEADERS = {"CLR_FP": "FP", "CLR_FN": "FN"}


def format_value(name: str, value: float | int) -> str:
    """Rates as percentages with one decimal (TrackEval's style), counts as ints.

    >>> format_value("HOTA", 0.5678), format_value("IDSW", 3)
    ('56.8', '3')
    """
    if name in INT_METRICS:
        return str(int(value))
    return f"{100.0 * value:.1f}"


def results_table(result: EvalResult, title: str = "TrackEval") -> Table:
    """One row per sequence plus a COMBINED row; rates in percent."""
    table = Table(title=title)
    table.add_column("sequence")
    for name in TABLE_METRICS:
        table.add_column(_HEADERS.get(name, name), justify="right")
    rows = [*result.sequences.items(), (COMBINED, result.combined)]
    for i, (seq, m) in enumerate(rows):
        values = m.to_dict()
        table.add_row(
            seq,
            *(format_value(n, values[n]) for n in TABLE_METRICS),
            end_section=i == len(rows) - 2,
        )
    return table


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON (NaN -> null), atomically."""
    with atomic_write(path) as f:
        json.dump(json_safe(data), f, indent=2)
        f.write("\n")


def write_csv(path: str | Path, result: EvalResult) -> None:
    """One row per sequence and a final ``COMBINED`` row; all metric columns."""
    fields = [f.name for f in dataclasses.fields(SequenceMetrics)]
    with atomic_write(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sequence", *fields])
        for seq, m in [*result.sequences.items(), (COMBINED, result.combined)]:
            values = m.to_dict()
            writer.writerow([seq, *(values[k] for k in fields)])


def robustness_table(result: RobustnessResult) -> Table:
    """rPC per sequence and combined, then HOTA per severity bucket."""
    table = Table(title="Robustness (HOTA in %)")
    for col in ("", "frames", "HOTA LQ", "HOTA clean", "rPC"):
        table.add_column(col, justify="right" if col else "left")
    for name, rpc in result.rPC_sequences.items():
        lq, clean = result.lq.sequences[name].HOTA, result.clean.sequences[name].HOTA
        table.add_row(name, "", format_value("HOTA", lq), format_value("HOTA", clean), f"{rpc:.3f}")
    table.add_row(
        COMBINED,
        "",
        format_value("HOTA", result.lq.combined.HOTA),
        format_value("HOTA", result.clean.combined.HOTA),
        f"{result.rPC:.3f}",
        end_section=True,
    )
    for sev, bucket in result.buckets.items():
        clean = bucket.clean_hota
        table.add_row(
            f"severity {sev}",
            str(bucket.frames),
            format_value("HOTA", bucket.hota),
            "-" if clean is None else format_value("HOTA", clean),
            "-" if not clean else f"{bucket.hota / clean:.3f}",
        )
    return table


def write_severity_csv(path: str | Path, result: RobustnessResult) -> None:
    """One row per severity bucket: frames, the LQ metrics and the clean HOTA on those frames."""
    fields = [f.name for f in dataclasses.fields(SequenceMetrics)]
    with atomic_write(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["severity", "frames", *fields, "HOTA_clean"])
        for sev, bucket in result.buckets.items():
            values = bucket.lq.combined.to_dict()
            clean = "" if bucket.clean_hota is None else bucket.clean_hota
            writer.writerow([sev, bucket.frames, *(values[k] for k in fields), clean])
