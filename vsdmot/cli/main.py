"""The ``vsdmot`` command line. Each sub-command lives in its own module.

Flags come from each command's typed signature (typer).
"""

from __future__ import annotations

import logging

import typer

from vsdmot._version import __version__

app = typer.Typer(
    name="vsdmot",
    help="Multi-object tracking in low-quality video with distilled visual semantics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vsdmot {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _register() -> None:
    # Imported here so that `vsdmot --help` stays fast: each module imports
    # its heavy dependencies (torch, trackeval) inside the command body.
    from vsdmot.cli import commands

    for name, fn in commands.COMMANDS.items():
        app.command(name)(fn)


_register()
