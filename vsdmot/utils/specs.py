"""One grammar for everything named on a command line: ``name[:[value,]key=value,...]``.

Trackers (``bytetrack:lost_track_buffer=10``), proposal sources (``yolo:size=416``)
and benchmark conditions (``fog:severity=3,schedule=ramp``) are written the same
way and parsed here. Values stay text until :func:`coerce` types them with the
target's parameter type, so errors can name the parameter and the type it needs.

The first item after the colon may be a bare value, without ``key=``: it sets the
target's first parameter (``det_db:dets.json`` is ``det_db:path=dets.json``). A bare
value cannot hold ``,`` or ``=``; write those with their key. Targets that take no
bare value refuse it (:meth:`Spec.keyword_only`).
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SpecError(ValueError):
    """A spec that cannot be parsed or does not fit its target; the message says why."""


@dataclass(frozen=True)
class Spec:
    """A parsed ``name[:[value,]key=value,...]``; ``options`` keep the user's order and
    text; ``value`` is the bare first item (``None`` when there is none).

    >>> s = parse_spec("bytetrack:lost_track_buffer=10, minimum_iou_threshold=0.2")
    >>> s.name, s.value, s.options
    ('bytetrack', None, {'lost_track_buffer': '10', 'minimum_iou_threshold': '0.2'})
    >>> str(s)
    'bytetrack:lost_track_buffer=10,minimum_iou_threshold=0.2'
    >>> str(parse_spec("det_db: runs/dets.json ,min_score=0.2"))
    'det_db:runs/dets.json,min_score=0.2'
    """

    name: str
    options: dict[str, str] = field(default_factory=dict)
    value: str | None = None

    def __str__(self) -> str:
        items = ([] if self.value is None else [self.value])
        items += [f"{k}={v}" for k, v in self.options.items()]
        return self.name + (":" + ",".join(items) if items else "")

    def with_options(self, **extra: object) -> Spec:
        """This spec with more options (later ones win)."""
        options = {**self.options, **{k: _text(v) for k, v in extra.items()}}
        return Spec(self.name, options, self.value)

    def keyword_only(self) -> Spec:
        """This spec, or an error when it has a bare value (for targets that take none).

        >>> parse_spec("sort:5").keyword_only()
        Traceback (most recent call last):
        ...
        vsdmot.utils.specs.SpecError: 'sort:5': '5' is not key=value (sort takes no bare value)
        """
        if self.value is not None:
            raise SpecError(
                f"{str(self)!r}: {self.value!r} is not key=value ({self.name} takes no bare value)"
            )
        return self


def parse_spec(text: str) -> Spec:
    """Parse ``name[:[value,]key=value,...]``; keys may use ``-`` for ``_``. Only the
    first item may be a bare value.

    >>> parse_spec("yolo").options
    {}
    >>> parse_spec("vsdmot:weights=/tmp/m.pt").options
    {'weights': '/tmp/m.pt'}
    >>> parse_spec("ultralytics:yolov8s.pt").value
    'yolov8s.pt'
    >>> parse_spec("sort:a=1,oops")
    Traceback (most recent call last):
    ...
    vsdmot.utils.specs.SpecError: 'sort:a=1,oops': 'oops' is not key=value
    """
    text = text.strip()
    head, _, rest = text.partition(":")
    name = head.strip()
    if not name:
        raise SpecError(f"{text!r}: empty name; expected NAME[:KEY=VALUE,...]")
    options: dict[str, str] = {}
    bare: str | None = None
    for n, item in enumerate(filter(None, (p.strip() for p in rest.split(",")))):
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if n == 0 and not sep:
            bare = item
            continue
        if not sep or not key:
            raise SpecError(f"{text!r}: {item!r} is not key=value")
        if key in options:
            raise SpecError(f"{text!r}: {key} is given twice")
        options[key] = value.strip()
    return Spec(name, options, bare)


def split_specs(text: str) -> list[str]:
    """Split a comma list of specs whose own options are joined by commas too: an item
    with ``=`` before any ``:`` continues the spec before it.

    >>> split_specs("vsdmot:weights=a.pt,motion=static,bytetrack,sort:lost_track_buffer=5")
    ['vsdmot:weights=a.pt,motion=static', 'bytetrack', 'sort:lost_track_buffer=5']
    """
    out: list[str] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        eq, colon = item.find("="), item.find(":")
        continues = eq >= 0 and (colon < 0 or eq < colon)
        if continues and out:
            out[-1] += "," + item
        elif continues:
            raise SpecError(f"{text!r}: {item!r} has no NAME before it")
        else:
            out.append(item)
    return out


def coerce(value: str, kind: Any, name: str) -> Any:
    """Type the text ``value`` of parameter ``name`` as ``kind`` (a type or annotation).

    Booleans accept on/off, yes/no, true/false, 1/0; ``None``-able types accept
    ``none``; ``tuple``/``list`` take items joined by ``+``.

    >>> coerce("0.5", float, "x"), coerce("off", bool, "y"), coerce("3", int | None, "z")
    (0.5, False, 3)
    >>> coerce("fog+rain", tuple[str, ...], "types")
    ('fog', 'rain')
    >>> coerce("abc", int, "n")
    Traceback (most recent call last):
    ...
    vsdmot.utils.specs.SpecError: n needs a value of type int, not 'abc'
    """
    kind, optional = _unwrap(kind)
    text = value.strip()
    if optional and text.lower() == "none":
        return None
    try:
        if kind is bool:
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError(text)
            return text.lower() in _TRUE
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind in (tuple, list):
            items = [v.strip() for v in text.split("+") if v.strip()]
            return kind(items)
    except ValueError:
        raise SpecError(f"{name} needs a value of type {kind.__name__}, not {text!r}") from None
    if kind in (str, Any) or kind is None:
        return text
    raise SpecError(f"{name} ({getattr(kind, '__name__', kind)}) cannot be set from text")


def typed_options(spec: Spec, target: Any) -> dict[str, Any]:
    """``spec``'s options typed by the keyword parameters of ``target`` (a class or a
    function); an unknown key is an error listing the valid ones. Parameters annotated
    ``Any`` take numbers and booleans when the text is one. A bare value sets the first
    parameter, typed like the others.

    >>> def detector(*, size: int = 512, score: float = 0.1, classes: Any = "person"): ...
    >>> typed_options(parse_spec("yolo:size=416,classes=person+car"), detector)
    {'size': 416, 'classes': 'person+car'}
    >>> typed_options(parse_spec("yolo:416,score=0.3"), detector)
    {'size': 416, 'score': 0.3}
    >>> typed_options(parse_spec("yolo:sise=416"), detector)
    Traceback (most recent call last):
    ...
    vsdmot.utils.specs.SpecError: yolo has no option 'sise'; its options: classes, score, size
    >>> typed_options(parse_spec("yolo:416,size=320"), detector)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vsdmot.utils.specs.SpecError: 'yolo:416,size=320': size is given twice (bare value 416 ...)
    """
    func = target.__init__ if isinstance(target, type) else target
    params = {
        k: p for k, p in inspect.signature(func).parameters.items()
        if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }  # fmt: skip
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable annotations: fall back to guessing from the text
        hints = {}
    out: dict[str, Any] = {}
    for key, text in _bind_value(spec, list(params)).items():
        if key not in params:
            raise SpecError(
                f"{spec.name} has no option {key!r}; its options: {', '.join(sorted(params))}"
            )
        kind = hints.get(key, Any)
        out[key] = _guess(text) if kind is Any else coerce(text, kind, f"{spec.name}: {key}")
    return out


def _bind_value(spec: Spec, params: list[str]) -> dict[str, str]:
    """The spec's options with its bare value (if any) under the first parameter's name."""
    if spec.value is None:
        return spec.options
    if not params:
        return spec.keyword_only().options  # raises: there is no parameter to set
    first = params[0]
    if first in spec.options:
        raise SpecError(
            f"{str(spec)!r}: {first} is given twice (bare value {spec.value} and "
            f"{first}={spec.options[first]})"
        )
    return {first: spec.value, **spec.options}


def _guess(text: str) -> Any:
    """A number or boolean when the text is one, else the text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def _unwrap(kind: Any) -> tuple[Any, bool]:
    """``int | None`` -> ``(int, True)``; ``tuple[str, ...]`` -> ``(tuple, False)``."""
    origin = get_origin(kind)
    if origin is Union or origin is getattr(types, "UnionType", None):
        args = [a for a in get_args(kind) if a is not type(None)]
        inner, _ = _unwrap(args[0]) if args else (Any, False)
        return inner, len(args) < len(get_args(kind))
    if origin in (tuple, list):
        return origin, False
    return kind, False


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (tuple, list)):
        return "+".join(str(v) for v in value)
    return str(value)
