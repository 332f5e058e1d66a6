"""Compression and resolution loss.

==============  ================================================  ==============================
type            parameter (severity 0 / 1 / 2 / 3 / 4 / 5)        notes
==============  ================================================  ==============================
``jpeg``        quality: 100 / 40 / 25 / 15 / 10 / 6               OpenCV JPEG encoder, per frame
``codec``       H.264 CRF: 18 / 26 / 32 / 37 / 42 / 47             libx264 ``veryfast``, one
                (mpeg4 fallback qscale: 1 / 6 / 10 / 16 / 23 / 31)  thread, no mb-tree (for
                                                                    bit-exact output); clip-level
``downscale``   factor: 1 / 1.5 / 2 / 3 / 4 / 6                    area-down then up; the
                                                                    up-sampler (bilinear or
                                                                    bicubic) is fixed per sequence
==============  ================================================  ==============================

Severity 0 is always the identity (no re-encoding at all).

``codec`` is real video compression: frames go through an H.264 encoder and
decoder (PyAV), so artefacts depend on motion and on the neighbouring frames
(blocking, smeared moving edges, drifting texture), unlike per-frame JPEG. The
CRF is rounded to an integer; a run of consecutive frames with the same CRF is
one stream, and a change of CRF starts a new stream (a key frame), as a
streaming encoder does when its rate target changes. Frames are therefore only
reproducible together with their run, not one by one. When PyAV's FFmpeg lacks
libx264 the op falls back to the MPEG-4 Part 2 encoder with a fixed quantiser
and logs it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any

import cv2
import numpy as np

from vsdmot.degrade.base import (
    STAGE_PROCESSING,
    Degradation,
    check_frame,
    check_severity,
    interp_param,
    register,
)

log = logging.getLogger(__name__)

JPEG_QUALITY = (100.0, 40.0, 25.0, 15.0, 10.0, 6.0)
CODEC_CRF = (18.0, 26.0, 32.0, 37.0, 42.0, 47.0)
CODEC_QSCALE = (1.0, 6.0, 10.0, 16.0, 23.0, 31.0)
DOWNSCALE_FACTOR = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


@register
class Jpeg(Degradation):
    """Per-frame JPEG compression (blocking and ringing, no temporal effects)."""

    name = "jpeg"
    stage = STAGE_PROCESSING

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        quality = round(interp_param(severity, JPEG_QUALITY))
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("OpenCV failed to JPEG-encode a frame")
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)


@register
class Downscale(Degradation):
    """Resolution loss: area down-sampling, then interpolation back to the frame size."""

    name = "downscale"
    stage = STAGE_PROCESSING

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        return {"upsampler": "bicubic" if rng.random() < 0.5 else "bilinear"}

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        factor = interp_param(severity, DOWNSCALE_FACTOR)
        h, w = frame.shape[:2]
        small = cv2.resize(
            frame,
            (max(1, round(w / factor)), max(1, round(h / factor))),
            interpolation=cv2.INTER_AREA,
        )
        interp = cv2.INTER_CUBIC if self.params["upsampler"] == "bicubic" else cv2.INTER_LINEAR
        return cv2.resize(small, (w, h), interpolation=interp)


@functools.lru_cache(maxsize=1)
def codec_backend() -> str:
    """``"libx264"`` when PyAV's FFmpeg can encode H.264, else ``"mpeg4"`` (logged)."""
    import av

    try:
        av.codec.Codec("libx264", "w")
        return "libx264"
    except Exception:  # PyAV raises UnknownCodecError or a ValueError, by version
        log.warning("libx264 is not available in PyAV's FFmpeg; codec falls back to mpeg4 qscale")
        return "mpeg4"


def _to_bgr(frame: object) -> np.ndarray:
    """A decoded frame as an owned BGR array (not a view of a buffer FFmpeg may reuse)."""
    return np.array(frame.to_ndarray(format="bgr24"), copy=True)  # type: ignore[attr-defined]


