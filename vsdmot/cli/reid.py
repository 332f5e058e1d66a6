"""``vsdmot train-reid``: train the person-crop embedder used by
``appearance_embedder=reid`` (and ``reid_colour``).

::

    vsdmot train-reid --out runs/reid --sequence ../shared/data/mot15/PETS09-S2L1 \\
        --frames 1-600 --imagenet ../shared/weights/mobilenet_v2_imagenet_features.pt
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def parse_span(text: str) -> tuple[int, int]:
    """``"1-600"`` -> ``(1, 600)``.

    >>> parse_span("1-600")
    (1, 600)
    """
    first, _, last = text.partition("-")
    try:
        span = int(first), int(last)
    except ValueError:
        span = (0, -1)
    if not 1 <= span[0] <= span[1]:
        raise ValueError(f"--frames {text!r}: expected FIRST-LAST with 1 <= FIRST <= LAST")
    return span


def train_reid_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created).")],
    sequence: Annotated[Path, typer.Option(help="MOT sequence folder with gt/gt.txt.")],
    imagenet: Annotated[
        Path, typer.Option(help="ImageNet MobileNetV2 features file (teacher and start).")
    ],
    frames: Annotated[str, typer.Option(help="Frames to train on, FIRST-LAST.")] = "1-600",
    steps: Annotated[int, typer.Option(min=1, help="Optimisation steps.")] = 1500,
    pairs: Annotated[int, typer.Option(min=1, help="Frame pairs per step.")] = 6,
    variants: Annotated[int, typer.Option(min=1, help="Degraded copies of each frame.")] = 4,
    holdout_ids: Annotated[
        int, typer.Option(min=0, help="People kept out of training to choose the colour weight.")
    ] = 4,
    seed: Annotated[int, typer.Option(min=0, help="Seed: same seed, same weights.")] = 0,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Distil a person-crop embedder (student on degraded crops, teacher on clean ones,
    identity contrast across frames); writes OUT/reid.pt."""
    from vsdmot.engine.reid_run import WEIGHTS_NAME, ReidRunInputs, run_train_reid
    from vsdmot.engine.reid_train import ReidTrainConfig
    from vsdmot.reid.model import CropEmbedderConfig

    if not (sequence / "gt" / "gt.txt").is_file():
        raise FileNotFoundError(f"{sequence}: no gt/gt.txt (a MOT sequence with ground truth)")
    inputs = ReidRunInputs(sequence, parse_span(frames), imagenet, variants, holdout_ids)
    cfg = ReidTrainConfig(steps=steps, pairs=pairs, seed=seed)
    provenance = run_train_reid(inputs, CropEmbedderConfig(), cfg, out, progress)
    typer.echo(json.dumps({k: provenance[k] for k in ("loss", "colour_weight")}))
    typer.echo(f"weights: {out / WEIGHTS_NAME}")


COMMANDS["train-reid"] = user_errors(train_reid_command)
