"""A Darknet YOLO person detector: preprocessing, a choice of runtimes, decoding and NMS.

The network is one :class:`~vsdmot.detection.darknet.DarknetNet` (trainable
PyTorch). For inference the same weights can run in PyTorch, OpenCV DNN or
ONNX Runtime (:data:`RUNTIMES`); all three return the raw ``[yolo]`` maps, and
one decoder turns them into boxes, so the runtimes differ only in speed (and
float rounding; see the parity test).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vsdmot.detection.darknet import (
    DarknetError,
    DarknetNet,
    YoloHead,
    build_darknet,
    darknet_weights_bytes,
    load_darknet_weights,
)
from vsdmot.detection.files import COCO_NAMES, DarknetFiles

log = logging.getLogger(__name__)

#: Darknet's grey letterbox border (0.5 in [0, 1] input units).
PAD_VALUE = 127


@dataclass(frozen=True)
class Letterbox:
    """How a frame was mapped to the network input: ``input = frame * scale + pad``."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    input_hw: tuple[int, int]

    def to_frame(self, boxes: np.ndarray) -> np.ndarray:
        """xyxy boxes in input pixels -> frame pixels."""
        out = boxes.astype(np.float64, copy=True)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale_x
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale_y
        return out


def input_shape(
    frame_hw: tuple[int, int], size: int, letterbox: bool, stride: int = 32
) -> tuple[int, int]:
    """Network input ``(h, w)`` for a frame: ``size`` on the longer side, the other rounded up
    to the stride (letterbox), or ``size x size`` (plain resize, Darknet's own test mode).

    >>> input_shape((576, 768), 416, True), input_shape((576, 768), 416, False)
    ((320, 416), (416, 416))
    """
    if size <= 0 or size % stride:
        raise ValueError(f"detector input size must be a positive multiple of {stride}, got {size}")
    if not letterbox:
        return size, size
    h, w = frame_hw
    r = size / max(h, w)
    rh, rw = round(h * r), round(w * r)
    return -(-rh // stride) * stride, -(-rw // stride) * stride


def preprocess(
    frame_bgr: np.ndarray, size: int, letterbox: bool = True
) -> tuple[np.ndarray, Letterbox]:
    """BGR uint8 frame -> ``(1, 3, H, W)`` float32 RGB blob in ``[0, 1]`` and its mapping.

    The one preprocessing function of the detector, for inference and training.
    """
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 BGR frame, got shape {frame_bgr.shape}")
    h, w = frame_bgr.shape[:2]
    in_h, in_w = input_shape((h, w), size, letterbox)
    if letterbox:
        r = min(in_w / w, in_h / h)
        rw, rh = max(1, round(w * r)), max(1, round(h * r))
        canvas = np.full((in_h, in_w, 3), PAD_VALUE, dtype=np.uint8)
        px, py = (in_w - rw) // 2, (in_h - rh) // 2
        canvas[py : py + rh, px : px + rw] = cv2.resize(
            frame_bgr, (rw, rh), interpolation=cv2.INTER_LINEAR
        )
        mapping = Letterbox(rw / w, rh / h, px, py, (in_h, in_w))
    else:
        canvas = cv2.resize(frame_bgr, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        mapping = Letterbox(in_w / w, in_h / h, 0.0, 0.0, (in_h, in_w))
    blob = cv2.dnn.blobFromImage(canvas, 1 / 255.0, swapRB=True)
    return blob, mapping


# --- runtimes ------------------------------------------------------------------------------

MapsFn = Callable[[np.ndarray], list[np.ndarray]]


def _torch_runtime(net: DarknetNet, cfg_text: str, threads: int) -> MapsFn:
    # torch's intra-op pool is per process: ``threads`` is left to the caller here.
    fused = build_darknet(cfg_text, net.source)
    fused.load_state_dict(net.state_dict())
    fused.eval().fuse()

    def run(blob: np.ndarray) -> list[np.ndarray]:
        with torch.inference_mode():
            return [m.numpy() for m in fused(torch.from_numpy(blob))]

    return run


def _opencv_runtime(net: DarknetNet, cfg_text: str, threads: int) -> MapsFn:
    # OpenCV's thread count is process-wide too (cv2.setNumThreads).
    cv_net = cv2.dnn.readNetFromDarknet(
        np.frombuffer(cfg_text.encode(), np.uint8),
        np.frombuffer(darknet_weights_bytes(net), np.uint8),
    )
    names = set(cv_net.getLayerNames())
    # The convolution feeding each [yolo] layer: its output is the raw map.
    outputs = [f"conv_{h.layer - 1}" for h in net.heads]
    missing = [o for o in outputs if o not in names]
    if missing:
        raise DarknetError(f"OpenCV named the layers differently; {missing} not found")

    def run(blob: np.ndarray) -> list[np.ndarray]:
        cv_net.setInput(blob)
        return list(cv_net.forward(outputs))

    return run


def _onnx_runtime(net: DarknetNet, cfg_text: str, threads: int) -> MapsFn:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ImportError(
            "the 'onnx' detector runtime needs `pip install onnxruntime onnx`"
        ) from exc
    import io

    fused = build_darknet(cfg_text, net.source)
    fused.load_state_dict(net.state_dict())
    fused.eval().fuse()
    buf = io.BytesIO()
    dummy = torch.zeros(1, net.channels, net.height, net.width)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's shape-inference chatter
        torch.onnx.export(
            fused,
            (dummy,),
            buf,
            input_names=["images"],
            output_names=[f"maps{i}" for i in range(len(net.heads))],
            dynamic_axes={"images": {2: "h", 3: "w"}},
            dynamo=False,
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])

    def run(blob: np.ndarray) -> list[np.ndarray]:
        return list(session.run(None, {"images": blob}))

    return run


#: Inference runtimes by name; each turns the network into ``blob -> raw maps``.
RUNTIMES: dict[str, Callable[[DarknetNet, str, int], MapsFn]] = {
    "torch": _torch_runtime,
    "opencv": _opencv_runtime,
    "onnx": _onnx_runtime,
}


def auto_candidates() -> tuple[str, ...]:
    """Runtimes ``auto`` chooses from: ONNX Runtime (when installed) and OpenCV DNN.

    Neither wins everywhere: on 2 CPU cores ONNX Runtime was faster at 320-416 px and
    OpenCV at 512-608 px (benchmarks/bench_detector.py); PyTorch was slower than both.
    """
    import importlib.util

    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        return ("onnx", "opencv")
    return ("opencv",)


def fastest(runs: dict[str, MapsFn], blob: np.ndarray, repeats: int = 3) -> str:
    """The name of the runtime with the lowest median time on ``blob`` (after a warm-up)."""
    times = {}
    for name, run in runs.items():
        run(blob)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(blob)
            samples.append(time.perf_counter() - start)
        times[name] = sorted(samples)[len(samples) // 2]
    best = min(times, key=times.__getitem__)
    log.info(
        "detector runtime: %s (%s)",
        best,
        ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in sorted(times.items())),
    )
    return best


# --- decoding --------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def decode_maps(
    maps: Sequence[np.ndarray],
    heads: Sequence[YoloHead],
    input_hw: tuple[int, int],
    classes: Sequence[int],
    score_threshold: float,
) -> np.ndarray:
    """Raw maps -> ``(N, 6)`` rows ``x1, y1, x2, y2, score, class`` in input pixels.

    ``score = objectness * class probability`` (Darknet's); only the wanted
    classes are decoded, and only at cells whose objectness can reach the
    threshold, so decoding costs little at the usual low thresholds.
    """
    in_h, in_w = input_hw
    cls = np.asarray(classes, dtype=np.int64)
    rows = []
    for m, head in zip(maps, heads, strict=True):
        a = len(head.anchors)
        _, _, gh, gw = m.shape
        m = m.reshape(a, 5 + head.classes, gh, gw)
        obj = _sigmoid(m[:, 4])
        ai, yi, xi = np.nonzero(obj >= score_threshold)
        if ai.size == 0:
            continue
        cell = m[ai, :, yi, xi]  # (K, 5 + C)
        probs = _sigmoid(cell[:, 5 + cls]) * obj[ai, yi, xi][:, None]
        best = probs.argmax(axis=1)
        score = probs[np.arange(len(best)), best]
        keep = score >= score_threshold
        if not keep.any():
            continue
        cell, ai, yi, xi, best, score = (
            cell[keep],
            ai[keep],
            yi[keep],
            xi[keep],
            best[keep],
            score[keep],
        )
        s = head.scale_x_y
        cx = (_sigmoid(cell[:, 0]) * s - (s - 1) / 2 + xi) * (in_w / gw)
        cy = (_sigmoid(cell[:, 1]) * s - (s - 1) / 2 + yi) * (in_h / gh)
        anchors = np.asarray(head.anchors, dtype=np.float64)[ai]
        w = np.exp(np.minimum(cell[:, 2], 20.0)) * anchors[:, 0]
        h = np.exp(np.minimum(cell[:, 3], 20.0)) * anchors[:, 1]
        rows.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, cls[best]], 1))
    if not rows:
        return np.zeros((0, 6))
    return np.concatenate(rows).astype(np.float64)


