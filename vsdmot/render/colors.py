"""Stable track colours: a pure function of the id, no palette state.

Hues step by the golden ratio, so consecutive ids get far-apart colours and
the same id gets the same colour in every frame, run and process.
"""

from __future__ import annotations

import colorsys

_GOLDEN = 0.618033988749895


def id_color(track_id: int, saturation: float = 0.85, value: float = 0.95) -> tuple[int, int, int]:
    """BGR colour of a track id (for OpenCV drawing).

    >>> id_color(1) == id_color(1)
    True
    >>> id_color(1) != id_color(2)
    True
    >>> all(0 <= c <= 255 for c in id_color(12345))
    True
    """
    hue = (int(track_id) * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(b * 255), round(g * 255), round(r * 255)
