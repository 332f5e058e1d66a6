"""A simulated person detector: turns ground truth into realistic ``det.txt`` rows.

Real public detections (DPM, FRCNN, YOLOX on MOT) are not perfect boxes: they
miss occluded and small people, wobble around the true extent, fire on
clutter and sometimes twice on one person, and their scores only loosely
separate true from false positives. Trackers trained or tested on perfect
boxes learn nothing about those failure modes, so the generator feeds them
through :func:`simulate_detections` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsdmot.data.mot import MOTAnnotations

MAX_SEVERITY = 5.0


@dataclass(frozen=True)
class DetectorConfig:
    """Parameters of the error model (see :func:`simulate_detections`).

    Miss probabilities are set through a logit so that the effects add up
    smoothly and stay inside (0, 1) however many of them pile up.
    """

    #: logit of the miss probability for a fully visible, large box on a clean frame
    miss_logit: float = -3.6
    #: added to the miss logit times ``(1 - visibility) ** 2``
    miss_occlusion: float = 6.0
    #: boxes shorter than this (pixels) are "small"
    small_height: float = 40.0
    #: added to the miss logit times ``1 - height / small_height`` for small boxes
    miss_small: float = 4.0
    #: added to the miss logit per unit of severity
    miss_severity: float = 0.65
    #: std of a per-track AR(1) logit offset, so misses come in runs as in real detectors
    miss_track_noise: float = 1.0
    #: frame-to-frame correlation of that offset
    miss_track_rho: float = 0.9
    #: centre jitter std, as a fraction of the box width / height, on a clean frame
    jitter_center: float = 0.03
    #: extra centre jitter per unit of severity
    jitter_center_severity: float = 0.025
    #: std of the log scale factor of width / height on a clean frame
    jitter_scale: float = 0.04
    #: extra log-scale std per unit of severity
    jitter_scale_severity: float = 0.03
    #: expected clutter false positives per frame on a clean frame
    clutter_rate: float = 0.4
    #: relative growth of the clutter rate per unit of severity
    clutter_severity: float = 0.3
    #: probability that a detected object also yields a displaced duplicate box
    duplicate_prob: float = 0.03
    #: mean / std of the true-positive score logit (fully visible, clean)
    tp_score_logit: float = 2.2
    tp_score_spread: float = 0.9
    #: score logit lost at zero visibility, and per unit of severity
    tp_score_occlusion: float = 2.5
    tp_score_severity: float = 0.3
    #: mean / std of the score logit of clutter and duplicate boxes
    fp_score_logit: float = -0.3
    fp_score_spread: float = 1.2
    #: boxes narrower or shorter than this after clipping to the image are dropped
    min_size: float = 2.0

    def __post_init__(self) -> None:
        for name in ("small_height", "min_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"DetectorConfig.{name} must be positive")
        if not 0.0 <= self.duplicate_prob <= 1.0:
            raise ValueError("DetectorConfig.duplicate_prob must lie in [0, 1]")
        if not 0.0 <= self.miss_track_rho < 1.0:
            raise ValueError("DetectorConfig.miss_track_rho must lie in [0, 1)")
        for name in (
            "miss_track_noise",
            "jitter_center",
            "jitter_center_severity",
            "jitter_scale",
            "jitter_scale_severity",
            "clutter_rate",
            "clutter_severity",
            "tp_score_spread",
            "fp_score_spread",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"DetectorConfig.{name} must be >= 0")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _frame_severity(
    severity: np.ndarray | None, frames: np.ndarray, n_frames_needed: int
) -> np.ndarray:
    """Severity of each row's frame; zeros when ``severity`` is None."""
    if severity is None:
        return np.zeros(len(frames))
    sev = np.asarray(severity, dtype=np.float64)
    if sev.ndim != 1:
        raise ValueError(f"severity must be a 1-D per-frame array, got shape {sev.shape}")
    if len(sev) < n_frames_needed:
        raise ValueError(
            f"severity has {len(sev)} entries but the annotations reach frame {n_frames_needed}"
        )
    if not np.all(np.isfinite(sev)) or sev.min(initial=0) < 0 or sev.max(initial=0) > MAX_SEVERITY:
        raise ValueError(f"severity values must be finite and lie in [0, {MAX_SEVERITY:g}]")
    return sev[frames - 1] if len(frames) else np.zeros(0)


def _track_noise(
    track_id: np.ndarray, frame: np.ndarray, cfg: DetectorConfig, rng: np.random.Generator
) -> np.ndarray:
    """A stationary AR(1) offset per track over its frames (run-length-correlated misses)."""
    out = np.zeros(len(frame))
    if cfg.miss_track_noise == 0 or len(frame) == 0:
        return out
    for tid in np.unique(track_id):
        rows = np.flatnonzero(track_id == tid)
        rows = rows[np.argsort(frame[rows], kind="stable")]
        steps = rng.standard_normal(len(rows))
        value = steps[0]
        out[rows[0]] = value
        for k in range(1, len(rows)):
            # A track hidden for a few frames decorrelates as if time had passed.
            gap = int(frame[rows[k]] - frame[rows[k - 1]])
            rho = cfg.miss_track_rho ** max(gap, 1)
            value = rho * value + np.sqrt(1.0 - rho**2) * steps[k]
            out[rows[k]] = value
    return out * cfg.miss_track_noise


