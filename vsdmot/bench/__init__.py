"""MOT-C: a corruption-robustness benchmark for any multi-object tracker (``vsdmot bench``)."""

from vsdmot.bench.grid import MOTC_V1, PROTOCOLS, Condition, GridSpec, motc_v1
from vsdmot.bench.report import Summary, summarise, write_report
from vsdmot.bench.runner import BenchConfig, Cell, make_tracker, run_grid

__all__ = [
    "MOTC_V1",
    "PROTOCOLS",
    "BenchConfig",
    "Cell",
    "Condition",
    "GridSpec",
    "Summary",
    "make_tracker",
    "motc_v1",
    "run_grid",
    "summarise",
    "write_report",
]
