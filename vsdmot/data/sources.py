"""Frame sources: video files, image folders, globs, sequences, cameras and streams.

Frames are BGR ``uint8`` arrays of shape ``(H, W, 3)`` (OpenCV's convention)
everywhere in vsdmot's data layer; models convert to RGB tensors themselves.
Frames are numbered from 1, as in MOTChallenge files.

:func:`open_source` turns a user's spec into a source::

    open_source("clip.mp4")                 # a video file
    open_source("frames/")                  # an image folder
    open_source("MOT15/train/TUD-Stadtmitte")  # a sequence folder (img1/ or its video)
    open_source("frames/*.png")             # a glob
    open_source("0")                        # camera 0
    open_source("rtsp://host/stream")       # a network stream (rtsp, rtmp, http(s), udp, tcp)

Damaged input. Iterating a source (``for t, frame in source``) yields only
frames that decode. A corrupt frame ``t`` in the middle is *skipped* with a
warning: nothing is yielded for ``t``, the next frame still comes as
``t + 1``, so frame numbers always match the file (and its annotations) and a
tracker sees the gap in ``t``. The numbers skipped in the last pass are in
``source.skipped``. A video that ends early (truncated file) and a stream
whose connection drops end the iteration cleanly with a warning, so a caller
can keep what it processed so far.
"""

from __future__ import annotations

import glob as globlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from vsdmot.data.mot import MOTFormatError, SeqInfo, read_seqinfo

log = logging.getLogger(__name__)

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")

#: Frame rate reported when neither the file nor a seqinfo.ini gives one.
DEFAULT_FPS = 25.0

# A stream's metadata fps is sometimes 0, or the 90 kHz clock rate: reject the absurd.
_MAX_PLAUSIBLE_FPS = 240.0
# Consecutive failed reads tolerated inside a video before it counts as ended.
_VIDEO_READ_RETRIES = 3


class FrameSizeError(ValueError):
    """A frame's size differs from the source's first frame (never skipped silently)."""


class FrameSourceError(IOError):
    """A frame source cannot be opened or read. The message names the file or URL."""


def natural_key(name: str) -> list[int | str]:
    """Sort key that orders embedded numbers by value.

    >>> sorted(["f10.png", "f9.png", "f100.png"], key=natural_key)
    ['f9.png', 'f10.png', 'f100.png']
    """
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def _plausible_fps(value: float) -> float | None:
    return value if 0.0 < value <= _MAX_PLAUSIBLE_FPS else None


