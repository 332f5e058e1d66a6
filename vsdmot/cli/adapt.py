"""``vsdmot adapt-detector``: adapt the detector to degraded frames by clean-to-degraded
distillation (the teacher sees the clean frame, the student its degraded copy).

::

    vsdmot adapt-detector ../shared/data/mot15/PETS09-S2L1 --frames 1-600 --out runs/robust
    vsdmot adapt-detector my_videos/*.mp4 --out runs/robust-mine --set detection=0
    vsdmot track clip.mp4 --proposals yolo:weights=runs/robust/detector.pt
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors

if TYPE_CHECKING:
    from vsdmot.detection.files import DarknetFiles


def adapt_detector_command(
    data: Annotated[
        list[str],
        typer.Argument(
            help="Sequence folders or datasets (their gt/gt.txt trains the detection loss), "
            "CrowdHuman .odgt files (images in Images/ beside them), videos or image folders "
            "(distillation only)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created).")],
    frames: Annotated[
        str | None, typer.Option(help="Train on frames FIRST-LAST of every source (e.g. 1-600).")
    ] = None,
    teacher: Annotated[
        Path | None,
        typer.Option(
            help="Teacher: a detector.pt, or Darknet weights with --teacher-cfg "
            "(default: the bundled YOLOv3-tiny)."
        ),
    ] = None,
    teacher_cfg: Annotated[Path | None, typer.Option(help="Darknet cfg of --teacher.")] = None,
    init: Annotated[
        str | None,
        typer.Option(
            help="Start the student from this adapted detector (a detector.pt, or 'robust' "
            "for the shipped one) instead of the teacher; the teacher stays --teacher."
        ),
    ] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Training steps (default 1200).")] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="Frames per step (default 8).")
    ] = None,
    size: Annotated[
        int | None, typer.Option(help="Network input, longer side (default 416; multiple of 32).")
    ] = None,
    crowdhuman_box: Annotated[
        str, typer.Option(help="CrowdHuman boxes trained on: fbox (full body) | vbox | hbox.")
    ] = "fbox",
    threads: Annotated[int, typer.Option(min=1, help="PyTorch threads.")] = 2,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Any adaptation setting NAME=VALUE (e.g. response=0, "
            "weighting=constant, held_out=fog+rain); see docs/detector.md.",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Discard OUT's checkpoint and detector.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Distil a detector robust to low-quality frames; writes OUT/detector.pt (resumable)."""
    import torch

    from vsdmot.cli.eval import parse_frame_range
    from vsdmot.detection.adapt import AdaptConfig
    from vsdmot.detection.adapt_data import open_adapt_sources
    from vsdmot.engine.adapt import adapt_detector
    from vsdmot.utils.settings import parse_field_setting

    given = dict(parse_field_setting(AdaptConfig, item) for item in settings or [])
    for name, value in (("steps", steps), ("batch_size", batch_size), ("size", size)):
        if value is not None:
            given[name] = value
    cfg = AdaptConfig(**given)
    files, init_files = _network_files(teacher, teacher_cfg, init)
    sources = open_adapt_sources(data, parse_frame_range(frames) if frames else None,
                                 crowdhuman_box=crowdhuman_box)  # fmt: skip
    torch.set_num_threads(threads)
    labelled = sum(s.labelled for s in sources)
    typer.echo(
        f"teacher: {files.describe()}\n"
        + (f"initial student: {init_files.describe()}\n" if init_files is not None else "")
        + f"data: {len(sources)} sources ({labelled} labelled), "
        f"{sum(len(s.indices) for s in sources)} frames; types: {', '.join(cfg.train_types())}"
        f" (held out: {', '.join(cfg.held_out) or 'none'})"
    )
    result = adapt_detector(sources, out, cfg, files, progress=progress, overwrite=overwrite,
                            init=init_files)  # fmt: skip
    n = min(20, len(result.history))
    rate = result.steps_run / result.seconds if result.seconds > 0 else float("nan")
    typer.echo(
        f"done: {result.steps} steps ({result.steps_run} now, {rate:.2f} steps/s); loss "
        f"{result.mean('loss', first=n):.3f} -> {result.mean('loss', last=n):.3f}"
    )
    typer.echo(
        f"detector: {result.detector_path}  (--proposals yolo:weights={result.detector_path})"
    )


def _network_files(
    teacher: Path | None, teacher_cfg: Path | None, init: str | None
) -> tuple[DarknetFiles, DarknetFiles | None]:
    """The teacher's files (default: the bundled YOLOv3-tiny) and the initial student's."""
    from vsdmot.detection.files import (
        BUNDLED,
        bundled_detector,
        bundled_yolov3_tiny,
        load_darknet_files,
        load_detector_file,
    )

    if teacher is None:
        if teacher_cfg is not None:
            raise ValueError("--teacher-cfg needs --teacher (the Darknet weights)")
        files = bundled_yolov3_tiny()
    elif teacher.suffix == ".pt":
        files = load_detector_file(teacher)
    elif teacher_cfg is None:
        raise ValueError(f"--teacher {teacher}: Darknet weights need --teacher-cfg")
    else:
        files = load_darknet_files(teacher_cfg, teacher)
    if init is None:
        return files, None
    return files, bundled_detector(init) if init in BUNDLED else load_detector_file(init)


COMMANDS["adapt-detector"] = user_errors(adapt_detector_command)
