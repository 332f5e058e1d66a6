"""Regression tests for the hostile-input report of 2026-12-05
(../shared/reliability/2026-12-05-bad-cases.md): each test is named after the case IDs
it reproduces, and failed before the fix."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from helpers.sequences import generated_dataset
from typer.testing import CliRunner

from vsdmot.cli.main import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def refused(*args: str) -> str:
    """The command fails with a one-line error (no traceback) and returns it."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return generated_dataset(tmp_path / "syn", sequences=1, frames=6)


def test_O06_O07_track_refuses_to_overwrite_the_sequences_det_and_gt(data: Path) -> None:
    seq = data / "SYNTH-0000"
    before = {p: p.read_bytes() for p in (seq / "det" / "det.txt", seq / "gt" / "gt.txt")}
    for target in before:
        assert "is an input of this command" in refused(
            "track", str(seq), "--tracker", "sort", "-o", str(target))  # fmt: skip
    assert "is an input" in refused("track", str(seq), "--tracker", "sort", "-o",
                                    str(seq / "seqinfo.ini"))  # fmt: skip
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_O03b_output_onto_a_fifo_is_refused_not_replaced(data: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert "not a regular file" in refused("track", str(data / "SYNTH-0000"), "--tracker",
                                           "sort", "-o", str(fifo))  # fmt: skip
    assert fifo.exists() and not fifo.is_file()  # still the pipe
    from vsdmot.utils.io import atomic_write

    with pytest.raises(OSError, match="not a regular file"), atomic_write(fifo) as f:
        f.write("x")


def test_E09_E10_eval_outputs_are_neither_inputs_nor_each_other(data: Path, tmp_path: Path):
    pred = tmp_path / "pred"
    assert run("track", str(data / "SYNTH-0000"), "--tracker", "sort", "-o",
               str(pred / "SYNTH-0000.txt")).exit_code == 0  # fmt: skip
    same = tmp_path / "same.out"
    assert "are the same file" in refused("eval", "--gt", str(data), "--pred", str(pred),
                                          "--json", str(same), "--csv", str(same))  # fmt: skip
    gt = data / "SYNTH-0000" / "gt" / "gt.txt"
    before = gt.read_bytes()
    assert "is an input" in refused("eval", "--gt", str(data), "--pred", str(pred), "--json",
                                    str(gt))  # fmt: skip
    assert "is an input" in refused("eval", "--gt", str(data), "--pred", str(pred), "--csv",
                                    str(pred / "SYNTH-0000.txt"))  # fmt: skip
    assert gt.read_bytes() == before


@pytest.mark.parametrize("detector", ["hog:min_score=0.99", "yolo:size=32"])  # DT03/06, DT11
def test_DT03_DT06_DT11_detect_with_no_detections_keeps_a_det_txt(
    data: Path, detector: str
) -> None:
    det = data / "SYNTH-0000" / "det"
    original = (det / "det.txt").read_bytes()
    # Neither finds anybody on 160 x 120 generated frames: zero detections is a valid result.
    result = run("detect", str(data), "-p", detector)
    assert result.exit_code == 0, result.output
    assert (det / "det.txt").read_text() == ""
    assert (det / "det_original.txt").read_bytes() == original


def test_DT08_detect_refuses_to_overwrite_the_kept_original(data: Path) -> None:
    assert "where the original detections are kept" in refused(
        "detect", str(data), "-p", "hog", "--name", "det_original.txt")  # fmt: skip


def test_Y06_synth_refuses_to_replace_a_sequence_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "s2"
    assert run("synth", str(out), "-n", "1", "-t", "6", "--width", "64", "--height",
               "48").exit_code == 0  # fmt: skip
    assert "already exists (pass --overwrite" in refused("synth", str(out), "-n", "1", "-t", "3")
    assert len(list((out / "SYNTH-0000" / "img1").iterdir())) == 6
    assert run("synth", str(out), "-n", "1", "-t", "3", "--width", "64", "--height", "48",
               "--overwrite").exit_code == 0  # fmt: skip
    assert len(list((out / "SYNTH-0000" / "img1").iterdir())) == 3


def test_Y05_synth_refuses_sizes_it_cannot_hold_in_memory(tmp_path: Path) -> None:
    result = run("synth", str(tmp_path / "y"), "-n", "1", "-t", "1", "--width", "100000")
    assert result.exit_code == 2 and "4096" in result.output
    assert not (tmp_path / "y").exists()


def test_PT05_bench_external_name_cannot_escape_the_report(data: Path, tmp_path: Path):
    ext = tmp_path / "ext" / "clean"
    ext.mkdir(parents=True)
    out = tmp_path / "rep"
    message = refused("bench", "--data", str(data), "--out", str(out), "--trackers", "sort",
                      "--types", "fog", "--severities", "1", "--schedules", "constant",
                      "--external", f"../../ESC={ext.parent}")  # fmt: skip
    assert "must be a plain name" in message
    assert not (tmp_path / "ESC").exists() and not out.exists()


def test_C03_C04_C18_config_interpolation_is_refused_and_the_secret_never_shown(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_SECRET", "s3cr3t")
    cfg = tmp_path / "secret.yaml"
    cfg.write_text("_base_: tiny-cpu\ntrain:\n  device: ${oc.env:MY_SECRET}\n")
    for args in (["--print-config"], [f"data.train=[{data}]", "train.steps=1"]):
        message = refused("train", "-o", str(tmp_path / "run"), "-c", str(cfg), *args)
        assert "train.device: interpolation" in message and "s3cr3t" not in message
    message = refused("train", "-o", str(tmp_path / "run"), "-c", "tiny-cpu", "--print-config",
                      "train.steps=${oc.env:MY_SECRET}")  # fmt: skip
    assert "train.steps: interpolation" in message and "s3cr3t" not in message
    assert not list(tmp_path.rglob("config.yaml"))


def test_C10_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["_base_: tiny-cpu", "a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    lines += ["data:", "  train: *a7"]
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    message = refused("train", "-o", str(tmp_path / "r"), "-c", str(bomb), "--print-config")
    assert "anchors and aliases" in message and f"{bomb}:2" in message
    assert time.perf_counter() - start < 10


def test_A02_vsdmot_flags_with_another_tracker_are_refused(data: Path, tmp_path: Path) -> None:
    for flag in (["--keep-thresh", "0.95"], ["--association", "e2e"], ["--motion", "static"],
                 ["--input-size", "64"]):  # fmt: skip
        message = refused("track", str(data / "SYNTH-0000"), "-o", str(tmp_path / "a.txt"),
                          "--tracker", "sort", *flag)  # fmt: skip
        assert "sort has no setting" in message
    assert not (tmp_path / "a.txt").exists()


def test_B13_bench_recomputes_cells_whose_ground_truth_changed(data: Path, tmp_path: Path):
    out = tmp_path / "b"
    args = ["bench", "--data", str(data), "--out", str(out), "--trackers", "sort", "--types",
            "", "--proposals", "fixed", "--no-progress"]  # fmt: skip
    assert "1 computed now" in run(*args).output
    assert "0 computed now" in run(*args).output  # unchanged data: read back
    gt = data / "SYNTH-0000" / "gt" / "gt.txt"
    gt.write_text("".join(line for line in gt.read_text().splitlines(True)
                          if int(line.split(",")[1]) > 2))  # fmt: skip
    assert "1 computed now" in run(*args).output


def test_PT07_bench_exits_non_zero_when_nothing_could_be_computed(data: Path, tmp_path: Path):
    result = run("bench", "--data", str(data), "--out", str(tmp_path / "r"), "--trackers",
                 f"vsdmot:weights={tmp_path / 'missing.pt'}", "--types", "", "--proposals",
                 "fixed", "--no-progress")  # fmt: skip
    assert result.exit_code == 1 and "every cell failed" in result.output


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--min-score", "nan"], "--min-score nan must be a number in [0, 1]"),  # A12
        (["--threads", "-3"], "greater than or equal to 1"),  # A14
        (["--set", "appearance_weight=nan"], "appearance_weight=nan must be a finite"),  # A07
        (["--set", "input_short_side=8"], "input_short_side=8 must be in [32, 4096]"),  # A18
        (["--set", "input_short_side=20000"], "must be in [32, 4096]"),  # A23
    ],
)
def test_A07_A12_A14_A18_A23_track_values_are_checked_before_any_work(
    data: Path, tmp_path: Path, flag: list[str], message: str
) -> None:
    result = run("track", str(data / "SYNTH-0000"), "-o", str(tmp_path / "a.txt"), *flag)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "a.txt").exists()


