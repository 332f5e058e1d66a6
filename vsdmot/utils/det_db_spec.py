"""The ``det_db`` spec, ``det_db:FILE.json[,prefix=DATASET/SPLIT][,seq=NAME]``, parsed with
one set of rules for every place that reads it (training's proposal source and its
config check, tracking's ``--proposals``).

It lives below ``vsdmot.config`` and ``vsdmot.data`` because both read it; the file
format itself is :mod:`vsdmot.data.det_db`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsdmot.utils.specs import Spec, SpecError, parse_spec, typed_options


@dataclass(frozen=True)
class DetDbSpec:
    """What a ``det_db`` spec names: the file, the ``<dataset>/<split>`` prefix of its keys
    when one sequence name sits under several, and the sequence's name in the file
    (``None``: the sequence folder's name)."""

    path: Path
    prefix: str | None = None
    seq: str | None = None


def _options(path: str = "", *, prefix: str | None = None, seq: str | None = None) -> None:
    """The options a ``det_db`` spec takes (their names and types), nothing else."""


def parse_det_db_spec(spec: Spec | str) -> DetDbSpec:
    """The options of a ``det_db`` spec; a :class:`~vsdmot.utils.specs.SpecError` says
    what is wrong (no file, an unknown option, another source's name).

    >>> parse_det_db_spec("det_db:dets.json,prefix=MOT17/train")
    DetDbSpec(path=PosixPath('dets.json'), prefix='MOT17/train', seq=None)
    >>> parse_det_db_spec("det_db:path=dets.json,seq=MOT17-02").seq
    'MOT17-02'
    >>> parse_det_db_spec("det_db:prefix=MOT17/train")
    Traceback (most recent call last):
    ...
    vsdmot.utils.specs.SpecError: 'det_db:prefix=MOT17/train': which file? write det_db:FILE.json
    >>> parse_det_db_spec("det_db:dets.json,min_score=0.2")
    Traceback (most recent call last):
    ...
    vsdmot.utils.specs.SpecError: det_db has no option 'min_score'; its options: path, prefix, seq
    """
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    if parsed.name.lower() != "det_db":
        raise SpecError(f"{str(parsed)!r}: not a det_db spec")
    options = typed_options(Spec("det_db", parsed.options, parsed.value), _options)
    if not options.get("path"):
        raise SpecError(f"{str(parsed)!r}: which file? write det_db:FILE.json")
    return DetDbSpec(Path(options["path"]), options.get("prefix"), options.get("seq"))
