"""The distilled person-crop embedder: a truncated ImageNet MobileNetV2 on person crops
(``height`` x ``width``, 128 x 64 by default), average-pooled, projected to ``dim`` unit rows.

Its weight file (:func:`save_crop_embedder` / :func:`load_crop_embedder`) holds the
architecture, the weights and their provenance, so one file is all a tracker needs;
:class:`CropEmbedder` turns a frame and boxes into embeddings, optionally with the colour
histogram appended (:class:`ColourConcat`).

>>> net = CropEmbeddingNet(CropEmbedderConfig(height=32, width=16, trunk_layers=4, dim=8))
>>> z = net(torch.rand(3, 3, 32, 16))
>>> z.shape, bool(torch.allclose(z.norm(dim=1), torch.ones(3)))
(torch.Size([3, 8]), True)
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.nn.frozen_bn import freeze_batch_norm
from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD
from vsdmot.nn.mobilenet_v2 import MobileNetV2Features, load_mobilenet_v2_features
from vsdmot.nn.weights import WeightsFileError, apply_state
from vsdmot.reid import Embedder
from vsdmot.reid.colour import colour_histogram
from vsdmot.reid.crops import box_crops
from vsdmot.utils.io import atomic_write

log = logging.getLogger(__name__)

#: What a weight file of this module says it is (a model checkpoint or another network's
#: weights are refused by name, not by a shape mismatch deep inside).
FORMAT = "vsdmot-reid-embedder"
VERSION = 1
#: The shipped weights (trained by ``vsdmot train-reid``; provenance inside the file).
SHIPPED = Path(__file__).resolve().parents[1] / "weights" / "vsdmot-reid.pt"


@dataclass(frozen=True)
class CropEmbedderConfig:
    """The architecture: crop size (h, w), how many of MobileNetV2's 19 feature layers
    are kept (18: all but the final 1 x 1 widening to 1280 channels), embedding width."""

    height: int = 128
    width: int = 64
    trunk_layers: int = 18
    dim: int = 128

    def __post_init__(self) -> None:
        if not 2 <= self.trunk_layers <= 19:
            raise ValueError(f"trunk_layers={self.trunk_layers} must be in [2, 19]")
        if min(self.height, self.width, self.dim) < 1:
            raise ValueError("height, width and dim must be positive")


def trunk_channels(layers: int) -> int:
    """Output channels of MobileNetV2's first ``layers`` feature layers.

    >>> trunk_channels(18), trunk_channels(14)
    (320, 96)
    """
    trunk = MobileNetV2Features().features[:layers].eval()
    with torch.no_grad():
        return int(trunk(torch.zeros(1, 3, 32, 32)).shape[1])


class CropEmbeddingNet(nn.Module):
    """Normalised RGB crops ``(N, 3, h, w)`` in [0, 1] -> ``(N, dim)`` unit rows.

    Batch norm is frozen (the ImageNet statistics): the training batches come from one
    scene and would otherwise pull the statistics toward it.
    """

    def __init__(self, cfg: CropEmbedderConfig, backbone: Path | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        full = load_mobilenet_v2_features(backbone) if backbone else MobileNetV2Features()
        self.trunk = freeze_batch_norm(full.features[: cfg.trunk_layers])
        self.proj = nn.Linear(trunk_channels(cfg.trunk_layers), cfg.dim)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN)[None, :, None, None])
        self.register_buffer("std", torch.tensor(IMAGENET_STD)[None, :, None, None])

    def features(self, crops: Tensor) -> Tensor:
        """Pooled trunk features ``(N, C)`` before the projection."""
        return self.trunk((crops - self.mean) / self.std).mean(dim=(2, 3))

    def forward(self, crops: Tensor) -> Tensor:
        return F.normalize(self.proj(self.features(crops)), dim=-1)


def save_crop_embedder(path: Path, net: CropEmbeddingNet, provenance: dict[str, Any]) -> None:
    """Write the weights, the architecture and ``provenance`` (data, steps, seed, ...)
    atomically, as float16 (half the size; embeddings are compared by cosine)."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    blob = {"format": FORMAT, "version": VERSION, "config": dataclasses.asdict(net.cfg),
            "provenance": provenance, "state_dict": state}  # fmt: skip
    with atomic_write(path, "wb") as f:
        torch.save(blob, f)


