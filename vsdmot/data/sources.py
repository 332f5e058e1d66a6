"""Lazy frame sources: an image folder or a video file, indexed by 1-based frame number.

Frames are BGR ``uint8`` arrays of shape ``(H, W, 3)`` (OpenCV's convention)
everywhere in vsdmot's data layer; models convert to RGB tensors themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


class FrameSourceError(IOError):
    """A frame source cannot be opened or read. The message names the file."""


class FrameSource:
    """Random and sequential access to the frames of one video, 1-based."""

    path: Path

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frames."""
        raise NotImplementedError

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` (1-based) as BGR uint8."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        for t in range(1, len(self) + 1):
            yield t, self.frame(t)

    def _check_index(self, t: int) -> None:
        if not 1 <= t <= len(self):
            raise IndexError(f"{self.path}: frame {t} outside 1..{len(self)}")

    def close(self) -> None:
        """Release file handles (video sources)."""


class ImageFolderSource(FrameSource):
    """Sorted image files of one folder (``img1/000001.jpg`` ...)."""

    def __init__(self, folder: str | Path, ext: str | None = None) -> None:
        self.path = Path(folder)
        if not self.path.is_dir():
            raise FrameSourceError(f"{self.path}: image folder not found")
        exts = (ext.lower(),) if ext else IMAGE_EXTS
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in exts)
        if not self.files:
            raise FrameSourceError(f"{self.path}: no images ({', '.join(exts)}) in folder")
        first = cv2.imread(str(self.files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise FrameSourceError(f"{self.files[0]}: unreadable image")
        self._size = (first.shape[1], first.shape[0])

    def __len__(self) -> int:
        return len(self.files)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def frame(self, t: int) -> np.ndarray:
        self._check_index(t)
        img = cv2.imread(str(self.files[t - 1]), cv2.IMREAD_COLOR)
        if img is None:
            raise FrameSourceError(f"{self.files[t - 1]}: unreadable or corrupt image")
        return img


class VideoFileSource(FrameSource):
    """A video file read through OpenCV; sequential reads avoid seeking."""

    def __init__(self, path: str | Path) -> None:
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
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
        if self._count <= 0 or self._size[0] <= 0:
            raise FrameSourceError(f"{self.path}: video reports no frames (corrupt or empty)")
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

    def close(self) -> None:
        self._cap.release()

    def __del__(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None:
            cap.release()


def open_frames(path: str | Path) -> FrameSource:
    """An image folder or a video file, chosen by what ``path`` is."""
    path = Path(path)
    if path.is_dir():
        return ImageFolderSource(path)
    if path.suffix.lower() in VIDEO_EXTS or path.is_file():
        return VideoFileSource(path)
    raise FrameSourceError(f"{path}: not found")
