"""Dataset-level degradation: layout, labels, determinism, re-detection, CLI, real data."""

from __future__ import annotations

import itertools
import json
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.mot import MOTAnnotations, SeqInfo, read_mot, write_mot, write_seqinfo
from vsdmot.data.sequence import MOTSequence
from vsdmot.degrade.dataset import DegradeJob, degrade_dataset, read_quality_csv
from vsdmot.degrade.quality import psnr

W, H, N = 96, 72, 6


def make_sequence(root: Path, name: str = "SEQ-01", synth: bool = False) -> Path:
    seq = root / name
    (seq / "img1").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for t in range(1, N + 1):
        img = np.full((H, W, 3), 90, np.uint8)
        img[:, :, 1] = np.linspace(0, 255, W, dtype=np.uint8)[None, :]
        cv2.rectangle(img, (5 + 8 * t, 20), (25 + 8 * t, 60), (200, 40, 40), -1)
        img = np.clip(img + rng.integers(-10, 11, img.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{t:06d}.png"), img)
    write_seqinfo(seq / "seqinfo.ini", SeqInfo(name, N, 10.0, W, H, "img1", ".png"))
    rows = [[t, 1, 5 + 8 * t, 20, 20, 40, 1, 1, 1.0] for t in range(1, N + 1)]
    write_mot(seq / "gt" / "gt.txt", MOTAnnotations.from_rows(rows), "gt")
    dets = [[t, -1, 5 + 8 * t, 21, 19, 39, 0.9] for t in range(1, N + 1)]
    write_mot(seq / "det" / "det.txt", MOTAnnotations.from_rows(dets), "det")
    if synth:
        (seq / "synth.json").write_text(json.dumps({"generator": "test"}))
    return seq


def test_round_trip_layout_and_labels(tmp_path: Path) -> None:
    src = make_sequence(tmp_path / "src")
    out = tmp_path / "out"
    (report,) = degrade_dataset(
        tmp_path / "src",
        out,
        DegradeJob("gaussian_noise", 4.0, "ramp", 3, image_ext=".png"),
        progress=False,
    )
    seq_out = out / "SEQ-01"
    assert report.frames == N and report.path == seq_out
    assert sorted(p.name for p in (seq_out / "img1").iterdir()) == [
        f"{t:06d}.png" for t in range(1, N + 1)
    ]
    seq = MOTSequence(seq_out)  # a valid MOTChallenge sequence again
    assert len(seq) == N and seq.info.im_dir == "img1" and seq.info.im_ext == ".png"
    assert (seq_out / "gt" / "gt.txt").read_bytes() == (src / "gt" / "gt.txt").read_bytes()
    assert (seq_out / "det" / "det.txt").read_bytes() == (src / "det" / "det.txt").read_bytes()

    rows = read_quality_csv(seq_out / "quality.csv")
    expected_sev = np.linspace(0.0, 4.0, N)
    assert [r["frame"] for r in rows] == list(range(1, N + 1))
    assert {r["types"] for r in rows} == {"gaussian_noise"}
    np.testing.assert_allclose([r["severity"] for r in rows], expected_sev, atol=1e-4)
    np.testing.assert_allclose([r["quality"] for r in rows], 1 - expected_sev / 5, atol=1e-4)
    assert rows[0]["psnr"] == 100.0 and rows[0]["ssim"] == 1.0
    for r in rows:  # PNG is lossless: the recorded PSNR is that of the stored frame
        clean = cv2.imread(str(src / "img1" / f"{r['frame']:06d}.png"))
        stored = cv2.imread(str(seq_out / "img1" / f"{r['frame']:06d}.png"))
        assert r["psnr"] == pytest.approx(psnr(clean, stored), abs=2e-3)
    assert all(a["psnr"] > b["psnr"] for a, b in itertools.pairwise(rows))

    meta = json.loads((seq_out / "degradation.json").read_text())
    assert meta["type"] == "gaussian_noise" and meta["seed"] == 3 and meta["frames"] == N
    assert meta["schedule"] == "ramp" and meta["schedule_params"] == {"start": 0.0, "end": 4.0}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_dataset_determinism_per_seed(tmp_path: Path) -> None:
    make_sequence(tmp_path / "src")

    def run(seed: int, name: str) -> list[bytes]:
        degrade_dataset(
            tmp_path / "src", tmp_path / name, DegradeJob("rain", 3.0, seed=seed), progress=False
        )
        return [p.read_bytes() for p in sorted((tmp_path / name / "SEQ-01" / "img1").iterdir())]

    a, b, c = run(1, "a"), run(1, "b"), run(2, "c")
    assert a == b
    assert a != c


def test_max_frames_cuts_annotations(tmp_path: Path) -> None:
    src = make_sequence(tmp_path / "src")
    degrade_dataset(src, tmp_path / "out", DegradeJob("codec", 3.0, max_frames=4), progress=False)
    seq = MOTSequence(tmp_path / "out" / "SEQ-01")
    assert len(seq) == 4 and seq.gt is not None
    assert seq.gt.frame.tolist() == [1, 2, 3, 4]
    kept = (tmp_path / "out" / "SEQ-01" / "gt" / "gt.txt").read_text().splitlines()
    assert kept == (src / "gt" / "gt.txt").read_text().splitlines()[:4]  # lines verbatim


def test_redetect_uses_the_simulated_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_sequence(tmp_path / "src", synth=True)
    calls: list[dict] = []

    def simulate_detections(gt, image_size, rng, severity=None, config=None):
        calls.append({"n": len(gt), "size": image_size, "severity": np.asarray(severity)})
        return gt.with_boxes(gt.boxes + 1.0)

    fake = types.ModuleType("vsdmot.data.synth.detector")
    fake.simulate_detections = simulate_detections  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vsdmot.data.synth.detector", fake)
    degrade_dataset(src, tmp_path / "out", DegradeJob("fog", 2.0, "ramp"), progress=False)
    seq_out = tmp_path / "out" / "SEQ-01"
    assert len(calls) == 1 and calls[0]["n"] == N and calls[0]["size"] == (W, H)
    np.testing.assert_allclose(calls[0]["severity"], np.linspace(0, 2, N))
    clean = (src / "det" / "det.txt").read_bytes()
    assert (seq_out / "det" / "det_clean.txt").read_bytes() == clean
    redet = read_mot(seq_out / "det" / "det.txt", "det")
    np.testing.assert_allclose(redet.boxes[:, 0], read_mot(src / "gt" / "gt.txt").boxes[:, 0] + 1)
    assert json.loads((seq_out / "degradation.json").read_text())["redetected"] is True

    # --no-redetect keeps the original detections untouched.
    degrade_dataset(src, tmp_path / "o2", DegradeJob("fog", 2.0, redetect=False), progress=False)
    assert (tmp_path / "o2" / "SEQ-01" / "det" / "det.txt").read_bytes() == clean
    assert not (tmp_path / "o2" / "SEQ-01" / "det" / "det_clean.txt").exists()


def test_redetect_without_detector_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_sequence(tmp_path / "src", synth=True)
    monkeypatch.setitem(sys.modules, "vsdmot.data.synth.detector", None)  # import fails
    with pytest.raises(ValueError, match=r"vsdmot\.data\.synth\.detector.*--no-redetect"):
        degrade_dataset(
            src, tmp_path / "out", DegradeJob("fog", 2.0, redetect=True), progress=False
        )
    assert not (tmp_path / "out" / "SEQ-01").exists()
    # The default (auto) keeps the original detections with a warning.
    degrade_dataset(src, tmp_path / "out", DegradeJob("fog", 2.0), progress=False)
    det = tmp_path / "out" / "SEQ-01" / "det" / "det.txt"
    assert det.read_bytes() == (src / "det" / "det.txt").read_bytes()


def test_bad_input_errors(tmp_path: Path) -> None:
    src = make_sequence(tmp_path / "src")
    with pytest.raises(ValueError, match="unknown degradation type 'haze'"):
        degrade_dataset(src, tmp_path / "o", DegradeJob("haze", 1.0), progress=False)
    with pytest.raises(ValueError, match="outside"):
        degrade_dataset(src, tmp_path / "o", DegradeJob("fog", 9.0), progress=False)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        degrade_dataset(
            tmp_path / "nowhere", tmp_path / "o", DegradeJob("fog", 1.0), progress=False
        )
    with pytest.raises(ValueError, match="redetect needs a generated sequence"):
        degrade_dataset(src, tmp_path / "o", DegradeJob("fog", 1.0, redetect=True), progress=False)
    with pytest.raises(ValueError, match="inside source sequence"):
        degrade_dataset(src, src / "out", DegradeJob("fog", 1.0), progress=False)
    degrade_dataset(src, tmp_path / "o", DegradeJob("fog", 1.0), progress=False)
    with pytest.raises(ValueError, match="already exists"):
        degrade_dataset(src, tmp_path / "o", DegradeJob("fog", 1.0), progress=False)
    (src / "img1" / "000003.png").write_bytes(b"not an image")
    with pytest.raises(Exception, match="000003.png"):
        degrade_dataset(src, tmp_path / "o", DegradeJob("fog", 2.0), overwrite=True, progress=False)
    # The failed run left the earlier output intact and no temporary folder behind.
    assert len(list((tmp_path / "o" / "SEQ-01" / "img1").iterdir())) == N
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["SEQ-01"]


def test_cli(tmp_path: Path) -> None:
    make_sequence(tmp_path / "src")
    runner = CliRunner()
    args = ["degrade", str(tmp_path / "src"), str(tmp_path / "out")]
    ok = runner.invoke(app, [*args, "--type", "jpeg", "--severity", "2", "--schedule", "bursts"])
    assert ok.exit_code == 0, ok.output
    assert "SEQ-01: 6 frames" in ok.output
    assert len(list((tmp_path / "out" / "SEQ-01" / "img1").glob("*.jpg"))) == N
    bad = runner.invoke(app, [*args, "--type", "snow", "--overwrite"])
    assert bad.exit_code == 2 and "unknown degradation type 'snow'" in bad.output
    bad = runner.invoke(app, [*args, "--severity", "6", "--overwrite"])
    assert bad.exit_code == 2 and "outside [0, 5]" in bad.output
    bad = runner.invoke(app, ["degrade", str(tmp_path / "missing"), str(tmp_path / "o")])
    assert bad.exit_code == 2 and "missing" in bad.output


def test_real_pets09_video_sequence(mot15_dir: Path, tmp_path: Path) -> None:
    src = mot15_dir / "PETS09-S2L1"
    (report,) = degrade_dataset(
        src, tmp_path, DegradeJob("mix", 3.0, seed=0, max_frames=3), progress=False
    )
    seq = MOTSequence(tmp_path / "PETS09-S2L1")
    assert len(seq) == 3 and seq.frame(1).shape == (576, 768, 3)
    rows = read_quality_csv(tmp_path / "PETS09-S2L1" / "quality.csv")
    n_types = len(rows[0]["types"].split("+"))
    assert n_types in (2, 3)
    assert all(r["quality"] == pytest.approx(0.4**n_types, abs=1e-4) for r in rows)
    assert all(r["psnr"] < 40 for r in rows)
    assert seq.gt is not None and set(seq.gt.frame.tolist()) <= {1, 2, 3} and len(seq.gt) > 0
    assert report.mean_quality == pytest.approx(0.4**n_types, abs=1e-4)
