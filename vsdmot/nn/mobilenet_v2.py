"""MobileNetV2 feature extractor with torchvision's parameter names.

The module layout (``features.0.0.weight`` ... ``features.18.1.running_var``) matches
torchvision's ImageNet checkpoint, so its ``features.*`` state dict loads with
``strict=True`` without depending on torchvision.
"""

from __future__ import annotations

import logging
from pathlib import Path

from torch import Tensor, nn

from vsdmot.nn.weights import apply_state, load_state_file

logger = logging.getLogger(__name__)

# (expansion t, output channels c, repeats n, first stride s), Sandler et al. 2018, Table 2.
SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)

# Indices into ``features`` whose outputs are the stride-8 / 16 / 32 maps.
STAGE_ENDS: tuple[int, int, int] = (6, 13, 18)
STAGE_CHANNELS: tuple[int, int, int] = (32, 96, 1280)


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise (3x3) -> linear project (1x1), residual when shapes allow.

    ``conv`` is one flat Sequential so that parameter names match the checkpoint
    (``conv.0`` ... ``conv.7``).
    """

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [
                nn.Conv2d(cin, hidden, 1, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(True),
            ]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(True),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Features(nn.Module):
    """The convolutional trunk of MobileNetV2 (width 1.0), no classifier.

    ``forward`` returns the final 1280-channel stride-32 map; :meth:`forward_stages`
    returns the stride-8/16/32 maps.

    >>> import torch
    >>> net = MobileNetV2Features().eval()
    >>> [tuple(f.shape) for f in net.forward_stages(torch.zeros(1, 3, 64, 96))]
    [(1, 32, 8, 12), (1, 96, 4, 6), (1, 1280, 2, 3)]
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn_relu(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_conv_bn_relu(cin, 1280, 1, 1))
        self.features = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in STAGE_ENDS:
                outs.append(x)
        return outs


def load_mobilenet_v2_features(path: str | Path) -> MobileNetV2Features:
    """A :class:`MobileNetV2Features` with the ``features.*`` state dict at ``path`` (strict).

    Accepts a bare ``features.*`` state dict or a full torchvision classifier checkpoint
    (the ``classifier.*`` entries are ignored).
    """
    path = Path(path)
    state = load_state_file(path, "MobileNetV2")
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    net = MobileNetV2Features()
    apply_state(net, state, path, "MobileNetV2")
    logger.info("loaded MobileNetV2 features from %s", path)
    return net


def init_weights(module: nn.Module) -> None:
    """MobileNetV2's initialisation: He for convolutions, identity batch norm, and a
    small truncated normal for linear layers."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
