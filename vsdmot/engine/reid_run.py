"""``vsdmot train-reid`` end to end: the training crops (built once, cached in the run
folder), the teacher's embeddings, training, the colour weight, and the weight file with
its provenance (data, frames, steps, seed, the teacher's and the code's versions).

The colour weight is chosen on people the student never saw: ``holdout`` identities of
the training frames are kept out of training and serve only to choose it. Chosen on the
people it was trained on, the learned embedding re-identifies almost all of them and the
weight comes out 0, which says nothing about a new scene.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsdmot._version import __version__
from vsdmot.engine.reid_colour import choose_colour_weight
from vsdmot.engine.reid_data import CropSet, build_crop_set, centre_window, teacher_embeddings
from vsdmot.engine.reid_train import ReidTrainConfig, train_reid
from vsdmot.reid.model import CropEmbedder, CropEmbedderConfig, CropEmbeddingNet, save_crop_embedder

log = logging.getLogger(__name__)

WEIGHTS_NAME = "reid.pt"


@dataclass(frozen=True)
class ReidRunInputs:
    """Where the crops come from and the ImageNet MobileNetV2 file (teacher and the
    student's starting point)."""

    sequence: Path
    frames: tuple[int, int]
    imagenet: Path
    variants: int = 4
    holdout: int = 4


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def crop_set(inputs: ReidRunInputs, model: CropEmbedderConfig, out: Path, seed: int,
             progress: bool) -> CropSet:  # fmt: skip
    """The training crops of ``inputs``, from ``out/crops.npz`` when it was built already."""
    from vsdmot.semantics.teachers import mobilenet_v2_teacher

    span = f"{inputs.frames[0]}-{inputs.frames[1]}"
    cache = out / (f"crops-{inputs.sequence.name}-{span}-v{inputs.variants}-s{seed}"
                   f"-{model.height}x{model.width}.npz")  # fmt: skip
    if cache.is_file():
        return CropSet.load(cache)
    size = (model.height, model.width)
    crops, ids, frames = build_crop_set(
        inputs.sequence, inputs.frames, size=size, variants=inputs.variants, seed=seed,
        progress=progress,
    )
    teacher = mobilenet_v2_teacher(inputs.imagenet)
    clean = np.ascontiguousarray(centre_window(crops[:, 0], size))
    data = CropSet(crops, ids, frames, teacher_embeddings(teacher, clean))
    data.save(cache)
    return data


def split_identities(data: CropSet, holdout: int, seed: int) -> tuple[CropSet, CropSet | None]:
    """(training crops, crops of ``holdout`` people drawn at random, None for 0).

    >>> d = CropSet(np.zeros((6, 1, 2, 2, 3), np.uint8), np.array([1, 2, 3, 1, 2, 3]),
    ...             np.array([1, 1, 1, 2, 2, 2]), np.zeros((6, 4), np.float32))
    >>> train, held = split_identities(d, 1, seed=0)
    >>> sorted(set(train.ids.tolist())), sorted(set(held.ids.tolist()))
    ([1, 2], [3])
    """
    people = np.unique(data.ids)
    if not 0 <= holdout < len(people) - 1:
        raise ValueError(f"holdout={holdout}: the crops have {len(people)} people; at least "
                         "two must stay for training")  # fmt: skip
    if holdout == 0:
        return data, None
    held = np.random.default_rng(seed).choice(people, holdout, replace=False)
    out = np.isin(data.ids, held)
    return data.subset(~out), data.subset(out)


def run_train_reid(inputs: ReidRunInputs, model: CropEmbedderConfig, cfg: ReidTrainConfig,
                   out: Path, progress: bool = True) -> dict[str, Any]:  # fmt: skip
    """Train and write ``out/reid.pt``; the provenance recorded in it."""
    out.mkdir(parents=True, exist_ok=True)
    data, held = split_identities(crop_set(inputs, model, out, cfg.seed, progress),
                                  inputs.holdout, cfg.seed)  # fmt: skip
    log.info("%d crops of %d people", len(data.ids), len(np.unique(data.ids)))
    net = CropEmbeddingNet(model, inputs.imagenet)
    history = train_reid(net, data, cfg, out / "checkpoint.pt", progress)
    weight, scores = choose_colour_weight(CropEmbedder(net), data if held is None else held)
    first, last = (float(np.mean([h["loss"] for h in part]))
                   for part in (history[:20], history[-20:]))  # fmt: skip
    provenance = {
        "data": f"{inputs.sequence.name} frames {inputs.frames[0]}-{inputs.frames[1]} "
                f"({len(data.ids)} crops, {len(np.unique(data.ids))} people), "
                f"{inputs.variants} degraded variants",
        "teacher": f"{inputs.imagenet.name} sha256 {file_sha256(inputs.imagenet)[:16]}",
        "train": dataclasses.asdict(cfg),
        "loss": {"first": round(first, 4), "last": round(last, 4)},
        "colour_weight": weight,
        "colour_weight_chosen_on": "the training crops" if held is None else
            f"{inputs.holdout} people held out of training (ids "
            f"{', '.join(map(str, sorted(set(held.ids.tolist()))))})",
        "colour_top1": {str(w): round(s, 4) for w, s in scores.items()},
        "vsdmot": __version__,
    }  # fmt: skip
    save_crop_embedder(out / WEIGHTS_NAME, net, provenance)
    return provenance
