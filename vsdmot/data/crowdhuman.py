"""CrowdHuman annotations (``.odgt``): people in still images, for detection-only training.

An ``.odgt`` file has one JSON object per line, one per image::

    {"ID": "273271,c9db000d5146c15", "gtboxes": [
        {"tag": "person", "fbox": [x, y, w, h], "vbox": [...], "hbox": [...],
         "extra": {"ignore": 0, ...}}, ...]}

with the image at ``Images/<ID>.jpg`` beside the file (CrowdHuman's layout, and
MOTRv2's ``crowdhuman/annotation_train.odgt`` + ``crowdhuman/Images/``). Boxes are
``left, top, width, height`` in pixels: ``fbox`` the full body (also where it is
hidden), ``vbox`` the visible part, ``hbox`` the head. Each image is a one-frame clip
without identities: the boxes train a detector (``vsdmot adapt-detector``), not
association.

Which boxes are people to find: ``tag == "person"`` without ``extra.ignore == 1``.
The others, ``mask`` regions (crowds, reflections, posters) and ignored people, are
returned apart as ignore regions; they are not targets.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Box fields of a CrowdHuman person: full body, visible body, head.
BOX_FIELDS = ("fbox", "vbox", "hbox")


class CrowdHumanError(ValueError):
    """A malformed ``.odgt`` file or a missing image; the message names file and line."""


@dataclass(frozen=True)
class CrowdHumanImage:
    """One annotated image: the people to find and the regions to ignore (``ltwh``)."""

    id: str
    image: Path
    boxes: np.ndarray  # (N, 4) left, top, width, height of the people
    ignore: np.ndarray  # (M, 4) regions that are neither people nor background


def read_odgt(
    path: str | Path, *, box: str = "fbox", images: str | Path | None = None
) -> list[CrowdHumanImage]:
    """Every image of an ``.odgt`` file with its ``box`` boxes (``fbox``, ``vbox`` or
    ``hbox``); images are looked for in ``images`` (default: ``Images/`` beside the file).

    Raises :class:`CrowdHumanError` naming the file and line for a line that is not a
    JSON object with an ``ID`` and a ``gtboxes`` list, for a box that is not four finite
    numbers, and for a missing image.
    """
    path = Path(path)
    if box not in BOX_FIELDS:
        raise CrowdHumanError(f"box must be one of {', '.join(BOX_FIELDS)}, not {box!r}")
    if not path.is_file():
        raise CrowdHumanError(f"{path}: CrowdHuman annotation file not found")
    folder = Path(images) if images is not None else path.parent / "Images"
    out: list[CrowdHumanImage] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                out.append(_image(line, folder, box, f"{path}:{lineno}"))
    if not out:
        raise CrowdHumanError(f"{path}: no annotated image")
    return out


def _image(line: str, folder: Path, box: str, where: str) -> CrowdHumanImage:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise CrowdHumanError(f"{where}: not a JSON object ({exc})") from None
    if not isinstance(record, dict):
        raise CrowdHumanError(f"{where}: not a JSON object")
    image_id, gtboxes = record.get("ID"), record.get("gtboxes")
    if not isinstance(image_id, str) or not image_id:
        raise CrowdHumanError(f'{where}: no "ID" (the image name)')
    if not isinstance(gtboxes, list):
        raise CrowdHumanError(f'{where}: "gtboxes" must be a list of boxes')
    people: list[list[float]] = []
    ignore: list[list[float]] = []
    for n, ann in enumerate(gtboxes, start=1):
        is_person, ltwh = _annotation(ann, box, f"{where}: box {n}")
        if ltwh[2] <= 0 or ltwh[3] <= 0:
            log.debug("%s: box %d has no area; skipped", where, n)
            continue
        (people if is_person else ignore).append(ltwh)
    image = folder / f"{image_id}.jpg"
    if not image.is_file():
        raise CrowdHumanError(f"{where}: image {image} not found")
    return CrowdHumanImage(image_id, image, np.asarray(people, np.float64).reshape(-1, 4),
                           np.asarray(ignore, np.float64).reshape(-1, 4))  # fmt: skip


def _annotation(ann: Any, box: str, where: str) -> tuple[bool, list[float]]:
    """``(is a person to find, ltwh)`` of one ``gtboxes`` entry."""
    if not isinstance(ann, dict) or not isinstance(ann.get("tag"), str):
        raise CrowdHumanError(f'{where}: not an object with a "tag"')
    extra = ann.get("extra", {})
    if not isinstance(extra, dict):
        raise CrowdHumanError(f'{where}: "extra" must be an object')
    ignored = extra.get("ignore", 0)
    if ignored not in (0, 1):
        raise CrowdHumanError(f'{where}: "extra.ignore" must be 0 or 1, not {ignored!r}')
    is_person = ann["tag"] == "person" and ignored == 0
    # Mask regions may carry only a full-body box.
    field = box if box in ann or is_person else "fbox"
    values = ann.get(field)
    if (not isinstance(values, list) or len(values) != 4
            or not all(_finite(v) for v in values)):  # fmt: skip
        raise CrowdHumanError(f'{where}: "{field}" must be [x, y, w, h], four finite numbers, '
                              f"not {values!r}")  # fmt: skip
    return is_person, [float(v) for v in values]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
