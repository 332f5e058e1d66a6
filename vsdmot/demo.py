"""``vsdmot demo``: the whole pipeline on an embedded default, no download needed.

1. generate a short annotated sequence (:mod:`vsdmot.data.synth`);
2. degrade it with a time-varying schedule (:mod:`vsdmot.degrade`), which also
   re-simulates the detector so proposals get worse where frames do;
3. track the clean and the degraded version with the shipped model, and with
   ByteTrack on the very same proposals as a reference;
4. score everything with TrackEval, compute the robustness summary, plot HOTA
   and frame quality over time, render the degraded tracking video.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vsdmot.data.synth import SynthConfig, generate_dataset
from vsdmot.eval import evaluate, plot_robustness, robustness
from vsdmot.experiments.grid import GridSpec
from vsdmot.experiments.runner import RunConfig, cell_dir, condition_root, run_grid
from vsdmot.tracking.pipeline import TrackJob, track_source
from vsdmot.tracking.registry import parse_tracker
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

SEQ = "SYNTH-0000"


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo; ``quick`` is what the test suite runs."""

    frames: int = 120
    width: int = 640
    height: int = 480
    degradation: str = "mix"
    severity: float = 4.0
    schedule: str = "random_walk"
    seed: int = 7
    window: int = 20
    """Frames per window of the HOTA-over-time plot."""

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(frames=40, width=480, height=360, window=10)


@dataclass
class DemoResult:
    out: Path
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1")


def run_demo(
    out: str | Path,
    cfg: DemoConfig | None = None,
    *,
    weights: str | Path | None = None,
    progress: bool = True,
) -> DemoResult:
    cfg = cfg or DemoConfig()
    out = Path(out)
    result = DemoResult(out)
    clean = out / "data" / "clean"
    synth_cfg = SynthConfig(width=cfg.width, height=cfg.height, n_frames=cfg.frames)
    generate_dataset(clean, 1, cfg.frames, cfg.seed, synth_cfg, progress=progress, overwrite=True)
    vsdmot = "vsdmot" if weights is None else f"vsdmot:weights={weights}"
    run = RunConfig(data=clean, out=out / "run", trackers=(vsdmot, "bytetrack"),
                    grid=GridSpec((cfg.degradation,), (cfg.severity,), (cfg.schedule,),
                                  seed=cfg.seed))  # fmt: skip
    cells = {(c.tracker, c.condition): c for c in run_grid(run, progress=progress)}
    degraded = run.grid.conditions[1]
    lq = condition_root(run, degraded)
    for spec, kind in ((vsdmot, "vsdmot"), ("bytetrack", "bytetrack")):
        label = parse_tracker(spec).label
        preds = {name: cell_dir(run, label, c) for name, c in
                 (("clean", run.grid.conditions[0]), ("degraded", degraded))}  # fmt: skip
        for name in ("clean", "degraded"):
            cell = cells[(label, run.grid.conditions[0 if name == "clean" else 1].name)]
            if cell.scores is None:
                raise RuntimeError(f"{kind} on {name} failed: {cell.error}")
            result.scores[f"{kind} {name}"] = {m: cell.scores["combined"][m] for m in METRICS}
        rob = robustness(clean, preds["clean"], lq, preds["degraded"], progress=False)
        result.scores[f"{kind} degraded"]["rPC"] = float(rob.rPC)
        result.files[f"{kind}_tracks"] = preds["degraded"]
        if kind == "vsdmot":
            result.files["severity_plot"] = out / "hota_by_severity.png"
            plot_robustness(rob, result.files["severity_plot"])
    _render(result, vsdmot, lq / SEQ, progress)
    result.files["timeline_plot"] = out / "hota_quality_over_time.png"
    _plot_timeline(result, lq / SEQ, cfg, result.files["timeline_plot"])
    result.files["table"] = out / "results.md"
    _write_table(result, cfg)
    with atomic_write(out / "results.json") as f:
        json.dump(dict(result.scores), f, indent=2)
    result.files["json"] = out / "results.json"
    return result


def _render(result: DemoResult, spec: str, lq_seq: Path, progress: bool) -> None:
    """The degraded sequence tracked by vsdmot, rendered, with its per-frame q_t."""
    video = result.out / "vsdmot-degraded.mp4"
    job = TrackJob(str(lq_seq), result.out / "render" / f"{SEQ}.txt", tracker=spec,
                   proposals="det", video=video, progress=progress)  # fmt: skip
    run = track_source(job)
    result.files["video"] = video
    result.files["per_frame"] = run.per_frame


def _windowed_hota(gt: Path, pred: Path, n: int, window: int) -> list[tuple[int, int, float]]:
    spans = []
    for first in range(1, n + 1, window):
        last = min(n, first + window - 1)
        res = evaluate(gt, pred, frame_range=(first, last), progress=False)
        spans.append((first, last, float(res.combined.HOTA)))
    return spans


def _plot_timeline(result: DemoResult, lq_seq: Path, cfg: DemoConfig, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with open(lq_seq / "quality.csv") as f:
        rows = list(csv.DictReader(f))
    frames = np.array([int(r["frame"]) for r in rows])
    quality = np.array([float(r["quality"]) for r in rows])
    fig = Figure(figsize=(8, 4), dpi=100)
    ax = fig.add_subplot()
    ax.plot(frames, quality, color="0.5", label="quality label (from severity)")
    with open(result.files["per_frame"]) as f:
        pf = list(csv.DictReader(f))
    if pf and "quality" in pf[0]:
        ax.plot(
            [int(r["frame"]) for r in pf], [float(r["quality"]) for r in pf],
            color="tab:green", label="predicted q_t (DSWR)",
        )  # fmt: skip
    for kind, color in (("vsdmot", "tab:blue"), ("bytetrack", "tab:orange")):
        spans = _windowed_hota(lq_seq.parent, result.files[f"{kind}_tracks"], len(frames),
                               cfg.window)  # fmt: skip
        for i, (a, b, h) in enumerate(spans):
            ax.hlines(h, a, b, color=color, lw=3, label=f"{kind} HOTA ({cfg.window}-frame windows)"
                      if i == 0 else None)  # fmt: skip
    ax.set_xlabel("frame")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"degraded sequence ({cfg.degradation}, {cfg.schedule}, peak {cfg.severity:g})")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png")


def _write_table(result: DemoResult, cfg: DemoConfig) -> None:
    lines = [
        f"# vsdmot demo: {cfg.frames} generated frames, degraded with {cfg.degradation} "
        f"({cfg.schedule}, peak severity {cfg.severity:g})",
        "",
        "| tracker | data | " + " | ".join(METRICS) + " | rPC |",
        "|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for key, scores in result.scores.items():
        kind, data = key.split(" ")
        vals = " | ".join(f"{scores[m]:.3f}" for m in METRICS)
        rpc = f"{scores['rPC']:.3f}" if "rPC" in scores else ""
        lines.append(f"| {kind} | {data} | {vals} | {rpc} |")
    lines += ["", "rPC = HOTA(degraded) / HOTA(clean). Both trackers see the same proposals."]
    with atomic_write(result.files["table"]) as f:
        f.write("\n".join(lines) + "\n")
