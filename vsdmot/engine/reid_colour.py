"""How much the colour histogram should count beside the learned embedding: the weight
``w`` of :class:`~vsdmot.reid.model.ColourConcat` with the best top-1 re-identification
``gap`` frames apart on crops of the training frames, in each degraded variant.

>>> ids = np.array([1, 2, 1, 2]); frames = np.array([0, 0, 5, 5])
>>> learned = np.eye(2)[[0, 1, 1, 0]]  # the learned embedding swaps the two people ...
>>> colour = np.eye(2)[[0, 1, 0, 1]]  # ... the colour does not
>>> pair_top1(ids, frames, learned, 5), pair_top1(ids, frames, colour, 5)
(0.0, 1.0)
"""

from __future__ import annotations

import numpy as np

from vsdmot.engine.reid_data import CropSet, centre_window
from vsdmot.reid.colour import colour_histogram
from vsdmot.reid.model import CropEmbedder

GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def pair_top1(ids: np.ndarray, frames: np.ndarray, emb: np.ndarray, gap: int) -> float:
    """Share of the people of frame ``t`` whose nearest person (cosine) of frame
    ``t + gap`` is themselves, over every frame with such a pair."""
    hits = total = 0
    for t in np.unique(frames):
        q, g = np.flatnonzero(frames == t), np.flatnonzero(frames == t + gap)
        if len(g) < 2:
            continue
        best = ids[g][np.argmax(emb[q] @ emb[g].T, axis=1)]
        present = np.isin(ids[q], ids[g])
        hits += int((best == ids[q])[present].sum())
        total += int(present.sum())
    return hits / total if total else float("nan")


def variant_embeddings(embedder: CropEmbedder, data: CropSet, variant: int
                       ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The learned embedding and the colour histogram of every crop in ``variant``."""
    cfg = embedder.net.cfg
    crops = np.ascontiguousarray(centre_window(data.crops[:, variant], (cfg.height, cfg.width)))
    whole = np.array([[0, 0, cfg.width, cfg.height]])
    colour = np.concatenate([colour_histogram(np.ascontiguousarray(c[:, :, ::-1]), whole)
                             for c in crops])  # fmt: skip
    return embedder.embed_crops(crops), colour


def choose_colour_weight(
    embedder: CropEmbedder, data: CropSet, gap: int = 10
) -> tuple[float, dict[float, float]]:
    """The best weight of :data:`GRID` and the top-1 of every weight, averaged over the
    degraded variants: each variant is one video degraded throughout (each run of frames
    by one type and severity), as a tracker meets it."""
    variants = range(1, data.crops.shape[1]) if data.crops.shape[1] > 1 else [0]
    scores = dict.fromkeys(GRID, 0.0)
    for v in variants:
        learned, colour = variant_embeddings(embedder, data, v)
        for w in GRID:
            both = np.concatenate([learned * np.sqrt(1 - w), colour * np.sqrt(w)], axis=1)
            scores[w] += pair_top1(data.ids, data.frames, both, gap) / len(variants)
    return max(scores, key=lambda w: (scores[w], -w)), scores
