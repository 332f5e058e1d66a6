"""Adapting the detector to degraded frames: loss terms, data, detector files, the loop, the CLI.

Every network here is a small Darknet cfg built in the test; data is generated.
The learning test trains a teacher on clean generated frames, then distils a
student from it on noisy copies, and checks that the student finds people in noise
that the teacher misses while keeping most of its clean recall.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from vsdmot.cli.main import app
from vsdmot.data.sequence import MOTSequence
from vsdmot.data.synth.generate import generate_sequence
from vsdmot.data.synth.scene import SynthConfig
from vsdmot.detection.adapt import AdaptConfig, adaptation_losses
from vsdmot.detection.adapt_data import (
    AdaptBatch,
    DegradePlan,
    PairSampler,
    degrade,
    open_adapt_sources,
)
from vsdmot.detection.darknet import DarknetError, YoloHead, build_darknet
from vsdmot.detection.files import load_detector_file, read_detector_file, save_detector_file
from vsdmot.detection.losses import (
    bernoulli_kl,
    detection_loss,
    feature_losses,
    quality_weights,
    response_loss,
)
from vsdmot.detection.yolo import DetectorOptions, YOLODetector
from vsdmot.engine.adapt import adapt_detector
from vsdmot.models.files import CheckpointError
from vsdmot.proposals import build_proposal_source
from vsdmot.proposals.boxes import match_count

LN2 = math.log(2.0)


def small_cfg(width: int = 160, height: int = 128, channels: tuple[int, ...] = (16, 32, 64, 64)):
    """A one-head detector (stride 8, three person-sized anchors) in Darknet cfg text."""
    blocks = [f"[net]\nwidth={width}\nheight={height}\nchannels=3\n"]
    for k, c in enumerate(channels):
        blocks.append(f"[convolutional]\nbatch_normalize=1\nfilters={c}\nsize=3\nstride=1\n"
                      "pad=1\nactivation=leaky\n")  # fmt: skip
        if k < len(channels) - 1:
            blocks.append("[maxpool]\nsize=2\nstride=2\n")
    blocks.append("[convolutional]\nsize=1\nstride=1\npad=1\nfilters=18\nactivation=linear\n")
    blocks.append("[yolo]\nmask=0,1,2\nanchors=10,24, 16,40, 24,56\nclasses=1\nnum=3\n")
    return "\n".join(blocks)


def save_random_detector(path: Path, cfg: str, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    save_detector_file(path, build_darknet(cfg).state_dict(), cfg, ("person",), {"note": "test"})
    return path


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two generated 160x120 sequences with ground truth."""
    root = tmp_path_factory.mktemp("adapt") / "data"
    for k in range(2):
        generate_sequence(root / f"S{k}", SynthConfig(width=160, height=120, n_frames=40,
                                                      objects=(3, 5)), seed=k)  # fmt: skip
    return root


# --- loss terms: hand-computed values ---------------------------------------------------------


def test_bernoulli_kl_is_zero_at_agreement_and_matches_the_formula():
    logits = torch.tensor([0.0, 2.0])
    target = torch.tensor([0.5, 0.25])
    p = torch.sigmoid(logits)
    expected = target * (target / p).log() + (1 - target) * ((1 - target) / (1 - p)).log()
    assert torch.allclose(bernoulli_kl(logits, target), expected, atol=1e-6)
    assert bernoulli_kl(logits, torch.sigmoid(logits)).abs().max() < 1e-6


ONE_ANCHOR = [YoloHead(0, ((16.0, 16.0),), 1)]


def test_detection_loss_hand_computed():
    # Grid 1 x 2 over a 32 x 64 input (stride 32); one box exactly the anchor's size,
    # centred in cell 0. All-zero logits: offsets 0.5 (exact), log-size 0 (exact),
    # class BCE ln 2, objectness BCE ln 2 at the box's cell and ln 2 at the other
    # (its predicted box does not overlap the box, so it is a negative).
    maps = [torch.zeros(1, 6, 1, 2)]
    boxes = [torch.tensor([[8.0, 8.0, 24.0, 24.0]])]
    labels = [torch.tensor([0])]
    loss = detection_loss(maps, ONE_ANCHOR, boxes, labels, (32, 64))
    assert loss.shape == (1,)
    assert loss.item() == pytest.approx(3 * LN2, abs=1e-6)
    # A width logit of 1 at the box's cell: squared log-size error 1, times the
    # small-box weight 2 - (16 * 16) / (32 * 64).
    maps[0][0, 2, 0, 0] = 1.0
    loss = detection_loss(maps, ONE_ANCHOR, boxes, labels, (32, 64))
    assert loss.item() == pytest.approx(3 * LN2 + (2 - 256 / 2048), abs=1e-5)


