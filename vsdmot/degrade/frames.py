"""Degrade frames in memory, as ``vsdmot degrade`` degrades a sequence (without its
JPEG storage step): for benchmarks that score a condition without writing a copy.

>>> import numpy as np
>>> frames = {t: np.full((48, 64, 3), 128, np.uint8) for t in (1, 2, 3)}
>>> out = degrade_frames(frames, "gaussian_noise", 3.0, name="SEQ")
>>> sorted(out), out[1].shape, out[1].dtype
([1, 2, 3], (48, 64, 3), dtype('uint8'))
>>> bool((out[1] != frames[1]).any()), bool((out[1] == out[2]).all())
(True, False)
>>> np.array_equal(degrade_frames(frames, "gaussian_noise", 3.0, name="SEQ")[2], out[2])
True
>>> degrade_frames(frames, None, 3.0, name="SEQ") is frames  # clean: unchanged
True
"""

from __future__ import annotations

import numpy as np

from vsdmot.degrade.base import sequence_key
from vsdmot.degrade.degrader import Degrader


def degrade_frames(
    frames: dict[int, np.ndarray],
    type_: str | None,
    severity: float,
    *,
    name: str,
    frame_size: tuple[int, int] | None = None,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """Frames ``{t: BGR}`` of sequence ``name`` degraded with ``type_`` at a constant
    ``severity`` (``None``: returned as given).

    Fixed parameters come from ``(seed, sequence_key(name))`` and each frame's noise from
    its number ``t``, as in ``vsdmot degrade``. Clip-level types (``codec``) compress the
    given frames as one clip, numbered from the first. ``frame_size`` (w, h) defaults to
    the first frame's.
    """
    if type_ is None:
        return frames
    ts = sorted(frames)
    if frame_size is None:
        h, w = frames[ts[0]].shape[:2]
        frame_size = (w, h)
    d = Degrader(type_, frame_size, seed=seed, key=sequence_key(name))
    if d.needs_clip:
        out = d.stream([frames[t] for t in ts], [severity] * len(ts), start=ts[0])
        return dict(zip(ts, out, strict=True))
    return {t: d.frame(frames[t], t, severity) for t in ts}
