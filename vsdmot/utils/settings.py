"""``NAME=VALUE`` settings typed by a dataclass's fields: the one parser behind every
``--set`` flag and the scripts' setting lists."""

from __future__ import annotations

import dataclasses
from typing import Any

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def parse_field_setting(cls: type, item: str) -> tuple[str, Any]:
    """``"NAME=VALUE"`` -> ``(name, value)`` with the value typed by ``cls``'s field ``name``.

    Booleans accept on/off, yes/no, true/false, 1/0; ``tuple[str, ...]`` fields take
    items joined by ``+`` (empty text: an empty tuple). Errors name the setting.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class P:
    ...     steps: int = 1
    ...     flip: bool = True
    ...     types: tuple[str, ...] = ()
    >>> parse_field_setting(P, "steps=3"), parse_field_setting(P, "flip=off")
    (('steps', 3), ('flip', False))
    >>> parse_field_setting(P, "types=fog+rain")
    ('types', ('fog', 'rain'))
    """
    name, sep, text = item.partition("=")
    name = name.strip().replace("-", "_")
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    if not sep or name not in fields:
        raise ValueError(
            f"{item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(fields))}"
        )
    kind = fields[name]
    text = text.strip()
    try:
        if kind == "bool":
            lowered = text.lower()
            if lowered not in _TRUE + _FALSE:
                raise ValueError(text)
            return name, lowered in _TRUE
        if kind == "int":
            return name, int(text)
        if kind == "float":
            return name, float(text)
        if kind.startswith("tuple"):
            return name, tuple(v.strip() for v in text.split("+") if v.strip())
    except ValueError:
        raise ValueError(f"{item!r}: {name} needs a value of type {kind}, not {text!r}") from None
    return name, text
