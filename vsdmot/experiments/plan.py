"""What a run's cached files are keyed by: the content of the data, not its paths.

:func:`plan_grid` reads the dataset once, on the machine that drives the run, and fixes
what every task then relies on:

* the **data key**: a digest of every sequence folder's bytes (frames, video, gt, det,
  seqinfo.ini). Degraded copies and detector proposals live under it, so an edited,
  re-encoded or replaced sequence never meets the copies of its old version, while a
  copied or moved dataset still finds them;
* the **fingerprint** stored with every result: the selected sequences' digests and
  frame spans, the proposal protocol, the detector, the seed and the frame cap. A stored
  result with another fingerprint is stale and computed again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from vsdmot.data.sequence import list_sequences
from vsdmot.experiments.grid import Condition
from vsdmot.experiments.run_config import RunConfig
from vsdmot.utils.digest import tree_digest


@dataclass(frozen=True)
class GridPlan:
    """The selected sequences with their frame spans, the data key and the fingerprint."""

    spans: dict[str, tuple[int, int]]
    data_key: str
    fingerprint: str

    @property
    def names(self) -> list[str]:
        return list(self.spans)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sequence_digests(data: Path) -> dict[str, str]:
    """Each sequence folder of ``data`` -> the digest of its bytes."""
    return {p.name: tree_digest(p) for p in list_sequences(data)}


def data_key(digests: dict[str, str]) -> str:
    """The key of a dataset's cached derivatives: every sequence's name and digest.

    >>> data_key({"A": "1", "B": "2"}) == data_key({"B": "2", "A": "1"}) != data_key({"A": "1"})
    True
    """
    return _sha("\n".join(f"{n}:{d}" for n, d in sorted(digests.items())))


def plan_grid(cfg: RunConfig) -> GridPlan:
    """Read the data once and fix the spans, the data key and the fingerprint."""
    digests = sequence_digests(cfg.data)
    spans = {folder.name: span for folder, span in cfg.selected(cfg.data)}
    grid = cfg.grid
    parts = [f"{n}:{first}-{last}:{digests[n]}" for n, (first, last) in spans.items()]
    parts.append(f"{grid.protocol}|{cfg.detector}|{grid.seed}|{grid.max_frames}")
    return GridPlan(spans, data_key(digests), _sha("\n".join(parts)))


def condition_root(cfg: RunConfig, condition: Condition, key: str | None = None) -> Path:
    """The dataset folder of a condition: the user's data (clean) or its degraded copy,
    ``CACHE/data/<data key>/<condition>-seed<S>[-first<N>]`` (``key``: the run's data key,
    computed from the data when not given)."""
    if condition.clean:
        return cfg.data
    key = key if key is not None else data_key(sequence_digests(cfg.data))
    return cfg.cache_root / "data" / key / cfg.grid.cache_key(condition)
