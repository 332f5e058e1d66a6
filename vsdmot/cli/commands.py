"""Registry of sub-commands: name -> function with a typed signature."""

from __future__ import annotations

from collections.abc import Callable

COMMANDS: dict[str, Callable[..., None]] = {}

# Each command module adds itself below (one import line per command).
import vsdmot.cli.eval  # noqa: E402,F401
import vsdmot.cli.degrade  # noqa: E402,F401
import vsdmot.cli.synth  # noqa: E402,F401