def test_detection_loss_ignores_negatives_that_already_cover_a_box():
    # A second box in cell 1 assigned elsewhere? No: two anchors; the box fits the small
    # one, and the large anchor's prediction at the same cell overlaps it by IoU >= 0.5,
    # so that cell is left out of the negatives.
    heads = [YoloHead(0, ((16.0, 16.0), (20.0, 20.0)), 1)]
    maps = [torch.zeros(1, 12, 1, 1)]
    boxes = [torch.tensor([[8.0, 8.0, 24.0, 24.0]])]
    loss = detection_loss(maps, heads, boxes, [torch.tensor([0])], (32, 32))
    # Box term 0, class ln 2, objectness ln 2 at the assigned anchor, the other ignored.
    assert loss.item() == pytest.approx(2 * LN2, abs=1e-6)
    loss_no_ignore = detection_loss(maps, heads, boxes, [torch.tensor([0])], (32, 32),
                                    ignore_iou=1.01)  # fmt: skip
    assert loss_no_ignore.item() == pytest.approx(3 * LN2, abs=1e-6)


def test_response_loss_hand_computed():
    teacher = [torch.zeros(1, 6, 1, 1)]  # objectness 0.5, class 0.5
    assert response_loss([teacher[0].clone()], teacher, ONE_ANCHOR).item() == pytest.approx(0.0)
    student = teacher[0].clone()
    student[0, 3] = 1.0  # height logit: squared error 1, weighted by objectness 0.5
    # Normalised by the teacher's expected object count 0.5, clamped to 1.
    assert response_loss([student], teacher, ONE_ANCHOR).item() == pytest.approx(0.5)
    student = teacher[0].clone()
    student[0, 4] = 2.0  # objectness logit: KL(0.5 || sigmoid(2))
    expected = bernoulli_kl(torch.tensor(2.0), torch.tensor(0.5)).item()
    assert response_loss([student], teacher, ONE_ANCHOR).item() == pytest.approx(expected)


def test_feature_losses_hand_computed():
    t = torch.zeros(1, 2, 1, 2)
    t[0, 0, 0, 0] = 1.0  # location 0 points along channel 0
    t[0, 1, 0, 1] = 1.0  # location 1 along channel 1
    s = torch.zeros(1, 2, 1, 2)
    s[0, 0, 0, 0] = 3.0  # same direction at location 0 (cos 1)
    s[0, 0, 0, 1] = 1.0  # orthogonal to the teacher at location 1 (cos 0)
    align, struct = feature_losses([s], [t])
    assert align.item() == pytest.approx(0.5)
    assert struct.item() == 0.0  # two locations: no off-diagonal structure to match
    same_align, _ = feature_losses([t.clone()], [t])
    assert same_align.item() == pytest.approx(0.0, abs=1e-6)


def _tiny_batch(quality: list[float], labelled: bool = True) -> AdaptBatch:
    n = len(quality)
    boxes = [torch.tensor([[40.0, 40.0, 60.0, 90.0]]) if labelled else torch.zeros(0, 4)] * n
    return AdaptBatch(
        clean=torch.rand(n, 3, 128, 160, generator=torch.Generator().manual_seed(0)),
        degraded=torch.rand(n, 3, 128, 160, generator=torch.Generator().manual_seed(1)),
        boxes=boxes,
        labelled=torch.tensor([labelled] * n),
        quality=torch.tensor(quality),
    )


