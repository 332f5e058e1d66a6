"""Rendering: stable colours, bounded trails, quality meter, atomic video output."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from vsdmot.render import LiveWindow, TrackRenderer, VideoWriter, id_color
from vsdmot.render.writer import VideoWriteError

W, H = 320, 240


def _blank() -> np.ndarray:
    return np.full((H, W, 3), 40, np.uint8)


def _moving_box(t: int) -> np.ndarray:
    return np.array([[20 + 5 * t, 60, 60 + 5 * t, 160]], float)


def test_id_colour_stable_across_frames_and_instances() -> None:
    r1, r2 = TrackRenderer(), TrackRenderer()
    for t in range(1, 6):
        box = _moving_box(t)
        for r in (r1, r2):
            img = r.draw(_blank(), t, box, [7])
            x1, y2 = int(box[0, 0]), int(box[0, 3])
            # A point on the box's left edge, below the label.
            assert tuple(int(v) for v in img[(60 + y2) // 2 + 20, x1]) == id_color(7)
    assert id_color(7) != id_color(8)


def test_trail_bounded_and_forgotten() -> None:
    r = TrackRenderer(trail_length=5, forget_after=3)
    for t in range(1, 21):
        r.draw(_blank(), t, _moving_box(t), [3])
    trail = r.trail(3)
    assert len(trail) == 5
    assert trail[-1] == (140, 110) and trail[0] == (120, 110)
    for t in range(21, 25):  # id 3 disappears
        r.draw(_blank(), t, np.zeros((0, 4)), [])
    assert r.trail(3) == []
    r.draw(_blank(), 30, _moving_box(1), [4])
    r.reset()
    assert r.trail(4) == []


def test_trail_is_drawn_between_centres() -> None:
    r = TrackRenderer(trail_length=10, show_counter=False)
    r.draw(_blank(), 1, np.array([[10, 100, 30, 140]]), [2])
    img = r.draw(_blank(), 2, np.array([[210, 100, 230, 140]]), [2])
    # Midway between the two centres (20, 120) and (220, 120): only the trail is there.
    assert tuple(int(v) for v in img[120, 120]) == id_color(2)


def test_quality_meter_changes_its_corner_only() -> None:
    r = TrackRenderer(show_counter=False)
    base = r.draw(_blank(), 1, np.zeros((0, 4)), [])
    low = r.draw(_blank(), 1, np.zeros((0, 4)), [], quality=0.2, weight=np.array([0.7, 0.9]))
    high = r.draw(_blank(), 1, np.zeros((0, 4)), [], quality=0.9, weight=0.1)
    x1, y1, x2, y2 = r.meter_rect((W, H))
    assert x2 <= W and y1 >= 0 and x1 > W // 2  # the top-right corner
    corner = (slice(y1, y2 + 1), slice(x1, x2 + 1))
    assert np.any(low[corner] != base[corner])
    assert np.count_nonzero(np.any(low[corner] != high[corner], axis=2)) > 50
    outside = np.ones((H, W), bool)
    outside[corner] = False
    assert np.array_equal(low[outside], base[outside])
    assert np.array_equal(high[outside], base[outside])


def test_counter_and_validation() -> None:
    r = TrackRenderer()
    a = r.draw(_blank(), 1, np.zeros((0, 4)), [])
    b = r.draw(_blank(), 2, np.zeros((0, 4)), [])
    assert not np.array_equal(a[:30, :100], b[:30, :100])  # "frame 1" vs "frame 2"
    with pytest.raises(ValueError, match="2 boxes but 1 ids"):
        r.draw(_blank(), 3, np.zeros((2, 4)), [1])


def _render_video(path: Path, n: int, backend: str, size: tuple[int, int] = (W, H)) -> Path:
    r = TrackRenderer()
    with VideoWriter(path, fps=10, backend=backend) as w:  # type: ignore[arg-type]
        for t in range(1, n + 1):
            frame = np.full((size[1], size[0], 3), 40, np.uint8)
            w.write(r.draw(frame, t, _moving_box(t), [1], quality=t / n))
    return path


@pytest.mark.parametrize(
    ("backend", "name"), [("pyav", "out.mp4"), ("cv2", "out.mp4"), ("cv2", "out.avi")]
)
def test_video_reopens_with_right_count_and_size(tmp_path: Path, backend: str, name: str) -> None:
    path = _render_video(tmp_path / name, 12, backend)
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        n += 1
        assert img.shape == (H, W, 3)
    cap.release()
    assert n == 12
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left behind


def test_h264_odd_size_is_padded(tmp_path: Path) -> None:
    path = _render_video(tmp_path / "odd.mp4", 3, "pyav", size=(W + 1, H - 1))
    cap = cv2.VideoCapture(str(path))
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    assert size == (W + 2, H)


def test_failed_render_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous result")
    with pytest.raises(RuntimeError), VideoWriter(target, fps=5) as w:
        w.write(_blank())
        raise RuntimeError("tracking crashed")
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    with pytest.raises(ValueError, match="320x240"), VideoWriter(tmp_path / "b.mp4", fps=5) as w:
        w.write(_blank())
        w.write(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(VideoWriteError, match="no frames"):
        VideoWriter(tmp_path / "c.mp4", fps=5).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_live_window_without_display(monkeypatch, caplog) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with caplog.at_level(logging.WARNING):
        win = LiveWindow()
    assert not win.enabled and "no display" in caplog.text
    assert win.show(_blank()) is True  # keeps the loop going
    win.close()
