"""Frame sources: files, folders, globs, sequences, streams, and damaged input."""

from __future__ import annotations

import contextlib
import http.server
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vsdmot.data.sources import (
    FrameSourceError,
    GlobSource,
    ImageFolderSource,
    StreamSource,
    VideoFileSource,
    open_source,
)

W, H = 160, 120


def _frame(i: int) -> np.ndarray:
    """Frame i (1-based) carries its number in the green level (12 * i) of a flat band."""
    img = np.zeros((H, W, 3), np.uint8)
    img[:40, :, 1] = 12 * i
    cv2.putText(img, str(i), (30, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 2)
    return img


def _number(img: np.ndarray) -> int:
    return round(float(img[:40, :, 1].mean()) / 12)


def _cv2_video(path: Path, fourcc: str, n: int, fps: float = 12.0) -> Path:
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (W, H))
    assert vw.isOpened()
    for i in range(1, n + 1):
        vw.write(_frame(i))
    vw.release()
    return path


@pytest.fixture
def mjpg_avi(tmp_path: Path) -> Path:
    return _cv2_video(tmp_path / "clip.avi", "MJPG", 20)


@pytest.mark.parametrize(("fourcc", "name"), [("mp4v", "clip.mp4"), ("MJPG", "clip.avi")])
def test_cv2_written_video(tmp_path: Path, fourcc: str, name: str) -> None:
    src = open_source(str(_cv2_video(tmp_path / name, fourcc, 15, fps=12.0)))
    assert isinstance(src, VideoFileSource)
    assert (len(src), src.size, src.fps, src.length) == (15, (W, H), 12.0, 15)
    got = [(t, _number(img)) for t, img in src]
    assert got == [(t, t) for t in range(1, 16)]
    assert _number(src.frame(7)) == 7  # random access after a full pass
    src.close()