def test_switches_remove_terms_and_their_gradients():
    torch.manual_seed(0)
    cfg_text = small_cfg(channels=(4, 4, 8, 8))
    teacher, student = build_darknet(cfg_text).eval(), build_darknet(cfg_text)
    student.load_state_dict(teacher.state_dict())
    batch = _tiny_batch([1.0, 0.2, 0.6])
    with torch.no_grad():
        t_out = teacher.forward_features(batch.clean)
    all_on = adaptation_losses(student.forward_features(batch.degraded), t_out, batch,
                               student.heads, AdaptConfig())  # fmt: skip
    assert set(all_on) == {"detection", "response", "feature_align", "feature_struct"}
    assert all(v.item() > 0 for v in all_on.values())
    # Feature terms only: absent terms, and no gradient reaches the head's last
    # convolution (the neck features lie before it).
    only = AdaptConfig(detection=0, response=0)
    terms = adaptation_losses(student.forward_features(batch.degraded), t_out, batch,
                              student.heads, only)  # fmt: skip
    assert set(terms) == {"feature_align", "feature_struct"}
    student.zero_grad()
    sum(terms.values()).backward()
    last = student.conv_blocks()[-1].conv
    assert last.weight.grad is None or last.weight.grad.abs().max() == 0
    assert student.conv_blocks()[0].conv.weight.grad.abs().max() > 0
    # Unlabelled frames: no detection term even when it is switched on.
    terms = adaptation_losses(student.forward_features(batch.degraded), t_out,
                              _tiny_batch([1.0, 0.5, 0.2], labelled=False), student.heads,
                              AdaptConfig())  # fmt: skip
    assert "detection" not in terms


def test_quality_weighting_moves_weight_to_low_quality_frames():
    w = quality_weights(torch.tensor([1.0, 0.5, 0.0]), "dswr", 1.0)
    assert w.mean().item() == pytest.approx(1.0)
    assert w[0] < w[1] < w[2]
    assert torch.equal(quality_weights(torch.tensor([1.0, 0.0]), "constant"), torch.ones(2))
    with pytest.raises(ValueError, match="weighting"):
        quality_weights(torch.tensor([1.0]), "learned")


def test_config_refuses_nothing_to_train_and_held_out_overlap():
    with pytest.raises(ValueError, match="nothing to train"):
        AdaptConfig(detection=0, response=0, feature_align=0, feature_struct=0)
    with pytest.raises(ValueError, match="held out"):
        AdaptConfig(types=("fog",))
    with pytest.raises(ValueError, match="unknown degradation"):
        AdaptConfig(types=("sepia",))
    assert "fog" not in AdaptConfig().train_types()
    assert "mix" not in AdaptConfig().train_types()


# --- data -------------------------------------------------------------------------------------


def test_plan_draws_are_seeded_and_never_held_out():
    plan = AdaptConfig().plan()
    draws = [plan.draw(np.random.default_rng([0, 0, k])) for k in range(400)]
    again = [plan.draw(np.random.default_rng([0, 0, k])) for k in range(400)]
    assert draws == again
    seen = {t for types, _ in draws for t in types}
    assert seen and not seen & {"fog", "rain", "mix"}
    clean = sum(1 for types, _ in draws if not types) / len(draws)
    assert 0.1 < clean < 0.3  # clean_fraction 0.2
    stacked = [types for types, _ in draws if len(types) > 1]
    assert stacked, "some frames stack several types"
    from vsdmot.degrade.base import REGISTRY

    for types in stacked:  # one type per camera-chain stage, in stage order
        stages = [REGISTRY[t].stage for t in types]
        assert stages == sorted(set(stages))


def test_degrade_labels_quality_and_keeps_clean_frames():
    frame = np.full((48, 64, 3), 120, np.uint8)
    same, q = degrade(frame, [], 0.0, 1, "S", 0)
    assert same is frame and q == 1.0
    out, q = degrade(frame, ["gaussian_noise", "jpeg"], 2.5, 1, "S", 0)
    assert out.shape == frame.shape and (out != frame).any()
    assert q == pytest.approx(0.25)  # (1 - 2.5 / 5) ** 2


def test_sampler_maps_boxes_into_the_letterboxed_input(synth_data: Path):
    src = open_adapt_sources([synth_data], (1, 10))
    assert [s.name for s in src] == ["S0", "S1"] and all(s.labelled for s in src)
    sampler = PairSampler(src, DegradePlan(("gaussian_noise",), clean_fraction=1.0), size=160,
                          batch_size=4, seed=0, flip=False)  # fmt: skip
    batch = sampler.batch(0, 0)
    assert batch.clean.shape == (4, 3, 128, 160)  # 160 x 120 letterboxed: 4 px bands
    assert torch.equal(batch.clean, batch.degraded)  # clean_fraction 1
    order = np.random.default_rng([0, 0, 1]).permutation(len(sampler.items))
    i, t = sampler.items[int(order[0])]
    expected = src[i].boxes[t] + np.array([0, 4, 0, 4])
    assert np.allclose(batch.boxes[0].numpy(), expected)
    # Same seed, same batch; another epoch re-draws.
    again = PairSampler(src, DegradePlan(("gaussian_noise",), clean_fraction=0.0), size=160,
                        batch_size=4, seed=0)  # fmt: skip
    a, b = again.batch(0, 0), again.batch(0, 0)
    assert torch.equal(a.degraded, b.degraded)
    assert not torch.equal(again.batch(1, 0).degraded, a.degraded)