class FrameSource:
    """Frames of one video, numbered from 1.

    Finite sources (files, folders) support ``len()`` and random access
    :meth:`frame`; streams support only iteration and report ``length=None``.
    """

    #: The file or folder behind the source (``None`` for cameras and URLs).
    path: Path | None = None
    #: Frames per second: file metadata, ``seqinfo.ini`` or :data:`DEFAULT_FPS`.
    fps: float = DEFAULT_FPS

    def __init__(self) -> None:
        #: Frame numbers skipped (undecodable) during the last iteration.
        self.skipped: list[int] = []

    @property
    def uri(self) -> str:
        """What the source was opened from (a path, a URL or ``camera:N``)."""
        return str(self.path)

    @property
    def length(self) -> int | None:
        """Number of frames, or ``None`` when unknown (streams)."""
        return len(self)

    @property
    def is_stream(self) -> bool:
        return self.length is None

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frames."""
        raise NotImplementedError

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` (1-based) as BGR uint8; :class:`FrameSourceError` if it does not decode."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(t, frame)`` for each decodable frame; undecodable ones are skipped (see module)."""
        self.skipped = []
        for t in range(1, len(self) + 1):
            try:
                img = self.frame(t)
            except FrameSourceError as exc:
                log.warning("skipping frame %d: %s", t, exc)
                self.skipped.append(t)
                continue
            yield t, img

    def _check_index(self, t: int) -> None:
        if not 1 <= t <= len(self):
            raise IndexError(f"{self.uri}: frame {t} outside 1..{len(self)}")

    def close(self) -> None:
        """Release file handles and connections."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        n = "?" if self.length is None else str(self.length)
        return f"{type(self).__name__}({self.uri!r}, frames={n}, fps={self.fps:g})"


# ---------------------------------------------------------------------------
# images


#: Frames smaller than this on either side are refused: no detector finds people there,
#: and a 1 x 1 "frame" is more likely a placeholder than footage.
MIN_SIDE = 16


def _imread(path: Path) -> np.ndarray | None:
    """``cv2.imread`` with OpenCV's own pixel cap turned into an error naming the file
    (a header can claim 60000 x 60000 pixels: OpenCV refuses before decoding)."""
    try:
        return cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        why = _first_line(exc)
        raise FrameSourceError(f"{path}: image too large or unreadable ({why})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1].strip() if text else type(exc).__name__


def _check_frame_size(where: object, size: tuple[int, int]) -> tuple[int, int]:
    if min(size) < MIN_SIDE:
        raise FrameSourceError(
            f"{where}: frames of {size[0]}x{size[1]} pixels; at least {MIN_SIDE}x{MIN_SIDE} "
            "are needed"
        )
    return size


class ImageListSource(FrameSource):
    """An explicit list of image files, frame ``t`` being ``files[t - 1]``."""

    def __init__(self, files: list[Path], name: str, fps: float = DEFAULT_FPS) -> None:
        super().__init__()
        self.files = list(files)
        self._name = name
        self.fps = fps
        if not self.files:
            raise FrameSourceError(f"{name}: no image files")
        self._size = self._first_size()

    @property
    def uri(self) -> str:
        return self._name

    def _first_size(self) -> tuple[int, int]:
        # A corrupt first image must not hide a usable sequence: take the first that decodes.
        for f in self.files:
            img = _imread(f)
            if img is not None:
                return _check_frame_size(f, (img.shape[1], img.shape[0]))
            log.warning("%s: unreadable or corrupt image", f)
        raise FrameSourceError(f"{self._name}: none of the {len(self.files)} images decodes")

    def __len__(self) -> int:
        return len(self.files)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def frame(self, t: int) -> np.ndarray:
        self._check_index(t)
        img = _imread(self.files[t - 1])
        if img is None:
            raise FrameSourceError(f"{self.files[t - 1]}: unreadable or corrupt image")
        if (img.shape[1], img.shape[0]) != self._size:
            # Not skippable: tracks and results would mix two coordinate systems.
            raise FrameSizeError(
                f"{self.files[t - 1]}: {img.shape[1]}x{img.shape[0]} image in a source whose "
                f"frames are {self._size[0]}x{self._size[1]}; resize the images to one size "
                "(or track each size separately)"
            )
        return img


class StillImageSource(FrameSource):
    """One image as a one-frame source (a detection-only training image), read only when
    asked for: images of different sizes can each be one."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    def __len__(self) -> int:
        return 1

    @property
    def size(self) -> tuple[int, int]:
        img = self.frame(1)
        return img.shape[1], img.shape[0]

    def frame(self, t: int) -> np.ndarray:
        self._check_index(t)
        img = _imread(self.path)
        if img is None:
            raise FrameSourceError(f"{self.path}: unreadable or corrupt image")
        return img


class ImageFolderSource(ImageListSource):
    """Image files of one folder in natural order (``img1/000001.jpg`` ...)."""

    def __init__(
        self, folder: str | Path, ext: str | None = None, fps: float = DEFAULT_FPS
    ) -> None:
        self.path = Path(folder)
        if not self.path.is_dir():
            raise FrameSourceError(f"{self.path}: image folder not found")
        exts = (ext.lower(),) if ext else IMAGE_EXTS
        files = sorted(
            (p for p in self.path.iterdir() if p.suffix.lower() in exts),
            key=lambda p: natural_key(p.name),
        )
        if not files:
            raise FrameSourceError(f"{self.path}: no images ({', '.join(exts)}) in folder")
        super().__init__(files, str(self.path), fps)


