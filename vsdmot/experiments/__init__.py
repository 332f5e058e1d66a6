"""Experiments: trackers x sequences x conditions x proposal protocol, run, scored and
cached (:mod:`~vsdmot.experiments.runner`), and tuned (:mod:`~vsdmot.experiments.tune`)."""
