"""Rank statistics for comparing a score with labels or with a paired score.

>>> srocc(np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 20.0, 25.0, 40.0]))
1.0
>>> srocc(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
-1.0
>>> srocc(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0]))  # constant: undefined
nan
>>> win_rate(np.array([2.0, 1.0, 3.0, 5.0]), np.array([1.0, 1.0, 4.0, 0.0]))
0.625
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import spearmanr


def srocc(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of ``a`` and ``b``; NaN with fewer than 3 values or when
    either is constant (no ranking to compare)."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(spearmanr(a, b).statistic)


def win_rate(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the pairs ``(a[i], b[i])`` where ``a`` scores higher, ties counting 1/2."""
    return float(np.mean((a > b) + 0.5 * (a == b)))
