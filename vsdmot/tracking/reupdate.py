"""OC-SORT's observation-centric re-update (ORU) for a ``trackers`` Kalman tracklet.

While a track is lost its filter only predicts, so its velocity drifts with nothing to
correct it; when the track is found again, one update on the new box cannot undo the
drift. ORU rewinds the filter to the state it had at the last observation and replays the
gap along the straight path from that observation to the new one (one predict and one
virtual update per missed frame), so the velocity it leaves with is the one the two real
observations imply. ``trackers`` ships ORU inside its OC-SORT tracklet only; this is the
same replay for any tracklet whose ``state_estimator`` offers ``get_state`` /
``set_state`` / ``predict`` / ``update`` (BoT-SORT's width/height state here).

Camera-motion compensation applied to the track during the gap is dropped by the rewind:
the replay runs in the coordinates of the new observation, which is where the straight
path ends.

>>> import numpy as np
>>> from trackers.core.botsort.tracklet import BoTSORTTracklet
>>> t = BoTSORTTracklet(np.array([0.0, 0.0, 10.0, 20.0]))
>>> saved = t.state_estimator.get_state()
>>> for _ in range(4):
...     _ = t.predict()
>>> replay_gap(t, saved, np.array([0.0, 0.0, 10.0, 20.0]), np.array([8.0, 0.0, 18.0, 20.0]))
>>> t.update(np.array([8.0, 0.0, 18.0, 20.0]))
>>> bool(t.state_estimator.kf.state[4, 0] > 0.5)  # it leaves moving right, ~2 px per frame
True
"""

from __future__ import annotations

import numpy as np
from trackers.utils.predict_timing import FIXED_RATE_TIMING


def replay_gap(tracklet, saved_state: dict, last_box: np.ndarray, new_box: np.ndarray) -> None:
    """Rewind ``tracklet``'s filter to ``saved_state`` (taken right after it observed
    ``last_box``) and replay its ``time_since_update`` missed frames along the straight
    path to ``new_box``: a predict per frame and a virtual update on every frame but the
    last, whose update (on ``new_box`` itself) is the caller's. No-op without a gap."""
    gap = int(tracklet.time_since_update)
    if gap < 2:
        return
    estimator = tracklet.state_estimator
    estimator.set_state(saved_state)
    step = (np.asarray(new_box, np.float64) - np.asarray(last_box, np.float64)) / gap
    for i in range(1, gap + 1):
        tracklet._refresh_process_noise_from_state()
        estimator.predict(FIXED_RATE_TIMING.frame_step, FIXED_RATE_TIMING.frame_rate)
        if i < gap:
            tracklet._refresh_measurement_noise_from_state()
            estimator.update(np.asarray(last_box, np.float64) + i * step)
