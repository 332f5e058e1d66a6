"""What a run is: its data, grid, trackers and sequences (:class:`RunConfig`), a cell of
its results (:class:`Cell`) and where each cell's files live."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.experiments.grid import Condition, GridSpec
from vsdmot.utils.specs import SpecError, parse_spec

#: Metrics kept per cell (TrackEval names).
METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")


@dataclass(frozen=True)
class SequenceRange:
    """One sequence of the dataset, optionally a frame range of it (1-based, inclusive).

    >>> SequenceRange.parse("PETS09-S2L1:first=601,last=795")
    SequenceRange(name='PETS09-S2L1', first=601, last=795)
    >>> str(SequenceRange("TUD-Stadtmitte"))
    'TUD-Stadtmitte'
    """

    name: str
    first: int = 1
    last: int | None = None

    @classmethod
    def parse(cls, text: str) -> SequenceRange:
        spec = parse_spec(text).keyword_only()
        unknown = set(spec.options) - {"first", "last"}
        if unknown:
            raise SpecError(f"sequence {text!r}: options are first= and last=, not {unknown}")
        try:
            opts = {k: int(v) for k, v in spec.options.items()}
        except ValueError:
            raise SpecError(f"sequence {text!r}: first and last are frame numbers") from None
        return cls(spec.name, **opts)

    def __str__(self) -> str:
        opts = {"first": self.first} if self.first != 1 else {}
        if self.last is not None:
            opts["last"] = self.last
        return self.name + ("" if not opts else ":" + ",".join(f"{k}={v}" for k, v in opts.items()))

    def span(self, length: int, cap: int | None = None) -> tuple[int, int]:
        """The frames tracked and scored, clipped to the sequence and to ``cap`` frames."""
        last = length if self.last is None else min(self.last, length)
        if cap is not None:
            last = min(last, self.first + cap - 1)
        if self.first < 1 or last < self.first:
            raise ValueError(f"sequence {self}: no frames in range (it has {length})")
        return self.first, last


@dataclass(frozen=True)
class RunConfig:
    """One run. Trackers are registry specs (:mod:`vsdmot.tracking.registry`); ``external``
    maps a name to a folder of results per condition (``DIR/<condition>/SEQ.txt``);
    ``sequences`` (default: all) select sequences and frame ranges; degraded copies and
    proposals are cached under ``cache`` (default ``out``) so several runs can share them.
    ``jobs`` and ``threads`` configure the default (local) executor.
    """

    data: Path
    out: Path
    grid: GridSpec
    trackers: tuple[str, ...] = ("vsdmot", "bytetrack")
    external: dict[str, Path] = field(default_factory=dict)
    detector: str = "auto"
    jobs: int = 1
    threads: int | None = None  # torch threads per task (default: cores // jobs)
    sequences: tuple[SequenceRange, ...] = ()
    cache: Path | None = None

    @property
    def cache_root(self) -> Path:
        return self.cache if self.cache is not None else self.out

    def selected(self, root: Path) -> list[tuple[Path, tuple[int, int]]]:
        """Each selected sequence folder under ``root`` with its frame span."""
        folders = {p.name: p for p in list_sequences(root)}
        chosen = self.sequences or tuple(SequenceRange(n) for n in folders)
        out = []
        for sel in chosen:
            if sel.name not in folders:
                raise MOTFormatError(f"{root}: no sequence {sel.name!r} (has {sorted(folders)})")
            length = len(MOTSequence(folders[sel.name]))
            out.append((folders[sel.name], sel.span(length, self.grid.max_frames)))
        return out


@dataclass
class Cell:
    """One tracker (or external result set) on one condition."""

    tracker: str  # label
    condition: str
    scores: dict[str, Any] | None  # combined + per sequence + fps; None when failed
    error: str | None = None
    computed: bool = False  # False: read back from an earlier run


def cell_dir(cfg: RunConfig, tracker: str, condition: Condition) -> Path:
    return cfg.out / "results" / tracker / condition.name
