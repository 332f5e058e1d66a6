"""Write rendered frames to a video file atomically (temporary file, then rename).

Backends:

- ``"pyav"``: H.264 (libx264, ``yuv420p``, ``+faststart``) through PyAV. Plays
  nearly everywhere, browsers included. The default when PyAV has libx264.
- ``"cv2"``: OpenCV's ``mp4v`` (MPEG-4 Part 2; plays in desktop players,
  not in most browsers), or ``MJPG`` for ``.avi``.

H.264 in ``yuv420p`` needs even dimensions: an odd width or height is padded
by one black pixel column or row. After closing, the file is reopened and its
frame count checked before it replaces ``path``, so a half-written or
unplayable video never appears under the final name.
"""

from __future__ import annotations

import contextlib
import logging
import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import cv2
import numpy as np

from vsdmot.utils.io import make_temp_file

log = logging.getLogger(__name__)

Backend = Literal["auto", "pyav", "cv2"]
_PYAV_SUFFIXES = (".mp4", ".mkv", ".mov")


class VideoWriteError(IOError):
    """The video cannot be written or does not reopen. The message names the file."""


def _pyav_has_h264() -> bool:
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available


class VideoWriter:
    """``with VideoWriter("out.mp4", fps=25) as w: w.write(frame_bgr)``.

    The size is taken from the first frame unless given; every later frame
    must have the same size. Leaving the ``with`` block on an exception
    discards the temporary file and leaves ``path`` untouched.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        size: tuple[int, int] | None = None,
        backend: Backend = "auto",
        crf: int = 23,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"{path}: fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        self.size = size
        self.crf = int(crf)
        suffix = self.path.suffix.lower()
        if backend == "auto":
            backend = "pyav" if suffix in _PYAV_SUFFIXES and _pyav_has_h264() else "cv2"
        if backend == "pyav" and suffix not in _PYAV_SUFFIXES:
            raise VideoWriteError(f"{self.path}: H.264 output needs .mp4, .mkv or .mov")
        self.backend: Literal["pyav", "cv2"] = backend
        self.frames_written = 0
        # Named by this process's id, so the next run removes what a killed one left.
        self._tmp = make_temp_file(self.path, suffix)
        self._impl: Any = None
        self._closed = False

    # -- opening, per backend

    def _open(self, width: int, height: int) -> None:
        if self.backend == "pyav":
            import av

            self._enc_size = (width + width % 2, height + height % 2)
            container = av.open(str(self._tmp), "w", options={"movflags": "+faststart"})
            stream = container.add_stream(
                "libx264", rate=Fraction(self.fps).limit_denominator(1001)
            )
            stream.width, stream.height = self._enc_size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(self.crf), "preset": "veryfast"}
            self._impl = (container, stream)
        else:
            self._enc_size = (width, height)
            fourcc = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
            writer = cv2.VideoWriter(
                str(self._tmp), cv2.VideoWriter_fourcc(*fourcc), self.fps, (width, height)
            )
            if not writer.isOpened():
                raise VideoWriteError(f"{self.path}: OpenCV cannot write {fourcc} video here")
            self._impl = writer

    # -- writing

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append one BGR uint8 frame."""
        if self._closed:
            raise VideoWriteError(f"{self.path}: writer already closed")
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(
                f"{self.path}: frames must be HxWx3 uint8 BGR, got {frame_bgr.shape} "
                f"{frame_bgr.dtype}"
            )
        h, w = frame_bgr.shape[:2]
        if self.size is None:
            self.size = (w, h)
        if (w, h) != tuple(self.size):
            raise ValueError(
                f"{self.path}: frame is {w}x{h}, the video is {self.size[0]}x{self.size[1]}"
            )
        if self._impl is None:
            self._open(w, h)
        if self.backend == "pyav":
            self._write_pyav(frame_bgr)
        else:
            self._impl.write(frame_bgr)
        self.frames_written += 1

    def _write_pyav(self, frame_bgr: np.ndarray) -> None:
        import av

        container, stream = self._impl
        w, h = self._enc_size
        if frame_bgr.shape[:2] != (h, w):
            frame_bgr = cv2.copyMakeBorder(
                frame_bgr,
                0,
                h - frame_bgr.shape[0],
                0,
                w - frame_bgr.shape[1],
                cv2.BORDER_CONSTANT,
                value=(0, 0, 0),
            )
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_bgr), format="bgr24")
        for packet in stream.encode(frame):
            container.mux(packet)

    # -- finishing

    def _finish_impl(self) -> None:
        if self._impl is None:
            return
        if self.backend == "pyav":
            container, stream = self._impl
            try:
                for packet in stream.encode():
                    container.mux(packet)
            finally:
                container.close()
        else:
            self._impl.release()
        self._impl = None

    def close(self) -> Path:
        """Finish the file, check that it reopens, and move it to ``path``."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self.frames_written == 0:
                raise VideoWriteError(f"{self.path}: no frames were written")
            self._finish_impl()
            self._verify()
            os.replace(self._tmp, self.path)
        except BaseException:
            self._discard()
            raise
        return self.path

    def _verify(self) -> None:
        cap = cv2.VideoCapture(str(self._tmp))
        try:
            ok = cap.isOpened()
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if ok else 0
        finally:
            cap.release()
        if not ok or count != self.frames_written:
            raise VideoWriteError(
                f"{self.path}: written video does not reopen correctly "
                f"({count} frames readable, {self.frames_written} written)"
            )

    def abort(self) -> None:
        """Stop and delete the temporary file; ``path`` is left as it was."""
        self._closed = True
        self._discard()

    def _discard(self) -> None:
        with contextlib.suppress(Exception):
            self._finish_impl()
        self._impl = None
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        # An unclosed writer must not leave a hidden temporary file behind.
        if not getattr(self, "_closed", True):
            self.abort()
