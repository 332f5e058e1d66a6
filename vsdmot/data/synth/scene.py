"""Configuration of a generated sequence and the scene geometry it implies.

Coordinates: the scene lives on a *world* canvas larger than the frame by
``camera_pad`` pixels on every side; frame ``t`` shows the canvas window whose
top-left corner is the camera offset of that frame. With the camera at rest
the offset is ``(camera_pad, camera_pad)``, and *nominal* image coordinates
(world minus that rest offset) define the ground plane: feet at nominal
``y = walk_top * height`` are the farthest walkable point, feet at the bottom
edge the nearest, and an object's size grows linearly in between.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from vsdmot.data.synth.detector import DetectorConfig


def _check_range(name: str, value: tuple[float, float], low: float, high: float) -> None:
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        raise ValueError(f"SynthConfig.{name}={value!r}: need {low} <= min <= max <= {high}")


@dataclass(frozen=True)
class SynthConfig:
    """Everything that shapes a generated sequence (the seed aside).

    >>> cfg = SynthConfig(width=320, height=240, objects=(2, 4))
    >>> SynthConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    width: int = 640
    height: int = 480
    n_frames: int = 100
    frame_rate: float = 25.0
    #: objects on screen at once: the scene starts with a count in the lower half
    #: of this range, new ones enter while below the max, and faster while below the min
    objects: tuple[int, int] = (6, 12)
    #: chance per frame that a new object enters while the scene is not full
    birth_rate: float = 0.06
    #: share of new objects that appear in the far distance rather than at a border
    far_birth_fraction: float = 0.2
    #: preferred walking speeds, pixels per frame for an object at the bottom edge
    speed_range: tuple[float, float] = (0.6, 4.0)
    #: box height at the bottom edge as a fraction of the image height
    size_range: tuple[float, float] = (0.3, 0.5)
    #: box width / height
    aspect_range: tuple[float, float] = (0.36, 0.46)
    #: farthest walkable foot position, as a fraction of the image height
    walk_top: float = 0.45
    #: size factor of an object at ``walk_top`` relative to the bottom edge
    far_scale: float = 0.3
    #: chance per frame that a walking object stops for a while
    stop_prob: float = 0.008
    #: chance per frame that an object starts a sharp turn
    turn_prob: float = 0.02
    camera_motion: bool = True
    #: maximal camera excursion from rest, pixels
    camera_pad: int = 40
    #: std of the per-frame camera shake, pixels
    camera_jitter: float = 0.8
    #: number of extra shapes (buildings, benches, bushes, markings) on the background
    n_shapes: int = 12
    ground_gradient: bool = True
    #: std of the per-frame sensor noise, grey levels
    sensor_noise: float = 2.5
    #: std of the per-frame global brightness change (relative)
    flicker: float = 0.015
    jpeg_quality: int = 92
    detector: DetectorConfig = field(default_factory=DetectorConfig)

    def __post_init__(self) -> None:
        if self.width < 32 or self.height < 32:
            raise ValueError(f"SynthConfig: image {self.width}x{self.height} is below 32x32")
        if self.n_frames < 1:
            raise ValueError(f"SynthConfig.n_frames={self.n_frames} must be >= 1")
        if self.frame_rate <= 0:
            raise ValueError(f"SynthConfig.frame_rate={self.frame_rate} must be positive")
        if len(self.objects) != 2 or not 0 <= self.objects[0] <= self.objects[1]:
            raise ValueError(f"SynthConfig.objects={self.objects!r}: need 0 <= min <= max")
        _check_range("speed_range", self.speed_range, 0.0, 1e4)
        _check_range("size_range", self.size_range, 1e-3, 2.0)
        _check_range("aspect_range", self.aspect_range, 0.05, 2.0)
        for name in ("birth_rate", "far_birth_fraction", "stop_prob", "turn_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SynthConfig.{name}={getattr(self, name)} must lie in [0, 1]")
        if not 0.05 <= self.walk_top < 0.95:
            raise ValueError(f"SynthConfig.walk_top={self.walk_top} must lie in [0.05, 0.95)")
        if not 0.0 < self.far_scale <= 1.0:
            raise ValueError(f"SynthConfig.far_scale={self.far_scale} must lie in (0, 1]")
        if self.camera_pad < 0 or self.camera_jitter < 0 or self.n_shapes < 0:
            raise ValueError("SynthConfig: camera_pad, camera_jitter and n_shapes must be >= 0")
        if self.sensor_noise < 0 or self.flicker < 0:
            raise ValueError("SynthConfig: sensor_noise and flicker must be >= 0")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"SynthConfig.jpeg_quality={self.jpeg_quality} must lie in 1..100")

    # -- geometry ---------------------------------------------------------

    @property
    def pad(self) -> int:
        """Canvas margin around the frame (zero when the camera is static)."""
        return self.camera_pad if self.camera_motion else 0

    @property
    def canvas_size(self) -> tuple[int, int]:
        """``(width, height)`` of the world canvas."""
        return self.width + 2 * self.pad, self.height + 2 * self.pad

    def perspective(self, foot_y_world: np.ndarray | float) -> np.ndarray:
        """Size factor of an object whose feet are at world ``y`` (1 at the bottom edge).

        >>> cfg = SynthConfig(camera_motion=False)
        >>> [round(float(v), 2) for v in cfg.perspective(np.array([216.0, 480.0]))]
        [0.3, 1.0]
        """
        top = self.walk_top * self.height
        y = np.asarray(foot_y_world, dtype=np.float64) - self.pad
        frac = (y - top) / (self.height - top)
        # Below walk_top nobody walks, but clamp so a stray value cannot give
        # a zero or negative size.
        return np.maximum(self.far_scale + (1.0 - self.far_scale) * frac, 0.5 * self.far_scale)

    # -- (de)serialisation ------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ValueError`."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"SynthConfig: unknown key(s) {', '.join(unknown)}")
        values = dict(data)
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(value)
        det = values.get("detector")
        if isinstance(det, dict):
            det_known = {f.name for f in fields(DetectorConfig)}
            bad = sorted(set(det) - det_known)
            if bad:
                raise ValueError(f"DetectorConfig: unknown key(s) {', '.join(bad)}")
            values["detector"] = DetectorConfig(**det)
        return cls(**values)
