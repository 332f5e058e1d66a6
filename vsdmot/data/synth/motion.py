"""Walker trajectories and camera motion in world (canvas) coordinates.

Each walker has a preferred speed and heading. Its heading drifts through a
mean-reverting turn rate, with occasional sharp turns spread over several
frames; its speed follows the preferred speed through a bounded acceleration
and drops to zero during random stops. Most people walk across the view
(headings near 0 or pi) because that is what makes paths cross at equal
depth, the hard case for a tracker. Walkers enter through the left, right and
bottom borders (or appear in the distance) and die once they have left the
view. Vertical motion is foreshortened: the ground recedes with height in
the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vsdmot.data.synth.scene import SynthConfig

#: vertical image motion per unit of ground motion (the ground plane is seen obliquely)
FORESHORTENING = 0.5
#: walkers that never become visible are dropped after this many frames
MAX_FRAMES_UNSEEN = 80


@dataclass
class Track:
    """One simulated walker: feet positions (world) and gait phase per frame of its life."""

    track_id: int
    start: int  # first frame, 1-based
    base_height: float  # box height in pixels at the bottom edge
    aspect: float  # box width / height
    feet: list[tuple[float, float]] = field(default_factory=list)
    phase: list[float] = field(default_factory=list)

    @property
    def end(self) -> int:
        """Last frame (1-based) of the walker's life."""
        return self.start + len(self.feet) - 1

    def index(self, frame: int) -> int | None:
        """Position in ``feet`` of 1-based ``frame``, or None outside the life."""
        k = frame - self.start
        return k if 0 <= k < len(self.feet) else None


@dataclass
class _Walker:
    track: Track
    x: float
    y: float
    heading: float
    speed: float
    pref_speed: float
    turn_rate: float = 0.0
    pending_turn: float = 0.0
    stop_left: int = 0
    phase: float = 0.0
    seen: bool = False
    age: int = 0


