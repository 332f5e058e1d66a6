"""Evaluation through TrackEval: HOTA / CLEAR / Identity scores and robustness summaries.

>>> from vsdmot.eval import SequenceMetrics
>>> SequenceMetrics(MOTA=0.9).MOTA
0.9
"""

from vsdmot.eval.evaluate import evaluate
from vsdmot.eval.inputs import EvalSequence, load_sequences
from vsdmot.eval.plot import plot_robustness
from vsdmot.eval.report import results_table, write_csv, write_json
from vsdmot.eval.results import EvalResult, SequenceMetrics
from vsdmot.eval.robustness import RobustnessResult, SeverityBucket, robustness
from vsdmot.eval.scoring import score_sequences

__all__ = [
    "EvalResult",
    "EvalSequence",
    "RobustnessResult",
    "SequenceMetrics",
    "SeverityBucket",
    "evaluate",
    "load_sequences",
    "plot_robustness",
    "results_table",
    "robustness",
    "score_sequences",
    "write_csv",
    "write_json",
]
