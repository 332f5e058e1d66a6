"""Appearance embedders of vsdmot's tracker (the ``appearance_embedder`` setting): which
network turns a detection into the embedding its track's appearance bank is compared with.

* ``head``: the tracker model's own embedding head (no separate embedder; the default);
* ``reid``: the distilled person-crop embedder (:mod:`vsdmot.reid.model`, shipped weights);
* ``reid_colour``: ``reid`` with the HSV colour histogram appended, at the weight chosen
  when it was trained (recorded in its file);
* ``imagenet``: ImageNet MobileNetV2 features of the crops (DeepSORT's embedder);
* ``histogram``: the HSV colour histogram alone.

>>> sorted(APPEARANCE_EMBEDDERS)
['head', 'histogram', 'imagenet', 'reid', 'reid_colour']
>>> build_appearance_embedder("head") is None
True
>>> build_appearance_embedder("hog")
Traceback (most recent call last):
...
ValueError: unknown appearance_embedder 'hog'; choices: head, histogram, imagenet, reid, reid_colour
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vsdmot.reid import Embedder


def _head() -> Embedder | None:
    return None  # the model's embedding head runs inside the model


def _reid(weights: Path | None = None) -> Embedder:
    from vsdmot.reid.model import SHIPPED, CropEmbedder, load_crop_embedder

    return CropEmbedder(load_crop_embedder(weights or SHIPPED))


def _reid_colour(weights: Path | None = None) -> Embedder:
    from vsdmot.reid.model import SHIPPED, ColourConcat, read_provenance

    path = weights or SHIPPED
    return ColourConcat(_reid(path), float(read_provenance(path).get("colour_weight", 0.0)))


def _imagenet() -> Embedder:
    from vsdmot.tracking.deepsort import MobileNetV2Embedder

    return MobileNetV2Embedder()


def _histogram() -> Embedder:
    from vsdmot.reid.colour import colour_histogram

    return colour_histogram


#: Name -> builder of the embedder (None: the model's head). Builders import lazily: a
#: tracker that keeps the default never loads another network.
APPEARANCE_EMBEDDERS: dict[str, Callable[[], Embedder | None]] = {
    "head": _head,
    "reid": _reid,
    "reid_colour": _reid_colour,
    "imagenet": _imagenet,
    "histogram": _histogram,
}


def check_embedder_name(name: str) -> None:
    """Refuse a name that is not in :data:`APPEARANCE_EMBEDDERS`, listing the choices."""
    if name not in APPEARANCE_EMBEDDERS:
        choices = ", ".join(sorted(APPEARANCE_EMBEDDERS))
        raise ValueError(f"unknown appearance_embedder {name!r}; choices: {choices}")


def build_appearance_embedder(name: str) -> Embedder | None:
    """The embedder called ``name``: ``embedder(frame_bgr, boxes_xyxy) -> (N, E)`` unit
    rows, or None for the model's own head."""
    check_embedder_name(name)
    return APPEARANCE_EMBEDDERS[name]()
