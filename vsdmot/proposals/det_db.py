"""Proposals of one sequence from a MOTRv2 det_db file (``--proposals det_db:FILE.json``).

The file format, key matching and writing are in :mod:`vsdmot.data.det_db`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vsdmot.data.det_db import DetDb, DetDbError
from vsdmot.proposals.base import ProposalError, ProposalSource, empty_proposals
from vsdmot.proposals.detfile import ltwh_proposals


class DetDbProposals(ProposalSource):
    """Proposals of one sequence from a det_db file (``det_db:FILE`` on the command line).

    ``db`` lets several sequences share one reading of the file.
    """

    def __init__(
        self,
        path: str | Path,
        sequence: str,
        *,
        prefix: str | None = None,
        min_score: float = 0.0,
        db: DetDb | None = None,
    ) -> None:
        self.path = Path(path)
        self.sequence, self.prefix, self.min_score = sequence, prefix, float(min_score)
        try:
            frames, rows = (db or DetDb(self.path)).rows(sequence, prefix)
        except DetDbError as exc:
            raise ProposalError(str(exc)) from None
        table = ltwh_proposals(frames, rows[:, :4], rows[:, 4])
        self._table = {t: p[p[:, 4] >= self.min_score] for t, p in table.items()}

    @property
    def name(self) -> str:
        return f"det_db:{self.path.name}/{self.sequence}"

    @property
    def params(self) -> dict[str, Any]:
        return {"path": str(self.path.resolve()), "sequence": self.sequence,
                "prefix": self.prefix, "min_score": self.min_score}  # fmt: skip

    def __call__(self, frame_bgr: np.ndarray | None, frame_index: int) -> np.ndarray:
        props = self._table.get(int(frame_index))
        return empty_proposals() if props is None else props.copy()