def batched_nms(dets: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy NMS applied per class (column 5), best score first.

    >>> d = np.array([[0, 0, 10, 10, .9, 0], [1, 0, 11, 10, .8, 0], [1, 0, 11, 10, .7, 2]])
    >>> batched_nms(d, 0.5).tolist()
    [0, 2]
    """
    if len(dets) == 0:
        return np.zeros(0, dtype=np.int64)
    boxes = dets[:, :4].astype(np.float64)
    # Shift each class by more than the whole extent (boxes may start below 0 at the
    # edges), so boxes of different classes never overlap.
    offset = dets[:, 5:6] * (boxes.max() - boxes.min() + 1.0)
    shifted = boxes + offset
    wh = np.column_stack([shifted[:, :2], shifted[:, 2:] - shifted[:, :2]])
    keep = cv2.dnn.NMSBoxes(
        wh.tolist(), dets[:, 4].astype(float).tolist(), 0.0, float(iou_threshold)
    )
    keep = np.asarray(keep, dtype=np.int64).reshape(-1)
    return keep[np.argsort(-dets[keep, 4], kind="stable")]


def load_network(files: DarknetFiles) -> tuple[DarknetNet, tuple[str, ...]]:
    """The network of ``files`` with its weights, and its class names (numbered when the
    names do not fit the network's class count)."""
    net = build_darknet(files.cfg_text, files.cfg_origin)
    load_darknet_weights(net, files.weights, files.origin)
    names = files.names
    if net.num_classes != len(names):
        if names != COCO_NAMES:
            log.warning(
                "%s: %d class names for a %d-class network; classes are numbered instead",
                files.origin,
                len(names),
                net.num_classes,
            )
        names = tuple(str(i) for i in range(net.num_classes))
    return net, names


# --- the detector ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectorOptions:
    """Settings that change the detector's output (all part of the proposal cache key)."""

    size: int = 416
    score: float = 0.1
    nms: float = 0.45
    classes: tuple[int, ...] = (0,)
    letterbox: bool = True


class YOLODetector:
    """Frames in, ``(P, 6)`` ``x1, y1, x2, y2, score, class`` detections out (frame pixels).

    Args:
        net: the Darknet network with its weights (kept trainable and unfused).
        cfg_text: its cfg (the OpenCV runtime rebuilds the network from it).
        options: input size, thresholds, classes, letterbox.
        runtime: ``"torch"``, ``"opencv"``, ``"onnx"`` or ``"auto"``: the fastest of
            :func:`auto_candidates`, timed on the first frame (its size decides).
        threads: intra-op threads of the ONNX runtime. One by default: the tracker
            runs the detector in a worker thread beside the model, and on a few cores
            two multi-threaded pools slow each other down.
        names: class names, for messages.
    """

    def __init__(
        self,
        net: DarknetNet,
        cfg_text: str,
        options: DetectorOptions | None = None,
        *,
        runtime: str = "auto",
        threads: int = 1,
        names: Sequence[str] = COCO_NAMES,
    ) -> None:
        self.net = net.eval()
        self.cfg_text = cfg_text
        self.options = options or DetectorOptions()
        self.names = tuple(names)
        bad = [c for c in self.options.classes if not 0 <= c < net.num_classes]
        if bad:
            raise ValueError(f"class ids {bad} are outside the detector's 0..{net.num_classes - 1}")
        if not 0.0 < self.options.score <= 1.0:
            raise ValueError(
                f"detector score threshold must be in (0, 1], got {self.options.score}"
            )
        input_shape((net.height, net.width), self.options.size, self.options.letterbox)
        if runtime != "auto" and runtime not in RUNTIMES:
            raise ValueError(
                f"unknown detector runtime {runtime!r}; expected auto or {sorted(RUNTIMES)}"
            )
        names = auto_candidates() if runtime == "auto" else (runtime,)
        self._candidates = {n: RUNTIMES[n](self.net, cfg_text, threads) for n in names}
        self.runtime = names[0] if len(names) == 1 else "auto"

    def _maps(self, blob: np.ndarray) -> list[np.ndarray]:
        """Raw ``[yolo]`` maps from the chosen runtime (the first candidate before any frame)."""
        return next(iter(self._candidates.values()))(blob)

    @classmethod
    def from_files(
        cls,
        files: DarknetFiles,
        options: DetectorOptions | None = None,
        *,
        runtime: str = "auto",
        threads: int = 1,
    ) -> YOLODetector:
        net, names = load_network(files)
        return cls(net, files.cfg_text, options, runtime=runtime, threads=threads, names=names)

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray:
        o = self.options
        blob, mapping = preprocess(frame_bgr, o.size, o.letterbox)
        if len(self._candidates) > 1:
            self.runtime = fastest(self._candidates, blob)
            self._candidates = {self.runtime: self._candidates[self.runtime]}
        dets = decode_maps(self._maps(blob), self.net.heads, mapping.input_hw, o.classes, o.score)
        if len(dets) == 0:
            return dets
        dets = dets[batched_nms(dets, o.nms)]
        dets[:, :4] = mapping.to_frame(dets[:, :4])
        h, w = frame_bgr.shape[:2]
        dets[:, [0, 2]] = dets[:, [0, 2]].clip(0, w)
        dets[:, [1, 3]] = dets[:, [1, 3]].clip(0, h)
        return dets[(dets[:, 2] > dets[:, 0]) & (dets[:, 3] > dets[:, 1])]