def test_K_nandefault_weights_with_nan_are_refused(data: Path, tmp_path: Path) -> None:
    import torch

    from vsdmot.tracking.weights import default_weights_path

    blob = torch.load(default_weights_path(), map_location="cpu", weights_only=True)
    key = next(k for k, v in blob["model"].items() if v.is_floating_point())
    blob["model"][key] = blob["model"][key] * float("nan")
    torch.save(blob, tmp_path / "nan.pt")
    message = refused("track", str(data / "SYNTH-0000"), "-o", str(tmp_path / "k.txt"), "-w",
                      str(tmp_path / "nan.pt"))  # fmt: skip
    assert "nan.pt: non-finite weights" in message and key in message


def test_T22_empty_det_fields_are_an_error_not_a_column_shift(data: Path, tmp_path: Path):
    seq = tmp_path / "s22"
    shutil.copytree(data / "SYNTH-0000", seq)
    det = seq / "det" / "det.txt"
    det.write_text(det.read_text().replace(",-1,", ",,", 1))
    message = refused("track", str(seq), "--tracker", "sort", "-o", str(tmp_path / "t.txt"))
    assert f"{det}:1: empty value in column 2" in message


def test_SG04_SG04b_a_killed_video_writers_temp_file_is_removed_by_the_next_run(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    out.mkdir()
    dead = 2**22 + 12345  # above the default pid range: no such process
    stale = out / f".r.mp4.{dead}.abc123.tmp.mp4"
    stale.write_bytes(b"\0" * 48)
    result = run("track", str(data / "SYNTH-0000"), "--tracker", "sort", "-o",
                 str(out / "r.txt"), "--video", str(out / "r.mp4"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not stale.exists() and (out / "r.mp4").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_PERM_generated_and_degraded_folders_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert run("synth", str(tmp_path / "s"), "-n", "1", "-t", "2", "--width", "64",
                   "--height", "48").exit_code == 0  # fmt: skip
        assert run("degrade", str(tmp_path / "s"), str(tmp_path / "d"), "--type",
                   "fog").exit_code == 0  # fmt: skip
    finally:
        os.umask(old)
    from vsdmot.utils.io import _UMASK

    want = 0o777 & ~_UMASK  # the umask this process started with
    for folder in (tmp_path / "s" / "SYNTH-0000", tmp_path / "d" / "SYNTH-0000"):
        assert folder.stat().st_mode & 0o777 == want, oct(folder.stat().st_mode)


def test_M10_M11_frames_too_small_to_hold_a_person_are_refused(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    folder = tmp_path / "tiny"
    folder.mkdir()
    for i in range(1, 4):
        cv2.imwrite(str(folder / f"{i:06d}.png"), np.full((1, 1, 3), 128, np.uint8))
    message = refused("track", str(folder), "-o", str(tmp_path / "t.txt"), "-p", "hog")
    assert "frames of 1x1 pixels" in message
    assert not (tmp_path / "t.txt").exists()


def test_M17_an_image_header_claiming_billions_of_pixels_is_a_clean_error(tmp_path: Path):
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I",
                                                                        zlib.crc32(kind + body))

    folder = tmp_path / "bomb"
    folder.mkdir()
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    (folder / "000001.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                        + chunk(b"IDAT", zlib.compress(b"\0" * 4))
                                        + chunk(b"IEND", b""))  # fmt: skip
    message = refused("track", str(folder), "-o", str(tmp_path / "b.txt"), "-p", "hog")
    assert "000001.png: image too large or unreadable" in message


def test_TS06_a_text_file_is_not_tracked_as_a_video(data: Path, tmp_path: Path) -> None:
    det = data / "SYNTH-0000" / "det" / "det.txt"
    message = refused("track", str(det), "-o", str(tmp_path / "t.txt"), "--tracker", "sort")
    assert "not a video or image file" in message


def test_M28_a_missing_frame_file_is_an_error_not_a_shift(data: Path, tmp_path: Path) -> None:
    seq = tmp_path / "gap"
    shutil.copytree(data / "SYNTH-0000", seq)
    (seq / "img1" / "000003.jpg").unlink()
    info = seq / "seqinfo.ini"
    info.write_text(info.read_text().replace("seqLength=6", "seqLength=5"))
    message = refused("track", str(seq), "-o", str(tmp_path / "g.txt"), "--tracker", "sort")
    assert "frame 3 is missing (the next file is 000004.jpg)" in message


def test_RD06_S14t_frames_of_another_size_than_seqinfo_are_refused(data: Path, tmp_path: Path):
    seq = tmp_path / "other"
    shutil.copytree(data / "SYNTH-0000", seq)
    info = seq / "seqinfo.ini"
    info.write_text(info.read_text().replace("imWidth=160", "imWidth=640"))
    message = refused("track", str(seq), "-o", str(tmp_path / "o.txt"), "--tracker", "sort")
    assert "frames are 160x120, but" in message and "says 640x120" in message


@pytest.fixture()
def bad_weights(tmp_path: Path) -> dict[str, Path]:
    import torch

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'PWNED'}",))

    files = {name: tmp_path / f"{name}.pt" for name in ("evil", "random", "nomodel")}
    torch.save({"model": Evil()}, files["evil"])
    files["random"].write_bytes(os.urandom(10_000))
    torch.save({"foo": torch.zeros(3)}, files["nomodel"])
    return files


@pytest.mark.parametrize(
    ("setting", "name", "message"),
    [
        ("model.backbone_weights", "random", "not a readable weight file"),  # X12
        ("model.backbone_weights", "nomodel", "weights do not fit"),  # X12
        ("model.backbone_weights", "evil", "not a readable weight file"),
        ("semantic.student.pretrained", "random", "not a readable weight file"),  # X13
    ],
)
def test_X06_X08_X09_X11_X12_X13_bad_weight_files_are_one_line_errors(
    data: Path, tmp_path: Path, bad_weights: dict[str, Path], setting: str, name: str,
    message: str,
) -> None:  # fmt: skip
    extra = ["semantic.semantics=student"] if setting.startswith("semantic.") else []
    result = run("train", "-o", str(tmp_path / "run"), "-c", "tiny-cpu", f"data.train=[{data}]",
                 "train.steps=1", f"{setting}={bad_weights[name]}", *extra)  # fmt: skip
    line = result.output.strip().splitlines()[-1]
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert line.startswith(f"error: {bad_weights[name]}:") and message in line
    assert not (tmp_path / "PWNED").exists()  # the pickle payload never ran


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--keep-thresh", "0.95"], "keep_thresh has no effect with association=botsort"),  # A01
        (["--association", "botsort", "--set", "reid_cos=0.5"],
         "reid_cos has no effect with association=botsort"),
        (["--association", "anchor", "--set", "rescore=0.5"],
         "rescore has no effect with association=anchor"),
    ],
)  # fmt: skip
def test_A01_a_setting_without_effect_in_the_chosen_mode_is_refused(
    data: Path, tmp_path: Path, flag: list[str], message: str
) -> None:
    assert message in refused("track", str(data / "SYNTH-0000"), "-o",
                              str(tmp_path / "a.txt"), *flag)  # fmt: skip
    assert not (tmp_path / "a.txt").exists()


