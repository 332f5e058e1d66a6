"""Turn expected user errors into a one-line message and exit code 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import typer

from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sources import FrameSourceError

F = TypeVar("F", bound=Callable[..., None])

#: Errors that are the user's input, not a bug: shown without a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    MOTFormatError,
    FrameSourceError,
    OSError,  # missing / unwritable files, video encoder failures
    ValueError,
)


def user_errors(fn: F) -> F:
    """Decorator for commands: print ``error: <message>`` and exit 2 on bad input."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from exc

    return wrapper  # type: ignore[return-value]
