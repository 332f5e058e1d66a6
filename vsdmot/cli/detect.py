"""``vsdmot detect``: store a detector's boxes as each sequence's det.txt (training proposals)."""

from __future__ import annotations

from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def detect(
    data: list[Path] = typer.Argument(
        ..., help="Dataset folders of sequences, or sequence folders."
    ),
    proposals: str = typer.Option(
        "yolo", "--proposals", "-p", help="Detector spec: 'yolo[:opts]', 'hog[:opts]', ..."
    ),
    name: str = typer.Option(
        "det.txt",
        "--name",
        help="File written in each SEQ/det/ (a replaced det.txt is kept as det_original.txt).",
    ),
) -> None:
    """Run a detector on every frame of DATA and write its boxes in MOTChallenge det format."""
    from vsdmot.proposals import build_proposal_source
    from vsdmot.proposals.dataset import detect_dataset

    source = build_proposal_source(proposals)
    for folder in data:
        for r in detect_dataset(folder, source, name=name):
            typer.echo(f"{r.sequence}: {r.boxes} boxes in {r.frames} frames -> {r.path}")


COMMANDS["detect"] = user_errors(detect)