def test_sampler_flips_frames_and_boxes_together(synth_data: Path):
    src = open_adapt_sources([synth_data / "S0"], (3, 3))
    plan = DegradePlan(("gaussian_noise",), clean_fraction=1.0)
    sampler = PairSampler(src, plan, size=160, batch_size=1, seed=0, flip=True)
    flipped = next(e for e in range(20) if np.random.default_rng([0, e, 0]).random() < 0.5)
    clean, _, boxes, _ = sampler.item(0, flipped)
    frame = src[0].frames.frame(3)
    assert np.array_equal(clean, frame[:, ::-1])
    gt = src[0].boxes[3]
    assert np.allclose(boxes[:, [0, 2]], 160 - gt[:, [2, 0]])


def test_sources_reject_empty_ranges_and_accept_plain_videos(synth_data: Path, tmp_path: Path):
    from vsdmot.data.mot import MOTFormatError

    with pytest.raises(MOTFormatError, match="no frames in the range"):
        open_adapt_sources([synth_data / "S0"], (500, 600))
    folder = tmp_path / "frames"
    folder.mkdir()
    import cv2

    for t in range(1, 4):
        cv2.imwrite(str(folder / f"{t:04d}.png"), MOTSequence(synth_data / "S0").frame(t))
    (src,) = open_adapt_sources([folder])
    assert not src.labelled and src.indices == [1, 2, 3]


# --- detector files ---------------------------------------------------------------------------


def test_detector_file_round_trip_and_proposal_spec(tmp_path: Path):
    cfg = small_cfg(channels=(4, 4, 8, 8))
    path = save_random_detector(tmp_path / "d.pt", cfg)
    files = load_detector_file(path)
    assert files.names == ("person",) and files.origin == str(path)
    net = build_darknet(cfg)
    torch.manual_seed(0)
    reference = build_darknet(cfg).eval()
    from vsdmot.detection.darknet import load_darknet_weights

    load_darknet_weights(net, files.weights)
    x = torch.rand(1, 3, 128, 160)
    # fp16 storage: the loaded network matches the original to half precision.
    assert torch.allclose(net.eval()(x)[0], reference(x)[0], atol=5e-2)
    source = build_proposal_source(f"yolo:weights={path},size=160,runtime=torch")
    assert source(np.zeros((120, 160, 3), np.uint8), 1).shape[1] == 5
    assert read_detector_file(path)["meta"] == {"note": "test"}


def test_detector_file_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(DarknetError, match="bad.pt"):
        load_detector_file(bad)
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, other)
    with pytest.raises(DarknetError, match="not a vsdmot detector file"):
        load_detector_file(other)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_detector_file(tmp_path / "missing.pt")


# --- the loop ---------------------------------------------------------------------------------

QUICK = {"size": 160, "batch_size": 2, "warmup": 1, "checkpoint_every": 2}


def test_resumed_run_equals_an_uninterrupted_one(synth_data: Path, tmp_path: Path, one_thread):
    cfg_text = small_cfg(channels=(4, 4, 8, 8))
    teacher = load_detector_file(save_random_detector(tmp_path / "t.pt", cfg_text))
    src = open_adapt_sources([synth_data], (1, 6))
    full = adapt_detector(src, tmp_path / "full", AdaptConfig(steps=4, **QUICK), teacher,
                          progress=False)  # fmt: skip
    adapt_detector(src, tmp_path / "split", AdaptConfig(steps=2, **QUICK), teacher,
                   progress=False)  # fmt: skip
    (tmp_path / "split" / "detector.pt").unlink()  # as if stopped after the checkpoint
    resumed = adapt_detector(src, tmp_path / "split", AdaptConfig(steps=4, **QUICK), teacher,
                             progress=False)  # fmt: skip
    assert resumed.steps_run == 2 and resumed.steps == 4
    assert [r["loss"] for r in resumed.history] == pytest.approx([r["loss"] for r in full.history])
    a = read_detector_file(full.detector_path)["state_dict"]
    b = read_detector_file(resumed.detector_path)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], teacher_state) for k, teacher_state in
                   read_detector_file(tmp_path / "t.pt")["state_dict"].items())  # fmt: skip


