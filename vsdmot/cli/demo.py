"""``vsdmot demo``: generate, degrade, track, score and plot, with no download."""

from __future__ import annotations

from pathlib import Path

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def demo(
    out: Path = typer.Option(Path("vsdmot-demo"), "--out", "-o", help="Results folder."),
    quick: bool = typer.Option(False, "--quick", help="A shorter, smaller sequence (~1 min)."),
    weights: Path = typer.Option(
        None, "--weights", "-w", help="Checkpoint to demo \\[default: the shipped model]."
    ),
    seed: int = typer.Option(7, help="Seed of the generated sequence and degradation."),
) -> None:
    """Generate a sequence, degrade it over time, track both versions, score and plot."""
    import dataclasses

    from rich.console import Console
    from rich.markdown import Markdown

    from vsdmot.demo import DemoConfig, run_demo

    cfg = dataclasses.replace(DemoConfig.quick() if quick else DemoConfig(), seed=seed)
    result = run_demo(out, cfg, weights=weights)
    console = Console()
    console.print(Markdown(result.files["table"].read_text()))
    # Plain echo: paths must stay whole (rich would wrap them) so they can be copied.
    typer.echo(f"\nresults in {result.out}/")
    for name, path in result.files.items():
        typer.echo(f"  {name:14s} {path}")


COMMANDS["demo"] = user_errors(demo)
