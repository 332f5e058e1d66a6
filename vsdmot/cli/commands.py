"""Registry of sub-commands: name -> function with a typed signature.

Each module in :data:`MODULES` adds its command(s) to :data:`COMMANDS` on import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

COMMANDS: dict[str, Callable[..., None]] = {}

MODULES = (
    "synth",
    "degrade",
    "detect",
    "adapt",
    "eval",
    "bench",
    "train",
    "distill",
    "reid",
    "track",
    "tune",
    "demo",
)

for _name in MODULES:
    importlib.import_module(f"vsdmot.cli.{_name}")