def test_checkpoint_of_other_settings_is_refused(synth_data: Path, tmp_path: Path, one_thread):
    cfg_text = small_cfg(channels=(4, 4, 8, 8))
    teacher = load_detector_file(save_random_detector(tmp_path / "t.pt", cfg_text))
    src = open_adapt_sources([synth_data / "S0"], (1, 4))
    adapt_detector(src, tmp_path / "run", AdaptConfig(steps=2, **QUICK), teacher, progress=False)
    # Rerun of a finished run: nothing to do; a longer run continues from its checkpoint.
    again = adapt_detector(src, tmp_path / "run", AdaptConfig(steps=2, **QUICK), teacher,
                           progress=False)  # fmt: skip
    assert again.steps_run == 0
    longer = adapt_detector(src, tmp_path / "run", AdaptConfig(steps=3, **QUICK), teacher,
                            progress=False)  # fmt: skip
    assert longer.steps_run == 1 and longer.steps == 3
    (tmp_path / "run" / "detector.pt").unlink()
    other = AdaptConfig(steps=2, **{**QUICK, "batch_size": 1})
    with pytest.raises(CheckpointError, match="batch_size: 2 -> 1"):
        adapt_detector(src, tmp_path / "run", other, teacher, progress=False)
    result = adapt_detector(src, tmp_path / "run", other, teacher, progress=False, overwrite=True)
    assert result.steps_run == 2
    (tmp_path / "run" / "checkpoint.pt").unlink()  # a detector without its checkpoint
    with pytest.raises(FileExistsError, match="--overwrite"):
        adapt_detector(src, tmp_path / "run", other, teacher, progress=False)


def test_cli_adapts_and_reports_bad_input(synth_data: Path, tmp_path: Path, one_thread):
    teacher = save_random_detector(tmp_path / "t.pt", small_cfg(channels=(4, 4, 8, 8)))
    runner = CliRunner()
    out = tmp_path / "run"
    args = ["adapt-detector", str(synth_data / "S0"), "--out", str(out), "--teacher",
            str(teacher), "--frames", "1-4", "--steps", "2", "--batch-size", "2", "--size",
            "160", "--threads", "1", "--no-progress"]  # fmt: skip
    result = runner.invoke(app, [*args, "--set", "weighting=constant"])
    assert result.exit_code == 0, result.output
    assert "done: 2 steps" in result.output and (out / "detector.pt").is_file()
    assert (out / "metrics.json").is_file()
    result = runner.invoke(app, [*args[:-1], "--set", "colour=blue"])
    assert result.exit_code == 2 and "colour" in result.output
    result = runner.invoke(app, ["adapt-detector", str(tmp_path / "nowhere"), "--out", str(out)])
    assert result.exit_code == 2 and "nowhere" in result.output


# --- learning ---------------------------------------------------------------------------------


def _recall(files, seq: MOTSequence, kind: str | None, frames: range) -> float:
    det = YOLODetector.from_files(files, DetectorOptions(size=160, score=0.3), runtime="torch")
    matched = total = 0
    for t in frames:
        img, _ = degrade(seq.frame(t), [kind] if kind else [], 4.0, t, seq.name, seed=99)
        boxes = seq.gt.for_frame(t).boxes_xyxy()
        matched += match_count(det(img)[:, :4], boxes)
        total += len(boxes)
    return matched / total


def test_student_finds_people_in_noise_that_the_teacher_misses(synth_data, tmp_path, one_thread):
    cfg_text = small_cfg()
    src = open_adapt_sources([synth_data])
    # The teacher: trained from scratch on clean frames with the detection loss alone.
    teach = AdaptConfig(size=160, steps=300, lr=5e-3, warmup=10, detection=1.0, response=0,
                        feature_align=0, feature_struct=0, clean_fraction=1.0)  # fmt: skip
    init = load_detector_file(save_random_detector(tmp_path / "init.pt", cfg_text))
    teacher = load_detector_file(
        adapt_detector(src, tmp_path / "teacher", teach, init, progress=False).detector_path
    )
    # The student: distilled from it on noisy copies, without labels.
    distil = AdaptConfig(size=160, steps=200, lr=5e-4, warmup=10, detection=0.0,
                         types=("gaussian_noise",), min_severity=3.0, clean_fraction=0.5,
                         stack_prob=0.0)  # fmt: skip
    student = load_detector_file(
        adapt_detector(src, tmp_path / "student", distil, teacher, progress=False).detector_path
    )
    seq = MOTSequence(synth_data / "S0")
    frames = range(1, 41, 2)
    t_clean, t_noisy = (_recall(teacher, seq, k, frames) for k in (None, "gaussian_noise"))
    s_clean, s_noisy = (_recall(student, seq, k, frames) for k in (None, "gaussian_noise"))
    assert t_clean >= 0.9, "the teacher learned the clean frames"
    assert t_noisy <= 0.6, "noise at severity 4 hurts the teacher"
    assert s_noisy >= t_noisy + 0.15, (t_noisy, s_noisy)
    assert s_clean >= t_clean - 0.25, (t_clean, s_clean)


