"""``vsdmot eval``: TrackEval scores of result files, or a clean-vs-LQ robustness summary.

Two modes::

    vsdmot eval --gt GT --pred PRED [--json F] [--csv F] [--gt-format ...] [--frames 601-795]
    vsdmot eval --gt GT --pred CLEAN_PRED --lq-gt LQ_GT --pred-lq LQ_PRED [--plot F.png]

``PRED`` holds one ``<sequence>.txt`` per folder of ``GT``. With
``--allow-missing`` a sequence without a result file is scored as empty
(all its gt boxes are misses) instead of stopping with an error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors

if TYPE_CHECKING:
    from rich.console import Console


class GTFormatChoice(str, enum.Enum):
    auto = "auto"
    mot15 = "mot15"
    mot16 = "mot16"


def parse_frame_range(text: str) -> tuple[int, int]:
    """``"601-795"`` -> ``(601, 795)``; 1-based, inclusive.

    >>> parse_frame_range("601-795")
    (601, 795)
    """
    parts = text.split("-")
    try:
        first, last = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"--frames {text!r}: expected FIRST-LAST, e.g. 601-795") from None
    if not 1 <= first <= last:
        raise ValueError(f"--frames {text!r}: need 1 <= FIRST <= LAST")
    return first, last


def eval_command(
    gt: Annotated[
        Path, typer.Option(help="Folder of GT sequences (SEQ/seqinfo.ini, SEQ/gt/gt.txt).")
    ],
    pred: Annotated[Path, typer.Option(help="Folder of result files <sequence>.txt.")],
    lq_gt: Annotated[
        Path | None, typer.Option(help="Folder of degraded GT sequences (with quality.csv).")
    ] = None,
    pred_lq: Annotated[Path | None, typer.Option(help="Results on the degraded sequences.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write scores as JSON.")] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Write scores as CSV (robustness: one row per severity)."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Robustness: PNG of HOTA against severity.")
    ] = None,
    gt_format: Annotated[
        GTFormatChoice, typer.Option(help="GT columns: detect, MOT15 (10) or MOT16+ (9).")
    ] = GTFormatChoice.auto,
    frames: Annotated[
        str | None, typer.Option(help="Score only frames FIRST-LAST (e.g. 601-795).")
    ] = None,
    allow_missing: Annotated[
        bool, typer.Option(help="Score a sequence without a result file as empty.")
    ] = False,
    seq: Annotated[
        list[str] | None, typer.Option(help="Score only this sequence (repeatable).")
    ] = None,
    mot17_detector: Annotated[
        str,
        typer.Option(
            help="MOT17 copies scored (a sequence exists once per public detector): "
            "DPM | FRCNN | SDP | all."
        ),
    ] = "SDP",
) -> None:
    """Score tracking results with TrackEval (HOTA, MOTA, IDF1, ...)."""
    if (lq_gt is None) != (pred_lq is None):
        raise ValueError("--lq-gt and --pred-lq go together")
    if plot is not None and lq_gt is None:
        raise ValueError("--plot needs the robustness mode (--lq-gt and --pred-lq)")
    if (frames is not None or seq) and lq_gt is not None:
        raise ValueError("--frames and --seq are not supported in the robustness mode")
    _check_eval_outputs(json_out, csv_out, plot, [gt, pred, lq_gt, pred_lq])
    fmt = gt_format.value
    if lq_gt is None or pred_lq is None:
        frame_range = parse_frame_range(frames) if frames is not None else None
        which = Which(seq, frame_range, mot17_detector)
        _score(gt, pred, fmt, which, allow_missing, json_out, csv_out)
    else:
        rob = (gt, pred, lq_gt, pred_lq)
        _score_robustness(rob, fmt, allow_missing, json_out, csv_out, plot)
    for path in (json_out, csv_out, plot):
        if path is not None:
            typer.echo(f"wrote {path}")


def _check_eval_outputs(json_out, csv_out, plot, read: list[Path | None]) -> None:
    """Outputs must not be the ground truth or results being scored, nor each other."""
    from vsdmot.utils.outputs import check_outputs, dataset_inputs

    inputs: set[Path] = set()
    for folder in filter(None, read):
        inputs |= dataset_inputs(folder)
        if folder.is_dir():  # a prediction folder: its result files
            inputs |= {p.resolve() for p in folder.glob("*.txt")}
    check_outputs({"--json": json_out, "--csv": csv_out, "--plot": plot}, inputs)


def _console() -> Console:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # Piped / redirected output has no width to fit; rich's default of 80
        # columns would cut the metric table into ellipses.
        console = Console(width=160)
    return console


@dataclass(frozen=True)
class Which:
    """What of the GT is scored: sequences by name (``None``: all), frames, MOT17 copy."""

    seq: list[str] | None
    frame_range: tuple[int, int] | None
    mot17_detector: str


def _score(
    gt: Path,
    pred: Path,
    fmt: str,
    which: Which,
    allow_missing: bool,
    json_out: Path | None,
    csv_out: Path | None,
) -> None:
    """Print (and write) the scores of one set of results."""
    from vsdmot.eval import evaluate
    from vsdmot.eval.report import results_table, write_csv, write_json

    result = evaluate(gt, pred, gt_format=fmt, sequences=which.seq,
                      frame_range=which.frame_range, allow_missing=allow_missing,
                      mot17_detector=which.mot17_detector)  # fmt: skip
    _console().print(results_table(result))
    if json_out is not None:
        write_json(json_out, result.to_dict())
    if csv_out is not None:
        write_csv(csv_out, result)


def _score_robustness(
    folders: tuple[Path, Path, Path, Path],
    fmt: str,
    allow_missing: bool,
    json_out: Path | None,
    csv_out: Path | None,
    plot: Path | None,
) -> None:
    """Print (and write) clean and degraded scores and the robustness summary."""
    from vsdmot.eval import plot_robustness, robustness
    from vsdmot.eval.report import results_table, robustness_table, write_json, write_severity_csv

    rob = robustness(*folders, gt_format=fmt, allow_missing=allow_missing)
    console = _console()
    console.print(results_table(rob.clean, title="clean"))
    console.print(results_table(rob.lq, title="low quality"))
    console.print(robustness_table(rob))
    if json_out is not None:
        write_json(json_out, rob.to_dict())
    if csv_out is not None:
        write_severity_csv(csv_out, rob)
    if plot is not None:
        plot_robustness(rob, plot)


COMMANDS["eval"] = user_errors(eval_command)
