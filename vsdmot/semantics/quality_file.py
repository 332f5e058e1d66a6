"""A quality head on its own: its weights, the config that shapes it and how it was made.

The DSWR head is detached from the tracking loss (the tracker reads ``q_t``, its
gradients never reach the head), so a head fitted later, on other frames, can replace the
one inside a model file (``scripts/install_quality_head.py``) without retraining the
tracker. The file says which head it is (``version``, ``members``, ``input_size``,
``channels``) and
keeps the ``provenance`` its trainer wrote (data, steps, seed, scores).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from vsdmot.semantics.config import QualityConfig
from vsdmot.semantics.quality import QualityHead
from vsdmot.utils.io import atomic_write

QUALITY_HEAD_FORMAT = "vsdmot-quality-head"
FILE_VERSION = 1
#: The :class:`QualityConfig` fields that shape the head's parameters.
SHAPE_KEYS = ("input_size", "channels", "version", "members")


class QualityHeadFileError(ValueError):
    """A quality-head file is missing, unreadable or not one. Names the file."""


def head_config(cfg: QualityConfig) -> dict[str, Any]:
    """The shape-deciding fields of ``cfg`` as plain values.

    >>> head_config(QualityConfig(version=2))
    {'input_size': 64, 'channels': [16, 32, 48], 'version': 2, 'members': 1}
    """
    values = {k: getattr(cfg, k) for k in SHAPE_KEYS}
    values["channels"] = list(values["channels"])
    return values


def save_quality_head(
    path: str | os.PathLike[str], head: QualityHead, provenance: dict[str, Any]
) -> None:
    """Write ``head`` (weights, config, ``provenance``: JSON-like values) atomically."""
    blob = {
        "format": QUALITY_HEAD_FORMAT,
        "file_version": FILE_VERSION,
        "config": head_config(head.config),
        "state_dict": {k: v.detach().cpu() for k, v in head.state_dict().items()},
        "provenance": provenance,
    }
    with atomic_write(Path(path), "wb") as fh:
        torch.save(blob, fh)


def is_quality_head_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable quality-head file (a tracker model file is not)."""
    try:
        blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception:  # anything unreadable is simply not one
        return False
    return isinstance(blob, dict) and blob.get("format") == QUALITY_HEAD_FORMAT


def load_quality_head(path: str | os.PathLike[str]) -> tuple[QualityHead, dict[str, Any]]:
    """The head stored at ``path`` (eval mode) and its provenance."""
    path = Path(path)
    if not path.is_file():
        raise QualityHeadFileError(f"{path}: quality-head file not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, pickled objects ...
        raise QualityHeadFileError(f"{path}: unreadable quality-head file ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != QUALITY_HEAD_FORMAT:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise QualityHeadFileError(f"{path}: not a {QUALITY_HEAD_FORMAT} file (format: {found})")
    try:
        head = QualityHead(QualityConfig(**blob["config"]))
        head.load_state_dict(blob["state_dict"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise QualityHeadFileError(f"{path}: the head does not fit its config ({first})") from exc
    return head.eval(), dict(blob.get("provenance", {}))
