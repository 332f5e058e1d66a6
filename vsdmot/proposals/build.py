"""``build_proposal_source``: a proposal source from a short spec string (CLI ``--proposals``).

Accepted specs (the one spec grammar, :mod:`vsdmot.utils.specs`; a bare first value
sets a source's first option):

- ``"det"``: the sequence's public detections, ``<sequence>/det/det.txt``;
- ``"det_db:FILE.json"`` (``det_db:path=FILE.json[,prefix=DanceTrack/train,seq=NAME]``):
  the sequence's boxes in a MOTRv2 det_db file (:mod:`vsdmot.proposals.det_db`);
- a path to a ``det.txt`` or a ``.npz`` / ``.json`` proposal database;
- ``"yolo"`` or ``"yolo:size=320,score=0.2"`` (keyword options of
  :class:`~vsdmot.proposals.yolo.YOLOProposals`: the bundled YOLOv3-tiny or
  any Darknet cfg/weights pair);
- ``"hog"`` or ``"hog:upscale=2,win_stride=4"`` (keyword options of
  :class:`~vsdmot.proposals.hog.HOGPeopleProposals`);
- ``"ultralytics"`` or ``"ultralytics:yolov8s.pt"`` (optional dependency).

Each named source is an entry of :data:`PROPOSAL_SOURCES`; a new source is one more entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vsdmot.data.det_db import DetDb, DetDbError
from vsdmot.proposals.base import ProposalError, ProposalSource
from vsdmot.proposals.cache import CachedProposals
from vsdmot.proposals.det_db import DetDbProposals
from vsdmot.proposals.detfile import DB_SUFFIXES, DetFileProposals
from vsdmot.proposals.hog import HOGPeopleProposals
from vsdmot.utils.det_db_spec import DetDbSpec, parse_det_db_spec
from vsdmot.utils.specs import Spec, SpecError, parse_spec, typed_options

SPEC_HELP = (
    "'det', 'det_db:FILE.json', a det.txt / .npz / .json path, 'yolo[:key=value,...]', "
    "'hog[:key=value,...]' or 'ultralytics[:MODEL]'"
)


@dataclass(frozen=True)
class BuildContext:
    """What a source may need besides its spec: the sequence folder it runs on (or
    ``None``), the lowest score kept, and what its kind's ``shared`` read once for all
    sequences (``None``: nothing, the source reads its own)."""

    sequence: Path | None
    min_score: float
    shared: Any = None


@dataclass(frozen=True)
class SourceKind:
    """One named proposal source.

    ``build`` makes it from the parsed spec. ``reads_files``: it reads stored boxes
    (never worth caching); ``per_sequence``: it needs the sequence folder, so a tool
    running over many sequences builds one per sequence; ``shared`` reads once what those
    share (a det_db file), handed to each as :attr:`BuildContext.shared`.
    """

    build: Callable[[Spec, BuildContext], ProposalSource]
    reads_files: bool
    per_sequence: bool
    shared: Callable[[Spec], Any] | None = None


def _det(spec: Spec, ctx: BuildContext) -> ProposalSource:
    _options(spec, lambda: None)  # takes no options
    if ctx.sequence is None or not (ctx.sequence / "det" / "det.txt").is_file():
        where = f"{ctx.sequence}/det/det.txt" if ctx.sequence is not None else "a sequence folder"
        raise ProposalError(f"proposals 'det' need public detections; {where} not found")
    return DetFileProposals(ctx.sequence / "det" / "det.txt", min_score=ctx.min_score)


def _det_db(spec: Spec, ctx: BuildContext) -> ProposalSource:
    opts = _det_db_spec(spec)
    seq = opts.seq or (ctx.sequence.name if ctx.sequence is not None else None)
    if seq is None:
        raise ProposalError(
            f"{spec}: a det_db holds many sequences; track a sequence folder or name "
            "one with seq=NAME"
        )
    return DetDbProposals(opts.path, seq, prefix=opts.prefix, min_score=ctx.min_score,
                          db=ctx.shared)  # fmt: skip


def _det_db_spec(spec: Spec) -> DetDbSpec:
    try:
        return parse_det_db_spec(spec)
    except SpecError as exc:
        raise ProposalError(str(exc)) from None


def _read_det_db(spec: Spec) -> DetDb:
    """The det_db file, read once for every sequence of a run."""
    try:
        return DetDb(_det_db_spec(spec).path)
    except DetDbError as exc:
        raise ProposalError(str(exc)) from None


def _yolo(spec: Spec, ctx: BuildContext) -> ProposalSource:
    from vsdmot.proposals.yolo import YOLOProposals

    options = _options(spec, YOLOProposals)
    if ctx.min_score > 0:
        options.setdefault("score", ctx.min_score)
    try:
        return YOLOProposals(**options)
    except TypeError as exc:
        raise ProposalError(f"{spec}: unknown YOLO option ({exc})") from exc
    except OverflowError as exc:
        raise ProposalError(f"{spec}: option value out of range ({exc})") from exc


def _hog(spec: Spec, ctx: BuildContext) -> ProposalSource:
    options = {"min_score": ctx.min_score, **_options(spec, HOGPeopleProposals)}
    try:
        return HOGPeopleProposals(**options)
    except TypeError as exc:
        raise ProposalError(f"{spec}: unknown HOG option ({exc})") from exc
    except (ValueError, OverflowError) as exc:
        raise ProposalError(f"{spec}: {exc}") from exc


def _ultralytics(spec: Spec, ctx: BuildContext) -> ProposalSource:
    from vsdmot.proposals.ultralytics import UltralyticsProposals

    model = _options(spec, lambda model="yolov8n.pt": None).get("model", "yolov8n.pt")
    return UltralyticsProposals(model, conf=max(ctx.min_score, 0.01))


#: Every named proposal source, by the name a spec starts with.
PROPOSAL_SOURCES: dict[str, SourceKind] = {
    "det": SourceKind(_det, reads_files=True, per_sequence=True),
    "det_db": SourceKind(_det_db, reads_files=True, per_sequence=True, shared=_read_det_db),
    "yolo": SourceKind(_yolo, reads_files=False, per_sequence=False),
    "hog": SourceKind(_hog, reads_files=False, per_sequence=False),
    "ultralytics": SourceKind(_ultralytics, reads_files=False, per_sequence=False),
}


def source_kind(spec: str) -> SourceKind | None:
    """The registry entry a spec names (``None`` for a file path)."""
    return PROPOSAL_SOURCES.get(spec.strip().partition(":")[0].strip().lower())


def build_proposal_source(
    spec: str,
    *,
    sequence: str | Path | None = None,
    min_score: float = 0.0,
    cache_dir: str | Path | None = None,
    video: str | Path | None = None,
) -> ProposalSource:
    """Build the proposal source named by ``spec`` (see module doc).

    ``sequence`` is the MOTChallenge folder ``"det"`` and ``"det_db"`` refer to. With
    ``cache_dir`` and ``video``, a detector (not a file) is wrapped in
    :class:`~vsdmot.proposals.cache.CachedProposals`. ``min_score`` filters
    file proposals and sets HOG's minimum score unless the spec sets one.
    """
    spec = spec.strip()
    kind = source_kind(spec)
    if kind is None:
        if Path(spec).suffix.lower() in (*DB_SUFFIXES, ".txt"):
            return DetFileProposals(spec, min_score=min_score)
        raise ProposalError(f"{spec!r}: unknown proposal source; expected {SPEC_HELP}")
    parsed = _parse(spec)
    ctx = BuildContext(Path(sequence) if sequence is not None else None, min_score)
    source = kind.build(parsed, ctx)
    if cache_dir is not None and video is not None and not kind.reads_files:
        return CachedProposals(source, cache_dir, video)
    return source


def source_factory(spec: str, *, min_score: float = 0.0) -> Callable[[Path], ProposalSource]:
    """The source of each sequence folder for a tool that runs over many: a detector is
    built once and shared; a source of the sequence's own files is built per sequence."""
    kind = source_kind(spec)
    if kind is not None and kind.per_sequence:
        parsed = _parse(spec)
        read = kind.shared(parsed) if kind.shared is not None else None
        return lambda root: kind.build(parsed, BuildContext(Path(root), min_score, read))
    shared = build_proposal_source(spec, min_score=min_score)
    return lambda _root: shared


def _parse(spec: str) -> Spec:
    """A named source's spec, its name in lower case."""
    try:
        parsed = parse_spec(spec.strip())
    except SpecError as exc:
        raise ProposalError(str(exc)) from None
    return Spec(parsed.name.lower(), parsed.options, parsed.value)


def spec_files(spec: str) -> list[Path]:
    """Files a spec names for reading (so a tool can refuse to overwrite them)."""
    spec = spec.strip()
    if source_kind(spec) is None:
        return [Path(spec)] if Path(spec).suffix else []
    try:
        parsed = parse_spec(spec)
    except SpecError:
        return []
    named = [parsed.value] if parsed.name.lower() == "det_db" else []
    named += [parsed.options.get(k) for k in ("path", "weights", "cfg", "names")]
    return [Path(v) for v in named if v]


def _options(spec: Spec, target: Any) -> dict[str, Any]:
    """The spec's options typed by ``target``'s parameters (the one spec grammar)."""
    try:
        return typed_options(spec, target)
    except SpecError as exc:
        raise ProposalError(str(exc)) from None
