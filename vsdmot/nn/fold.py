"""Folding batch normalisation into the convolution before it, for inference.

A frozen (or eval-mode) BatchNorm after a convolution is an affine map per channel,
so it can live in the convolution's weights and bias: on a CPU that saves a
multiply and an add over every activation map. Only the inference copy of a model is folded: its
parameter names change, so a folded model is never trained or saved.
"""

from __future__ import annotations

import torch
from torch import nn

from vsdmot.nn.frozen_bn import FrozenBatchNorm2d

_NORMS = (nn.BatchNorm2d, FrozenBatchNorm2d)


def _fused(conv: nn.Conv2d, bn: nn.Module) -> nn.Conv2d:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                      conv.padding, conv.dilation, conv.groups, bias=True,
                      padding_mode=conv.padding_mode).to(conv.weight)  # fmt: skip
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused


@torch.no_grad()
def fold_batchnorm(module: nn.Module) -> int:
    """Fold every normalisation that directly follows a ``Conv2d`` inside an
    ``nn.Sequential`` into it (in place; the norm becomes ``nn.Identity``). Returns
    how many were folded. Train-mode BatchNorm is left alone (its statistics move).

    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
    >>> _ = net[1].running_mean.uniform_(), net[1].running_var.uniform_(0.5, 2)
    >>> x = torch.randn(2, 3, 8, 8)
    >>> before = net(x)
    >>> fold_batchnorm(net), torch.allclose(net(x), before, atol=1e-5)
    (1, True)
    """
    count = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if (isinstance(conv, nn.Conv2d) and isinstance(bn, _NORMS)
                    and not (isinstance(bn, nn.BatchNorm2d) and bn.training)
                    and bn.running_var is not None):  # fmt: skip
                seq[i], seq[i + 1] = _fused(conv, bn), nn.Identity()
                count += 1
    return count


def prepare_for_inference(model: nn.Module) -> nn.Module:
    """A model that only runs forward (the runtime tracker's): batch norm folded into
    the convolutions and weights in channels-last layout, which oneDNN's CPU kernels
    prefer (together 0.60x the time per step of the shipped model at 288 px, outputs
    equal to within float rounding: ``benchmarks/bench_inference_prep.py``). In place;
    returns the model."""
    fold_batchnorm(model.eval())
    return model.to(memory_format=torch.channels_last)
