"""Checks of the generated textured frames and seeded degradations used by the semantic tests.

The generator itself (:func:`make_frame`, and :func:`degrade` on the library's degradation
ops, 0 = identity, 5 = worst) lives in ``helpers/frames.py``.
"""

from __future__ import annotations

import cv2
import numpy as np
from helpers.frames import KINDS, degrade, make_frame

# -- the generator's own checks: the learning tests rely on these properties -------------


def test_frames_are_seeded_and_varied() -> None:
    a = make_frame(np.random.default_rng(3))
    b = make_frame(np.random.default_rng(3))
    c = make_frame(np.random.default_rng(4))
    assert a.shape == (64, 64, 3) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.05


def test_degradations_are_monotone_in_severity() -> None:
    img = make_frame(np.random.default_rng(0))
    lap = lambda x: float(np.abs(cv2.Laplacian(x.mean(axis=2), cv2.CV_32F)).mean())  # noqa: E731
    for kind in (*KINDS, "jpeg"):
        errs = [
            float(np.abs(degrade(img, kind, s, np.random.default_rng(1)) - img).mean())
            for s in (0, 1, 3, 5)
        ]
        assert errs[0] < 1 / 255, kind  # the identity, up to the ops' uint8 round trip
        assert errs[1] < errs[2] < errs[3], (kind, errs)
    assert lap(degrade(img, "gaussian_blur", 4, None)) < 0.5 * lap(img)
