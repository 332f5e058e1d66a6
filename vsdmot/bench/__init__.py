"""MOT-C: a corruption-robustness benchmark for any multi-object tracker (``vsdmot bench``).

The grid and the runner are the experiment runner's (:mod:`vsdmot.experiments`); this
package adds the standard grid and the report.
"""

from vsdmot.bench.report import Summary, summarise, write_report
from vsdmot.experiments.grid import MOTC_V1, PROTOCOLS, Condition, GridSpec, motc_v1
from vsdmot.experiments.runner import Cell, RunConfig, run_grid

__all__ = [
    "MOTC_V1",
    "PROTOCOLS",
    "Cell",
    "Condition",
    "GridSpec",
    "RunConfig",
    "Summary",
    "motc_v1",
    "run_grid",
    "summarise",
    "write_report",
]