def read_provenance(path: Path) -> dict[str, Any]:
    """The provenance block of a weight file."""
    return dict(_read_blob(Path(path))["provenance"])


def _read_blob(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: re-identification embedder weights not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling fails in many types; all mean "not this file"
        raise WeightsFileError(
            f"{path}: not a readable re-identification weights file ({type(exc).__name__})"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise WeightsFileError(
            f"{path}: not a re-identification embedder file (no format {FORMAT!r}; "
            "make one with vsdmot train-reid)"
        )
    if blob.get("version") != VERSION:
        raise WeightsFileError(
            f"{path}: re-identification file version {blob.get('version')!r} is not "
            f"supported (this vsdmot reads version {VERSION})"
        )
    return blob


def load_crop_embedder(path: Path) -> CropEmbeddingNet:
    """The network stored in ``path`` (eval mode, float32); a missing, foreign or damaged
    file raises an error naming it."""
    path = Path(path)
    blob = _read_blob(path)
    try:
        cfg = CropEmbedderConfig(**blob["config"])
    except (TypeError, ValueError) as exc:
        raise WeightsFileError(f"{path}: bad re-identification architecture ({exc})") from None
    net = CropEmbeddingNet(cfg)
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    apply_state(net, state, path, "re-identification embedder")
    log.info("loaded re-identification embedder from %s", path)
    return net.eval()


class CropEmbedder:
    """``(frame, boxes) -> (N, dim)`` unit rows of a :class:`CropEmbeddingNet` on the box
    crops (an :data:`Embedder`)."""

    def __init__(self, net: CropEmbeddingNet, batch_size: int = 64) -> None:
        self.net = net.eval()
        self.batch_size = batch_size

    @torch.no_grad()
    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """``(N, h, w, 3)`` RGB uint8 crops at the net's size -> ``(N, dim)``."""
        if not len(crops):
            return np.zeros((0, self.net.cfg.dim), dtype=np.float32)
        rows = []
        for i in range(0, len(crops), self.batch_size):
            batch = torch.from_numpy(crops[i : i + self.batch_size]).permute(0, 3, 1, 2)
            rows.append(self.net(batch.float() / 255.0))
        return torch.cat(rows).numpy()

    def __call__(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        cfg = self.net.cfg
        return self.embed_crops(box_crops(frame, boxes, (cfg.height, cfg.width)))


class ColourConcat:
    """An embedder's rows and the colour histogram's, concatenated with weights
    ``sqrt(1 - w)`` and ``sqrt(w)``: still unit rows, and the cosine of two of them is
    ``(1 - w) cos_embedder + w cos_histogram``.

    >>> frame = np.random.default_rng(0).integers(0, 255, (30, 30, 3), dtype=np.uint8)
    >>> flat = lambda f, b: np.ones((len(b), 1), np.float32)
    >>> e = ColourConcat(flat, 0.25)(frame, np.array([[0, 0, 10, 20], [5, 5, 30, 30]]))
    >>> e.shape, np.round(np.linalg.norm(e, axis=1), 4).tolist()
    ((2, 513), [1.0, 1.0])
    """

    def __init__(self, embedder: Embedder, weight: float) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"colour weight {weight} must be in [0, 1]")
        self.embedder, self.weight = embedder, float(weight)

    def __call__(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        learned = self.embedder(frame, boxes) * np.sqrt(1.0 - self.weight)
        colour = colour_histogram(frame, boxes) * np.sqrt(self.weight)
        return np.concatenate([learned, colour], axis=1).astype(np.float32)
