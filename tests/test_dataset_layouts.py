"""Dataset layouts as they come: MOT17's three detector copies, DanceTrack's split folders,
CrowdHuman's ``.odgt`` images (fixtures written here)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.sequences import make_seq, track_rows, write_pred, write_tiny_sequence
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.config import ConfigError, DataConfig, compose_config
from vsdmot.data.clips import build_clip_dataset
from vsdmot.data.crowdhuman import CrowdHumanError, read_odgt
from vsdmot.data.mot import MOTFormatError
from vsdmot.data.sequence import list_sequences
from vsdmot.detection.adapt_data import DegradePlan, PairSampler, open_adapt_sources
from vsdmot.eval import evaluate

runner = CliRunner()
COPIES = ("DPM", "FRCNN", "SDP")


# --- MOT17: one sequence, three detector copies ----------------------------------------------


@pytest.fixture
def mot17(tmp_path: Path) -> Path:
    """MOT17/train with MOT17-02 and MOT17-04 in three copies each, and MOT17-09 in one."""
    root = tmp_path / "MOT17" / "train"
    for base in ("MOT17-02", "MOT17-04"):
        for det in COPIES:
            write_tiny_sequence(root, name=f"{base}-{det}", n_frames=4)
    write_tiny_sequence(root, name="MOT17-09-DPM", n_frames=4)
    return root


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_one_copy_per_sequence_by_default(mot17: Path) -> None:
    assert names(list_sequences(mot17)) == ["MOT17-02-SDP", "MOT17-04-SDP", "MOT17-09-DPM"]
    assert names(list_sequences(mot17, mot17_detector="frcnn"))[:2] == [
        "MOT17-02-FRCNN",
        "MOT17-04-FRCNN",
    ]
    assert len(list_sequences(mot17, mot17_detector="all")) == 7
    assert names(list_sequences(mot17 / "MOT17-02-DPM")) == ["MOT17-02-DPM"]  # named: kept
    with pytest.raises(ValueError, match="DPM, FRCNN, SDP or all"):
        list_sequences(mot17, mot17_detector="YOLOX")


def test_a_missing_copy_is_an_error_not_a_silent_drop(mot17: Path) -> None:
    import shutil

    shutil.rmtree(mot17 / "MOT17-04-SDP")
    with pytest.raises(MOTFormatError, match="MOT17-04 has copies DPM, FRCNN but not SDP"):
        list_sequences(mot17)


def test_training_and_evaluation_count_each_sequence_once(mot17: Path, tmp_path: Path) -> None:
    cfg = DataConfig(train=[str(mot17.parent)], clip_length=2)  # the MOT17 root: train/
    seqs = {e.root.name for e in build_clip_dataset(cfg).entries}
    assert seqs == {"MOT17-02-SDP", "MOT17-04-SDP", "MOT17-09-DPM"}
    every = DataConfig(train=[str(mot17)], clip_length=2, mot17_detector="all")
    assert len(build_clip_dataset(every).entries) == 7
    with pytest.raises(ConfigError, match="mot17_detector"):
        compose_config("tiny-cpu", ["data.mot17_detector=YOLOX"])

    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for det in COPIES:
        make_seq(gt, f"MOT17-02-{det}", track_rows({1: 1, 2: 2}, range(1, 6), extra=[1, 1]), 5)
        write_pred(pred, f"MOT17-02-{det}", track_rows({1: 1, 2: 2}, range(1, 6)))
    assert list(evaluate(gt, pred, progress=False).sequences) == ["MOT17-02-SDP"]
    result = runner.invoke(app, ["eval", "--gt", str(gt), "--pred", str(pred),
                                 "--mot17-detector", "all"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert all(f"MOT17-02-{det}" in result.output for det in COPIES)


def test_degrade_and_detect_take_the_copy_too(mot17: Path, tmp_path: Path) -> None:
    out = tmp_path / "lq"
    result = runner.invoke(app, ["degrade", str(mot17), str(out), "--type", "fog",
                                 "--mot17-detector", "FRCNN", "--max-frames", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert names(list_sequences(out, mot17_detector="all")) == [
        "MOT17-02-FRCNN", "MOT17-04-FRCNN", "MOT17-09-DPM"]  # fmt: skip
    db = tmp_path / "db.json"
    result = runner.invoke(app, ["detect", str(mot17), "-p", "det", "--format", "det_db",
                                 "--db", str(db)])  # fmt: skip
    assert result.exit_code == 0, result.output
    keys = json.loads(db.read_text())
    assert "MOT17/train/MOT17-02-SDP/img1/000001.txt" in keys
    assert not any("FRCNN" in k for k in keys)


# --- DanceTrack: a root with train/, val/, test/ ---------------------------------------------


@pytest.fixture
def dancetrack(tmp_path: Path) -> Path:
    root = tmp_path / "DanceTrack"
    write_tiny_sequence(root / "train", name="dancetrack0001", n_frames=4)
    write_tiny_sequence(root / "train", name="dancetrack0002", n_frames=4)
    write_tiny_sequence(root / "val", name="dancetrack0004", n_frames=4)
    write_tiny_sequence(root / "test", name="dancetrack0003", n_frames=4)
    return root


def test_splits_as_training_configs_name_them(dancetrack: Path) -> None:
    cfg = compose_config("tiny-cpu", [f"data.train=[{dancetrack}]", f"data.val=[{dancetrack}]",
                                      "data.clip_length=2"])  # fmt: skip
    train, val = build_clip_dataset(cfg.data, "train"), build_clip_dataset(cfg.data, "val")
    assert [e.root.name for e in train.entries] == ["dancetrack0001", "dancetrack0002"]
    assert [e.root.name for e in val.entries] == ["dancetrack0004"]
    swapped = DataConfig(train=[str(dancetrack)], train_split="val", clip_length=2)
    assert [e.root.name for e in build_clip_dataset(swapped).entries] == ["dancetrack0004"]
    # A split folder named directly still works, whatever the split setting says.
    direct = DataConfig(train=[str(dancetrack / "test")], train_split="val", clip_length=2)
    assert [e.root.name for e in build_clip_dataset(direct).entries] == ["dancetrack0003"]


def test_a_root_without_a_split_says_which_splits_there_are(dancetrack: Path) -> None:
    with pytest.raises(MOTFormatError, match=r"holds split folders \(train, val, test\)"):
        list_sequences(dancetrack)
    with pytest.raises(MOTFormatError, match="no split 'training'"):
        list_sequences(dancetrack, split="training")


# --- CrowdHuman: still images with boxes -----------------------------------------------------


def person(fbox: list[float], ignore: int = 0, tag: str = "person") -> dict:
    vbox = [fbox[0] + 2, fbox[1] + 2, fbox[2] - 4, fbox[3] - 10]
    return {"tag": tag, "fbox": fbox, "vbox": vbox, "hbox": [fbox[0] + 5, fbox[1], 8, 8],
            "extra": {"ignore": ignore}}  # fmt: skip


@pytest.fixture
def crowdhuman(tmp_path: Path) -> Path:
    """``annotation_train.odgt`` + ``Images/``: two images of different sizes."""
    root = tmp_path / "crowdhuman"
    (root / "Images").mkdir(parents=True)
    records = [
        {"ID": "273271,c9db000d5146c15", "gtboxes": [
            person([10, 12, 30, 60]), person([50, 5, 20, 50], ignore=1),
            {"tag": "mask", "fbox": [70, 0, 25, 25], "extra": {"ignore": 1}}]},
        {"ID": "284193,faa9000f2678b5e", "gtboxes": [person([-4, 20, 40, 90])]},
    ]  # fmt: skip
    for rec, size in zip(records, ((96, 128), (120, 80)), strict=True):
        img = np.random.default_rng(0).integers(0, 255, (*size, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "Images" / f"{rec['ID']}.jpg"), img)
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    (root / "annotation_train.odgt").write_text(text)
    return root / "annotation_train.odgt"


def test_odgt_people_and_ignore_regions(crowdhuman: Path) -> None:
    first, second = read_odgt(crowdhuman)
    assert first.id == "273271,c9db000d5146c15" and first.image.is_file()
    assert first.boxes.tolist() == [[10, 12, 30, 60]]  # full body; the ignored one apart
    assert first.ignore.tolist() == [[50, 5, 20, 50], [70, 0, 25, 25]]
    assert second.boxes.tolist() == [[-4, 20, 40, 90]]
    assert read_odgt(crowdhuman, box="vbox")[0].boxes.tolist() == [[12, 14, 26, 50]]
    with pytest.raises(CrowdHumanError, match="fbox, vbox, hbox"):
        read_odgt(crowdhuman, box="body")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not a JSON object"),
        ('{"gtboxes": []}', 'no "ID"'),
        ('{"ID": "273271,c9db000d5146c15", "gtboxes": {}}', '"gtboxes" must be a list'),
        ('{"ID": "273271,c9db000d5146c15", "gtboxes": [{"tag": "person", "fbox": [1, 2, 3]}]}',
         r'box 1: "fbox" must be \[x, y, w, h\]'),
        ('{"ID": "273271,c9db000d5146c15", "gtboxes": [{"tag": "person", '
         '"fbox": [1, 2, 3, NaN]}]}', "four finite numbers"),
        ('{"ID": "273271,c9db000d5146c15", "gtboxes": [{"tag": "person", "fbox": [1, 2, 3, 4], '
         '"extra": {"ignore": 2}}]}', '"extra.ignore" must be 0 or 1'),
        ('{"ID": "missing", "gtboxes": []}', "missing.jpg not found"),
    ],
)  # fmt: skip
def test_malformed_odgt_lines_name_file_and_line(crowdhuman: Path, line: str, problem: str) -> None:
    lines = crowdhuman.read_text().splitlines()
    crowdhuman.write_text("\n".join([lines[0], line, lines[1]]) + "\n")
    with pytest.raises(CrowdHumanError, match=problem) as err:
        read_odgt(crowdhuman)
    assert f"{crowdhuman}:2:" in str(err.value)


def test_crowdhuman_images_train_the_detector_as_one_frame_sources(crowdhuman: Path) -> None:
    sources = open_adapt_sources([crowdhuman], frames=(601, 795))  # ranges skip still images
    assert [len(s.indices) for s in sources] == [1, 1] and all(s.labelled for s in sources)
    assert sources[0].boxes is not None and sources[0].boxes[1].tolist() == [[10, 12, 40, 72]]
    assert sources[1].frames.frame(1).shape == (120, 80, 3)  # each image its own size
    plan = DegradePlan(("gaussian_noise",))
    sampler = PairSampler(sources, plan, size=64, batch_size=2, seed=0, zoom=0.0)
    batch = sampler.batch(0, 0)
    assert batch.clean.shape[0] == 2 and all(len(b) == 1 for b in batch.boxes)
    assert batch.labelled.tolist() == [True, True]
