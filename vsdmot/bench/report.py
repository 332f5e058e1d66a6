"""The benchmark report: summary numbers, Markdown, a self-contained HTML page, JSON.

Per tracker: clean HOTA, **mPC** (mean HOTA over every degraded condition: type x
severity x schedule), **rPC** = mPC / clean HOTA (how much of its clean accuracy it
keeps), frames/s (tracking only; detector boxes are cached and shared), failed cells.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vsdmot.eval.results import json_safe
from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import METRICS, Cell
from vsdmot.utils.io import atomic_write


@dataclass(frozen=True)
class Summary:
    tracker: str
    clean_hota: float
    mpc: float
    rpc: float
    fps: float | None
    failed: int


def _hota(cell: Cell | None) -> float:
    if cell is None or cell.scores is None:
        return math.nan
    return float(cell.scores["combined"]["HOTA"])


def index_cells(cells: Sequence[Cell]) -> dict[str, dict[str, Cell]]:
    """``{tracker: {condition: cell}}`` in first-seen order."""
    table: dict[str, dict[str, Cell]] = {}
    for c in cells:
        table.setdefault(c.tracker, {})[c.condition] = c
    return table


def summarise(cells: Sequence[Cell], grid: GridSpec) -> list[Summary]:
    """mPC over the degraded conditions that scored; NaN when none did.

    >>> from vsdmot.experiments.grid import GridSpec
    >>> g = GridSpec(("fog",), (1.0, 3.0))
    >>> mk = lambda cond, h: Cell("t", cond, {"combined": {"HOTA": h}, "fps": 10.0})
    >>> s = summarise([mk("clean", 0.8), mk("fog-s1-constant", 0.6), mk("fog-s3-constant", 0.4)],
    ...               g)[0]
    >>> round(s.mpc, 3), round(s.rpc, 3), s.fps
    (0.5, 0.625, 10.0)
    """
    out = []
    degraded = [c.name for c in grid.conditions if not c.clean]
    for tracker, row in index_cells(cells).items():
        values = [_hota(row.get(c)) for c in degraded]
        ok = [v for v in values if not math.isnan(v)]
        mpc = statistics.fmean(ok) if ok else math.nan
        clean = _hota(row.get("clean"))
        fps = [c.scores["fps"] for c in row.values() if c.scores and c.scores.get("fps")]
        failed = sum(1 for c in row.values() if c.scores is None)
        rpc = mpc / clean if clean and not math.isnan(clean) and clean > 0 else math.nan
        out.append(Summary(tracker, clean, mpc, rpc, statistics.fmean(fps) if fps else None,
                           failed))  # fmt: skip
    return out


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def legend(specs: dict[str, str]) -> list[str]:
    """Lines naming the spec behind each tracker label that does not spell it out (long
    specs are labelled by a digest, which folder names need).

    >>> legend({"bytetrack": "bytetrack", "vsdmot_0123": "vsdmot-botsort:iou_buffer=0.2"})
    ['', 'Trackers: `vsdmot_0123` = `vsdmot-botsort:iou_buffer=0.2`.']
    """
    named = [f"`{label}` = `{spec}`" for label, spec in specs.items() if label != spec
             and label != spec.replace(":", "_").replace(",", "_")]  # fmt: skip
    return ["", "Trackers: " + "; ".join(named) + "."] if named else []


def markdown(cells: Sequence[Cell], grid: GridSpec, meta: dict[str, Any]) -> str:
    table = index_cells(cells)
    trackers = list(table)
    lines = [
        "# MOT-C robustness report",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Data: `{meta['data']}`; protocol: **{grid.protocol}** ("
        + ("the clean frames' detections in every condition: isolates the tracker"
           if grid.protocol == "fixed" else
           f"detector `{meta['detector']}` re-run on each condition's frames")
        + f"); seed {grid.seed}"
        + ("" if grid.max_frames is None else f"; first {grid.max_frames} frames")
        + f"; vsdmot {meta['versions']['vsdmot']}.",
        "",
        "## Summary",
        "",
        "| tracker | clean HOTA | mPC | rPC | frames/s | failed cells |",
        "|---|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for s in summarise(cells, grid):
        lines.append(f"| {s.tracker} | {_f(s.clean_hota)} | {_f(s.mpc)} | {_f(s.rpc)} | "
                     f"{_f(s.fps, 1)} | {s.failed} |")  # fmt: skip
    lines += legend(meta.get("trackers", {}))
    lines += ["", "## HOTA per condition", "", "| condition | " + " | ".join(trackers) + " |",
              "|---|" + "---:|" * len(trackers)]  # fmt: skip
    for cond in grid.conditions:
        lines.append(
            f"| {cond.name} | "
            + " | ".join(_f(_hota(table[t].get(cond.name))) for t in trackers)
            + " |"
        )
    lines += ["", "## All metrics", "", "| condition | tracker | " + " | ".join(METRICS) + " |",
              "|---|---|" + "---:|" * len(METRICS)]  # fmt: skip
    for cond in grid.conditions:
        for t in trackers:
            cell = table[t].get(cond.name)
            if cell is None or cell.scores is None:
                lines.append(
                    f"| {cond.name} | {t} | failed: "
                    f"{(cell.error or '').splitlines()[0] if cell else 'missing'} |"
                )
                continue
            m = cell.scores["combined"]
            lines.append(
                f"| {cond.name} | {t} | "
                + " | ".join(f"{m[k]:.0f}" if k == "IDSW" else f"{m[k]:.3f}" for k in METRICS)
                + " |"
            )
    return "\n".join(lines) + "\n"


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return base64.b64encode(buf.getvalue()).decode()


def _curves(grid: GridSpec) -> dict[str, dict[str, list[tuple[float, str]]]]:
    """The grid's degraded conditions as plot series: type -> schedule -> severities.

    >>> from vsdmot.experiments.grid import Condition
    >>> _curves(GridSpec(extra=(Condition("fog", 3.0), Condition("fog", 1.0))))
    {'fog': {'constant': [(1.0, 'fog-s1-constant'), (3.0, 'fog-s3-constant')]}}
    """
    out: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for c in grid.conditions:
        if not c.clean:
            out.setdefault(c.type, {}).setdefault(c.schedule, []).append((c.severity, c.name))
    for by_schedule in out.values():
        for points in by_schedule.values():
            points.sort()
    return out


def figures(cells: Sequence[Cell], grid: GridSpec) -> dict[str, str]:
    """Base64 PNGs: HOTA vs severity per type, rPC per tracker, speed vs rPC."""
    from matplotlib.figure import Figure

    table = index_cells(cells)
    trackers = list(table)
    out: dict[str, str] = {}
    curves = _curves(grid)  # type -> schedule -> [(severity, condition name)]
    n = max(1, len(curves))
    cols = min(4, n)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows), dpi=90, layout="constrained")
    for k, (kind, by_schedule) in enumerate(curves.items()):
        ax = fig.add_subplot(rows, cols, k + 1)
        for j, t in enumerate(trackers):
            for (sched, points), style in zip(by_schedule.items(), ("-", "--", ":", "-."),
                                              strict=False):  # fmt: skip
                xs = [0.0, *(sev for sev, _ in points)]
                ys = [_hota(table[t].get("clean"))] + [_hota(table[t].get(c)) for _, c in points]
                ax.plot(xs, ys, style, marker="o", color=f"C{j}", markersize=3,
                        label=f"{t} ({sched})" if k == 0 else None)  # fmt: skip
        ax.set_title(kind, fontsize=9)
        ax.set_xlabel("severity", fontsize=8)
        ax.set_ylabel("HOTA", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.legend(loc="outside lower center", fontsize=7, ncols=min(4, len(trackers) * 2))
    out["severity"] = _png(fig)
    summary = summarise(cells, grid)
    fig = Figure(figsize=(5.0, 3.0), dpi=90, layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.bar([s.tracker for s in summary], [0 if math.isnan(s.rpc) else s.rpc for s in summary],
           color=[f"C{j}" for j in range(len(summary))])  # fmt: skip
    ax.set_ylabel("rPC (mPC / clean HOTA)")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    out["rpc"] = _png(fig)
    fig = Figure(figsize=(5.0, 3.0), dpi=90, layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    for j, s in enumerate(summary):
        if s.fps and not math.isnan(s.rpc):
            ax.scatter([s.fps], [s.rpc], color=f"C{j}", label=s.tracker)
    ax.set_xscale("log")
    ax.set_xlabel("frames/s (tracking only)")
    ax.set_ylabel("rPC")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    out["speed"] = _png(fig)
    return out


def html_page(markdown_text: str, pictures: dict[str, str]) -> str:
    """A self-contained page: the report's tables (as preformatted Markdown) and its plots."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>MOT-C report</title>",
             "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
             "pre{font-size:12px;overflow-x:auto;background:#f6f6f6;padding:1em}"
             "img{max-width:100%}</style></head><body>",
             "<h1>MOT-C robustness report</h1>",
             "<h2>HOTA vs severity, per degradation type</h2>",
             f"<img alt='HOTA vs severity' src='data:image/png;base64,{pictures['severity']}'>",
             "<h2>Robustness (rPC) and speed</h2>",
             f"<img alt='rPC' src='data:image/png;base64,{pictures['rpc']}'>",
             f"<img alt='speed vs rPC' src='data:image/png;base64,{pictures['speed']}'>",
             "<h2>Tables</h2>",
             f"<pre>{html.escape(markdown_text)}</pre></body></html>"]  # fmt: skip
    return "\n".join(parts)