def test_A01_the_same_setting_counts_in_its_own_mode(data: Path, tmp_path: Path) -> None:
    outs = []
    for keep in ("0.05", "0.95"):
        out = tmp_path / f"k{keep}.txt"
        result = run("track", str(data / "SYNTH-0000"), "-o", str(out), "--association",
                     "anchor", "--keep-thresh", keep)  # fmt: skip
        assert result.exit_code == 0, result.output
        outs.append(out.read_text())
    assert outs[0] != outs[1]


def test_R02_the_model_input_is_never_upsampled_far_beyond_the_source() -> None:
    import numpy as np
    import torch

    from vsdmot.tracking.params import InputParams
    from vsdmot.tracking.query_tracker import model_inputs

    frame = np.zeros((120, 160, 3), np.uint8)
    p = InputParams(input_short_side=4096, input_max_side=4096)
    image, mask, _, _ = model_inputs(frame, np.zeros((0, 5)), p, torch.device("cpu"))
    assert image.shape[-2:] == mask.shape[-2:] == (480, 640)  # 4x, not 34x (5.3 GB)


def test_R06_R07_running_out_of_memory_is_a_one_line_error(data: Path, tmp_path: Path,
                                                          monkeypatch) -> None:  # fmt: skip
    import vsdmot.tracking.pipeline as pipeline

    def allocation_fails(job):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't"
                           " allocate memory: you tried to allocate 5368709120 bytes.")

    monkeypatch.setattr(pipeline, "track_source", allocation_fails)
    result = run("track", str(data / "SYNTH-0000"), "-o", str(tmp_path / "r.txt"))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("error: out of memory (") and "--input-size" in lines[0]
    assert not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["held_out=nosuch"], "held_out: unknown degradation types ['nosuch']"),  # AD05
        (["min_severity=4", "max_severity=1"], "min_severity <= max_severity"),  # AD11
    ],
)
def test_AD05_AD11_adapt_detector_settings_are_checked_before_any_work(
    data: Path, tmp_path: Path, settings: list[str], message: str
) -> None:
    sets = [arg for s in settings for arg in ("--set", s)]
    line = refused("adapt-detector", str(data), "-o", str(tmp_path / "ad"), *sets, "--steps",
                   "1", "--batch-size", "1", "--size", "64", "--no-progress")  # fmt: skip
    assert message in line
    assert not (tmp_path / "ad").exists()
