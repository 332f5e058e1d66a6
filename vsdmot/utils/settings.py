"""``NAME=VALUE`` settings typed by a dataclass's fields (``vsdmot adapt-detector --set``);
values are typed by the one spec grammar's :func:`~vsdmot.utils.specs.coerce`."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from vsdmot.utils.specs import coerce


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
    hints = typing.get_type_hints(cls)
    fields = {f.name: hints.get(f.name, str) for f in dataclasses.fields(cls)}
    if not sep or name not in fields:
        raise ValueError(
            f"{item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(fields))}"
        )
    return name, coerce(text, fields[name], name)