def test_pyav_written_video(tmp_path: Path) -> None:
    path = tmp_path / "pyav.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.bit_rate = 2_000_000
        for i in range(1, 13):
            frame = av.VideoFrame.from_ndarray(_frame(i), format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with open_source(path) as src:
        assert (len(src), src.size, src.fps) == (12, (W, H), 10.0)
        assert [(t, _number(img)) for t, img in src] == [(t, t) for t in range(1, 13)]


def test_image_folder_corrupt_frame_skipped(tmp_path: Path, caplog) -> None:
    for i in range(1, 7):
        cv2.imwrite(str(tmp_path / f"{i:06d}.png"), _frame(i))
    (tmp_path / "000004.png").write_bytes(b"\x89PNG garbage, not an image" * 10)
    src = open_source(str(tmp_path))
    assert isinstance(src, ImageFolderSource) and len(src) == 6
    with caplog.at_level(logging.WARNING):
        got = [(t, _number(img)) for t, img in src]
    assert got == [(1, 1), (2, 2), (3, 3), (5, 5), (6, 6)]
    assert src.skipped == [4]
    assert "000004.png" in caplog.text
    with pytest.raises(FrameSourceError, match="000004.png"):
        src.frame(4)


def test_image_folder_natural_order_and_corrupt_first(tmp_path: Path) -> None:
    (tmp_path / "f1.jpg").write_bytes(b"junk")
    for i in (2, 10, 9):
        cv2.imwrite(str(tmp_path / f"f{i}.jpg"), _frame(i))
    src = ImageFolderSource(tmp_path)
    assert src.size == (W, H)  # taken from the first image that decodes
    assert [p.name for p in src.files] == ["f1.jpg", "f2.jpg", "f9.jpg", "f10.jpg"]
    assert [t for t, _ in src] == [2, 3, 4]


def test_truncated_video_ends_cleanly(mjpg_avi: Path, caplog) -> None:
    data = mjpg_avi.read_bytes()
    cut = mjpg_avi.with_name("cut.avi")
    cut.write_bytes(data[: len(data) // 2])
    src = open_source(cut)
    with caplog.at_level(logging.WARNING):
        got = [(t, _number(img)) for t, img in src]
    assert len(src) == 20  # the header still claims all frames
    assert 5 <= len(got) < 20
    assert got == [(t, t) for t in range(1, len(got) + 1)]
    assert "cut.avi" in caplog.text and "ends after frame" in caplog.text
    assert src.skipped == []


def test_corrupt_frame_inside_video_keeps_numbering(mjpg_avi: Path, caplog) -> None:
    data = bytearray(mjpg_avi.read_bytes())
    starts = [i for i in range(len(data) - 2) if data[i : i + 3] == b"\xff\xd8\xff"]
    assert len(starts) == 20
    k = starts[10]  # the JPEG of frame 11
    data[k : k + 300] = np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes()
    bad = mjpg_avi.with_name("bad.avi")
    bad.write_bytes(bytes(data))
    src = open_source(bad)
    with caplog.at_level(logging.WARNING):
        got = [(t, _number(img)) for t, img in src]
    assert got == [(t, t) for t in range(1, 21) if t != 11]
    assert src.skipped == [11]
    assert "bad.avi" in caplog.text


def test_glob(tmp_path: Path) -> None:
    for i in (1, 2, 3, 12):
        cv2.imwrite(str(tmp_path / f"img_{i}.png"), _frame(i))
    cv2.imwrite(str(tmp_path / "other_5.jpg"), _frame(5))
    src = open_source(str(tmp_path / "img_*.png"), fps=5)
    assert isinstance(src, GlobSource)
    assert (len(src), src.fps) == (4, 5.0)
    assert [_number(img) for _, img in src] == [1, 2, 3, 12]
    with pytest.raises(FrameSourceError, match=r"nothing_\*\.png"):
        open_source(str(tmp_path / "nothing_*.png"))


def test_missing_and_bogus(tmp_path: Path) -> None:
    with pytest.raises(FrameSourceError, match="nope.mp4"):
        open_source(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(FrameSourceError, match="junk.mp4"):
        open_source(junk)
    with pytest.raises(FrameSourceError, match="ftp"):
        open_source("ftp://127.0.0.1/x")
    with pytest.raises(FrameSourceError, match=r"rtsp://127\.0\.0\.1:9/x"):
        open_source("rtsp://127.0.0.1:9/x", open_timeout_s=2)
    with pytest.raises(FrameSourceError, match="camera:97"):
        open_source("97")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.payload``; stops after ``server.limit`` bytes (a dropped connection)."""

    def do_GET(self) -> None:
        payload: bytes = self.server.payload  # type: ignore[attr-defined]
        limit: int = self.server.limit  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "video/x-msvideo")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(payload[:limit])
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_video(mjpg_avi: Path) -> Iterator[tuple[http.server.HTTPServer, str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.payload = mjpg_avi.read_bytes()  # type: ignore[attr-defined]
    server.limit = len(server.payload)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_port}/clip.avi"
    server.shutdown()
    server.server_close()


def test_http_stream_and_dropped_connection(http_video, caplog) -> None:
    server, url = http_video
    src = open_source(url, open_timeout_s=5)
    assert isinstance(src, StreamSource) and src.is_stream and src.length is None
    assert src.size == (W, H)
    with pytest.raises(TypeError, match="no length"):
        len(src)
    assert [_number(img) for _, img in src] == list(range(1, 21))
    src.close()

    server.limit = len(server.payload) // 2  # the server drops the connection half-way
    src = open_source(url, open_timeout_s=5)
    with caplog.at_level(logging.WARNING):
        got = [(t, _number(img)) for t, img in src]
    src.close()
    assert 3 <= len(got) < 20
    assert got == [(t, t) for t in range(1, len(got) + 1)]
    assert "connection dropped" in caplog.text and url in caplog.text


def test_real_pets_video(mot15_dir: Path) -> None:
    seq_dir = mot15_dir / "PETS09-S2L1"
    video = open_source(seq_dir / "PETS09-S2L1.avi")
    assert (len(video), video.size) == (795, (768, 576))
    n = 0
    for t, img in video:
        n += 1
        assert t == n and img.shape == (576, 768, 3)
    assert n == 795 and video.skipped == []
    seq = open_source(str(seq_dir))
    assert (len(seq), seq.size, seq.fps) == (795, (768, 576), 7.0)  # fps from seqinfo.ini