def _clip_boxes(xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
    out = xyxy.copy()
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0.0, float(width))
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0.0, float(height))
    return out


def _jitter(
    boxes: np.ndarray, sev: np.ndarray, cfg: DetectorConfig, rng: np.random.Generator
) -> np.ndarray:
    """Perturb ``l, t, w, h`` boxes: centre shift relative to size, log-normal rescale."""
    n = len(boxes)
    w, h = boxes[:, 2], boxes[:, 3]
    cx = boxes[:, 0] + w / 2
    cy = boxes[:, 1] + h / 2
    c_std = cfg.jitter_center + cfg.jitter_center_severity * sev
    s_std = cfg.jitter_scale + cfg.jitter_scale_severity * sev
    cx = cx + rng.standard_normal(n) * c_std * w
    cy = cy + rng.standard_normal(n) * c_std * h
    w = w * np.exp(rng.standard_normal(n) * s_std)
    h = h * np.exp(rng.standard_normal(n) * s_std)
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _clutter(
    n_frames: int,
    sev_per_frame: np.ndarray,
    heights: np.ndarray,
    image_size: tuple[int, int],
    cfg: DetectorConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Person-shaped boxes at random places: ``(frames, xyxy)``."""
    width, height = image_size
    rate = cfg.clutter_rate * (1.0 + cfg.clutter_severity * sev_per_frame)
    counts = rng.poisson(rate, size=n_frames)
    total = int(counts.sum())
    frames = np.repeat(np.arange(1, n_frames + 1), counts)
    if total == 0:
        return frames, np.zeros((0, 4))
    # Clutter looks like the people in the scene (that is why a detector fires
    # on it), so its sizes are drawn from the true heights when there are any.
    if len(heights):
        h = rng.choice(heights, size=total) * np.exp(rng.normal(0.0, 0.2, total))
    else:
        h = height * rng.uniform(0.08, 0.4, total)
    h = np.clip(h, cfg.min_size * 2, height)
    w = h * rng.uniform(0.3, 0.6, total)
    cx = rng.uniform(0, width, total)
    cy = rng.uniform(h / 2, np.maximum(h / 2, height - h / 2))
    return frames, np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _duplicates(
    xyxy: np.ndarray, cfg: DetectorConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Displaced second boxes for a random subset of detections: ``(source rows, xyxy)``."""
    pick = np.flatnonzero(rng.random(len(xyxy)) < cfg.duplicate_prob)
    src = xyxy[pick]
    w = src[:, 2] - src[:, 0]
    h = src[:, 3] - src[:, 1]
    n = len(pick)
    # Shifted by a good part of the box and rescaled: overlapping the person
    # (IoU roughly 0.2-0.6) like a part detection or a badly suppressed anchor.
    sign = rng.choice([-1.0, 1.0], size=n)
    dx = sign * rng.uniform(0.15, 0.45, n) * w
    dy = rng.normal(0.0, 0.1, n) * h
    scale = np.exp(rng.normal(0.0, 0.2, n))
    cx = (src[:, 0] + src[:, 2]) / 2 + dx
    cy = (src[:, 1] + src[:, 3]) / 2 + dy
    nw, nh = w * scale, h * scale
    return pick, np.stack([cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2], axis=1)


def simulate_detections(
    gt: MOTAnnotations,
    image_size: tuple[int, int],
    rng: np.random.Generator,
    severity: np.ndarray | None = None,
    config: DetectorConfig | None = None,
) -> MOTAnnotations:
    """Detections a realistic but imperfect person detector would output for ``gt``.

    ``image_size`` is ``(width, height)``; ``severity[t - 1]`` in ``[0, 5]`` is
    frame ``t``'s degradation severity (``None``: every frame clean). Only gt
    rows whose active flag (``score``) is non-zero are detectable. The result
    has ``track_id = -1``, ``label = -1`` and ``visibility = 1`` on every row
    and is sorted by frame. The same ``rng`` state gives the same output.

    Error model (``s`` = the frame's severity, ``v`` = the row's visibility,
    ``h`` = its height in pixels; constants in :class:`DetectorConfig`):

    - **misses**: each gt box is missed with probability
      ``sigmoid(miss_logit + miss_occlusion * (1 - v)**2
      + miss_small * max(0, 1 - h / small_height) + miss_severity * s + n_track(t))``
      where ``n_track`` is a per-track AR(1) offset, so an object that is hard
      to see tends to be missed for several frames in a row.
    - **jitter**: a detected box's centre moves by Gaussian noise of std
      ``(jitter_center + jitter_center_severity * s)`` times its width / height,
      and width and height are each scaled by ``exp(N(0, jitter_scale +
      jitter_scale_severity * s))``.
    - **false positives**: per frame, ``Poisson(clutter_rate * (1 +
      clutter_severity * s))`` clutter boxes of person-like shape and of sizes
      drawn from the gt heights, placed uniformly; and with probability
      ``duplicate_prob`` a detected object gets a second box shifted sideways
      by 15-45 % of its width.
    - **scores**: ``sigmoid`` of a Gaussian logit. True positives:
      mean ``tp_score_logit - tp_score_occlusion * (1 - v) - tp_score_severity * s``,
      std ``tp_score_spread``; false positives: mean ``fp_score_logit``, std
      ``fp_score_spread``. The two distributions overlap, as in real detectors.

    Clutter is added to frames ``1 .. max(last gt frame, len(severity))``.
    All boxes are clipped to the image; those left thinner than ``min_size``
    pixels are dropped.

    >>> gt = MOTAnnotations.from_rows([[1, 1, 100, 50, 40, 100, 1, 1, 1.0]])
    >>> det = simulate_detections(gt, (640, 480), np.random.default_rng(0))
    >>> bool(np.all(det.track_id == -1)) and bool(np.all((det.score > 0) & (det.score < 1)))
    True
    """
    cfg = config if config is not None else DetectorConfig()
    width, height = int(image_size[0]), int(image_size[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"image_size must be positive (width, height), got {image_size}")
    src = gt.select(gt.score != 0)
    last_frame = int(src.frame.max()) if len(src) else int(gt.frame.max(initial=0))
    n_frames = max(last_frame, len(severity) if severity is not None else 0)
    sev_rows = _frame_severity(severity, src.frame, last_frame)
    sev_frames = (
        np.zeros(n_frames)
        if severity is None
        else np.asarray(severity, dtype=np.float64)[:n_frames]
    )
    if n_frames == 0:
        return MOTAnnotations()
    # The logit draws the track noise before the miss draws: keep the two statements apart.
    logit = _miss_logit(src, sev_rows, cfg, rng)
    detected = rng.random(len(src)) >= _sigmoid(logit)
    tp = src.select(detected)
    tp_xyxy, tp_logit = _true_positives(tp, sev_rows[detected], cfg, rng)
    dup_rows, dup_xyxy = _duplicates(tp_xyxy, cfg, rng)
    dup_frames = tp.frame[dup_rows]
    cl_frames, cl_xyxy = _clutter(n_frames, sev_frames, src.boxes[:, 3], (width, height), cfg, rng)
    n_fp = len(dup_frames) + len(cl_frames)
    fp_logit = cfg.fp_score_logit + cfg.fp_score_spread * rng.standard_normal(n_fp)
    frames = np.concatenate([tp.frame, dup_frames, cl_frames]).astype(np.int64)
    xyxy = _clip_boxes(np.concatenate([tp_xyxy, dup_xyxy, cl_xyxy]), width, height)
    scores = _sigmoid(np.concatenate([tp_logit, fp_logit]))
    return _detections(frames, xyxy, scores, cfg)


def _miss_logit(
    src: MOTAnnotations, sev: np.ndarray, cfg: DetectorConfig, rng: np.random.Generator
) -> np.ndarray:
    """Logit of each gt row's miss probability (see :func:`simulate_detections`)."""
    vis = np.clip(src.visibility, 0.0, 1.0)
    small = np.clip(1.0 - src.boxes[:, 3] / cfg.small_height, 0.0, 1.0)
    return (
        cfg.miss_logit
        + cfg.miss_occlusion * (1.0 - vis) ** 2
        + cfg.miss_small * small
        + cfg.miss_severity * sev
        + _track_noise(src.track_id, src.frame, cfg, rng)
    )


def _true_positives(
    tp: MOTAnnotations, sev: np.ndarray, cfg: DetectorConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Jittered xyxy boxes of the detected rows and their score logits."""
    xyxy = _jitter(tp.boxes, sev, cfg, rng)
    logit = (
        cfg.tp_score_logit
        - cfg.tp_score_occlusion * (1.0 - np.clip(tp.visibility, 0.0, 1.0))
        - cfg.tp_score_severity * sev
        + cfg.tp_score_spread * rng.standard_normal(len(tp))
    )
    return xyxy, logit


def _detections(
    frames: np.ndarray, xyxy: np.ndarray, scores: np.ndarray, cfg: DetectorConfig
) -> MOTAnnotations:
    """The boxes large enough to keep, as det rows sorted by frame."""
    wh = xyxy[:, 2:] - xyxy[:, :2]
    keep = np.all(wh >= cfg.min_size, axis=1)
    n = int(keep.sum())
    det = MOTAnnotations(
        frame=frames[keep],
        track_id=-np.ones(n, dtype=np.int64),
        boxes=np.concatenate([xyxy[keep, :2], wh[keep]], axis=1),
        # Four decimals is what det.txt keeps; clipping keeps 0 and 1 out.
        score=np.clip(scores[keep], 1e-4, 1 - 1e-4),
        label=-np.ones(n, dtype=np.int64),
        visibility=np.ones(n),
    )
    return det.select(np.argsort(det.frame, kind="stable"))
