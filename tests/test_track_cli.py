"""``vsdmot track`` end to end: every kind of source, proposal source and output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from helpers.models import TINY_JOINT
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.mot import read_mot
from vsdmot.data.sources import VideoFileSource
from vsdmot.data.synth import SynthConfig, generate_sequence

runner = CliRunner()
N_FRAMES = 12


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("track")
    cfg = SynthConfig(width=320, height=240, n_frames=N_FRAMES, objects=(3, 4))
    return generate_sequence(root / "SEQ", cfg, seed=3)


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_sequence_folder_with_det_and_rendered_video(sequence: Path, tmp_path: Path) -> None:
    out, video = tmp_path / "res.txt", tmp_path / "res.mp4"
    text = invoke("track", str(sequence), "--tracker", "bytetrack", "-o", str(out),
                  "--video", str(video))  # fmt: skip
    assert "proposals: det" in text and f"results:   {out}" in text
    res = read_mot(out, "result", seq_length=N_FRAMES)
    assert len(res) > 0 and res.track_id.min() >= 1
    rendered = VideoFileSource(video)
    assert len(rendered) == N_FRAMES and rendered.size == (320, 240)
    per_frame = (tmp_path / "res.frames.csv").read_text().splitlines()
    assert per_frame[0].startswith("frame,tracks") and len(per_frame) == N_FRAMES + 1


def test_image_folder_with_det_file_as_jsonl(sequence: Path, tmp_path: Path) -> None:
    out = tmp_path / "res.jsonl"
    invoke("track", str(sequence / "img1"), "--tracker", "ocsort", "-p",
           str(sequence / "det" / "det.txt"), "--format", "jsonl", "-o", str(out))  # fmt: skip
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines and all({"frame", "tracks"} <= set(line) for line in lines)
    assert all(1 <= line["frame"] <= N_FRAMES for line in lines)
    assert all(len(t["ltwh"]) == 4 for line in lines for t in line["tracks"])
    assert all(line["quality"] is None for line in lines)  # OC-SORT estimates no quality


@pytest.fixture(scope="module")
def dswr_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random tracker with a student, a quality head and an embedding head."""
    from vsdmot.config import compose_config
    from vsdmot.engine.checkpoint import save_model
    from vsdmot.engine.trainer import build_default_model

    semantic = ["semantic.embed_dim=16", "semantic.semantics=student", "semantic.dswr='on'"]
    cfg = compose_config("tiny-cpu", [*TINY_JOINT, "model.embed_dim=8", *semantic])
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("dswr") / "model.pt"
    save_model(path, build_default_model(cfg), cfg, step=0)
    return path


@pytest.mark.usefixtures("one_thread")
def test_jsonl_records_carry_the_frame_quality(
    sequence: Path, dswr_weights: Path, tmp_path: Path
) -> None:
    """Every tracked frame has a record, with q_t, w_t and the appearance weight it got."""
    out = tmp_path / "q.jsonl"
    invoke("track", str(sequence), "-w", str(dswr_weights), "-o", str(out), "--format",
           "jsonl", "--max-frames", "4", "--input-size", "96", "--birth-thresh", "0.99",
           "--set", "appearance_weight=0.5", "--set", "appearance_dswr=on")  # fmt: skip
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["frame"] for line in lines] == [1, 2, 3, 4]  # frames without tracks too
    with open(tmp_path / "q.frames.csv", newline="") as f:
        per_frame = list(csv.DictReader(f))
    for line, row in zip(lines, per_frame, strict=True):
        q = line["quality"]
        assert set(q) == {"q", "semantic_weight", "appearance_weight"}
        assert 0.0 < q["q"] < 1.0 and 0.0 < q["semantic_weight"] < 1.0
        assert q["q"] == pytest.approx(float(row["quality"]), abs=1e-4)
        assert q["appearance_weight"] == pytest.approx(0.5 * q["q"], abs=1e-3)  # DSWR on

    invoke("track", str(sequence), "-w", str(dswr_weights), "-o", str(out), "--format",
           "jsonl", "--max-frames", "2", "--input-size", "96", "--association", "e2e")  # fmt: skip
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(line["quality"]["appearance_weight"] is None for line in lines)  # no appearance
    assert all(line["quality"]["q"] is not None for line in lines)


@pytest.mark.usefixtures("one_thread")
def test_semantic_fusion_off_changes_the_scores_not_q(
    sequence: Path, dswr_weights: Path, tmp_path: Path
) -> None:
    records = {}
    for fusion in ("on", "off"):
        out = tmp_path / f"{fusion}.jsonl"
        invoke("track", str(sequence), "-w", str(dswr_weights), "-o", str(out), "--format",
               "jsonl", "--max-frames", "3", "--input-size", "96", "--birth-thresh", "0.0",
               "--set", f"semantic_fusion={fusion}")  # fmt: skip
        records[fusion] = [json.loads(line) for line in out.read_text().splitlines()]
    for on, off in zip(records["on"], records["off"], strict=True):
        assert off["quality"]["q"] == pytest.approx(on["quality"]["q"], abs=1e-6)
        assert off["quality"]["semantic_weight"] == 0.0 < on["quality"]["semantic_weight"]
    scores = {k: [t["score"] for r in v for t in r["tracks"]] for k, v in records.items()}
    assert scores["on"] and scores["on"] != scores["off"]  # the queries saw another vector