class _Roundtrip:
    """One encoder + decoder pair for a run of frames at one quality setting."""

    def __init__(self, backend: str, level: int, size: tuple[int, int], fps: float) -> None:
        import av

        w, h = size
        self.enc = av.CodecContext.create(backend, "w")
        self.enc.width, self.enc.height = w, h
        self.enc.pix_fmt = "yuv420p"
        rate = Fraction(fps).limit_denominator(1001)
        self.enc.time_base = 1 / rate
        self.enc.framerate = rate
        # One thread: x264's output depends on its thread count, and the
        # degraded bytes must not depend on the machine.
        self.enc.thread_count = 1
        if backend == "libx264":
            # x264's macroblock-tree rate control gave different bytes run to run on
            # short clips in our tests; without it the output is bit-exact.
            self.enc.options = {
                "crf": str(level),
                "preset": "veryfast",
                "threads": "1",
                "x264-params": "mbtree=0",
            }
            decoder = "h264"
        else:
            self.enc.options = {"qmin": str(level), "qmax": str(level)}
            self.enc.bit_rate = 50_000_000  # the fixed quantiser decides, not the rate
            decoder = "mpeg4"
        self.dec = av.CodecContext.create(decoder, "r")
        self.dec.thread_count = 1
        self.pts = 0

    def push(self, frame: np.ndarray | None) -> list[np.ndarray]:
        """Encode one BGR frame (``None`` flushes); return the frames decoded so far."""
        import av

        if frame is None:
            packets = self.enc.encode(None)
        else:
            vf = av.VideoFrame.from_ndarray(frame, format="bgr24").reformat(format="yuv420p")
            vf.pts = self.pts
            self.pts += 1
            packets = self.enc.encode(vf)
        out: list[np.ndarray] = []
        for packet in packets:
            out.extend(_to_bgr(f) for f in self.dec.decode(packet))
        if frame is None:
            out.extend(_to_bgr(f) for f in self.dec.decode(None))
        return out


@register
class Codec(Degradation):
    """Lossy video compression (H.264 at a CRF), applied to a whole clip."""

    name = "codec"
    stage = STAGE_PROCESSING
    clip_level = True
    fps: float = 25.0

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        return {"backend": codec_backend()}

    def level(self, severity: float) -> int:
        """Integer CRF (or qscale) for a severity."""
        table = CODEC_CRF if self.params["backend"] == "libx264" else CODEC_QSCALE
        return round(interp_param(severity, table))

    def apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        """A one-frame clip (an intra-coded frame); prefer :meth:`apply_stream` for video."""
        return next(iter(self.apply_stream([(frame, severity, rng)])))

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError  # apply() is overridden

    def apply_stream(
        self, items: Iterable[tuple[np.ndarray, float, np.random.Generator]]
    ) -> Iterator[np.ndarray]:
        if self.frame_size is None:
            raise RuntimeError(f"{self.name}: call setup() before apply_stream()")
        w, h = self.frame_size
        # yuv420p needs even sizes: pad by replicating the last row/column, crop after.
        pw, ph = w + (w % 2), h + (h % 2)
        coder: _Roundtrip | None = None
        current: int | None = None
        for frame, severity, _rng in items:
            check_frame(frame)
            severity = check_severity(severity)
            if frame.shape[1::-1] != self.frame_size:
                raise ValueError(f"codec: frame size {frame.shape[1::-1]} != {self.frame_size}")
            level = None if severity == 0.0 else self.level(severity)
            if level != current and coder is not None:
                yield from (f[:h, :w] for f in coder.push(None))
                coder = None
            current = level
            if level is None:
                yield frame.copy()
                continue
            if coder is None:
                coder = _Roundtrip(self.params["backend"], level, (pw, ph), self.fps)
            padded = cv2.copyMakeBorder(frame, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
            yield from (f[:h, :w] for f in coder.push(padded))
        if coder is not None:
            yield from (f[:h, :w] for f in coder.push(None))
