"""Hungarian matching of queries to ground-truth boxes (newborn objects only)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from vsdmot.models.box_ops import box_cxcywh_to_xyxy, generalized_box_iou


def assign(cost: Tensor) -> tuple[Tensor, Tensor]:
    """Minimum-cost one-to-one assignment of rows to columns (rectangular allowed).

    >>> rows, cols = assign(torch.tensor([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]]))
    >>> rows.tolist(), cols.tolist()
    ([0, 1, 2], [1, 0, 2])
    """
    if cost.numel() == 0:
        empty = torch.zeros(0, dtype=torch.long, device=cost.device)
        return empty, empty.clone()
    rows, cols = linear_sum_assignment(cost.detach().cpu().numpy())
    to = dict(dtype=torch.long, device=cost.device)
    return torch.as_tensor(rows, **to), torch.as_tensor(cols, **to)


def focal_cost(logits: Tensor, alpha: float, gamma: float) -> Tensor:
    """Per-query cost of calling it positive: focal loss(positive) - focal loss(negative)."""
    p = logits.sigmoid()
    neg = (1 - alpha) * p**gamma * -(1 - p + 1e-8).log()
    pos = alpha * (1 - p) ** gamma * -(p + 1e-8).log()
    return pos - neg


@dataclass
class HungarianMatcher:
    """Focal classification + L1 + GIoU matching cost, as in Deformable DETR."""

    cls_cost: float = 2.0
    l1_cost: float = 5.0
    giou_cost: float = 2.0
    alpha: float = 0.25
    gamma: float = 2.0

    @torch.no_grad()
    def cost_matrix(self, logits: Tensor, boxes: Tensor, gt_boxes: Tensor) -> Tensor:
        """``(Q,)`` logits, ``(Q, 4)`` and ``(G, 4)`` cxcywh boxes -> ``(Q, G)`` cost."""
        c_cls = focal_cost(logits, self.alpha, self.gamma)[:, None]
        c_l1 = torch.cdist(boxes, gt_boxes, p=1)
        c_giou = -generalized_box_iou(box_cxcywh_to_xyxy(boxes), box_cxcywh_to_xyxy(gt_boxes))
        return self.cls_cost * c_cls + self.l1_cost * c_l1 + self.giou_cost * c_giou

    def __call__(self, logits: Tensor, boxes: Tensor, gt_boxes: Tensor) -> tuple[Tensor, Tensor]:
        """Indices ``(query_idx, gt_idx)`` of the optimal matching."""
        return assign(self.cost_matrix(logits, boxes, gt_boxes))