def write_report(out: Path, cells: Sequence[Cell], grid: GridSpec, meta: dict[str, Any]) -> None:
    """``OUT/report.md``, ``OUT/report.html``, ``OUT/report.json`` and ``OUT/plots/*.png``,
    each written atomically."""
    text = markdown(cells, grid, meta)
    with atomic_write(out / "report.md") as f:
        f.write(text)
    pictures = figures(cells, grid)
    with atomic_write(out / "report.html") as f:
        f.write(html_page(text, pictures))
    for name, data in pictures.items():  # the plots as files too, for slides and docs
        with atomic_write(out / "plots" / f"{name}.png", "wb") as f:
            f.write(base64.b64decode(data))
    data = {
        **meta,
        "grid": {"conditions": [c.name for c in grid.conditions],
                 "types": list(grid.types), "severities": list(grid.severities),
                 "schedules": list(grid.schedules), "protocol": grid.protocol,
                 "seed": grid.seed, "max_frames": grid.max_frames},
        "summary": [vars(s) for s in summarise(cells, grid)],
        "cells": [{"tracker": c.tracker, "condition": c.condition, "scores": c.scores,
                   "error": c.error} for c in cells],
    }  # fmt: skip
    with atomic_write(out / "report.json") as f:
        json.dump(json_safe(data), f, indent=1)
