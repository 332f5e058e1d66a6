"""``vsdmot train``: train a tracker from a preset or YAML config, with dotted overrides.

::

    vsdmot train --config tiny-cpu --out runs/tiny data.train=[data/synth] optim.lr=1e-4
    vsdmot train --out runs/tiny --resume            # continues from runs/tiny/checkpoints/last.pt
    torchrun --nproc_per_node=4 --no-python vsdmot train --config mot17-gpu --out runs/mot17 ...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def train_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created).")],
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            help="Preset name (tiny-cpu, mot15-cpu, mot17-gpu, dancetrack-gpu) or YAML path. "
            "With --resume it defaults to the run's own config.yaml.",
        ),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoints/last.pt.")] = False,
    print_config: Annotated[
        bool, typer.Option(help="Print the resolved config as YAML and exit.")
    ] = False,
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="Dotted overrides, e.g. model.d_model=64 optim.lr=1e-4."),
    ] = None,
) -> None:
    """Train VSD-MOT; writes checkpoints, metrics.csv, train.log and model.pt into OUT."""
    from vsdmot.config import compose_config, config_to_dict

    if config is None:
        if not resume:
            raise ValueError("--config is required (a preset name or a YAML file)")
        config = str(out / "config.yaml")
    cfg = compose_config(config, overrides or [])
    if print_config:
        import yaml

        typer.echo(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), nl=False)
        return

    from vsdmot.engine.trainer import train

    main = int(os.environ.get("RANK", "0")) == 0
    if main:
        typer.echo(f"run folder:  {out}")
        typer.echo(f"checkpoints: {out / 'checkpoints'}  (Ctrl-C saves one; resume with --resume)")
        typer.echo(f"logs:        {out / 'metrics.csv'}, {out / 'train.log'}")
    try:
        result = train(cfg, out, resume=resume)
    except KeyboardInterrupt:
        last = out / "checkpoints" / "last.pt"
        if main:
            typer.echo(f"interrupted: continue with `vsdmot train -o {out} --resume` ({last})"
                       if last.exists() else
                       "interrupted before the first checkpoint: nothing was saved")  # fmt: skip
        raise typer.Exit(code=130) from None
    if main:
        typer.echo(f"done: step {result.step}, final model {result.model_path}")


COMMANDS["train"] = user_errors(train_command)