def test_adapt_config_settings_parse_from_text():
    from vsdmot.utils.settings import parse_field_setting

    given = dict(parse_field_setting(AdaptConfig, s) for s in
                 ["held_out=fog", "weighting=constant", "response=0", "flip=off"])  # fmt: skip
    cfg = dataclasses.replace(AdaptConfig(), **given)
    assert cfg.held_out == ("fog",) and cfg.response == 0.0 and cfg.flip is False
    assert "rain" in cfg.train_types()


def test_bundled_detectors_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from vsdmot.detection import files as det_files

    missing = tmp_path / "nothing.pt"
    monkeypatch.setattr(det_files, "robust_detector_path", lambda: missing)
    with pytest.raises(FileNotFoundError, match="weights=original"):
        det_files.bundled_detector("robust")
    save_random_detector(missing, small_cfg(channels=(4, 4, 8, 8)))
    assert det_files.bundled_detector("robust").origin == str(missing)
    with pytest.raises(ValueError, match="unknown bundled detector"):
        det_files.bundled_detector("best")


def test_student_starts_from_init_while_the_teacher_stays(
    synth_data: Path, tmp_path: Path, one_thread
):
    cfg_text = small_cfg(channels=(4, 4, 8, 8))
    teacher = load_detector_file(save_random_detector(tmp_path / "t.pt", cfg_text, seed=0))
    init = load_detector_file(save_random_detector(tmp_path / "i.pt", cfg_text, seed=1))
    src = open_adapt_sources([synth_data / "S0"], (1, 4))
    still = AdaptConfig(steps=2, **{**QUICK, "lr": 1e-12})  # the student barely moves
    result = adapt_detector(src, tmp_path / "run", still, teacher, progress=False, init=init)
    out = read_detector_file(result.detector_path)
    start = read_detector_file(tmp_path / "i.pt")["state_dict"]
    assert all(torch.equal(out["state_dict"][k], start[k]) for k in start)
    assert out["meta"]["teacher_sha256"] == teacher.sha256
    assert out["meta"]["init_sha256"] == init.sha256 != teacher.sha256
    plain = adapt_detector(src, tmp_path / "plain", still, teacher, progress=False)
    assert plain.history[0]["loss"] != pytest.approx(result.history[0]["loss"])
    # A checkpoint started from another student is not resumed from this one.
    (tmp_path / "plain" / "detector.pt").unlink()
    longer = dataclasses.replace(still, steps=3)
    with pytest.raises(CheckpointError, match="initial student"):
        adapt_detector(src, tmp_path / "plain", longer, teacher, progress=False, init=init)
    other = load_detector_file(save_random_detector(tmp_path / "o.pt", small_cfg(), seed=2))
    with pytest.raises(CheckpointError, match="o.pt.*does not fit"):
        adapt_detector(src, tmp_path / "other", still, teacher, progress=False, init=other)


def test_cli_init_names_the_initial_student(synth_data: Path, tmp_path: Path, one_thread):
    cfg_text = small_cfg(channels=(4, 4, 8, 8))
    teacher = save_random_detector(tmp_path / "t.pt", cfg_text, seed=0)
    init = save_random_detector(tmp_path / "i.pt", cfg_text, seed=1)
    args = ["adapt-detector", str(synth_data / "S0"), "--out", str(tmp_path / "run"),
            "--teacher", str(teacher), "--frames", "1-4", "--steps", "1", "--batch-size", "2",
            "--size", "160", "--threads", "1", "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--init", str(init)])
    assert result.exit_code == 0, result.output
    assert "initial student: " in result.output and "i.pt" in result.output
    result = CliRunner().invoke(app, [*args, "--init", str(tmp_path / "missing.pt")])
    assert result.exit_code != 0 and "missing.pt" in result.output
