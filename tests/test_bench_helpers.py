"""The helpers benchmarks/ runs on: timing, rank statistics, labelled-frame quality."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vsdmot.eval.frame_quality import FrameScorer, LabelledBatches, laplacian_variance, model_view
from vsdmot.eval.rank import srocc, win_rate
from vsdmot.utils.timing import repeat_ms, time_calls


def test_time_calls_skips_the_warmup_and_syncs_around_each_call():
    seen, syncs = [], []
    times = time_calls(seen.append, "abcd", warmup=1, sync=lambda: syncs.append(1))
    assert seen == list("abcd") and len(times) == 3 and len(syncs) == 8
    assert repeat_ms(lambda: sum(range(1000)), reps=3, stat=min) < 1000.0


def test_rank_statistics():
    assert srocc(np.array([3.0, 1.0, 2.0]), np.array([30.0, 10.0, 20.0])) == pytest.approx(1.0)
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0])
    assert srocc(a, b) == pytest.approx(0.8)
    assert math.isnan(srocc(np.array([1.0, 2.0]), np.array([2.0, 1.0])))
    assert win_rate(np.array([1.0, 2.0]), np.array([0.0, 2.0])) == 0.75


def test_frame_quality_helpers():
    frame = np.zeros((60, 80, 3), np.uint8)
    frame[:, 40:] = 255  # one vertical edge
    assert model_view(frame, 30, 100).shape == (30, 40, 3)
    assert laplacian_variance(frame) > 0.0 == laplacian_variance(np.zeros_like(frame))
    scorer = FrameScorer("sharpness", False, lambda: laplacian_variance)
    out = scorer.score([frame, np.zeros_like(frame)], "set")
    assert out[0] < out[1] == 0.0 and scorer.calls == 2
    batches = LabelledBatches([frame] * 5, [0.125, 0.25, 0.375, 0.5, 0.625], size=2, seed=0)
    first = list(batches)
    assert len(first) == 2 and first[0][0][0].shape == (3, 60, 80)
    labels = sorted(float(v) for _, y in first for v in y)
    assert len(labels) == 4 and set(labels) < {0.125, 0.25, 0.375, 0.5, 0.625}
    assert batches.passes == 1
