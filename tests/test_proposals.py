"""Proposal sources: det files, databases, HOG on real footage, Ultralytics adapter, cache."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from vsdmot.data.mot import read_mot
from vsdmot.data.sequence import MOTSequence
from vsdmot.proposals import (
    CachedProposals,
    DetFileProposals,
    HOGPeopleProposals,
    MissingDependencyError,
    ProposalError,
    ProposalSource,
    UltralyticsProposals,
    build_proposal_source,
    load_proposal_db,
    save_proposal_db,
)
from vsdmot.utils.boxes import box_iou

BLANK = np.zeros((480, 640, 3), np.uint8)

DET_TXT = """\
1,-1,10,20,30,60,0.9,-1,-1,-1
1,-1,100,50,20,40,0.3,-1,-1,-1
3,-1,5,5,10,10,0.6,-1,-1,-1
"""


def test_det_file_rows_match(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text(DET_TXT)
    src = DetFileProposals(path)
    np.testing.assert_allclose(
        src(BLANK, 1), [[10, 20, 40, 80, 0.9], [100, 50, 120, 90, 0.3]], rtol=1e-6
    )
    assert src(BLANK, 2).shape == (0, 5)
    np.testing.assert_allclose(src(None, 3), [[5, 5, 15, 15, 0.6]], rtol=1e-6)
    strict = DetFileProposals(path, min_score=0.5)
    assert strict(BLANK, 1).shape == (1, 5) and strict.frames == [1, 3]
    assert src.name == "det:det.txt"


def test_det_file_raw_margins_squashed(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_text("1,-1,0,0,10,10,-2,-1,-1,-1\n1,-1,0,0,10,10,3,-1,-1,-1\n")
    scores = DetFileProposals(path)(BLANK, 1)[:, 4]
    np.testing.assert_allclose(scores, [1 / (1 + np.exp(2)), 1 / (1 + np.exp(-3))], rtol=1e-5)


def test_real_det_file_per_frame(mot15_dir: Path) -> None:
    path = mot15_dir / "TUD-Stadtmitte" / "det" / "det.txt"
    det = read_mot(path, "det")
    src = build_proposal_source("det", sequence=mot15_dir / "TUD-Stadtmitte")
    for t in (1, 50, 179):
        rows = det.for_frame(t)
        got = src(BLANK, t)
        assert len(got) == len(rows)
        np.testing.assert_allclose(got[:, :4], rows.boxes_xyxy(), rtol=1e-5)
        np.testing.assert_allclose(got[:, 4], rows.score, rtol=1e-5)


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_database_roundtrip(tmp_path: Path, suffix: str) -> None:
    table = {1: np.array([[1, 2, 30, 40, 0.75], [5, 6, 7, 8, 0.5]]), 4: np.zeros((0, 5))}
    path = tmp_path / f"seq{suffix}"
    save_proposal_db(path, table, meta={"by": "test"})
    loaded = load_proposal_db(path)
    assert sorted(loaded) == [1, 4]  # the empty frame 4 is kept as covered
    np.testing.assert_allclose(loaded[1], table[1], rtol=1e-6)
    assert loaded[4].shape == (0, 5)
    src = build_proposal_source(str(path), min_score=0.6)
    assert src(BLANK, 1).shape == (1, 5) and src(BLANK, 2).shape == (0, 5)


def test_bad_database_and_specs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ProposalError, match="bad.npz"):
        DetFileProposals(bad)
    other = tmp_path / "other.json"
    other.write_text('{"frames": {}}')
    with pytest.raises(ProposalError, match="other.json"):
        load_proposal_db(other)
    with pytest.raises(ProposalError, match="unknown proposal source"):
        build_proposal_source("yolo-magic")
    with pytest.raises(ProposalError, match="det.txt not found"):
        build_proposal_source("det", sequence=tmp_path)
    with pytest.raises(ProposalError, match="hog has no option .zoom."):
        build_proposal_source("hog:zoom=2")


def test_hog_blank_frame_is_empty() -> None:
    props = HOGPeopleProposals()(BLANK, 1)
    assert props.shape == (0, 5) and props.dtype == np.float32


def test_hog_finds_people_on_real_frames(mot15_dir: Path) -> None:
    seq = MOTSequence(mot15_dir / "TUD-Stadtmitte")
    hog = build_proposal_source("hog")
    assert isinstance(hog, HOGPeopleProposals)
    for t in (1, 60, 120):
        props = hog(seq.frame(t), t)
        assert props.ndim == 2 and props.shape[1] == 5 and len(props) >= 1
        assert np.all((props[:, 4] >= 0) & (props[:, 4] <= 1))
        assert np.all(props[:, 2] > props[:, 0]) and np.all(props[:, 3] > props[:, 1])
        gt = seq.gt.for_frame(t).boxes_xyxy()
        assert box_iou(props, gt).max() >= 0.3, f"no HOG box overlaps gt in frame {t}"


def test_hog_params_change_the_key() -> None:
    assert HOGPeopleProposals().key == HOGPeopleProposals().key
    assert HOGPeopleProposals(upscale=2.0).key != HOGPeopleProposals().key
    assert build_proposal_source("hog:upscale=2.0").key == HOGPeopleProposals(upscale=2.0).key


def test_ultralytics_missing_explains(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ultralytics", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match="pip install ultralytics") as info:
        build_proposal_source("ultralytics:yolov8n.pt")
    assert "torchvision" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_ultralytics_adapter_keeps_persons(monkeypatch) -> None:
    """A stand-in for the package checks the conversion and the person filter."""
    calls: dict = {}

    class FakeBoxes:
        xyxy = np.array([[1, 2, 11, 22], [5, 5, 9, 9]], dtype=np.float32)
        conf = np.array([0.8, 0.6], dtype=np.float32)
        cls = np.array([0, 2], dtype=np.float32)

        def __len__(self) -> int:
            return 2

    class FakeYOLO:
        def __init__(self, model: str) -> None:
            calls["model"] = model

        def predict(self, frame, **kwargs):
            calls.update(kwargs)
            return [types.SimpleNamespace(boxes=FakeBoxes())]

    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(YOLO=FakeYOLO))
    src = build_proposal_source("ultralytics:my.pt")
    assert isinstance(src, UltralyticsProposals) and src.name == "ultralytics:my.pt"
    np.testing.assert_allclose(src(BLANK, 1), [[1, 2, 11, 22, 0.8]], rtol=1e-6)
    assert calls["model"] == "my.pt" and calls["classes"] == [0]


class CountingSource(ProposalSource):
    """Deterministic boxes that depend on the frame number; counts its calls."""

    def __init__(self, shift: float = 0.0) -> None:
        self.shift = shift
        self.calls = 0

    @property
    def name(self) -> str:
        return "counting"

    @property
    def params(self) -> dict:
        return {"shift": self.shift}

    def __call__(self, frame_bgr: np.ndarray, frame_index: int) -> np.ndarray:
        self.calls += 1
        if frame_index % 3 == 0:
            return np.zeros((0, 5), np.float32)
        x = frame_index + self.shift
        return np.array([[x, x, x + 10, x + 20, 0.5]], np.float32)


def test_cache_second_run_does_not_detect(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"stand-in video bytes")
    first = CountingSource()
    with CachedProposals(first, tmp_path / "cache", video, flush_every=4) as cached:
        out1 = [cached(BLANK, t) for t in range(1, 11)]
    assert first.calls == 10 and cached.misses == 10
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    assert not list((tmp_path / "cache").glob("*.tmp"))

    second = CountingSource()
    cached2 = CachedProposals(second, tmp_path / "cache", video)
    out2 = [cached2(BLANK, t) for t in range(1, 11)]
    assert second.calls == 0 and cached2.hits == 10
    for a, b in zip(out1, out2, strict=True):
        np.testing.assert_array_equal(a, b)  # empty frames (3, 6, 9) included
    assert cached2(BLANK, 11).shape == (1, 5) and second.calls == 1

    # Other detector settings: a different cache entry, so detection runs again.
    third = CountingSource(shift=1.0)
    cached3 = CachedProposals(third, tmp_path / "cache", video)
    assert cached3(BLANK, 1)[0, 0] == 2.0 and third.calls == 1


def test_cache_invalidated_by_video_change_and_survives_damage(tmp_path: Path, caplog) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"v1")
    with CachedProposals(CountingSource(), tmp_path, video) as cached:
        cached(BLANK, 1)
    video.write_bytes(b"version two")
    src = CountingSource()
    with CachedProposals(src, tmp_path, video) as changed:
        changed(BLANK, 1)
    assert src.calls == 1 and changed.path != cached.path

    changed.path.write_bytes(b"damaged")
    src = CountingSource()
    again = CachedProposals(src, tmp_path, video)  # warns, does not raise
    assert again.path == changed.path and again.cached_frames == 0
    again(BLANK, 1)
    assert src.calls == 1
    assert "unreadable proposal cache" in caplog.text
