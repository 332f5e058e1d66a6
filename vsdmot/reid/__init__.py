"""Person re-identification: a small crop embedder distilled on degraded crops
(:mod:`vsdmot.reid.model`), box crops (:mod:`vsdmot.reid.crops`) and the HSV colour
histogram (:mod:`vsdmot.reid.colour`).

Every appearance embedder is an :data:`Embedder`: ``embed(frame_bgr, boxes_xyxy)`` gives
``(N, E)`` unit rows, one per box.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Embedder = Callable[[np.ndarray, np.ndarray], np.ndarray]
