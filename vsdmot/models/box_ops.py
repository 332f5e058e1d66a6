"""Box conversions and (generalised) IoU for ``(cx, cy, w, h)`` / ``(x0, y0, x1, y1)`` boxes."""

from __future__ import annotations

import torch
from torch import Tensor


def box_cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    """``(..., 4)`` cxcywh -> xyxy.

    >>> box_cxcywh_to_xyxy(torch.tensor([0.5, 0.5, 0.2, 0.4])).tolist()
    [0.4000000059604645, 0.30000001192092896, 0.6000000238418579, 0.699999988079071]
    """
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def box_xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    """``(..., 4)`` xyxy -> cxcywh (inverse of :func:`box_cxcywh_to_xyxy`).

    >>> box_xyxy_to_cxcywh(torch.tensor([0.0, 0.0, 2.0, 4.0])).tolist()
    [1.0, 2.0, 2.0, 4.0]
    """
    x0, y0, x1, y1 = boxes.unbind(-1)
    return torch.stack(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0), dim=-1)


def box_area(boxes: Tensor) -> Tensor:
    """Area of xyxy boxes."""
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(
        min=0
    )


def box_iou(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Pairwise IoU of xyxy boxes ``a (N, 4)`` and ``b (M, 4)``; also returns the union."""
    area_a, area_b = box_area(a), box_area(b)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / union.clamp(min=1e-9), union


def generalized_box_iou(a: Tensor, b: Tensor) -> Tensor:
    """Pairwise generalised IoU (Rezatofighi et al. 2019) of xyxy boxes, in [-1, 1].

    GIoU = IoU - |C \\ (A ∪ B)| / |C| with C the smallest box enclosing both.

    >>> a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    >>> b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 4.0, 2.0]])
    >>> [round(v, 4) for v in generalized_box_iou(a, b)[0].tolist()]
    [-0.0794, 1.0, -0.25]
    """
    iou, union = box_iou(a, b)
    lt = torch.min(a[:, None, :2], b[None, :, :2])
    rb = torch.max(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    hull = wh[..., 0] * wh[..., 1]
    return iou - (hull - union) / hull.clamp(min=1e-9)


def inverse_sigmoid(x: Tensor, eps: float = 1e-5) -> Tensor:
    """Numerically safe logit, the space in which box refinements are added.

    >>> round(float(inverse_sigmoid(torch.tensor(0.5))), 6)
    0.0
    """
    x = x.clamp(0, 1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))
