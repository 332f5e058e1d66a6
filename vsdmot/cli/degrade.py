"""``vsdmot degrade``: write a degraded copy of a MOTChallenge dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def degrade(
    src: Path = typer.Argument(..., help="Dataset folder of sequences, or one sequence folder."),
    out: Path = typer.Argument(..., help="Output dataset folder (same layout)."),
    type: str = typer.Option(
        "mix",
        "--type",
        "-t",
        help="Degradation type (see docs/degradations.md), or mix; NAME:key=value,... for a "
        "type's options (realesrgan:config=ranges.yaml).",
    ),
    severity: float = typer.Option(3.0, "--severity", "-s", help="Peak severity in [0, 5]."),
    schedule: str = typer.Option(
        "constant",
        "--schedule",
        "-p",
        help="constant | ramp | periodic | random_walk | bursts, optionally NAME:key=value,...",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: same seed, same bytes."),
    redetect: bool | None = typer.Option(
        None,
        "--redetect/--no-redetect",
        help="Re-simulate det.txt on generated sequences \\[default: when synth.json exists].",
    ),
    image_ext: str = typer.Option(".jpg", "--image-ext", help=".jpg (quality 95) or .png."),
    max_frames: int | None = typer.Option(
        None, "--max-frames", min=1, help="Only the first N frames of each sequence."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing sequences."),
    mot17_detector: str = typer.Option(
        "SDP", "--mot17-detector", help="MOT17 copies degraded: DPM | FRCNN | SDP | all."
    ),
) -> None:
    """Degrade every sequence of SRC into OUT with per-frame quality labels."""
    from vsdmot.degrade.dataset import DegradeJob, degrade_dataset

    job = DegradeJob(type, severity, schedule, seed, image_ext, redetect, max_frames)
    reports = degrade_dataset(src, out, job, overwrite=overwrite, mot17_detector=mot17_detector)
    for r in reports:
        typer.echo(
            f"{r.name}: {r.frames} frames -> {r.path}  quality {r.mean_quality:.3f}  "
            f"PSNR {r.mean_psnr:.2f} dB  SSIM {r.mean_ssim:.3f}"
            + ("  (detections re-simulated)" if r.redetected else "")
        )


COMMANDS["degrade"] = user_errors(degrade)
