"""An optional live preview window (``--show``), only where a display exists."""

from __future__ import annotations

import logging
import os
import re
import sys

import cv2
import numpy as np

log = logging.getLogger(__name__)

_QUIT_KEYS = (ord("q"), 27)  # q or Esc


def gui_backend() -> str:
    """OpenCV's GUI backend (``"QT5"``, ``"GTK3"``...), or ``"NONE"`` in headless builds."""
    m = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    return m.group(1) if m else "NONE"


def display_available() -> bool:
    """True when OpenCV can open a window: a GUI backend and (on Linux) a display server."""
    if gui_backend().upper() == "NONE":
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class LiveWindow:
    """Shows frames in a window; a no-op (after one warning) without a display.

    :meth:`show` returns ``False`` once the user pressed ``q`` / Esc or closed
    the window, so a tracking loop can stop early.
    """

    def __init__(self, title: str = "vsdmot") -> None:
        self.title = title
        self.enabled = display_available()
        self._opened = False
        if not self.enabled:
            log.warning(
                "no display available (DISPLAY/WAYLAND_DISPLAY unset or OpenCV built without "
                "GUI, backend %s): the live window is disabled; the output file is still written",
                gui_backend(),
            )

    def show(self, frame: np.ndarray) -> bool:
        if not self.enabled:
            return True
        try:
            cv2.imshow(self.title, frame)
            self._opened = True
            key = cv2.waitKey(1) & 0xFF
            visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error as exc:
            log.warning("live window failed (%s); disabling it", exc)
            self.enabled = False
            return True
        return key not in _QUIT_KEYS and visible

    def close(self) -> None:
        if self._opened:
            cv2.destroyWindow(self.title)
            self._opened = False
