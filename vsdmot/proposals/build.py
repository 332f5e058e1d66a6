"""``build_proposal_source``: a proposal source from a short spec string (CLI ``--proposals``).

Accepted specs:

- ``"det"``: the sequence's public detections, ``<sequence>/det/det.txt``;
- a path to a ``det.txt`` or a ``.npz`` / ``.json`` proposal database;
- ``"yolo"`` or ``"yolo:size=320,score=0.2"`` (keyword options of
  :class:`~vsdmot.proposals.yolo.YOLOProposals`: the bundled YOLOv3-tiny or
  any Darknet cfg/weights pair);
- ``"hog"`` or ``"hog:upscale=2,win_stride=4"`` (keyword options of
  :class:`~vsdmot.proposals.hog.HOGPeopleProposals`);
- ``"ultralytics"`` or ``"ultralytics:yolov8s.pt"`` (optional dependency).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vsdmot.proposals.base import ProposalError, ProposalSource
from vsdmot.proposals.cache import CachedProposals
from vsdmot.proposals.detfile import DB_SUFFIXES, DetFileProposals
from vsdmot.proposals.hog import HOGPeopleProposals
from vsdmot.utils.specs import SpecError, parse_spec, typed_options

SPEC_HELP = (
    "'det', a det.txt / .npz / .json path, 'yolo[:key=value,...]', 'hog[:key=value,...]' "
    "or 'ultralytics[:MODEL]'"
)


def build_proposal_source(
    spec: str,
    *,
    sequence: str | Path | None = None,
    min_score: float = 0.0,
    cache_dir: str | Path | None = None,
    video: str | Path | None = None,
) -> ProposalSource:
    """Build the proposal source named by ``spec`` (see module doc).

    ``sequence`` is the MOTChallenge folder ``"det"`` refers to. With
    ``cache_dir`` and ``video``, a detector (not a file) is wrapped in
    :class:`~vsdmot.proposals.cache.CachedProposals`. ``min_score`` filters
    file proposals and sets HOG's minimum score unless the spec sets one.
    """
    spec = spec.strip()
    head, _, rest = spec.partition(":")
    kind = head.lower()
    if kind == "ultralytics" and rest and "=" not in rest:
        rest = f"model={rest}"  # the short form, ultralytics:yolov8s.pt
    source: ProposalSource
    if spec.lower() == "det":
        if sequence is None or not (Path(sequence) / "det" / "det.txt").is_file():
            where = f"{sequence}/det/det.txt" if sequence is not None else "a sequence folder"
            raise ProposalError(f"proposals 'det' need public detections; {where} not found")
        return DetFileProposals(Path(sequence) / "det" / "det.txt", min_score=min_score)
    if kind == "yolo":
        from vsdmot.proposals.yolo import YOLOProposals

        options = _options(kind, rest, YOLOProposals)
        if min_score > 0:
            options.setdefault("score", min_score)
        try:
            source = YOLOProposals(**options)
        except TypeError as exc:
            raise ProposalError(f"{spec}: unknown YOLO option ({exc})") from exc
        except OverflowError as exc:
            raise ProposalError(f"{spec}: option value out of range ({exc})") from exc
    elif kind == "hog":
        options = {"min_score": min_score, **_options(kind, rest, HOGPeopleProposals)}
        try:
            source = HOGPeopleProposals(**options)
        except TypeError as exc:
            raise ProposalError(f"{spec}: unknown HOG option ({exc})") from exc
        except (ValueError, OverflowError) as exc:
            raise ProposalError(f"{spec}: {exc}") from exc
    elif kind == "ultralytics":
        from vsdmot.proposals.ultralytics import UltralyticsProposals

        model = _options(kind, rest, lambda *, model="yolov8n.pt": None).get("model", "yolov8n.pt")
        source = UltralyticsProposals(model, conf=max(min_score, 0.01))
    elif Path(spec).suffix.lower() in (*DB_SUFFIXES, ".txt"):
        return DetFileProposals(spec, min_score=min_score)
    else:
        raise ProposalError(f"{spec!r}: unknown proposal source; expected {SPEC_HELP}")
    if cache_dir is not None and video is not None:
        return CachedProposals(source, cache_dir, video)
    return source


def _options(kind: str, rest: str, target: Any) -> dict[str, Any]:
    """The spec's options typed by ``target``'s parameters (the one spec grammar)."""
    try:
        return typed_options(parse_spec(f"{kind}:{rest}"), target)
    except SpecError as exc:
        raise ProposalError(str(exc)) from None