def simulate_camera(config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Integer canvas offset ``(x, y)`` of the view for each frame, shape ``(n_frames, 2)``.

    A smooth drift (mean-reverting velocity, reflected at the canvas margin)
    plus per-frame shake; all zeros without camera motion.
    """
    n = config.n_frames
    pad = config.pad
    if pad == 0:
        return np.zeros((n, 2), dtype=np.int64)
    pos = np.zeros(2)
    vel = rng.normal(0.0, 0.3, 2)
    out = np.zeros((n, 2))
    limit = max(pad - 3.0 * config.camera_jitter, 0.0)
    for t in range(n):
        vel = 0.95 * vel + rng.normal(0.0, 0.08, 2)
        pos = pos + vel
        for axis in range(2):
            if abs(pos[axis]) > limit:
                pos[axis] = math.copysign(limit, pos[axis])
                vel[axis] = -0.5 * vel[axis]
        shake = rng.normal(0.0, config.camera_jitter, 2)
        out[t] = np.clip(pos + shake, -pad, pad)
    return np.rint(out + pad).astype(np.int64)


class WalkerSimulator:
    """Births, motion and deaths of walkers for one sequence; ids count from 1 per instance."""

    def __init__(self, config: SynthConfig, camera: np.ndarray, rng: np.random.Generator) -> None:
        if camera.shape != (config.n_frames, 2):
            raise ValueError(f"camera has shape {camera.shape}, expected ({config.n_frames}, 2)")
        self.cfg = config
        self.camera = camera
        self.rng = rng
        self._next_id = 1
        self._y_top = config.walk_top * config.height + config.pad
        self._y_bottom = config.height + config.pad

    # -- sampling helpers ---------------------------------------------------

    def _box_size(self, walker_track: Track, y: float) -> tuple[float, float]:
        h = walker_track.base_height * float(self.cfg.perspective(y))
        return h * walker_track.aspect, h

    def _heading(self) -> float:
        if self.rng.random() < 0.7:
            base = 0.0 if self.rng.random() < 0.5 else math.pi
            return base + self.rng.normal(0.0, 0.3)
        return self.rng.uniform(-math.pi, math.pi)

    def _new_track(self, frame: int) -> Track:
        cfg = self.cfg
        track = Track(
            track_id=self._next_id,
            start=frame,
            base_height=self.rng.uniform(*cfg.size_range) * cfg.height,
            aspect=self.rng.uniform(*cfg.aspect_range),
        )
        self._next_id += 1
        return track

    def _spawn(self, frame: int, inside: bool) -> _Walker:
        cfg = self.cfg
        cx, cy = self.camera[frame - 1]
        track = self._new_track(frame)
        heading = self._heading()
        y = self.rng.uniform(self._y_top, self._y_bottom)
        if inside:
            x = cx + self.rng.uniform(0.05, 0.95) * cfg.width
        elif self.rng.random() < cfg.far_birth_fraction:
            # Appearing in the distance (from a doorway or behind scenery).
            y = self._y_top + self.rng.uniform(0.0, 0.15) * (self._y_bottom - self._y_top)
            x = cx + self.rng.uniform(0.1, 0.9) * cfg.width
        else:
            side = self.rng.choice(3, p=[0.4, 0.4, 0.2])
            w, _ = self._box_size(track, y)
            if side == 0:  # left border, walking right
                x = cx - w / 2 + 1.0
                heading = self.rng.normal(0.0, 0.35)
            elif side == 1:  # right border, walking left
                x = cx + cfg.width + w / 2 - 1.0
                heading = math.pi + self.rng.normal(0.0, 0.35)
            else:  # from below the view, walking away from the camera
                y = cy + cfg.height + 0.4 * self._box_size(track, cy + cfg.height)[1]
                x = cx + self.rng.uniform(0.1, 0.9) * cfg.width
                heading = -math.pi / 2 + self.rng.normal(0.0, 0.5)
        pref = self.rng.uniform(*cfg.speed_range)
        return _Walker(track, x, y, heading, speed=pref, pref_speed=pref)

    # -- dynamics -------------------------------------------------------------

    def _step(self, w: _Walker) -> None:
        cfg, rng = self.cfg, self.rng
        lo, hi = cfg.speed_range
        w.pref_speed = float(np.clip(w.pref_speed * math.exp(rng.normal(0.0, 0.05)), lo, hi))
        if w.stop_left > 0:
            w.stop_left -= 1
            target = 0.0
        else:
            if rng.random() < cfg.stop_prob:
                w.stop_left = int(rng.integers(10, 40))
            target = w.pref_speed
        accel = 0.06 * max(hi, 0.5)
        w.speed = max(0.0, w.speed + float(np.clip(target - w.speed, -accel, accel)))

        w.turn_rate = 0.92 * w.turn_rate + rng.normal(0.0, 0.012)
        if rng.random() < cfg.turn_prob:
            w.pending_turn = math.copysign(rng.uniform(0.6, 2.0), rng.normal())
        delta = float(np.clip(w.pending_turn, -0.12, 0.12))
        w.pending_turn -= delta
        w.heading += w.turn_rate + delta
        # Nobody walks beyond the far edge of the ground: turn back towards the camera.
        if w.y < self._y_top and math.sin(w.heading) < 0:
            w.heading = -w.heading
            w.pending_turn = 0.0

        scale = float(cfg.perspective(w.y))
        step = w.speed * scale
        w.x += step * math.cos(w.heading)
        w.y += step * math.sin(w.heading) * FORESHORTENING
        # One gait cycle per stride of about 0.8 body heights.
        w.phase += 2.0 * math.pi * step / (0.8 * w.track.base_height * scale)

    def _in_view(self, w: _Walker, frame: int) -> bool:
        cx, cy = self.camera[frame - 1]
        bw, bh = self._box_size(w.track, w.y)
        left, top = w.x - bw / 2 - cx, w.y - bh - cy
        return left + bw > 0 and left < self.cfg.width and top < self.cfg.height and top + bh > 0

    # -- driver ------------------------------------------------------------------

    def run(self) -> list[Track]:
        """Simulate all frames; tracks are returned in birth order (ids ascending)."""
        cfg, rng = self.cfg, self.rng
        lo, hi = cfg.objects
        alive: list[_Walker] = []
        done: list[Track] = []
        for frame in range(1, cfg.n_frames + 1):
            if frame == 1:
                # Start in the lower half of the range so entries happen early on.
                n0 = int(rng.integers(lo, (lo + hi) // 2 + 1))
                alive = [self._spawn(1, inside=True) for _ in range(n0)]
            else:
                n_visible = sum(w.seen for w in alive)
                p = cfg.birth_rate if n_visible >= lo else max(cfg.birth_rate, 0.3)
                if len(alive) < hi and rng.random() < p:
                    alive.append(self._spawn(frame, inside=False))
                for w in alive:
                    self._step(w)
            survivors = []
            for w in alive:
                w.age += 1
                visible = self._in_view(w, frame)
                w.seen = w.seen or visible
                if (w.seen and not visible) or (not w.seen and w.age > MAX_FRAMES_UNSEEN):
                    done.append(w.track)  # left the view: its life ended last frame
                    continue
                w.track.feet.append((w.x, w.y))
                w.track.phase.append(w.phase)
                survivors.append(w)
            alive = survivors
        done.extend(w.track for w in alive)
        tracks = [t for t in done if t.feet]
        tracks.sort(key=lambda t: t.track_id)
        return tracks
