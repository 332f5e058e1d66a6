"""BatchNorm with fixed statistics and affine parameters."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d whose statistics and affine parameters are buffers (never trained).

    Small clip batches give useless batch statistics, and batch statistics would make
    a clip's output depend on its batch mates.

    >>> bn = nn.BatchNorm2d(2).eval()
    >>> bn.running_mean.fill_(1.0)  # doctest: +ELLIPSIS
    tensor(...)
    >>> x = torch.randn(1, 2, 3, 3)
    >>> torch.allclose(FrozenBatchNorm2d.from_bn(bn)(x), bn(x), atol=1e-6)
    True
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    @classmethod
    def from_bn(cls, bn: nn.BatchNorm2d) -> FrozenBatchNorm2d:
        frozen = cls(bn.num_features, bn.eps)
        with torch.no_grad():
            if bn.affine:
                frozen.weight.copy_(bn.weight)
                frozen.bias.copy_(bn.bias)
            if bn.running_mean is not None:
                frozen.running_mean.copy_(bn.running_mean)
                frozen.running_var.copy_(bn.running_var)
        return frozen.to(bn.weight.device if bn.affine else "cpu")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # Checkpoints of ordinary BatchNorm carry a counter that has no meaning here.
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


def freeze_batch_norm(module: nn.Module) -> nn.Module:
    """Replace every ``nn.BatchNorm2d`` inside ``module`` (in place) by a frozen copy."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, FrozenBatchNorm2d.from_bn(child))
        else:
            freeze_batch_norm(child)
    return module
