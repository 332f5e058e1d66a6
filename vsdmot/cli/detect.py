"""``vsdmot detect``: store a detector's boxes as each sequence's det.txt, or as one MOTRv2
det_db file (training proposals)."""

from __future__ import annotations

from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors

FORMATS = ("det", "det_db")


def detect(
    data: list[Path] = typer.Argument(
        ..., help="Dataset folders of sequences, or sequence folders."
    ),
    proposals: str = typer.Option(
        "yolo",
        "--proposals",
        "-p",
        help="Detector spec: 'yolo[:opts]', 'hog[:opts]', ...; 'det' or 'det_db:FILE' convert "
        "stored boxes.",
    ),
    output_format: str = typer.Option(
        "det",
        "--format",
        help="det: SEQ/det/<name> in each sequence; det_db: one MOTRv2 det_db JSON (--db).",
    ),
    name: str = typer.Option(
        "det.txt",
        "--name",
        help="File written in each SEQ/det/ (a replaced det.txt is kept as det_original.txt).",
    ),
    db: Path = typer.Option(
        None,
        "--db",
        help="--format det_db: the JSON file written, or merged into when it exists.",
    ),
    key_prefix: str = typer.Option(
        None,
        "--key-prefix",
        help="--format det_db: the <dataset>/<split> start of every key \\[default: the two "
        "folder names above each sequence].",
    ),
    mot17_detector: str = typer.Option(
        "SDP", "--mot17-detector", help="MOT17 copies processed: DPM | FRCNN | SDP | all."
    ),
) -> None:
    """Run a detector on every frame of DATA and write its boxes in MOTChallenge det format
    or as a MOTRv2 det_db."""
    from vsdmot.proposals.build import source_factory
    from vsdmot.proposals.dataset import detect_dataset, detect_to_det_db

    if output_format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    if output_format == "det" and (db is not None or key_prefix is not None):
        raise ValueError("--db and --key-prefix go with --format det_db")
    if output_format == "det_db" and db is None:
        raise ValueError("--format det_db needs --db FILE.json (written, or merged into)")
    _check_db_output(db, data, proposals)
    source_for = source_factory(proposals)
    for folder in data:
        if output_format == "det_db":
            reports = detect_to_det_db(folder, source_for, db, prefix=key_prefix,
                                       mot17_detector=mot17_detector)  # fmt: skip
        else:
            reports = detect_dataset(folder, source_for, name=name, mot17_detector=mot17_detector)
        for r in reports:
            typer.echo(f"{r.sequence}: {r.boxes} boxes in {r.frames} frames -> {r.path}")


def _check_db_output(db: Path | None, data: list[Path], proposals: str) -> None:
    """``--db`` must not be a file of the sequences, nor the boxes read."""
    from vsdmot.proposals.build import spec_files
    from vsdmot.utils.outputs import check_outputs, dataset_inputs

    inputs = {p.resolve() for p in spec_files(proposals)}
    for folder in data:
        inputs |= dataset_inputs(folder)
    check_outputs({"--db": db}, inputs)


COMMANDS["detect"] = user_errors(detect)
