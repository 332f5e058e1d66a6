"""``vsdmot track``: track any video, image folder, sequence folder, camera or stream."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def _D(field: str) -> str:
    """``[default: X]`` from :class:`TrackerParams`, the one place runtime defaults live."""
    from vsdmot.tracking.query_tracker import TrackerParams

    return f"\\[default: {getattr(TrackerParams(), field)}]"


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
        "'yolo[:size=512,score=0.1,classes=person,...]' (YOLOv3-tiny), 'hog[:opts]' or "
        "'ultralytics[:MODEL]' \\[default: det for sequence folders, else yolo].",
    ),
    tracker: str = typer.Option(
        "vsdmot",
        help="vsdmot | bytetrack | ocsort | botsort | sort | deepsort (peers on the same "
        "proposals).",
    ),
    output_format: str = typer.Option("mot", "--format", help="mot (MOTChallenge txt) | jsonl."),
    video: Path = typer.Option(None, "--video", help="Write a rendered MP4 here."),
    show: bool = typer.Option(False, "--show", help="Live window (when a display exists)."),
    min_score: float = typer.Option(0.0, help="Drop proposals scoring below this."),
    birth_thresh: float = typer.Option(
        None,
        min=0.0,
        max=1.0,
        help=f"Score a new object needs to start a track {_D('birth_thresh')}.",
    ),
    keep_thresh: float = typer.Option(
        None, min=0.0, max=1.0, help=f"Score a track needs to be reported {_D('keep_thresh')}."
    ),
    miss_tolerance: int = typer.Option(
        None, min=0, help=f"Frames a track may be missed before it dies {_D('miss_tolerance')}."
    ),
    anchor_iou: float = typer.Option(
        None,
        min=0.0,
        max=1.0,
        help=f"Re-anchor track queries on proposals overlapping this much (0: off) "
        f"{_D('anchor_iou')}.",
    ),
    association: str = typer.Option(
        None,
        help=f"fused (motion + quality-weighted appearance, two stages) | anchor | e2e "
        f"{_D('association')}.",
    ),
    motion: str = typer.Option(None, help=f"kalman | velocity | static {_D('motion')}."),
    settings: list[str] = typer.Option(
        None,
        "--set",
        help="Any runtime setting as NAME=VALUE (repeatable), e.g. --set appearance_weight=0.5; "
        "names and defaults: docs/tracking.md.",
    ),
    input_size: int = typer.Option(
        None,
        min=32,
        max=4096,
        help=f"Shorter side of the frames fed to the model {_D('input_short_side')}.",
    ),
    max_tracks: int = typer.Option(
        None, min=1, help=f"Cap on live tracks (bounds memory and time) {_D('max_tracks')}."
    ),
    max_frames: int = typer.Option(None, min=1, help="Stop after this many frames."),
    cache_dir: Path = typer.Option(None, help="Cache detector proposals here (re-use on re-runs)."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N."),
    threads: int = typer.Option(
        None, help="Torch threads of the tracker \\[default: all cores but one, for the detector]."
    ),
) -> None:
    """Track objects in SOURCE and write MOTChallenge results (plus optional video)."""
    from vsdmot.tracking.peers import PEERS
    from vsdmot.tracking.pipeline import track_source
    from vsdmot.tracking.query_tracker import TrackerParams, parse_setting
    from vsdmot.utils.device import check_device

    if tracker != "vsdmot" and tracker not in PEERS:
        raise ValueError(f"--tracker must be vsdmot or one of {', '.join(PEERS)}, not {tracker!r}")
    if output_format not in ("mot", "jsonl"):
        raise ValueError(f"--format must be mot or jsonl, not {output_format!r}")
    check_device(device)
    if out is None:
        out = Path(f"{default_stem(source)}.{'txt' if output_format == 'mot' else 'jsonl'}")
    check_outputs(source, out, video)
    given = {
        "birth_thresh": birth_thresh,
        "keep_thresh": keep_thresh,
        "miss_tolerance": miss_tolerance,
        "input_short_side": input_size,
        "input_max_side": None if input_size is None else round(input_size * 5 / 3),
        "max_tracks": max_tracks,
        "anchor_iou": anchor_iou,
        "association": association,
        "motion": motion,
    }
    given.update(parse_setting(item) for item in settings or [])
    params = {k: v for k, v in given.items() if v is not None} if tracker == "vsdmot" else None
    if params:
        # Check the combination before any work (a bad name fails here, not after loading).
        TrackerParams(**params)
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
    if result.run.interrupted:
        raise typer.Exit(code=130)


def default_stem(source: str) -> str:
    """Results file stem for a source: its name; ``camera0`` for a camera; a glob's folder.

    >>> default_stem("clips/walk.mp4"), default_stem("0"), default_stem("frames/*.png")
    ('walk', 'camera0', 'frames')
    >>> default_stem("http://cam.local/live/video.mjpg?user=a&fps=10")
    'video'

    """
    if source.isdigit():
        return f"camera{source}"
    if "://" in source:  # a stream: its path, without query or fragment
        source = re.split(r"[?#]", source.split("://", 1)[1], maxsplit=1)[0]
    elif any(c in source for c in "*?["):
        # A glob: name the results after the folder before the first wildcard.
        head = re.split(r"[*?\[]", source, maxsplit=1)[0]
        source = head if head.endswith("/") or not head else str(Path(head).parent)
    stem = re.sub(r"[^\w.-]+", "_", Path(source.rstrip("/")).stem).strip("._")
    return stem or "tracks"


def check_outputs(source: str, out: Path, video: Path | None) -> None:
    """Refuse outputs that would overwrite the input, and unwritable folders, before any work."""
    src = Path(source)
    inputs = {src.resolve()} if src.is_file() else set()
    for path, flag in ((out, "--out"), (video, "--video")):
        if path is None:
            continue
        if path.resolve() in inputs:
            raise ValueError(f"{flag} {path} is the input video; choose another file")
        if path.is_dir():
            raise ValueError(f"{flag} {path} is a folder; give a file name")
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise OSError(
                f"{flag} {path}: cannot write in {folder} ({exc.strerror or exc})"
            ) from exc
    if video is not None and out.resolve() == video.resolve():
        raise ValueError(f"--out and --video are the same file: {out}")


COMMANDS["track"] = user_errors(track)
