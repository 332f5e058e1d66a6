"""Rendered output: tracks drawn on frames, written to video, optionally shown live."""

from vsdmot.render.colors import id_color
from vsdmot.render.display import LiveWindow, display_available
from vsdmot.render.renderer import TrackRenderer
from vsdmot.render.writer import VideoWriteError, VideoWriter

__all__ = [
    "LiveWindow",
    "TrackRenderer",
    "VideoWriteError",
    "VideoWriter",
    "display_available",
    "id_color",
]
