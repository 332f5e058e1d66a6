"""The proposal-source interface: a frame in, scored person boxes out.

A proposal is a detector box that the tracker turns into an anchor query
(MOTRv2 style). Every source returns a ``float32`` array of shape ``(P, 5)``:
``x1, y1, x2, y2`` in pixels of the frame it was given, and a score in
``[0, 1]``. A frame without detections gives shape ``(0, 5)``.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class ProposalError(ValueError):
    """A proposal source or database is unusable. The message names the file or spec."""


class MissingDependencyError(ImportError, ValueError):
    """An optional dependency of a proposal source is not installed.

    Also a ``ValueError`` so command-line front ends report it as a user error.
    """


def empty_proposals() -> np.ndarray:
    """The ``(0, 5)`` result of a frame with no detections."""
    return np.zeros((0, 5), dtype=np.float32)


def as_proposals(rows: Any) -> np.ndarray:
    """Validate and convert rows to a ``(P, 5)`` float32 array with scores clipped to ``[0, 1]``.

    >>> as_proposals([[0, 0, 4, 8, 1.2]]).tolist()
    [[0.0, 0.0, 4.0, 8.0, 1.0]]
    >>> as_proposals([]).shape
    (0, 5)
    """
    with np.errstate(over="ignore"):  # values beyond float32 become inf, refused below
        arr = np.asarray(rows, dtype=np.float32)
    if arr.size == 0:
        return empty_proposals()
    if arr.ndim != 2 or arr.shape[1] != 5:
        raise ProposalError(f"proposals must have shape (P, 5), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ProposalError("proposals contain NaN or infinite values")
    arr = arr.copy()
    arr[:, 4] = np.clip(arr[:, 4], 0.0, 1.0)
    return arr


class ProposalSource(ABC):
    """Per-frame person proposals. ``__call__`` must not depend on call order.

    Subclasses set :attr:`params` (the settings that change the output) so a
    cache can tell two configurations of the same detector apart.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """Short identifier of the detector (``"hog"``, ``"det:det.txt"``...)."""

    @property
    def params(self) -> dict[str, Any]:
        """Settings that change the output (JSON-serialisable)."""
        return {}

    @property
    def key(self) -> str:
        """``name`` plus a hash of ``params``: equal keys mean equal proposals.

        >>> class Blank(ProposalSource):
        ...     name = "blank"
        ...     def __call__(self, frame_bgr, frame_index):
        ...         return empty_proposals()
        >>> Blank().key
        'blank-bf21a9e8fbc5'
        """
        blob = json.dumps(self.params, sort_keys=True, default=str).encode()
        return f"{self.name}-{hashlib.sha1(blob).hexdigest()[:12]}"

    @abstractmethod
    def __call__(self, frame_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        """Proposals of frame ``frame_index`` (1-based), shape ``(P, 5)``."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"
