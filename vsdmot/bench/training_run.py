"""Summary of a training run's ``metrics.csv``: loss at the start and end, speed.

>>> import tempfile
>>> run = Path(tempfile.mkdtemp())
>>> rows = "step,loss,it_s\\n" + "".join(f"{i},{4 - i / 2},{2.0 if i else 0.5}\\n"
...                                     for i in range(6))
>>> _ = (run / "metrics.csv").write_text(rows)
>>> s = summarise_training(run, warmup=1)
>>> s["loss_first"], s["loss_last"], s["loss_mean_of"], s["loss_falls"], s["steps_per_s_median"]
(4.0, 1.5, 2, True, 2.0)
>>> summarise_training(run / "missing", warmup=0)
{'metrics_error': 'no metrics.csv rows'}
"""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path


def summarise_training(run: Path, warmup: int) -> dict:
    """Loss first / last (and the means of the first and last ``k`` steps, ``k`` a third
    of the run, 1 to 5), finiteness, steps/s (median and mean step time after ``warmup``
    logged steps), the loss curve and the last gradient norm of ``run/metrics.csv``."""
    path = run / "metrics.csv"
    text = path.read_text() if path.is_file() else ""
    rows = [{k: float(v) for k, v in r.items() if v not in ("", None)}
            for r in csv.DictReader(text.splitlines())]  # fmt: skip
    if not rows:
        return {"metrics_error": "no metrics.csv rows"}
    loss, it_s = [r["loss"] for r in rows], [r["it_s"] for r in rows if "it_s" in r]
    steps = [1.0 / v for v in (it_s[warmup:] if len(it_s) > warmup else it_s) if v > 0]
    k = max(1, min(5, len(loss) // 3))
    first_k, last_k = statistics.fmean(loss[:k]), statistics.fmean(loss[-k:])
    return {"steps_logged": len(rows), "loss_first": loss[0], "loss_last": loss[-1],
            "loss_first_mean": first_k, "loss_last_mean": last_k, "loss_mean_of": k,
            "loss_finite": all(math.isfinite(v) for v in loss), "loss_falls": last_k < first_k,
            "steps_per_s_median": 1.0 / statistics.median(steps) if steps else None,
            "steps_per_s_mean": len(steps) / sum(steps) if steps else None,
            "warmup_steps_excluded": min(warmup, len(it_s)),
            "loss_curve": [round(v, 4) for v in loss],
            "grad_norm_last": rows[-1].get("grad_norm")}  # fmt: skip
