"""Training metrics: ``metrics.csv`` always, TensorBoard events when ``tensorboard`` is installed.

(Named ``metrics`` rather than ``logging`` so it never shadows the standard library module.)
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_FIRST = ("step", "lr")
_LAST = ("grad_norm", "it_s")


class MetricsWriter:
    """Append rows of scalars to ``metrics.csv`` (and TensorBoard) in a run folder.

    The columns are fixed by the first row written (or by an existing file when a
    run resumes); keys that appear later go to TensorBoard only. On resume, rows
    after the resumed step are dropped so a crash between a log and the next
    checkpoint does not leave duplicated steps.
    """

    def __init__(self, out_dir: Path, *, resume_step: int | None = None, tensorboard: bool = True):
        self.path = Path(out_dir) / "metrics.csv"
        self.columns: list[str] | None = None
        self._warned: set[str] = set()
        if resume_step is not None and self.path.is_file():
            self._truncate(resume_step)
        elif self.path.exists():
            self.path.unlink()
        self._tb: Any = None
        if tensorboard and importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(Path(out_dir) / "tensorboard"), purge_step=resume_step)
        elif tensorboard:
            log.info("tensorboard is not installed: metrics go to %s only", self.path)

    def _truncate(self, step: int) -> None:
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            self.columns = list(reader.fieldnames or [])
            rows = [r for r in reader if r.get("step") and int(r["step"]) <= step]
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, self.columns)
            writer.writeheader()
            writer.writerows(rows)

    def write(self, row: dict[str, float]) -> None:
        if self.columns is None:
            middle = sorted(k for k in row if k not in _FIRST + _LAST)
            self.columns = [*_FIRST, *middle, *(k for k in _LAST if k in row)]
            with open(self.path, "w", newline="") as f:
                csv.DictWriter(f, self.columns).writeheader()
        extra = set(row) - set(self.columns) - self._warned
        if extra:
            log.debug("metrics %s are not CSV columns (first seen after the header)", extra)
            self._warned |= extra
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.columns, extrasaction="ignore").writerow(
                {k: _fmt(row.get(k)) for k in self.columns}
            )
        if self._tb is not None:
            step = int(row["step"])
            for key, value in row.items():
                if key != "step" and value is not None and math.isfinite(value):
                    self._tb.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return f"{value:.6g}"
