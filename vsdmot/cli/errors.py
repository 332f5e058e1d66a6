"""Turn expected user errors into a one-line message and exit code 2, and running out of
memory into a one-line message with what to try, exit code 1."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

import typer

from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sources import FrameSourceError
from vsdmot.executors.base import ExecutorUnavailable
from vsdmot.semantics.errors import TeacherLoadError

F = TypeVar("F", bound=Callable[..., None])

#: Errors that are the user's input, not a bug: shown without a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    MOTFormatError,
    FrameSourceError,
    OSError,  # missing / unwritable files, video encoder failures
    ValueError,
    TeacherLoadError,  # a teacher's weights not found or not readable
    ExecutorUnavailable,  # an optional executor's package is missing: the install line
)


#: What to try when memory runs out (the frames' size drives every large buffer).
OOM_HINT = "try a smaller --input-size, fewer --threads, or a shorter clip"


def out_of_memory(exc: BaseException) -> str | None:
    """A one-line description if ``exc`` is running out of memory (NumPy's and Python's
    ``MemoryError``, PyTorch's CPU allocator and CUDA errors), else None.

    >>> out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried "
    ...                            "to allocate 5368709120 bytes."))
    "out of memory (DefaultCPUAllocator: can't allocate memory)"
    >>> out_of_memory(RuntimeError("shape mismatch")) is None
    True
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, MemoryError):
        return f"out of memory ({text[:120]})"
    if isinstance(exc, RuntimeError) and re.search(r"out of memory|can't allocate memory", text):
        return f"out of memory ({text.split(': you tried')[0][:120]})"
    return None


def user_errors(fn: F) -> F:
    """Decorator for commands: print ``error: <message>`` and exit 2 on bad input (1 when
    memory ran out)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from exc
        except (MemoryError, RuntimeError) as exc:
            if (what := out_of_memory(exc)) is None:
                raise
            typer.secho(f"error: {what}; {OOM_HINT}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from exc

    return wrapper  # type: ignore[return-value]
