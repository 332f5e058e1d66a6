"""``vsdmot track``: track any video, image folder, sequence folder, camera or stream."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors
from vsdmot.cli.executor_options import executor_options
from vsdmot.utils.outputs import default_stem

if TYPE_CHECKING:
    from vsdmot.executors import ExecutorOptions
    from vsdmot.tracking.pipeline import TrackJob


def _D(name: str) -> str:
    """``[default: X]`` of a vsdmot setting (from the one place its default lives)."""
    from vsdmot.tracking.params import TrackerParams

    return f"\\[default for vsdmot: {TrackerParams().flat()[name]}]"


#: Flags that set one tracker setting each: flag name -> setting name. With a tracker
#: that has no such setting, the flag is an error (never silently dropped).
SETTING_FLAGS = {
    "weights": "weights",
    "birth_thresh": "birth_thresh",
    "keep_thresh": "keep_thresh",
    "miss_tolerance": "miss_tolerance",
    "anchor_iou": "anchor_iou",
    "association": "association",
    "motion": "motion",
    "max_tracks": "max_tracks",
}


def track(
    source: str = typer.Argument(
        None,
        help="Video file, image folder, MOTChallenge sequence folder, glob, camera index "
        "(0) or rtsp/http URL.",
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Results file \\[default: <name>.txt]; with --batch a folder."
    ),
    batch: Path = typer.Option(
        None,
        "--batch",
        help="Track many videos instead of SOURCE: a folder (its videos, sequence and image "
        "folders) or a list file (one source per line); one result per video in --out, "
        "resumable.",
    ),
    tracker: str = typer.Option(
        "vsdmot",
        "--tracker",
        "-t",
        help="Tracker spec NAME[:KEY=VALUE,...], e.g. 'bytetrack:lost_track_buffer=10'; "
        "every tracker and setting: --list-trackers.",
    ),
    list_trackers: bool = typer.Option(
        False, "--list-trackers", help="Print every tracker with its settings and exit."
    ),
    weights: str = typer.Option(
        None, "--weights", "-w", help="vsdmot checkpoint (model.pt) \\[default: the shipped model]."
    ),
    proposals: str = typer.Option(
        None,
        "--proposals",
        "-p",
        help="'det' (the sequence's det/det.txt), 'det_db:FILE.json' (MOTRv2 det_db), a "
        "det.txt / proposal database, "
        "'yolo[:size=512,score=0.1,classes=person,...]' (YOLOv3-tiny), 'hog[:opts]' or "
        "'ultralytics[:model=MODEL]' \\[default: det for sequence folders, else yolo].",
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
        None, min=0.0, max=1.0, help=f"Score a track needs to be seen {_D('keep_thresh')}."
    ),
    miss_tolerance: int = typer.Option(
        None, min=0, help=f"Frames a track may be missed before it dies {_D('miss_tolerance')}."
    ),
    anchor_iou: float = typer.Option(
        None, min=0.0, max=1.0, help=f"'anchor' association: IoU to re-anchor {_D('anchor_iou')}."
    ),
    association: str = typer.Option(None, help=f"fused | anchor | e2e {_D('association')}."),
    motion: str = typer.Option(None, help=f"kalman | velocity | static {_D('motion')}."),
    settings: list[str] = typer.Option(
        None,
        "--set",
        help="Any setting of the tracker as NAME=VALUE (repeatable), e.g. --set "
        "appearance_weight=0.5; names and defaults: --list-trackers.",
    ),
    input_size: int = typer.Option(
        None,
        min=32,
        max=4096,
        help=f"vsdmot: shorter side of the frames fed to the model {_D('input_short_side')}.",
    ),
    max_tracks: int = typer.Option(
        None, min=1, help=f"Cap on live tracks (bounds memory and time) {_D('max_tracks')}."
    ),
    max_frames: int = typer.Option(None, min=1, help="Stop after this many frames."),
    cache_dir: Path = typer.Option(None, help="Cache detector proposals here (re-use on re-runs)."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N (model-backed trackers)."),
    threads: int = typer.Option(
        None,
        min=1,
        help="Torch threads of the tracker \\[default: all cores but one, for the detector; "
        "--batch: cores / --jobs, on ray 1 (the CPUs each task reserves)].",
    ),
    jobs: int = typer.Option(1, min=1, help="--batch, local executor: videos in parallel."),
    executor: str = typer.Option(
        "local", "--executor", help="--batch: where videos are tracked: local | ray."
    ),
    ray_address: str = typer.Option(
        None, "--ray-address", help="--batch on ray: auto or HOST:PORT \\[default: start one]."
    ),
) -> None:
    """Track objects in SOURCE and write MOTChallenge results (plus optional video)."""
    from dataclasses import replace

    from vsdmot.tracking.pipeline import TrackJob, track_source
    from vsdmot.tracking.registry import listing
    from vsdmot.utils.device import check_device

    if list_trackers:
        typer.echo(listing())
        return
    if batch is None and (jobs > 1 or executor != "local" or ray_address is not None):
        raise ValueError("--jobs, --executor and --ray-address apply to --batch")
    if source is None and batch is None:
        raise ValueError("missing SOURCE (a video, folder, glob, camera index or URL) or --batch")
    if not math.isfinite(min_score) or not 0.0 <= min_score <= 1.0:
        raise ValueError(f"--min-score {min_score} must be a number in [0, 1]")
    if output_format not in ("mot", "jsonl"):
        raise ValueError(f"--format must be mot or jsonl, not {output_format!r}")
    check_device(device)
    flags = {name: value for name, value in locals().items() if name in SETTING_FLAGS}
    if input_size is not None:
        flags |= {"input_short_side": input_size, "input_max_side": round(input_size * 5 / 3)}
    spec = tracker_spec(tracker, flags, settings or [])
    template = TrackJob("", Path(), str(spec), proposals, min_score, output_format,  # type: ignore[arg-type]
                        None, False, device, max_frames, cache_dir, threads=threads)  # fmt: skip
    if batch is not None:
        if source is not None or video is not None or show or out is None:
            raise ValueError("--batch takes --out FOLDER, and no SOURCE, --video or --show")
        _track_batch(batch, out, template, executor_options(executor, jobs, threads, ray_address),
                     executor)  # fmt: skip
        return
    if out is None:
        out = Path(f"{default_stem(source)}.{'txt' if output_format == 'mot' else 'jsonl'}")
    read = [Path(v) for k, v in spec.settings.items() if k == "weights" and v]
    if proposals:
        from vsdmot.proposals.build import spec_files

        read += [p for p in spec_files(proposals) if p.is_file()]
    check_track_outputs(source, out, video, read)
    job = replace(template, source=source, out=out, video=video, show=show)
    result = track_source(job)
    typer.echo(result.summary())
    if result.run.interrupted:
        raise typer.Exit(code=130)


def _track_batch(
    batch: Path, out_dir: Path, template: TrackJob, opts: ExecutorOptions, executor: str
) -> None:
    """``--batch``: every source of the folder or list, one result each in ``out_dir``."""
    from dataclasses import replace

    from vsdmot.executors import open_executor
    from vsdmot.tracking.batch import batch_jobs, batch_sources, run_batch

    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir}: with --batch, --out is a folder")
    # Absolute paths: a video may be tracked in another working folder (a Ray worker).
    if template.proposals and Path(template.proposals).is_file():
        template = replace(template, proposals=str(Path(template.proposals).resolve()))
    if template.cache_dir is not None:
        template = replace(template, cache_dir=template.cache_dir.resolve())
    jobs = batch_jobs(batch_sources(batch.resolve()), out_dir.resolve(), template)
    for job in jobs:
        read = [Path(job.proposals)] if job.proposals and Path(job.proposals).is_file() else []
        check_track_outputs(job.source, job.out, None, read)
    with open_executor(executor, opts) as ex:
        report = run_batch(jobs, ex, progress=template.progress)
    typer.echo(f"{report.summary()}: {out_dir}")
    for source, error in report.failed.items():
        typer.secho(f"error: {source}: {error.splitlines()[0]}", fg=typer.colors.RED, err=True)
    if report.interrupted:
        raise typer.Exit(code=130)
    if report.failed:
        raise typer.Exit(code=1)


def tracker_spec(text: str, flags: dict[str, object], settings: list[str]):
    """The tracker spec with the setting flags and ``--set`` items added and checked:
    a flag the tracker has no setting for is an error naming the flag.

    >>> str(tracker_spec("vsdmot", {"miss_tolerance": 20, "motion": None}, ["min_hits=2"]))
    'vsdmot:miss_tolerance=20,min_hits=2'
    >>> tracker_spec("bytetrack", {"association": "anchor"}, [])
    Traceback (most recent call last):
    ...
    ValueError: --association: bytetrack has no setting 'association' (a setting of vsdmot)
    """
    from vsdmot.tracking.registry import parse_tracker, tracker_settings
    from vsdmot.utils.specs import parse_spec

    spec = parse_spec(text)
    known = tracker_settings(spec.name)
    given = {k: v for k, v in flags.items() if v is not None}
    for name in given:
        if name not in known:
            flag = "--input-size" if name.startswith("input_") else f"--{name.replace('_', '-')}"
            raise ValueError(f"{flag}: {spec.name} has no setting {name!r} (a setting of vsdmot)")
    bare = [s for s in settings if "=" not in s]
    if bare:
        raise ValueError(f"--set {bare[0]!r}: expected NAME=VALUE")
    extra = dict(parse_spec("x:" + ",".join(settings)).options) if settings else {}
    return parse_tracker(spec.with_options(**given, **extra))


def check_track_outputs(source: str, out: Path, video: Path | None, inputs: list[Path]) -> None:
    """Refuse outputs that would overwrite an input (the video, a sequence's frames,
    det/gt, seqinfo.ini, the weights or proposal file read), a pipe or device, each
    other, or that cannot be written, before any work."""
    from vsdmot.utils.outputs import check_outputs, sequence_inputs

    src = Path(source)
    read = set(inputs) | sequence_inputs(src)
    if src.is_file():
        read.add(src)
    check_outputs({"--out": out, "--video": video}, read)


COMMANDS["track"] = user_errors(track)
