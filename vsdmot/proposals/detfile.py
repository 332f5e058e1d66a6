"""Proposals read from files: MOTChallenge ``det.txt`` or a proposal database.

Proposal database format (one file per sequence, frames 1-based):

- ``.npz``: array ``frames`` (``int64``, shape ``(N,)``), array ``boxes``
  (``float32``, shape ``(N, 5)``: ``x1, y1, x2, y2, score``, one row per
  box, rows of a frame contiguous), and optionally ``meta`` (a 0-d string
  array holding a JSON object: who wrote it, with which settings) and
  ``covered`` (``int64``: every frame the database has looked at, so a frame
  known to be empty is told apart from one never processed).
- ``.json``: ``{"format": "vsdmot-proposals", "version": 1, "meta": {...},
  "frames": {"1": [[x1, y1, x2, y2, score], ...], "2": [...]}}``.

Frames absent from a database have no proposals; :func:`load_proposal_db`
returns the frames it covers, empty ones as ``(0, 5)`` arrays. Scores are in ``[0, 1]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vsdmot.data.mot import read_mot
from vsdmot.proposals.base import ProposalError, ProposalSource, as_proposals, empty_proposals
from vsdmot.utils.io import atomic_write

DB_FORMAT = "vsdmot-proposals"
DB_VERSION = 1
DB_SUFFIXES = (".npz", ".json")


def save_proposal_db(
    path: str | Path, proposals: dict[int, np.ndarray], meta: dict[str, Any] | None = None
) -> None:
    """Write ``{frame: (P, 5) array}`` as a database (``.npz`` or ``.json``), atomically.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "seq.json"
    >>> save_proposal_db(p, {2: np.array([[1, 2, 3, 4, 0.5]])})
    >>> load_proposal_db(p)[2].tolist()
    [[1.0, 2.0, 3.0, 4.0, 0.5]]
    """
    path = Path(path)
    frames = sorted(int(t) for t in proposals)
    if path.suffix.lower() == ".json":
        doc = {
            "format": DB_FORMAT,
            "version": DB_VERSION,
            "meta": meta or {},
            "frames": {
                str(t): [[round(float(v), 3) for v in row] for row in as_proposals(proposals[t])]
                for t in frames
            },
        }
        with atomic_write(path) as f:
            json.dump(doc, f)
        return
    if path.suffix.lower() != ".npz":
        raise ProposalError(f"{path}: a proposal database must end in .npz or .json")
    arrays = [as_proposals(proposals[t]) for t in frames]
    rows = np.concatenate(arrays) if arrays else np.zeros((0, 5), np.float32)
    index = np.repeat(np.asarray(frames, dtype=np.int64), [len(a) for a in arrays])
    with atomic_write(path, "wb") as f:
        np.savez(
            f,
            frames=index,
            boxes=rows,
            covered=np.asarray(frames, dtype=np.int64),
            meta=np.array(json.dumps(meta or {})),
        )


def load_proposal_db(path: str | Path) -> dict[int, np.ndarray]:
    """Read a database into ``{frame: (P, 5) float32 array}``; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ProposalError(f"{path}: proposal database not found")
    try:
        if path.suffix.lower() == ".json":
            return _load_json(path)
        if path.suffix.lower() == ".npz":
            return _load_npz(path)
    except ProposalError as exc:
        raise ProposalError(f"{path}: {exc}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProposalError(f"{path}: not a readable proposal database ({exc})") from exc
    raise ProposalError(f"{path}: a proposal database must end in .npz or .json")


def _load_json(path: Path) -> dict[int, np.ndarray]:
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict) or doc.get("format") != DB_FORMAT:
        hint = ""
        if isinstance(doc, dict) and any("/img1/" in str(k) for k in list(doc)[:10]):
            hint = f"; it looks like a MOTRv2 det_db: use det_db:{path}"
        raise ProposalError(f'not a {DB_FORMAT} JSON file (no "format": "{DB_FORMAT}"){hint}')
    return _check_frames({int(t): as_proposals(rows) for t, rows in doc["frames"].items()})


