"""``vsdmot synth``: write a dataset of generated, annotated sequences."""

from __future__ import annotations

from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def parse_range(text: str) -> tuple[int, int]:
    """``"6-12"`` -> ``(6, 12)``; ``"8"`` -> ``(8, 8)``.

    >>> parse_range("6-12"), parse_range("8")
    ((6, 12), (8, 8))
    """
    parts = text.strip().split("-")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 0 or values[0] > values[-1]:
        raise ValueError(f"--objects {text!r}: expected MIN-MAX with 0 <= MIN <= MAX (e.g. 6-12)")
    return values[0], values[-1]


def synth(
    out: Path = typer.Argument(..., help="Dataset folder; sequences go to OUT/SYNTH-0000 ..."),
    sequences: int = typer.Option(4, "--sequences", "-n", min=1, help="Number of sequences."),
    frames: int = typer.Option(100, "--frames", "-t", min=1, help="Frames per sequence."),
    seed: int = typer.Option(0, "--seed", "-s", min=0, help="Seed: same seed, same files."),
    width: int = typer.Option(640, "--width", min=32, max=4096, help="Image width (pixels)."),
    height: int = typer.Option(480, "--height", min=32, max=4096, help="Image height (pixels)."),
    objects: str = typer.Option("6-12", "--objects", help="Objects on screen at once, MIN-MAX."),
    camera_motion: bool = typer.Option(
        True, "--camera-motion/--no-camera-motion", help="Pan and shake the camera."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing sequences."),
) -> None:
    """Generate annotated pedestrian-like sequences (MOTChallenge layout, gt + det)."""
    from vsdmot.data.synth import SynthConfig, generate_dataset

    config = SynthConfig(
        width=width,
        height=height,
        n_frames=frames,
        objects=parse_range(objects),
        camera_motion=camera_motion,
    )
    paths = generate_dataset(out, sequences, frames, seed, config, overwrite=overwrite)
    typer.echo(f"wrote {len(paths)} sequence(s) of {frames} frames to {out}")


COMMANDS["synth"] = user_errors(synth)