class GlobSource(ImageListSource):
    """Images matching a glob pattern (``"frames/*.png"``), in natural order."""

    def __init__(self, pattern: str, fps: float = DEFAULT_FPS) -> None:
        files = sorted(
            (
                Path(p)
                for p in globlib.glob(pattern, recursive=True)
                if Path(p).suffix.lower() in IMAGE_EXTS
            ),
            key=lambda p: natural_key(str(p)),
        )
        if not files:
            raise FrameSourceError(f"{pattern}: the glob matches no image files")
        super().__init__(files, pattern, fps)


# ---------------------------------------------------------------------------
# video files


class VideoFileSource(FrameSource):
    """A video file read through OpenCV; sequential reads avoid seeking.

    ``len()`` is the container's frame count. When iterating, the decoder's
    own position is checked after each read, so frames the decoder dropped
    (corrupt packets) are reported as skipped instead of shifting the
    numbering of all later frames.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        if not self.path.is_file():
            raise FrameSourceError(f"{self.path}: video file not found")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise FrameSourceError(f"{self.path}: cannot open video (unsupported or corrupt)")
        self._count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._size = (
            int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        # Kept apart from ``fps``, which a seqinfo.ini or the user may override: frame
        # numbers are recovered from timestamps in the container's own rate.
        self._stream_fps = _plausible_fps(float(self._cap.get(cv2.CAP_PROP_FPS))) or DEFAULT_FPS
        self.fps = self._stream_fps
        if self._count <= 0 or self._size[0] <= 0:
            raise FrameSourceError(f"{self.path}: video reports no frames (corrupt or empty)")
        _check_frame_size(self.path, self._size)
        self._next = 1  # frame number the capture will return on the next read()

    def __len__(self) -> int:
        return self._count

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def frame(self, t: int) -> np.ndarray:
        self._check_index(t)
        if t != self._next:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, t - 1)
        ok, img = self._cap.read()
        if not ok or img is None:
            self._next = -1
            raise FrameSourceError(f"{self.path}: cannot decode frame {t}")
        self._next = t + 1
        return img

    def _pts_number(self, expected: int, offset: float) -> int:
        """1-based number of the frame just read, from its timestamp when that is plausible."""
        pos = round(self._cap.get(cv2.CAP_PROP_POS_MSEC) * self._stream_fps / 1000.0 - offset) + 1
        return pos if expected <= pos <= self._count else expected

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        self.skipped = []
        if self._next != 1:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        t = 1  # number of the frame the next read should return
        failed: list[int] = []  # numbers of consecutive failed reads since the last good one
        # Timestamp of frame 1 in frames: containers need not start at 0.
        offset: float | None = None
        while True:
            ok, img = self._cap.read()
            if not ok or img is None:
                if t > self._count:
                    break  # the normal end
                # The decoder moves past a packet it cannot decode: the next read is t + 1.
                failed.append(t)
                t += 1
                if len(failed) > _VIDEO_READ_RETRIES:
                    log.warning(
                        "%s: video ends after frame %d of %d (truncated or corrupt); "
                        "stopping there",
                        self.path,
                        failed[0] - 1,
                        self._count,
                    )
                    break
                continue
            if offset is None:
                offset = self._cap.get(cv2.CAP_PROP_POS_MSEC) * self._stream_fps / 1000.0 - (t - 1)
            pos = self._pts_number(t, offset)
            first_missing = failed[0] if failed else t
            if pos > first_missing:
                log.warning(
                    "%s: frame(s) %d-%d do not decode; skipped", self.path, first_missing, pos - 1
                )
                self.skipped.extend(range(first_missing, pos))
            failed = []
            self._next = pos + 1
            yield pos, img
            t = pos + 1
        self._next = -1

    def close(self) -> None:
        self._cap.release()

    def __del__(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None:
            cap.release()


# ---------------------------------------------------------------------------
# cameras and network streams


class StreamSource(FrameSource):
    """A camera (``"0"``) or network stream (``rtsp://...``); length unknown.

    Only iteration is supported. Iteration ends, with a warning, when a read
    fails (end of stream or dropped connection); the source is not
    reopened, so the caller decides whether to reconnect.
    """

    def __init__(
        self,
        spec: str | int,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        self.spec = spec
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(read_timeout_s * 1000),
        ]
        if isinstance(spec, int):
            self._cap = cv2.VideoCapture(spec, cv2.CAP_ANY, params)
        else:
            self._cap = cv2.VideoCapture(spec, cv2.CAP_FFMPEG, params)
        if not self._cap.isOpened():
            self._cap.release()
            what = (
                "camera cannot be opened (absent or busy)"
                if isinstance(spec, int)
                else (f"cannot connect or decode the stream within {open_timeout_s:g} s")
            )
            raise FrameSourceError(f"{self.uri}: {what}")
        self.fps = _plausible_fps(float(self._cap.get(cv2.CAP_PROP_FPS))) or DEFAULT_FPS
        self._size = (
            int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        # A frame read to learn the size is kept and yielded first, not lost.
        self._pending: np.ndarray | None = None
        if self._size[0] <= 0 or self._size[1] <= 0:
            ok, img = self._cap.read()
            if not ok or img is None:
                self._cap.release()
                raise FrameSourceError(f"{self.uri}: opened, but no frame could be read")
            self._pending = img
            self._size = (img.shape[1], img.shape[0])

    @property
    def uri(self) -> str:
        return f"camera:{self.spec}" if isinstance(self.spec, int) else self.spec

    @property
    def length(self) -> int | None:
        return None

    def __len__(self) -> int:
        raise TypeError(f"{self.uri}: a live stream has no length")

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def frame(self, t: int) -> np.ndarray:
        raise FrameSourceError(f"{self.uri}: a live stream has no random access; iterate it")

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        self.skipped = []
        t = 0
        if self._pending is not None:
            img, self._pending = self._pending, None
            t += 1
            yield t, img
        while True:
            ok, img = self._cap.read()
            if not ok or img is None:
                log.warning("%s: stream ended or connection dropped after %d frame(s)", self.uri, t)
                return
            t += 1
            yield t, img

    def close(self) -> None:
        self._cap.release()

    def __del__(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None:
            cap.release()


# ---------------------------------------------------------------------------
# spec -> source


def _scheme(spec: str) -> str | None:
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", spec)
    return m.group(1).lower() if m else None


def open_source(
    spec: str | Path,
    *,
    fps: float | None = None,
    open_timeout_s: float = 10.0,
) -> FrameSource:
    """Open a video file, image folder, sequence folder, glob, camera index or URL.

    A MOTChallenge sequence folder (one with ``seqinfo.ini``) gives its frames
    (``img1/`` or its one video) at the ``seqinfo.ini`` frame rate. ``fps``
    overrides whatever rate the source reports. Raises
    :class:`FrameSourceError` (or ``MOTFormatError`` for a malformed sequence
    folder) naming ``spec`` when it cannot be opened.

    >>> open_source("no/such/clip.mp4")
    Traceback (most recent call last):
    ...
    vsdmot.data.sources.FrameSourceError: no/such/clip.mp4: no such file, folder or glob match
    """
    source = _open(spec, open_timeout_s)
    if fps is not None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        source.fps = float(fps)
    return source


def _open(spec: str | Path, open_timeout_s: float) -> FrameSource:
    text = str(spec)
    if isinstance(spec, str):
        if spec.strip().isdigit():
            return StreamSource(int(spec), open_timeout_s=open_timeout_s)
        scheme = _scheme(spec)
        if scheme is not None:
            if scheme not in STREAM_SCHEMES:
                raise FrameSourceError(
                    f"{spec}: unsupported URL scheme {scheme!r} "
                    f"(supported: {', '.join(STREAM_SCHEMES)})"
                )
            return StreamSource(spec, open_timeout_s=open_timeout_s)
    path = Path(spec)
    if path.is_dir():
        if (path / "seqinfo.ini").is_file():
            return _sequence_frames(path)
        return ImageFolderSource(path)
    if path.is_file():
        if path.suffix.lower() in IMAGE_EXTS:
            return ImageListSource([path], text)
        if path.suffix.lower() in VIDEO_EXTS:
            return VideoFileSource(path)
        # By whitelist: FFmpeg would also "decode" a CSV or a text file as a video.
        raise FrameSourceError(
            f"{text}: not a video or image file (videos: {' '.join(VIDEO_EXTS)}; "
            f"images: {' '.join(IMAGE_EXTS)})"
        )
    if globlib.has_magic(text):
        return GlobSource(text)
    raise FrameSourceError(f"{text}: no such file, folder or glob match")


def _sequence_frames(root: Path) -> FrameSource:
    info = read_seqinfo(root / "seqinfo.ini")
    source = open_sequence_frames(root, info)
    source.fps = info.frame_rate
    return source


def open_sequence_frames(root: Path, info: SeqInfo) -> FrameSource:
    """The frames of the sequence folder ``root`` described by ``info`` (its seqinfo.ini).

    Frames come from ``root/<imDir>/`` when it holds images, else from the one video
    file in ``root``; the frame count must equal ``seqLength`` (``MOTFormatError``).
    Lives here, not in :mod:`vsdmot.data.sequence`, so that :func:`open_source` can open a
    sequence folder without importing the sequence class (which imports this module).
    """
    frames = _sequence_frame_files(root, info)
    _check_numbering(frames)
    if info.im_width and info.im_height and frames.size != (info.im_width, info.im_height):
        raise MOTFormatError(
            f"{frames.path}: frames are {frames.size[0]}x{frames.size[1]}, but "
            f"{root / 'seqinfo.ini'} says {info.im_width}x{info.im_height} (det/gt boxes are "
            "in its coordinates)"
        )
    if len(frames) != info.seq_length:
        raise MOTFormatError(
            f"{frames.path}: {len(frames)} frames, but "
            f"{root / 'seqinfo.ini'} says seqLength={info.seq_length}"
        )
    if info.seq_length == 0:
        raise MOTFormatError(f"{root}: empty sequence (seqLength=0)")
    return frames


def _check_numbering(frames: FrameSource) -> None:
    """MOTChallenge frames are numbered by their file names (``000001.jpg`` ...): a
    missing number would shift every later frame against det.txt and gt.txt."""
    files = getattr(frames, "files", None)
    if not files or not all(f.stem.isdigit() for f in files):
        return
    for expected, f in enumerate(files, start=1):
        if int(f.stem) != expected:
            raise MOTFormatError(
                f"{f.parent}: frame {expected} is missing (the next file is {f.name}); "
                "frames are matched to det.txt and gt.txt by number"
            )


def _sequence_frame_files(root: Path, info: SeqInfo) -> FrameSource:
    img_dir = root / info.im_dir
    if img_dir.is_dir() and any(img_dir.iterdir()):
        return ImageFolderSource(img_dir, info.im_ext or None)
    videos = sorted(p for p in root.iterdir() if p.suffix.lower() in VIDEO_EXTS)
    if len(videos) == 1:
        return VideoFileSource(videos[0])
    if len(videos) > 1:
        names = ", ".join(v.name for v in videos)
        raise MOTFormatError(f"{root}: several video files ({names}); keep one")
    raise MOTFormatError(
        f"{root}: no frames ({img_dir.name}/ is missing or empty, and no video file)"
    )
