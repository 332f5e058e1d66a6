"""``vsdmot distill``: stage-1 distillation of the semantic student (and the quality head).

::

    vsdmot distill --config distill-cpu --out runs/student data.train=[data/synth]
    vsdmot distill --config distill-cpu --out runs/student semantic.distill=alignment \\
        data.train=[data/lq] 'data.clean_pairs=[{degraded: data/lq, clean: data/synth}]'
    vsdmot train --config tiny-cpu --out runs/joint semantic.semantics=student \\
        semantic.student_weights=runs/student/student.pt ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vsdmot.cli.commands import COMMANDS
from vsdmot.cli.errors import user_errors


def distill_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created).")],
    config: Annotated[
        str,
        typer.Option("--config", "-c", help="Preset name (distill-cpu, ...) or YAML path."),
    ],
    overwrite: Annotated[bool, typer.Option(help="Replace a student.pt already in OUT.")] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    print_config: Annotated[
        bool, typer.Option(help="Print the resolved config as YAML and exit.")
    ] = False,
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="Dotted overrides, e.g. semantic.distill=alignment distillation.steps=200."
        ),
    ] = None,
) -> None:
    """Distil the student from the teacher on clean/degraded frame pairs; writes OUT/student.pt."""
    from vsdmot.config import compose_config, config_to_dict

    cfg = compose_config(config, overrides or [])
    if print_config:
        import yaml

        typer.echo(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), nl=False)
        return

    from vsdmot.engine.distill import distill
    from vsdmot.semantics.teachers import TeacherLoadError

    typer.echo(f"run folder: {out}")
    try:
        result = distill(cfg, out, progress=progress, overwrite=overwrite)
    except TeacherLoadError as exc:  # a RuntimeError, but the user's to fix
        raise ValueError(str(exc)) from exc
    h = result.history
    n = min(5, len(h))
    typer.echo(
        f"done: {len(h)} steps on {result.frames} frames; loss {h.mean('loss', first=n):.4f} -> "
        f"{h.mean('loss', last=n):.4f}; teacher cache {result.cache.hits} hits, "
        f"{result.cache.misses} computed"
    )
    typer.echo(f"student: {result.student_path}  (semantic.student_weights={result.student_path})")


COMMANDS["distill"] = user_errors(distill_command)
