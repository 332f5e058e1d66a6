"""Typed evaluation results whose field names are TrackEval's metric names.

Rates are fractions (HOTA 0.5 means 50 %); counts are ints. HOTA and its
sub-metrics (DetA, AssA, ...) are the means over TrackEval's 19 localisation
thresholds alpha = 0.05 .. 0.95, as in TrackEval's summaries. TrackEval calls
the CLEAR false positives / negatives ``CLR_FP`` / ``CLR_FN``; the properties
``FP`` / ``FN`` / ``TP`` are aliases.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SequenceMetrics:
    """Scores of one sequence (or of several combined).

    >>> m = SequenceMetrics(HOTA=0.5, CLR_FP=3)
    >>> m.FP, m.to_dict()["HOTA"]
    (3, 0.5)
    """

    # HOTA family (TrackEval ``HOTA`` metric, mean over alpha)
    HOTA: float = 0.0
    DetA: float = 0.0
    AssA: float = 0.0
    LocA: float = 0.0
    DetRe: float = 0.0
    DetPr: float = 0.0
    AssRe: float = 0.0
    AssPr: float = 0.0
    # CLEAR MOT (TrackEval ``CLEAR`` metric, IoU >= 0.5)
    MOTA: float = 0.0
    MOTP: float = 0.0
    IDSW: int = 0
    CLR_TP: int = 0
    CLR_FP: int = 0
    CLR_FN: int = 0
    Frag: int = 0
    MT: int = 0
    PT: int = 0
    ML: int = 0
    # Identity (TrackEval ``Identity`` metric)
    IDF1: float = 0.0
    IDP: float = 0.0
    IDR: float = 0.0
    IDTP: int = 0
    IDFP: int = 0
    IDFN: int = 0
    # Count
    Dets: int = 0
    GT_Dets: int = 0
    IDs: int = 0
    GT_IDs: int = 0

    @property
    def FP(self) -> int:
        return self.CLR_FP

    @property
    def FN(self) -> int:
        return self.CLR_FN

    @property
    def TP(self) -> int:
        return self.CLR_TP

    def to_dict(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SequenceMetrics:
        """Inverse of :meth:`to_dict` (unknown keys are rejected)."""
        names = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = set(values) - set(names)
        if unknown:
            raise ValueError(f"unknown metric name(s): {', '.join(sorted(unknown))}")
        return cls(**{k: (int(v) if names[k] == "int" else float(v)) for k, v in values.items()})


#: Columns shown in the printed table, in order.
TABLE_METRICS: tuple[str, ...] = (
    "HOTA",
    "DetA",
    "AssA",
    "LocA",
    "MOTA",
    "MOTP",
    "IDF1",
    "IDSW",
    "CLR_FP",
    "CLR_FN",
    "Frag",
    "MT",
    "ML",
)

INT_METRICS: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(SequenceMetrics) if f.type == "int"
)


@dataclass(frozen=True)
class EvalResult:
    """Per-sequence and combined scores of one evaluation.

    ``combined`` is TrackEval's combination over sequences (counts summed,
    HOTA re-derived from the summed TP/FN/FP, not an average of sequences).
    """

    sequences: dict[str, SequenceMetrics]
    combined: SequenceMetrics
    gt_formats: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"sequences": {name: {metric: value}}, "combined": {metric: value}}``."""
        return {
            "sequences": {name: m.to_dict() for name, m in self.sequences.items()},
            "combined": self.combined.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        return cls(
            sequences={k: SequenceMetrics.from_dict(v) for k, v in data["sequences"].items()},
            combined=SequenceMetrics.from_dict(data["combined"]),
        )


def json_safe(value: Any) -> Any:
    """Replace NaN / inf by ``None`` (JSON has no NaN), recursively."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