def test_video_file_with_default_yolo_and_max_frames(sequence: Path, tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for t in range(1, N_FRAMES + 1):
        writer.write(cv2.imread(str(sequence / "img1" / f"{t:06d}.jpg")))
    writer.release()
    out = tmp_path / "res.txt"
    text = invoke("track", str(video), "--tracker", "bytetrack", "--max-frames", "3",
                  "-o", str(out))  # fmt: skip
    assert "tracked 3 frames" in text and "proposals: yolo" in text  # the default for videos
    assert out.is_file()


def test_vsdmot_tracker_with_saved_weights(
    sequence: Path, tiny_weights: Path, tmp_path: Path
) -> None:
    out = tmp_path / "res.txt"
    text = invoke("track", str(sequence), "-w", str(tiny_weights), "-o", str(out),
                  "--birth-thresh", "0.0", "--keep-thresh", "0.0", "--max-frames", "5",
                  "--input-size", "160", "--max-tracks", "20", "--association", "e2e")  # fmt: skip
    assert str(tiny_weights) in text and "semantics=none" in text
    res = read_mot(out, "result", seq_length=N_FRAMES)
    # Thresholds at 0 keep every query alive: each frame reports tracks, ids persist.
    assert set(res.frame.tolist()) == set(range(1, 6))
    assert 15 <= max(len(res.for_frame(t)) for t in range(1, 6)) <= 20  # the cap binds
    first, last = res.for_frame(1), res.for_frame(5)
    assert set(first.track_id.tolist()) <= set(last.track_id.tolist())


def test_runtime_settings_by_name_and_their_errors(
    sequence: Path, tiny_weights: Path, tmp_path: Path
) -> None:
    out = tmp_path / "res.txt"
    invoke("track", str(sequence), "-w", str(tiny_weights), "-o", str(out), "--max-frames",
           "3", "--input-size", "96", "--motion", "velocity", "--set", "appearance_weight=0.5",
           "--set", "appearance-dswr=off", "--set", "miss_tolerance=4")  # fmt: skip
    assert out.is_file()
    for bad, message in (
        (["--set", "speed=3"], "no setting 'speed'"),
        (["--set", "miss_tolerance=lots"], "type int"),
        (["--association", "greedy"], "association"),
        (["--motion", "teleport"], "motion"),
    ):
        other = tmp_path / "bad.txt"
        result = runner.invoke(app, ["track", str(sequence), "-w", str(tiny_weights),
                                     "-o", str(other), *bad])  # fmt: skip
        assert result.exit_code == 2, result.output
        assert message in result.output and not other.exists()


def test_deepsort_peer_from_the_cli(sequence: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds.txt"
    text = invoke("track", str(sequence), "--tracker", "deepsort", "-o", str(out))
    assert "deepsort" in text
    res = read_mot(out, "result", seq_length=N_FRAMES)
    assert len(res) > 0 and res.track_id.min() >= 1


def test_corrupt_frame_is_skipped_and_numbering_kept(sequence: Path, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for t in range(1, N_FRAMES + 1):
        (folder / f"{t:06d}.jpg").write_bytes((sequence / "img1" / f"{t:06d}.jpg").read_bytes())
    (folder / "000005.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    out = tmp_path / "res.txt"
    text = invoke("track", str(folder), "--tracker", "bytetrack", "-p",
                  str(sequence / "det" / "det.txt"), "-o", str(out))  # fmt: skip
    assert "skipped 1 unreadable frame" in text
    res = read_mot(out, "result")
    assert 5 not in res.frame.tolist() and res.frame.max() == N_FRAMES


def test_bad_weights_and_missing_source_are_clear_errors(sequence: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    result = runner.invoke(app, ["track", str(sequence), "-w", str(bad), "-o",
                                 str(tmp_path / "r.txt")])  # fmt: skip
    assert result.exit_code == 2 and str(bad) in result.output
    result = runner.invoke(app, ["track", str(tmp_path / "nope.mp4")])
    assert result.exit_code == 2 and "nope.mp4" in result.output
    assert not (tmp_path / "r.txt").exists()


def test_checkpoint_from_another_config_is_refused(
    sequence: Path, tiny_weights: Path, tmp_path: Path
) -> None:
    blob = torch.load(tiny_weights, map_location="cpu", weights_only=False)
    blob["config"]["model"]["d_model"] = 64  # weights are d_model=32
    other = tmp_path / "other.pt"
    torch.save(blob, other)
    result = runner.invoke(app, ["track", str(sequence), "-w", str(other)])
    assert result.exit_code == 2
    assert str(other) in result.output and "do not match" in result.output


def test_frame_to_tensor_normalisation() -> None:
    from vsdmot.tracking.query_tracker import frame_to_tensor

    frame = np.zeros((4, 6, 3), np.uint8)
    frame[..., 2] = 255  # red in BGR
    x = frame_to_tensor(frame, (6, 4))
    assert x.shape == (1, 3, 4, 6)
    assert torch.allclose(x[0, 0], torch.full((4, 6), (1 - 0.485) / 0.229))
    assert torch.allclose(x[0, 2], torch.full((4, 6), (0 - 0.406) / 0.225))


def test_detect_writes_det_files_and_keeps_the_original(sequence: Path, tmp_path: Path) -> None:
    import shutil

    seq = tmp_path / "data" / "SEQ"
    shutil.copytree(sequence, seq)
    before = (seq / "det" / "det.txt").read_text()
    text = invoke("detect", str(tmp_path / "data"), "-p", "hog:upscale=1.0")
    assert f"{N_FRAMES} frames" in text
    assert (seq / "det" / "det_original.txt").read_text() == before
    dets = read_mot(seq / "det" / "det.txt", "det")
    assert set(dets.frame.tolist()) <= set(range(1, N_FRAMES + 1))
    invoke("detect", str(seq), "-p", "hog:upscale=1.0")  # a rerun keeps the saved original
    assert (seq / "det" / "det_original.txt").read_text() == before
    result = runner.invoke(app, ["detect", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "nothing" in result.output
