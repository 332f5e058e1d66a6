"""Losses that adapt a YOLO detector to degraded frames (clean-to-degraded distillation).

Every term returns one value **per frame** ``(B,)``, so the caller can weight frames
(by quality, :func:`quality_weights`) and mask them (labels exist only on some):

(a) :func:`detection_loss`: YOLOv3's loss on ground-truth boxes. Each box goes to
    the anchor (over all heads) whose shape fits it best and to the cell holding its
    centre; squared error on the decoded centre offset and on ``log(w / anchor)``,
    BCE on objectness (cells whose predicted box already overlaps a box by IoU >=
    ``ignore_iou`` are left out of the negatives) and on the box's class; summed over
    cells and divided by the frame's box count, as YOLOv3 weighs them.
(b) :func:`response_loss`: the student's outputs on the degraded frame match the
    teacher's on the clean frame: objectness and class probabilities as Bernoulli KL
    divergences (0 when they agree), box offsets and sizes as squared errors weighted
    by the teacher's objectness. Normalised by the teacher's expected object count, so
    a crowded frame and an empty one weigh alike per object.
(c) :func:`feature_losses`: the DCSD pair on the neck features: alignment
    (``1 - cos`` per location, student on degraded vs teacher on clean) and structure
    (the location-to-location similarity distributions of each frame must match).
(d) :func:`quality_weights`: a DSWR-style per-frame weight, ``1 + gamma (1 - q)``,
    normalised to mean 1 over the batch, so the ablation against a constant weight
    compares the same total weight spread differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from vsdmot.detection.darknet import YoloHead
from vsdmot.models.box_ops import box_iou
from vsdmot.nn.losses import alignment_loss, structure_loss

_EPS = 1e-7


def split_map(raw: Tensor, head: YoloHead) -> Tensor:
    """``(B, A (5 + C), H, W)`` raw map -> ``(B, A, 5 + C, H, W)``."""
    b, _, h, w = raw.shape
    return raw.view(b, len(head.anchors), 5 + head.classes, h, w)


def _offsets(logits: Tensor, head: YoloHead) -> Tensor:
    """Decoded centre offset inside the cell (Darknet's ``scale_x_y`` included)."""
    s = head.scale_x_y
    return torch.sigmoid(logits) * s - (s - 1) / 2


def bernoulli_kl(logits: Tensor, target: Tensor) -> Tensor:
    """Elementwise ``KL(Bernoulli(target) || Bernoulli(sigmoid(logits)))``: BCE minus the
    target's entropy, so it is 0 exactly where the probabilities agree.

    >>> round(bernoulli_kl(torch.tensor([0.0]), torch.tensor([0.5])).item(), 6)
    0.0
    """
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    t = target.clamp(_EPS, 1 - _EPS)
    entropy = -(t * t.log() + (1 - t) * (1 - t).log())
    return bce - entropy


# --- (a) detection loss on ground truth ---------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """Ground-truth boxes assigned to (head, anchor, cell), with their regression targets."""

    frame: Tensor  # (N,) frame in the batch
    head: Tensor  # (N,)
    anchor: Tensor  # (N,) anchor index within the head
    gy: Tensor  # (N,) cell row
    gx: Tensor  # (N,) cell column
    offset: Tensor  # (N, 2) centre offset inside the cell, in [0, 1)
    log_wh: Tensor  # (N, 2) log(box size / anchor size)
    size_weight: Tensor  # (N,) 2 - box area / image area: small boxes count more
    label: Tensor  # (N,) class


def assign_targets(
    boxes: Sequence[Tensor],
    labels: Sequence[Tensor],
    heads: Sequence[YoloHead],
    grids: Sequence[tuple[int, int]],
    input_hw: tuple[int, int],
) -> Assignment:
    """Each box (xyxy, input pixels) to the best-fitting anchor of all heads by shape IoU.

    >>> from vsdmot.detection.darknet import YoloHead
    >>> heads = [YoloHead(0, ((10.0, 10.0), (40.0, 80.0)), 1)]
    >>> a = assign_targets([torch.tensor([[20.0, 0.0, 60.0, 80.0]])], [torch.tensor([0])],
    ...                    heads, [(4, 4)], (128, 128))
    >>> a.anchor.tolist(), a.gy.tolist(), a.gx.tolist(), a.offset.tolist()
    ([1], [1], [1], [[0.25, 0.25]])
    """
    in_h, in_w = input_hw
    table = [(k, a, aw, ah) for k, h in enumerate(heads) for a, (aw, ah) in enumerate(h.anchors)]
    anchors = torch.tensor([[aw, ah] for _, _, aw, ah in table], dtype=torch.float32)
    cols: dict[str, list[Tensor]] = {k: [] for k in Assignment.__dataclass_fields__}
    for b, (xyxy, lab) in enumerate(zip(boxes, labels, strict=True)):
        if len(xyxy) == 0:
            continue
        xyxy = xyxy.float()
        wh = (xyxy[:, 2:] - xyxy[:, :2]).clamp(min=1.0)
        centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        inter = torch.minimum(wh[:, None], anchors[None]).prod(-1)
        iou = inter / (wh.prod(-1)[:, None] + anchors.prod(-1)[None] - inter)
        best = iou.argmax(dim=1)
        head = torch.tensor([table[i][0] for i in best.tolist()])
        gh = torch.tensor([grids[k][0] for k in head.tolist()], dtype=torch.float32)
        gw = torch.tensor([grids[k][1] for k in head.tolist()], dtype=torch.float32)
        cell = torch.stack([centre[:, 0] * gw / in_w, centre[:, 1] * gh / in_h], dim=1)
        gx = cell[:, 0].floor().clamp(min=0).minimum(gw - 1)
        gy = cell[:, 1].floor().clamp(min=0).minimum(gh - 1)
        cols["frame"].append(torch.full((len(xyxy),), b))
        cols["head"].append(head)
        cols["anchor"].append(torch.tensor([table[i][1] for i in best.tolist()]))
        cols["gy"].append(gy.long())
        cols["gx"].append(gx.long())
        cols["offset"].append((cell - torch.stack([gx, gy], 1)).clamp(0.0, 1.0 - 1e-4))
        cols["log_wh"].append((wh / anchors[best]).log())
        cols["size_weight"].append(2.0 - wh.prod(-1) / (in_h * in_w))
        cols["label"].append(lab.long().reshape(-1))
    if not cols["frame"]:
        empty = torch.zeros(0, dtype=torch.long)
        return Assignment(empty, empty, empty, empty, empty, torch.zeros(0, 2),
                          torch.zeros(0, 2), torch.zeros(0), empty)  # fmt: skip
    return Assignment(**{k: torch.cat(v) for k, v in cols.items()})


def _decode_boxes(x: Tensor, head: YoloHead, input_hw: tuple[int, int]) -> Tensor:
    """Split map ``(B, A, 5 + C, H, W)`` -> ``(B, A, H, W, 4)`` xyxy boxes in input pixels."""
    in_h, in_w = input_hw
    _, a, _, gh, gw = x.shape
    gy, gx = torch.meshgrid(torch.arange(gh, dtype=x.dtype), torch.arange(gw, dtype=x.dtype),
                            indexing="ij")  # fmt: skip
    off = _offsets(x[:, :, :2], head)
    cx = (off[:, :, 0] + gx) * (in_w / gw)
    cy = (off[:, :, 1] + gy) * (in_h / gh)
    anchors = torch.tensor(head.anchors, dtype=x.dtype).view(1, a, 2, 1, 1)
    wh = torch.exp(x[:, :, 2:4].clamp(max=10.0)) * anchors
    return torch.stack([cx - wh[:, :, 0] / 2, cy - wh[:, :, 1] / 2,
                        cx + wh[:, :, 0] / 2, cy + wh[:, :, 1] / 2], dim=-1)  # fmt: skip


def detection_loss(
    maps: Sequence[Tensor],
    heads: Sequence[YoloHead],
    boxes: Sequence[Tensor],
    labels: Sequence[Tensor],
    input_hw: tuple[int, int],
    *,
    ignore_iou: float = 0.5,
) -> Tensor:
    """YOLOv3's loss per frame ``(B,)``: box and class error summed over the frame's boxes,
    objectness BCE summed over its non-ignored cells, all divided by its box count
    (at least 1)."""
    split = [split_map(m, h) for m, h in zip(maps, heads, strict=True)]
    grids = [(x.shape[3], x.shape[4]) for x in split]
    assign = assign_targets(boxes, labels, heads, grids, input_hw)
    batch = split[0].shape[0]
    box_sum = torch.zeros(batch)
    cls_sum = torch.zeros(batch)
    obj = torch.zeros(batch)
    count = torch.bincount(assign.frame, minlength=batch).float()
    for k, (x, head) in enumerate(zip(split, heads, strict=True)):
        target = torch.zeros_like(x[:, :, 4])
        ignore = torch.zeros_like(target, dtype=torch.bool)
        with torch.no_grad():
            pred = _decode_boxes(x.detach(), head, input_hw)
            for b in range(batch):
                if len(boxes[b]):
                    best = box_iou(pred[b].reshape(-1, 4), boxes[b].float())[0].amax(dim=1)
                    ignore[b] = (best >= ignore_iou).view_as(ignore[b])
        sel = assign.head == k
        if sel.any():
            f, a, gy, gx = (assign.frame[sel], assign.anchor[sel], assign.gy[sel],
                            assign.gx[sel])  # fmt: skip
            cell = x[f, a, :, gy, gx]  # (n, 5 + C)
            err = (_offsets(cell[:, :2], head) - assign.offset[sel]).pow(2).sum(-1)
            err = err + (cell[:, 2:4] - assign.log_wh[sel]).pow(2).sum(-1)
            box_sum.index_add_(0, f, err * assign.size_weight[sel])
            cls_logit = cell[:, 5:].gather(1, assign.label[sel][:, None]).squeeze(1)
            cls_sum.index_add_(0, f, F.binary_cross_entropy_with_logits(
                cls_logit, torch.ones_like(cls_logit), reduction="none"))  # fmt: skip
            target[f, a, gy, gx] = 1.0
            ignore[f, a, gy, gx] = False
        bce = F.binary_cross_entropy_with_logits(x[:, :, 4], target, reduction="none")
        obj = obj + (bce * (~ignore).float()).flatten(1).sum(1)
    # Everything per box of the frame, objectness too: a mean over cells would let
    # "no object anywhere" win (a few positives among thousands of cells).
    return (box_sum + cls_sum + obj) / count.clamp(min=1.0)


# --- (b) response distillation ------------------------------------------------------------


def response_loss(
    student_maps: Sequence[Tensor], teacher_maps: Sequence[Tensor], heads: Sequence[YoloHead]
) -> Tensor:
    """Per frame ``(B,)``: objectness KL over every cell, plus class KL (summed over classes)
    and box error weighted by the teacher's objectness; all divided by the teacher's
    expected object count (at least 1)."""
    total = None
    mass = None
    for s_raw, t_raw, head in zip(student_maps, teacher_maps, heads, strict=True):
        s, t = split_map(s_raw, head), split_map(t_raw.detach(), head)
        t_obj = torch.sigmoid(t[:, :, 4])
        obj = bernoulli_kl(s[:, :, 4], t_obj)
        cls = bernoulli_kl(s[:, :, 5:], torch.sigmoid(t[:, :, 5:])).sum(2)
        box = (_offsets(s[:, :, :2], head) - _offsets(t[:, :, :2], head)).pow(2).sum(2)
        box = box + (s[:, :, 2:4] - t[:, :, 2:4]).pow(2).sum(2)
        term = (obj + t_obj * (cls + box)).flatten(1).sum(1)
        head_mass = t_obj.flatten(1).sum(1)
        total = term if total is None else total + term
        mass = head_mass if mass is None else mass + head_mass
    assert total is not None and mass is not None
    return total / mass.clamp(min=1.0)


# --- (c) feature distillation (DCSD on the neck) -----------------------------------------------


def feature_losses(
    student_feats: Sequence[Tensor], teacher_feats: Sequence[Tensor], tau: float = 0.1
) -> tuple[Tensor, Tensor]:
    """Per frame ``(B,)`` alignment and structure, averaged over the heads' neck features.

    Locations are the rows: alignment compares each location's channel vector with the
    teacher's at the same place; structure compares each frame's location-by-location
    similarity distributions (the DCSD pair of :mod:`vsdmot.nn.losses`).
    """
    align, struct = [], []
    for s, t in zip(student_feats, teacher_feats, strict=True):
        if s.shape != t.shape:
            raise ValueError(f"student features {tuple(s.shape)} vs teacher {tuple(t.shape)}")
        rows_s = s.flatten(2).transpose(1, 2)  # (B, HW, C)
        rows_t = t.detach().flatten(2).transpose(1, 2)
        pairs = list(zip(rows_s, rows_t, strict=True))
        align.append(torch.stack([alignment_loss(a, b) for a, b in pairs]))
        struct.append(torch.stack([structure_loss(a, b, tau) for a, b in pairs]))
    return torch.stack(align).mean(0), torch.stack(struct).mean(0)


# --- (d) quality weighting ------------------------------------------------------------------

#: How distillation terms are weighted per frame.
WEIGHTINGS = ("dswr", "constant")


def quality_weights(quality: Tensor, mode: str = "dswr", gamma: float = 1.0) -> Tensor:
    """Per-frame weights, mean 1 over the batch: ``1 + gamma (1 - q)`` (``dswr``) or 1.

    >>> [round(w, 4) for w in quality_weights(torch.tensor([1.0, 0.0]), "dswr", 1.0).tolist()]
    [0.6667, 1.3333]
    >>> quality_weights(torch.tensor([1.0, 0.0]), "constant").tolist()
    [1.0, 1.0]
    """
    if mode == "constant":
        return torch.ones_like(quality)
    if mode != "dswr":
        raise ValueError(f"quality weighting must be one of {WEIGHTINGS}, got {mode!r}")
    w = 1.0 + gamma * (1.0 - quality.clamp(0.0, 1.0))
    return w / w.mean()
