"""Generated sequences: layout, determinism, and how hard they are to track."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from vsdmot.data.mot import MOTAnnotations, MOTFormatError, read_mot
from vsdmot.data.sequence import MOTSequence, list_sequences
from vsdmot.data.synth import (
    SynthConfig,
    generate_dataset,
    generate_sequence,
    read_synth_info,
    render_sequence,
)
from vsdmot.utils.boxes import box_iou, ltwh_to_xyxy

SMALL = SynthConfig(width=192, height=144, n_frames=12, objects=(3, 5))
SCENE = SynthConfig(width=320, height=240, n_frames=60, camera_motion=False)


def pairwise_iou(a: np.ndarray) -> np.ndarray:
    """IoU among ``l, t, w, h`` boxes, diagonal zeroed."""
    xyxy = ltwh_to_xyxy(a)
    iou = box_iou(xyxy, xyxy)
    np.fill_diagonal(iou, 0.0)
    return iou


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> MOTSequence:
    root = tmp_path_factory.mktemp("synth") / "SYNTH-0000"
    return MOTSequence(generate_sequence(root, SCENE, seed=0))


# -- layout ----------------------------------------------------------------


def test_sequence_loads_with_frames_gt_and_det(scene: MOTSequence) -> None:
    assert len(scene) == SCENE.n_frames and scene.frames.size == (320, 240)
    assert scene.name == "SYNTH-0000"
    gt, det = scene.gt, scene.det
    assert gt is not None and det is not None
    assert set(np.unique(gt.frame)) <= set(range(1, 61)) and len(np.unique(gt.frame)) >= 55
    assert np.all(gt.label == 1) and np.all(gt.score == 1)
    assert np.all((gt.visibility >= 0) & (gt.visibility <= 1))
    xyxy = gt.boxes_xyxy()
    assert xyxy.min() >= 0 and xyxy[:, 2].max() <= 320 and xyxy[:, 3].max() <= 240
    assert np.all(gt.boxes[:, 2:] >= 1)
    assert np.all(det.track_id == -1) and len(det) > 0.7 * len(gt)
    # 9-column MOT16 gt on disk, read back the same with the format forced.
    first = scene.gt_path.read_text().splitlines()[0].split(",")
    assert len(first) == 9
    forced = read_mot(scene.gt_path, "gt", fmt="mot16")
    np.testing.assert_array_equal(forced.visibility, gt.visibility)
    # One id per object per frame.
    pairs = gt.frame * 10_000 + gt.track_id
    assert len(np.unique(pairs)) == len(gt)


def test_gt_on_disk_equals_rendered_gt(scene: MOTSequence) -> None:
    rendered = MOTAnnotations()
    first_image = None
    for item in render_sequence(SCENE, seed=0):
        rendered = rendered.concat(item.gt)
        if item.frame == 1:
            first_image = item.image
    gt = scene.gt
    assert gt is not None
    np.testing.assert_array_equal(rendered.track_id, gt.track_id)
    np.testing.assert_allclose(rendered.boxes, gt.boxes)
    np.testing.assert_allclose(rendered.visibility, gt.visibility)
    # The stored JPEG is the rendered frame up to compression.
    diff = np.abs(scene.frame(1).astype(int) - first_image.astype(int)).mean()
    assert diff < 4.0


def test_synth_json_records_seed_and_config(scene: MOTSequence) -> None:
    info = read_synth_info(scene.root)
    assert info is not None
    assert info.seed == 0 and info.config == SCENE
    assert read_synth_info(scene.root / "img1") is None


def test_malformed_synth_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "synth.json").write_text('{"generator": "vsdmot.data.synth", "seed": 1}')
    with pytest.raises(MOTFormatError, match="synth.json"):
        read_synth_info(tmp_path)


# -- determinism -------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_sequence(tmp_path / "a" / "SYNTH-0000", SMALL, seed=11)
    b = generate_sequence(tmp_path / "b" / "SYNTH-0000", SMALL, seed=11)
    c = generate_sequence(tmp_path / "c" / "SYNTH-0000", SMALL, seed=12)
    fa, fb, fc = files_of(a), files_of(b), files_of(c)
    assert fa == fb
    assert fa["gt/gt.txt"] != fc["gt/gt.txt"]
    assert fa["img1/000001.jpg"] != fc["img1/000001.jpg"]
    assert len(fa) == SMALL.n_frames + 4  # frames + seqinfo, gt, det, synth.json


def test_dataset_layout_seeds_and_atomic_rewrite(tmp_path: Path) -> None:
    paths = generate_dataset(tmp_path / "ds", 2, 6, seed=3, config=SMALL, progress=False)
    assert [p.name for p in paths] == ["SYNTH-0000", "SYNTH-0001"]
    assert list_sequences(tmp_path / "ds") == paths
    assert all(len(MOTSequence(p)) == 6 for p in paths)
    first = files_of(paths[0])
    assert first["gt/gt.txt"] != files_of(paths[1])["gt/gt.txt"]
    # Regenerating replaces in place, leaves no temporary folders, and a
    # bigger dataset with the same seed starts with the same sequence.
    with pytest.raises(ValueError, match="already exists .pass --overwrite"):
        generate_dataset(tmp_path / "ds", 3, 6, seed=3, config=SMALL, progress=False)
    again = generate_dataset(tmp_path / "ds", 3, 6, seed=3, config=SMALL, progress=False,
                             overwrite=True)  # fmt: skip
    assert files_of(again[0]) == first
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "SYNTH-0000",
        "SYNTH-0001",
        "SYNTH-0002",
    ]


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed"):
        generate_sequence(tmp_path / "S", SMALL, seed=-1)
    with pytest.raises(ValueError, match="objects"):
        SynthConfig(objects=(5, 2))
    with pytest.raises(ValueError, match="unknown key"):
        SynthConfig.from_dict({"widht": 3})
    assert not any(tmp_path.iterdir())


# -- hardness ------------------------------------------------------------------


def test_paths_cross_and_occlude(scene: MOTSequence) -> None:
    gt = scene.gt
    assert gt is not None
    max_iou = max(pairwise_iou(gt.for_frame(f).boxes).max(initial=0) for f in range(1, 61))
    assert max_iou > 0.3
    assert (gt.visibility < 0.7).mean() > 0.05
    # Visibility comes from the rendered masks: in an isolated, untruncated
    # overlapping pair the nearer object (lower feet) is fully visible and
    # the farther one is partly hidden.
    checked = 0
    for f in range(1, 61):
        g = gt.for_frame(f)
        iou = pairwise_iou(g.boxes)
        xyxy = g.boxes_xyxy()
        inside = (xyxy[:, 0] > 0) & (xyxy[:, 1] > 0) & (xyxy[:, 2] < 319) & (xyxy[:, 3] < 239)
        touching = (iou > 0).sum(axis=1)
        for i, j in zip(*np.nonzero(np.triu(iou) > 0.4), strict=True):
            if touching[i] > 1 or touching[j] > 1 or not (inside[i] and inside[j]):
                continue
            if xyxy[i, 3] == xyxy[j, 3]:
                continue
            far, near = (i, j) if xyxy[i, 3] < xyxy[j, 3] else (j, i)
            assert g.visibility[near] == 1.0 and g.visibility[far] < 1.0, (f, g.visibility[[i, j]])
            checked += 1
    assert checked > 0


def test_tracks_are_born_and_die_during_the_sequence(scene: MOTSequence) -> None:
    gt = scene.gt
    assert gt is not None
    first = np.array([gt.frame[gt.track_id == i].min() for i in gt.ids])
    last = np.array([gt.frame[gt.track_id == i].max() for i in gt.ids])
    assert (first > 1).sum() + (last < SCENE.n_frames).sum() >= 2
    # ids are numbered by first appearance
    assert np.all(np.diff(first) >= 0)


def _foot_tracks(gt: MOTAnnotations, min_len: int) -> list[np.ndarray]:
    """Per track: bottom-centre points over a run of consecutive untruncated frames."""
    out = []
    for i in gt.ids:
        t = gt.select(gt.track_id == i)
        ok = (t.boxes[:, 1] + t.boxes[:, 3] < SCENE.height - 1) & (t.boxes[:, 0] > 0)
        ok &= t.boxes[:, 0] + t.boxes[:, 2] < SCENE.width - 1
        t = t.select(ok)
        if len(t) >= min_len and np.all(np.diff(t.frame) == 1):
            out.append(
                np.stack([t.boxes[:, 0] + t.boxes[:, 2] / 2, t.boxes[:, 1] + t.boxes[:, 3]], 1)
            )
    return out


def test_speeds_vary_and_motion_is_not_linear(scene: MOTSequence) -> None:
    gt = scene.gt
    assert gt is not None
    tracks = _foot_tracks(gt, min_len=20)
    assert len(tracks) >= 4
    speeds = np.array([np.linalg.norm(np.diff(p, axis=0), axis=1).mean() for p in tracks])
    assert speeds.max() > 2 * speeds.min(), speeds
    # Constant-velocity prediction 10 frames ahead, velocity from the last 5
    # frames. Whole-pixel placement alone bounds the error by about
    # 1 + 10 * 2 / 5 = 5 px, so errors well above that are real turns,
    # speed changes and stops.
    errors = []
    for p in tracks:
        velocity = (p[5:-10] - p[:-15]) / 5
        predicted = p[5:-10] + 10 * velocity
        errors.append(np.linalg.norm(p[15:] - predicted, axis=1).max())
    assert max(errors) > 10.0, errors
    assert np.median(errors) > 2.0, errors
    # And over whole tracks: a straight constant-speed fit leaves a clear residual.
    fits = []
    for p in tracks:
        t = np.arange(len(p))
        coef = np.polyfit(t, p, 1)
        fits.append(np.sqrt(((p - (np.outer(t, coef[0]) + coef[1])) ** 2).mean()))
    assert max(fits) > 3.0, fits


def test_objects_look_different(scene: MOTSequence) -> None:
    """Torso colour histograms: the same object at two times is closer than other objects."""
    gt = scene.gt
    assert gt is not None
    hists: dict[int, list[np.ndarray]] = {}
    for f in (5, 25, 45):
        image = scene.frame(f)
        g = gt.for_frame(f)
        for tid, (left, top, w, h), vis in zip(g.track_id, g.boxes, g.visibility, strict=True):
            if vis < 0.95 or h < 30:
                continue
            crop = image[
                int(top + 0.22 * h) : int(top + 0.5 * h), int(left + 0.3 * w) : int(left + 0.7 * w)
            ]
            hist = cv2.calcHist([crop], [0, 1, 2], None, [6, 6, 6], [0, 256] * 3).ravel()
            hists.setdefault(int(tid), []).append(hist / hist.sum())
    multi = {k: v for k, v in hists.items() if len(v) >= 2}
    assert len(multi) >= 3
    correct = 0
    for tid, hs in multi.items():
        others = [h for k, v in hists.items() if k != tid for h in v]
        d_same = cv2.compareHist(
            hs[0].astype(np.float32), hs[1].astype(np.float32), cv2.HISTCMP_BHATTACHARYYA
        )
        d_other = min(
            cv2.compareHist(
                hs[0].astype(np.float32), o.astype(np.float32), cv2.HISTCMP_BHATTACHARYYA
            )
            for o in others
        )
        correct += d_same < d_other
    assert correct >= 0.7 * len(multi), (correct, len(multi))


def test_camera_motion_moves_the_whole_picture() -> None:
    def top_band_shift(config: SynthConfig) -> float:
        frames = [
            f.image for f in render_sequence(config, seed=4) if f.frame in (1, config.n_frames)
        ]
        # The top of the frame shows only scenery (people stand below walk_top).
        band = [
            cv2.cvtColor(im[: config.height // 4], cv2.COLOR_BGR2GRAY).astype(np.float32)
            for im in frames
        ]
        (dx, dy), _ = cv2.phaseCorrelate(band[0], band[1])
        return float(np.hypot(dx, dy))

    base = SynthConfig(
        width=256, height=192, n_frames=40, objects=(1, 2), sensor_noise=0.0, flicker=0.0
    )
    moving = top_band_shift(base)
    static = top_band_shift(
        SynthConfig(**{**base.to_dict(), "detector": base.detector, "camera_motion": False})
    )
    assert moving > 1.5
    assert static < 0.5


# -- CLI -----------------------------------------------------------------------


def test_cli_writes_dataset_and_rejects_bad_ranges(tmp_path: Path) -> None:
    from vsdmot.cli.main import app

    runner = CliRunner()
    args = ["synth", str(tmp_path / "out"), "--sequences", "2", "--frames", "4", "--seed", "5"]
    args += ["--width", "128", "--height", "96", "--objects", "2-3", "--no-camera-motion"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    seqs = list_sequences(tmp_path / "out")
    assert [s.name for s in seqs] == ["SYNTH-0000", "SYNTH-0001"]
    info = read_synth_info(seqs[0])
    assert info is not None
    assert info.config.objects == (2, 3) and not info.config.camera_motion
    assert info.config.width == 128 and info.extra == {"dataset_seed": 5, "index": 0}
    assert MOTSequence(seqs[1]).frames.size == (128, 96)

    bad = runner.invoke(app, ["synth", str(tmp_path / "bad"), "--objects", "9-3"])
    assert bad.exit_code == 2
    assert "--objects" in bad.output
    assert not (tmp_path / "bad").exists()
