"""Re-identification quality of object embeddings: the embedders and the top-1 / rank metric.

An embedder maps a BGR frame and ``(N, 4)`` xyxy pixel boxes to ``(N, D)`` unit rows.
Queries are ranked against a gallery by cosine similarity (a dot product of unit rows);
:func:`match_ranks` gives each query's rank of its true match:

>>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> g = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
>>> match_ranks(np.array([7, 8]), q, np.array([9, 7, 8]), g)
[1, 2]
>>> match_ranks(np.array([5]), q[:1], np.array([7, 8]), g[:2])  # not in the gallery
[]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from vsdmot.data.mot import MOTAnnotations
from vsdmot.data.preprocess import resize_size
from vsdmot.models.embedding import crop_boxes
from vsdmot.models.tracker import PROPOSAL
from vsdmot.reid import Embedder
from vsdmot.reid.colour import colour_histogram
from vsdmot.tracking.deepsort import MobileNetV2Embedder
from vsdmot.tracking.embedders import build_appearance_embedder
from vsdmot.tracking.query_tracker import frame_to_tensor, proposals_to_model
from vsdmot.tracking.registry import build_tracker, describe_tracker

MIN_SIDE = 4  # ground-truth boxes narrower or lower than this (px, clipped) are skipped


def model_embedder(weights: Path | None = None) -> tuple[Embedder, str]:
    """The tracker model's embedding head on the boxes given as proposals (the appearance
    cue of the ``fused`` association), and the model's description."""
    tracker = build_tracker("vsdmot" if weights is None else f"vsdmot:weights={weights}")
    model, params = tracker.loaded.model, tracker.params.inputs  # type: ignore[attr-defined]
    if model.embed_head is None:
        raise ValueError(f"{weights}: this model has no embedding head (embed_dim=0)")

    @torch.no_grad()
    def embed(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        size = resize_size(w, h, params.input_short_side, params.input_max_side)
        mask = torch.zeros(1, size[1], size[0], dtype=torch.bool)
        props = proposals_to_model(np.concatenate([boxes, np.ones((len(boxes), 1))], 1), w, h)
        if len(props) != len(boxes):
            raise ValueError("a ground-truth box has no area inside the frame")
        out = model.inference_step(frame_to_tensor(frame, size), mask, props, None)
        return out.embeddings[out.kinds == PROPOSAL].numpy()

    return embed, describe_tracker(tracker)


def teacher_embedder(path: Path, size: int = 96) -> Embedder:
    """The frozen ImageNet MobileNetV2 distillation teacher on ``size`` x ``size`` crops
    (as in object-level DCSD)."""
    from vsdmot.semantics.teachers import mobilenet_v2_teacher

    teacher = mobilenet_v2_teacher(path)

    def embed(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        rgb = torch.from_numpy(frame[:, :, ::-1].copy()).permute(2, 0, 1).float() / 255
        h, w = frame.shape[:2]
        b = np.asarray(boxes, np.float64)
        cxcywh = np.stack([(b[:, 0] + b[:, 2]) / 2 / w, (b[:, 1] + b[:, 3]) / 2 / h,
                           (b[:, 2] - b[:, 0]) / w, (b[:, 3] - b[:, 1]) / h], axis=1)  # fmt: skip
        crops = crop_boxes(rgb, torch.from_numpy(cxcywh).float(), (size, size))
        return teacher.embed_crops(crops).numpy()

    return embed


def match_ranks(
    query_ids: np.ndarray, query: np.ndarray, gallery_ids: np.ndarray, gallery: np.ndarray
) -> list[int]:
    """1-based rank of the true match in the gallery (by cosine similarity, ties in gallery
    order) of every query whose identity is in the gallery."""
    sim = query @ gallery.T
    ranks = []
    for row, pid in enumerate(query_ids):
        if pid in gallery_ids:
            order = np.argsort(-sim[row], kind="stable")
            ranks.append(int(np.flatnonzero(gallery_ids[order] == pid)[0]) + 1)
    return ranks


def sequence_ranks(
    frames: Mapping[int, np.ndarray], gt: MOTAnnotations, embed: Embedder, gap: int, stride: int
) -> list[int]:
    """Ranks of every query of one sequence: the ground-truth objects of every ``stride``-th
    frame ``t`` against those of frame ``t + gap`` (a gallery of at least two objects)."""
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def at(t: int) -> tuple[np.ndarray, np.ndarray]:
        if t not in cache:
            rows = gt.for_frame(t)
            h, w = frames[t].shape[:2]
            boxes = np.clip(rows.boxes_xyxy(), 0, [w, h, w, h])
            keep = (boxes[:, 2:] - boxes[:, :2] >= MIN_SIDE).all(axis=1)
            cache[t] = (rows.track_id[keep], embed(frames[t], boxes[keep]) if keep.any()
                        else np.zeros((0, 1)))  # fmt: skip
        return cache[t]

    ranks: list[int] = []
    for t in sorted(frames)[::stride]:
        if t + gap in frames:
            (qi, qe), (gi, ge) = at(t), at(t + gap)
            if len(qi) and len(gi) >= 2:
                ranks += match_ranks(qi, qe, gi, ge)
    return ranks


def summarise(ranks: list[int]) -> dict[str, float]:
    """Top-1 accuracy and mAP (one true match per query: the mean reciprocal rank).

    >>> summarise([1, 2, 1, 4])
    {'top1': 0.5, 'mAP': 0.6875, 'queries': 4}
    """
    n = len(ranks)
    return {"top1": sum(r == 1 for r in ranks) / n if n else float("nan"),
            "mAP": sum(1 / r for r in ranks) / n if n else float("nan"), "queries": n}  # fmt: skip


def embedders(weights: Path | None, teacher: Path) -> tuple[dict[str, Embedder], str]:
    """Every embedding compared (named as in the report) and the tracker model's
    description: its head, the ImageNet teacher, DeepSORT's embedder, colour histograms,
    and the distilled crop embedder (``appearance_embedder=reid``) alone and with the
    colour histogram (``reid_colour``)."""
    head, model = model_embedder(weights)
    reid, reid_colour = (build_appearance_embedder(n) for n in ("reid", "reid_colour"))
    assert reid is not None and reid_colour is not None
    return {"vsdmot head": head, "teacher (ImageNet MobileNetV2)": teacher_embedder(teacher),
            "DeepSORT embedder": MobileNetV2Embedder(), "colour histogram": colour_histogram,
            "reid (distilled crop embedder)": reid,
            "reid + colour histogram": reid_colour}, model  # fmt: skip
