"""``vsdmot track``: track any video, image folder, sequence folder, camera or stream."""

from __future__ import annotations

from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def track(
    source: str = typer.Argument(
        ...,
        help="Video file, image folder, MOTChallenge sequence folder, glob, camera index "
        "(0) or rtsp/http URL.",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Results file \\[default: <name>.txt]."),
    weights: Path = typer.Option(
        None, "--weights", "-w", help="Checkpoint (model.pt) \\[default: the shipped model]."
    ),
    proposals: str = typer.Option(
        None,
        "--proposals",
        "-p",
        help="'det' (the sequence's det/det.txt), a det.txt / proposal database, "
        "'yolo[:size=416,score=0.1,classes=person,...]' (YOLOv3-tiny), 'hog[:opts]' or "
        "'ultralytics[:MODEL]' \\[default: det for sequence folders, else yolo].",
    ),
    tracker: str = typer.Option(
        "vsdmot", help="vsdmot | bytetrack | ocsort | botsort | sort (peers on the same proposals)."
    ),
    output_format: str = typer.Option("mot", "--format", help="mot (MOTChallenge txt) | jsonl."),
    video: Path = typer.Option(None, "--video", help="Write a rendered MP4 here."),
    show: bool = typer.Option(False, "--show", help="Live window (when a display exists)."),
    min_score: float = typer.Option(0.0, help="Drop proposals scoring below this."),
    birth_thresh: float = typer.Option(0.2, help="Score a new object needs to start a track."),
    keep_thresh: float = typer.Option(0.4, help="Score a track needs to be reported."),
    miss_tolerance: int = typer.Option(10, help="Frames a track may be missed before it dies."),
    anchor_iou: float = typer.Option(
        0.4, help="Re-anchor track queries on proposals overlapping this much (0: off)."
    ),
    input_size: int = typer.Option(384, help="Shorter side of the frames fed to the model."),
    max_tracks: int = typer.Option(100, help="Cap on live tracks (bounds memory and time)."),
    max_frames: int = typer.Option(None, help="Stop after this many frames."),
    cache_dir: Path = typer.Option(None, help="Cache detector proposals here (re-use on re-runs)."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N."),
    threads: int = typer.Option(
        None, help="Torch threads of the tracker \\[default: all cores but one, for the detector]."
    ),
) -> None:
    """Track objects in SOURCE and write MOTChallenge results (plus optional video)."""
    from vsdmot.tracking.peers import PEER_CLASSES
    from vsdmot.tracking.pipeline import track_source

    if tracker != "vsdmot" and tracker not in PEER_CLASSES:
        raise ValueError(
            f"--tracker must be vsdmot or one of {', '.join(PEER_CLASSES)}, not {tracker!r}"
        )
    if output_format not in ("mot", "jsonl"):
        raise ValueError(f"--format must be mot or jsonl, not {output_format!r}")
    if out is None:
        stem = Path(source.rstrip("/")).stem if not source.isdigit() else f"camera{source}"
        out = Path(f"{stem or 'tracks'}.{'txt' if output_format == 'mot' else 'jsonl'}")
    params = (
        {
            "birth_thresh": birth_thresh,
            "keep_thresh": keep_thresh,
            "miss_tolerance": miss_tolerance,
            "input_short_side": input_size,
            "input_max_side": round(input_size * 5 / 3),
            "max_tracks": max_tracks,
            "anchor_iou": anchor_iou,
        }
        if tracker == "vsdmot"
        else None
    )
    result = track_source(
        source,
        out,
        tracker=tracker,  # type: ignore[arg-type]
        weights=weights,
        proposals=proposals,
        min_score=min_score,
        output_format=output_format,  # type: ignore[arg-type]
        video=video,
        show=show,
        device=device,
        tracker_params=params,
        max_frames=max_frames,
        cache_dir=cache_dir,
        threads=threads,
    )
    typer.echo(result.summary())


COMMANDS["track"] = user_errors(track)
