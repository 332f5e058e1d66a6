"""MOTChallenge data layer: round trips, format detection, bad input, real sequences."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vsdmot.data.mot import (
    MOTAnnotations,
    MOTFormatError,
    SeqInfo,
    detect_gt_format,
    read_mot,
    read_seqinfo,
    write_mot,
    write_seqinfo,
)
from vsdmot.data.sequence import MOTSequence, list_sequences


def make_sequence(root: Path, n_frames: int = 4, size: tuple[int, int] = (64, 48)) -> Path:
    """A tiny image-folder sequence with a MOT16-style gt and a det file."""
    seq = root / "SEQ-01"
    (seq / "img1").mkdir(parents=True)
    w, h = size
    for t in range(1, n_frames + 1):
        img = np.full((h, w, 3), 10 * t, np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{t:06d}.png"), img)
    write_seqinfo(seq / "seqinfo.ini", SeqInfo("SEQ-01", n_frames, 25, w, h, "img1", ".png"))
    gt = MOTAnnotations.from_rows(
        [
            [t, i, 5 * i, 3 * t, 10, 20, 1, 1, 0.5 + 0.1 * i]
            for t in range(1, n_frames + 1)
            for i in (1, 2)
        ]
    )
    write_mot(seq / "gt" / "gt.txt", gt, "gt", fmt="mot16")
    det = MOTAnnotations.from_rows([[t, -1, 4, 4, 10, 20, 0.75] for t in range(1, n_frames + 1)])
    write_mot(seq / "det" / "det.txt", det, "det")
    return seq


def test_seqinfo_round_trip(tmp_path: Path) -> None:
    info = SeqInfo("A", 12, 7.5, 640, 480, "img1", ".jpg")
    write_seqinfo(tmp_path / "seqinfo.ini", info)
    assert read_seqinfo(tmp_path / "seqinfo.ini") == info


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[Sequence]\nname=A\nseqLength=3\nimWidth=4\nimHeight=4\n", "framerate"),
        ("name=A\n", "malformed"),
        ("[Other]\nname=A\n", r"no \[Sequence\]"),
        ("[Sequence]\nname=A\nseqLength=x\nframeRate=1\nimWidth=4\nimHeight=4\n", "seqlength"),
    ],
)
def test_seqinfo_errors_name_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "seqinfo.ini"
    path.write_text(text)
    with pytest.raises(MOTFormatError, match=problem) as err:
        read_seqinfo(path)
    assert str(path) in str(err.value)


def test_missing_seqinfo(tmp_path: Path) -> None:
    with pytest.raises(MOTFormatError, match="seqinfo.ini not found"):
        MOTSequence(tmp_path)


def test_gt_round_trip_mot16_and_mot15(tmp_path: Path) -> None:
    rows = [[1, 1, 10.5, 20, 30, 40, 1, 1, 0.25], [2, 1, 11, 21, 30, 40, 0, 7, 1.0]]
    ann = MOTAnnotations.from_rows(rows)
    write_mot(tmp_path / "gt16.txt", ann, "gt", fmt="mot16")
    back = read_mot(tmp_path / "gt16.txt", "gt")
    np.testing.assert_allclose(back.boxes, ann.boxes)
    assert back.label.tolist() == [1, 7]
    assert back.visibility.tolist() == [0.25, 1.0]
    assert back.score.tolist() == [1, 0]

    write_mot(tmp_path / "gt15.txt", ann, "gt", fmt="mot15")
    assert len((tmp_path / "gt15.txt").read_text().splitlines()[0].split(",")) == 10
    back15 = read_mot(tmp_path / "gt15.txt", "gt")
    assert back15.label.tolist() == [-1, -1]  # MOT15 has no class column
    assert back15.visibility.tolist() == [1.0, 1.0]


def test_results_sorted_and_round_trip(tmp_path: Path) -> None:
    ann = MOTAnnotations.from_rows([[2, 1, 0, 0, 1, 1, 0.5], [1, 2, 0, 0, 1, 1, 0.9]])
    write_mot(tmp_path / "res.txt", ann, "result")
    lines = (tmp_path / "res.txt").read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == ["1", "2"]
    back = read_mot(tmp_path / "res.txt", "result")
    assert back.track_id.tolist() == [2, 1]
    np.testing.assert_allclose(back.score, [0.9, 0.5])


def test_format_detection() -> None:
    mot16 = np.array([[1, 1, 0, 0, 5, 5, 1, 1, 0.8], [1, 2, 0, 0, 5, 5, 0, 7, 0.1]])
    mot15 = np.array([[1, 1, 0, 0, 5, 5, 1, -1, -1, -1]])
    mot15_9col = np.array([[1, 1, 0, 0, 5, 5, 1, -1, -1]])
    assert detect_gt_format(mot16) == "mot16"
    assert detect_gt_format(mot15) == "mot15"
    assert detect_gt_format(mot15_9col) == "mot15"


@pytest.mark.parametrize(
    ("content", "kind", "problem", "line"),
    [
        ("1,1,0,0,5,5,1,1,1\n1,2,0,0,5\n", "gt", "columns", 2),
        ("1,1,0,0,5,5,1,1,1\n2,1,a,0,5,5,1,1,1\n", "gt", "non-numeric", 2),
        ("1,1,nan,0,5,5,1,1,1\n", "gt", "NaN", 1),
        ("1,1,0,0,inf,5,1,1,1\n", "gt", "NaN or infinite", 1),
        ("1,1,0,0,-5,5,1,1,1\n", "gt", "negative box size", 1),
        ("0,1,0,0,5,5,1,1,1\n", "gt", "1-based", 1),
        ("1,1,0,0,5,5,1,1,1\n\n9,1,0,0,5,5,1,1,1\n", "gt", "beyond seqLength=5", 3),
        ("1,0,0,0,5,5,1,1,1\n", "gt", "track id", 1),
        ("1,-1,0,0,5,5\n", "det", "columns", 1),
        ("1.5,-1,0,0,5,5,0.3\n", "det", "not an integer", 1),
    ],
)
def test_bad_rows_name_file_and_line(
    tmp_path: Path, content: str, kind: str, problem: str, line: int
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(MOTFormatError, match=problem) as err:
        read_mot(path, kind, seq_length=5)  # type: ignore[arg-type]
    assert f"{path}:{line}:" in str(err.value)


def test_sequence_folder_loads_lazily(tmp_path: Path) -> None:
    seq_dir = make_sequence(tmp_path)
    seq = MOTSequence(seq_dir)
    assert len(seq) == 4 and seq.name == "SEQ-01"
    assert seq.frame(3)[0, 0, 0] == 30
    assert [t for t, _ in seq] == [1, 2, 3, 4]
    assert seq.gt is not None and len(seq.gt) == 8
    assert seq.gt.for_frame(2).track_id.tolist() == [1, 2]
    assert seq.det is not None and np.allclose(seq.det.score, 0.75)
    assert list_sequences(tmp_path) == [seq_dir]
    assert list_sequences(seq_dir) == [seq_dir]


def test_frame_count_mismatch(tmp_path: Path) -> None:
    seq_dir = make_sequence(tmp_path, n_frames=4)
    write_seqinfo(seq_dir / "seqinfo.ini", SeqInfo("SEQ-01", 6, 25, 64, 48, "img1", ".png"))
    with pytest.raises(MOTFormatError, match="4 frames, but .* seqLength=6"):
        MOTSequence(seq_dir)


def test_empty_sequence_and_empty_dataset(tmp_path: Path) -> None:
    seq_dir = make_sequence(tmp_path)
    for f in (seq_dir / "img1").iterdir():
        f.unlink()
    with pytest.raises(MOTFormatError, match="no frames"):
        MOTSequence(seq_dir)
    with pytest.raises(MOTFormatError, match="no sequence folders"):
        list_sequences(seq_dir / "img1")


def test_video_backed_sequence_and_unreadable_video(tmp_path: Path) -> None:
    seq = tmp_path / "VID"
    seq.mkdir()
    writer = cv2.VideoWriter(str(seq / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    for t in range(5):
        writer.write(np.full((24, 32, 3), 40 * t, np.uint8))
    writer.release()
    write_seqinfo(seq / "seqinfo.ini", SeqInfo("VID", 5, 10, 32, 24))
    s = MOTSequence(seq)
    assert len(s) == 5
    assert abs(int(s.frame(4)[10, 10, 0]) - 120) < 10  # JPEG-compressed, close to 40 * 3
    assert abs(int(s.frame(2)[10, 10, 0]) - 40) < 10  # backwards seek works

    (seq / "v.avi").write_bytes(b"not a video at all")
    with pytest.raises(Exception, match="v.avi"):
        MOTSequence(seq)


def test_gt_frames_beyond_sequence_are_rejected(tmp_path: Path) -> None:
    seq_dir = make_sequence(tmp_path, n_frames=4)
    (seq_dir / "gt" / "gt.txt").write_text("9,1,0,0,5,5,1,1,1\n")
    with pytest.raises(MOTFormatError, match="beyond seqLength=4"):
        _ = MOTSequence(seq_dir).gt


def test_real_mot15_sequences(mot15_dir: Path) -> None:
    pets = MOTSequence(mot15_dir / "PETS09-S2L1")
    tud = MOTSequence(mot15_dir / "TUD-Stadtmitte")
    assert len(pets) == 795 and pets.frame(795).shape == (576, 768, 3)
    assert len(tud) == 179 and tud.frame(1).shape == (480, 640, 3)
    for seq, n_ids in ((pets, 19), (tud, 10)):
        assert seq.gt is not None and seq.det is not None
        assert len(seq.gt.ids) == n_ids
        assert seq.gt.label.max() == -1  # MOT15: no class column
        assert np.all(seq.det.track_id == -1)
        assert 0 < seq.det.score.min() <= seq.det.score.max()
        assert seq.det.frame.min() >= 1 and seq.det.frame.max() <= len(seq)