def _check_frames(table: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    bad = sorted(t for t in table if t < 1)
    if bad:
        raise ProposalError(f"frame numbers start at 1; found {bad[:5]}")
    return table


def _load_npz(path: Path) -> dict[int, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        frames, boxes = z["frames"], z["boxes"]
        covered = z["covered"] if "covered" in z else np.zeros(0, np.int64)
    if frames.ndim != 1 or boxes.shape != (len(frames), 5):
        raise ProposalError(
            f"frames {frames.shape} and boxes {boxes.shape} do not match (N,), (N, 5)"
        )
    out: dict[int, np.ndarray] = {int(t): empty_proposals() for t in covered}
    for t in np.unique(frames):
        out[int(t)] = as_proposals(boxes[frames == t])
    return _check_frames(out)


def read_db_meta(path: str | Path) -> dict[str, Any]:
    """The ``meta`` object of a database (``{}`` when it has none)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            meta = json.loads(path.read_text()).get("meta", {})
        else:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"])) if "meta" in z else {}
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise ProposalError(f"{path}: not a readable proposal database ({exc})") from exc
    return meta if isinstance(meta, dict) else {}


def squash_scores(scores: np.ndarray) -> np.ndarray:
    """Scores already in ``[0, 1]`` unchanged; otherwise all mapped by a logistic.

    Some public detections (MOT17's DPM, for instance) carry raw SVM margins.

    >>> squash_scores(np.array([0.2, 0.9])).tolist()
    [0.2, 0.9]
    >>> squash_scores(np.array([-2.0, 0.0, 3.0])).round(3).tolist()
    [0.119, 0.5, 0.953]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0 or (scores.min() >= 0.0 and scores.max() <= 1.0):
        return scores
    return 1.0 / (1.0 + np.exp(-np.clip(scores, -60, 60)))


def ltwh_proposals(
    frames: np.ndarray, ltwh: np.ndarray, scores: np.ndarray
) -> dict[int, np.ndarray]:
    """Rows ``left, top, width, height`` (float64) with their frames and scores ->
    ``{frame: (P, 5) x1, y1, x2, y2, score}``, scores through :func:`squash_scores`.

    Every file format of boxes goes through here, so equal rows give equal proposals.

    >>> ltwh_proposals(np.array([2, 2]), np.array([[1, 2, 3, 4], [0, 0, 1, 1.0]]),
    ...                np.array([0.5, 0.25]))[2].tolist()
    [[1.0, 2.0, 4.0, 6.0, 0.5], [0.0, 0.0, 1.0, 1.0, 0.25]]
    """
    frames = np.asarray(frames).reshape(-1)
    ltwh = np.asarray(ltwh, dtype=np.float64).reshape(-1, 4)
    xyxy = np.concatenate([ltwh[:, :2], ltwh[:, :2] + ltwh[:, 2:]], axis=1)
    squashed = squash_scores(scores)
    out: dict[int, np.ndarray] = {}
    for t in np.unique(frames):
        mask = frames == t
        out[int(t)] = as_proposals(np.concatenate([xyxy[mask], squashed[mask, None]], axis=1))
    return out


class DetFileProposals(ProposalSource):
    """Proposals from a ``det.txt`` (MOTChallenge) or a ``.npz`` / ``.json`` database.

    ``min_score`` applies to scores in ``[0, 1]`` (after :func:`squash_scores`
    for ``det.txt`` files with raw margins). The frame passed in is ignored.
    """

    def __init__(self, path: str | Path, *, min_score: float = 0.0) -> None:
        self.path = Path(path)
        self.min_score = float(min_score)
        if self.path.suffix.lower() in DB_SUFFIXES:
            table = load_proposal_db(self.path)
        else:
            table = self._read_det(self.path)
        self._table = {t: p[p[:, 4] >= self.min_score] for t, p in table.items()}

    @staticmethod
    def _read_det(path: Path) -> dict[int, np.ndarray]:
        if not path.is_file():
            raise ProposalError(f"{path}: detection file not found")
        det = read_mot(path, "det")
        return ltwh_proposals(det.frame, det.boxes, det.score)

    @property
    def name(self) -> str:
        return f"det:{self.path.name}"

    @property
    def params(self) -> dict[str, Any]:
        return {"path": str(self.path.resolve()), "min_score": self.min_score}

    @property
    def frames(self) -> list[int]:
        """Frames that have at least one proposal."""
        return sorted(t for t, p in self._table.items() if len(p))

    def __call__(self, frame_bgr: np.ndarray | None, frame_index: int) -> np.ndarray:
        props = self._table.get(int(frame_index))
        return empty_proposals() if props is None else props.copy()
