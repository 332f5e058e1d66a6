"""Motion models of the runtime tracker: where each track should be on the next frame.

A :class:`MotionModel` starts one :class:`MotionState` per track. Each frame the
tracker calls :meth:`MotionState.predict` (the box becomes the track query's
reference box, and the motion cue of association), then
:meth:`MotionState.update` with the box the track was matched to, or nothing
when it was missed. Boxes are ``x1, y1, x2, y2`` in pixels.

Registered models (:data:`MOTION_MODELS`, chosen by the ``motion`` setting):

* ``kalman`` -- constant-velocity Kalman filter on the box corners, the
  ``trackers`` package's :class:`XYXYStateEstimator` with ByteTrack's noise
  tuning, so vsdmot and the ByteTrack peer predict motion the same way;
* ``velocity`` -- the smoothed centre velocity of the box (size kept), the
  tracker's original prior;
* ``static`` -- no motion: the last box.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from vsdmot.tracking.params import MotionParams


class MotionState(Protocol):
    """The motion of one track."""

    def predict(self) -> np.ndarray:
        """Advance one frame; the predicted box."""
        ...

    def update(self, box: np.ndarray | None) -> None:
        """The box observed on the frame just predicted (``None``: missed)."""
        ...


class MotionModel(Protocol):
    """Starts the motion state of a new track at its first box."""

    def start(self, box: np.ndarray) -> MotionState: ...


class KalmanState:
    """Constant-velocity Kalman filter on ``x1, y1, x2, y2`` (``trackers``' estimator).

    >>> s = KalmanMotion().start(np.array([0.0, 0.0, 10.0, 20.0]))
    >>> for x in (2.0, 4.0, 6.0, 8.0, 10.0):
    ...     _ = s.predict()
    ...     s.update(np.array([x, 0.0, x + 10.0, 20.0]))
    >>> bool(s.predict()[0] > 10.0)  # it learnt to move right
    True
    """

    def __init__(self, box: np.ndarray, estimator: type) -> None:
        self._kf = estimator(np.asarray(box, dtype=np.float64))
        kf = self._kf.kf
        # ByteTrack's tuning (as the ByteTrack peer in `trackers`).
        self._kf.set_kf_covariances(
            measurement_noise=kf.measurement_noise * 0.1, process_noise=kf.process_noise * 0.01
        )

    def predict(self) -> np.ndarray:
        self._kf.predict()
        return self._kf.state_to_bbox().copy()

    def update(self, box: np.ndarray | None) -> None:
        if box is not None:
            self._kf.update(np.asarray(box, dtype=np.float64))


class KalmanMotion:
    def __init__(self) -> None:
        # Imported here, once per tracker: `trackers` takes about a second to import.
        from trackers.utils.state_representations import XYXYStateEstimator

        self._estimator = XYXYStateEstimator

    def start(self, box: np.ndarray) -> MotionState:
        return KalmanState(box, self._estimator)


class VelocityState:
    """Box moved by the exponentially smoothed velocity of its centre (size kept).

    ``limits`` (``width, height``) clamps the predicted centre to the frame.

    >>> s = VelocityMotion(momentum=0.0).start(np.array([0.0, 0.0, 10.0, 10.0]))
    >>> _ = s.predict(); s.update(np.array([3.0, 0.0, 13.0, 10.0]))
    >>> s.predict().tolist()
    [6.0, 0.0, 16.0, 10.0]
    """

    def __init__(
        self, box: np.ndarray, momentum: float, limits: tuple[float, float] | None
    ) -> None:
        self.box = np.asarray(box, dtype=np.float64).copy()
        self.velocity = np.zeros(2)
        self.momentum = momentum
        self.limits = limits

    def predict(self) -> np.ndarray:
        centre = (self.box[:2] + self.box[2:]) / 2 + self.velocity
        if self.limits is not None:
            centre = np.clip(centre, 0.0, self.limits)
        half = (self.box[2:] - self.box[:2]) / 2
        return np.concatenate([centre - half, centre + half])

    def update(self, box: np.ndarray | None) -> None:
        if box is None:  # a missed frame: coast on the prediction, velocity kept
            self.box = self.predict()
            return
        box = np.asarray(box, dtype=np.float64)
        step = (box[:2] + box[2:]) / 2 - (self.box[:2] + self.box[2:]) / 2
        self.velocity = self.momentum * self.velocity + (1 - self.momentum) * step
        self.box = box.copy()


class VelocityMotion:
    def __init__(self, momentum: float = 0.5, limits: tuple[float, float] | None = None) -> None:
        self.momentum = momentum
        self.limits = limits

    def start(self, box: np.ndarray) -> MotionState:
        return VelocityState(box, self.momentum, self.limits)


class StaticState:
    def __init__(self, box: np.ndarray) -> None:
        self.box = np.asarray(box, dtype=np.float64).copy()

    def predict(self) -> np.ndarray:
        return self.box.copy()

    def update(self, box: np.ndarray | None) -> None:
        if box is not None:
            self.box = np.asarray(box, dtype=np.float64).copy()


class StaticMotion:
    def start(self, box: np.ndarray) -> MotionState:
        return StaticState(box)


#: Motion models by name (the ``motion`` setting). Factories take the motion settings
#: and the frame size; models that do not need them ignore them.
MOTION_MODELS = {
    "kalman": lambda params, limits: KalmanMotion(),
    "velocity": lambda params, limits: VelocityMotion(params.velocity_momentum, limits),
    "static": lambda params, limits: StaticMotion(),
}


def build_motion(params: MotionParams, limits: tuple[float, float]) -> MotionModel:
    """The registered motion model ``params.motion``."""
    if params.motion not in MOTION_MODELS:
        raise ValueError(
            f"unknown motion model {params.motion!r}; choose from {sorted(MOTION_MODELS)}"
        )
    return MOTION_MODELS[params.motion](params, limits)
