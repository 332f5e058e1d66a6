"""Tracklet-aware label assignment, losses, and the choice of queries carried forward.

Per frame of one clip:

* a track query keeps the gt id it was born with: its target is that id's box in this
  frame, or "no object" when the id is absent;
* proposal and learnable queries are matched (Hungarian) only to gt ids that no track
  query holds, i.e. to newborn objects;
* focal classification over all queries, L1 + GIoU over matched ones, the same
  assignment reused for every decoder layer (auxiliary losses).

Losses are summed over all frames and clips and divided once by the number of gt
objects in the whole batch of clips: MOTR's collective average loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from vsdmot.models.batch import FrameTargets
from vsdmot.models.box_ops import box_cxcywh_to_xyxy, generalized_box_iou
from vsdmot.models.config import ModelConfig
from vsdmot.models.matcher import HungarianMatcher

TRACK = 0


def sigmoid_focal_loss(logits: Tensor, targets: Tensor, alpha: float, gamma: float) -> Tensor:
    """Summed binary focal loss (Lin et al. 2017).

    >>> x = torch.tensor([4.0, -4.0])
    >>> bool(sigmoid_focal_loss(x, torch.tensor([1.0, 0.0]), 0.25, 2.0) < 1e-3)
    True
    """
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * (1 - p_t) ** gamma * ce).sum()


@dataclass
class FrameAssignment:
    """Targets of one clip's queries in one frame."""

    target_idx: Tensor  # (Q,) row in the frame's gt, -1 = no object
    gt_ids: Tensor  # (Q,) gt track id, -1 = no object


class TrackletCriterion:
    """Assignment and (unnormalised) losses for one frame of one clip at a time."""

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg
        self.matcher = HungarianMatcher(
            cfg.match_cls_cost,
            cfg.match_l1_cost,
            cfg.match_giou_cost,
            cfg.focal_alpha,
            cfg.focal_gamma,
        )

    @torch.no_grad()
    def assign(
        self, logits: Tensor, boxes: Tensor, kinds: Tensor, track_ids: Tensor, gt: FrameTargets
    ) -> FrameAssignment:
        """Assign ``Q`` queries (final-layer ``logits (Q,)``, ``boxes (Q, 4)``) to ``gt``.

        ``track_ids (num_track,)`` are the gt ids held by the leading track queries
        (-1 for a false-positive track).
        """
        q = logits.shape[0]
        device = logits.device
        target_idx = torch.full((q,), -1, dtype=torch.long, device=device)
        gt_ids = gt.ids.to(device)
        n_track = track_ids.shape[0]
        if n_track and gt_ids.numel():
            hit = track_ids[:, None] == gt_ids[None, :]  # (n_track, G)
            has = hit.any(1)
            target_idx[:n_track][has] = hit.float().argmax(1)[has]
        tracked = torch.zeros(gt_ids.shape[0], dtype=torch.bool, device=device)
        tracked[target_idx[target_idx >= 0]] = True
        newborn = (~tracked).nonzero().squeeze(1)
        free = (kinds != TRACK).nonzero().squeeze(1)
        if newborn.numel() and free.numel():
            qi, gi = self.matcher(logits[free], boxes[free], gt.boxes.to(device)[newborn])
            target_idx[free[qi]] = newborn[gi]
        ids = (
            torch.where(target_idx >= 0, gt_ids[target_idx.clamp(min=0)], -1)
            if gt_ids.numel()
            else torch.full_like(target_idx, -1)
        )
        return FrameAssignment(target_idx, ids)

    def layer_losses(
        self, logits: Tensor, boxes: Tensor, assignment: FrameAssignment, gt_boxes: Tensor
    ) -> Tensor:
        """Summed ``[focal, l1, giou]`` for each decoder layer: ``(L, 3)``.

        ``logits (L, Q)``, ``boxes (L, Q, 4)``.
        """
        matched = assignment.target_idx >= 0
        labels = matched.to(logits.dtype)
        out = []
        for lg, bx in zip(logits, boxes, strict=True):
            cls = sigmoid_focal_loss(lg, labels, self.cfg.focal_alpha, self.cfg.focal_gamma)
            if matched.any():
                pred = bx[matched]
                tgt = gt_boxes[assignment.target_idx[matched]]
                l1 = (pred - tgt).abs().sum()
                giou = generalized_box_iou(box_cxcywh_to_xyxy(pred), box_cxcywh_to_xyxy(tgt))
                giou_loss = (1 - giou.diagonal()).sum()
            else:
                l1 = giou_loss = bx.sum() * 0.0  # keeps the graph connected for DDP
            out.append(torch.stack((cls, l1, giou_loss)))
        return torch.stack(out)

    def weighted(self, sums: Tensor, num_gt: int) -> dict[str, Tensor]:
        """Turn summed ``(L, 3)`` losses into the weighted, CAL-normalised components."""
        cfg = self.cfg
        w = torch.tensor(
            [cfg.cls_loss_weight, cfg.l1_loss_weight, cfg.giou_loss_weight],
            dtype=sums.dtype,
            device=sums.device,
        )
        per_layer = sums * w / max(num_gt, 1)
        losses = {
            "loss_cls": per_layer[-1, 0],
            "loss_l1": per_layer[-1, 1],
            "loss_giou": per_layer[-1, 2],
        }
        if sums.shape[0] > 1 and cfg.aux_loss_weight > 0:
            losses["loss_aux"] = cfg.aux_loss_weight * per_layer[:-1].sum()
        return losses

    def carried_queries(
        self,
        assignment: FrameAssignment,
        logits: Tensor,
        kinds: Tensor,
        generator: torch.Generator,
    ) -> tuple[Tensor, Tensor]:
        """Queries that become next frame's track queries, and the gt ids they hold.

        The matched queries (by id), minus random drops (their objects become newborn
        again), plus false positives: the best-scoring unmatched non-track queries,
        held under id -1 so that next frame teaches them to die.
        """
        cfg = self.cfg
        matched = (assignment.target_idx >= 0).nonzero().squeeze(1)
        if cfg.track_drop_prob > 0 and matched.numel():
            keep = torch.rand(matched.numel(), generator=generator) >= cfg.track_drop_prob
            matched = matched[keep.to(matched.device)]
        idx = [matched]
        if (
            cfg.fp_insert_prob > 0
            and float(torch.rand(1, generator=generator)) < cfg.fp_insert_prob
        ):
            cand = ((assignment.target_idx < 0) & (kinds != TRACK)).nonzero().squeeze(1)
            if cand.numel():
                top = logits[cand].topk(min(cfg.fp_max_per_frame, cand.numel())).indices
                idx.append(cand[top])
        chosen = torch.cat(idx)
        if chosen.numel() > cfg.max_track_queries:
            best = logits[chosen].topk(cfg.max_track_queries).indices.sort().values
            chosen = chosen[best]
        return chosen, assignment.gt_ids[chosen]
