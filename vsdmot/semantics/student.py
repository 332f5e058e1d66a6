"""The student: a slim MobileNetV2 trunk at low resolution + a projection head.

It maps a (possibly degraded) frame to a vector in the teacher's embedding
space. The trunk keeps torchvision's parameter names, so at ``width=1.0`` the
first ``depth`` blocks can start from the ImageNet MobileNetV2 features file;
the head (1x1 neck, pooling, 2-layer MLP) is what DCSD's *projection* refers to.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.nn.imagenet import IMAGENET_MEAN, IMAGENET_STD
from vsdmot.nn.mobilenet_v2 import SETTINGS, InvertedResidual, init_weights
from vsdmot.nn.weights import apply_state, load_state_file
from vsdmot.semantics.config import StudentConfig
from vsdmot.semantics.preprocess import ImageInput, batch_resize, normalize, to_unit_rgb

log = logging.getLogger(__name__)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channel counts the way MobileNet does (to a multiple of 8, never below 90 %).

    >>> make_divisible(32 * 0.5), make_divisible(24 * 0.35)
    (16, 8)
    """
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def _stem(cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(inplace=True)
    )


def mobilenet_v2_trunk(width: float, depth: int) -> tuple[nn.Sequential, int]:
    """The first ``depth`` entries of MobileNetV2's ``features`` at ``width``; + out channels.

    >>> import torch
    >>> trunk, c = mobilenet_v2_trunk(1.0, 14)
    >>> c, tuple(trunk(torch.zeros(1, 3, 64, 64)).shape)
    (96, (1, 96, 4, 4))
    """
    cin = make_divisible(32 * width)
    layers: list[nn.Module] = [_stem(cin)]
    for t, c, n, s in SETTINGS:
        cout = make_divisible(c * width)
        for i in range(n):
            if len(layers) >= depth:
                break
            layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
            cin = cout
    return nn.Sequential(*layers[:depth]), cin


class Student(nn.Module):
    """Frame -> raw (unnormalised) vector in the teacher's ``embed_dim``-d space.

    ``forward`` takes unit-RGB pixels already at ``input_size`` (it applies the ImageNet
    normalisation the trunk was trained with); :meth:`embed` takes any images and
    returns L2-normalised vectors.

    >>> import torch
    >>> s = Student(StudentConfig(input_size=32, width=0.25, depth=6, feature_dim=32,
    ...                           head_hidden=32), embed_dim=16)
    >>> s.embed(torch.rand(3, 3, 40, 60)).shape
    torch.Size([3, 16])
    """

    def __init__(self, cfg: StudentConfig, embed_dim: int) -> None:
        super().__init__()
        self.config = cfg
        self.embed_dim = int(embed_dim)
        self.features, trunk_dim = mobilenet_v2_trunk(cfg.width, cfg.depth)
        self.neck = nn.Sequential(
            nn.Conv2d(trunk_dim, cfg.feature_dim, 1, bias=False),
            nn.BatchNorm2d(cfg.feature_dim),
            nn.ReLU6(inplace=True),
        )
        self.head = nn.Sequential(
            nn.Linear(cfg.feature_dim, cfg.head_hidden),
            nn.GELU(),
            nn.Linear(cfg.head_hidden, self.embed_dim),
        )
        init_weights(self)
        # Pretrained trunks keep their ImageNet batch statistics: the batches the
        # student sees during tracking (a few frames of one clip) are too small and too
        # correlated to re-estimate them.
        self.frozen_bn = cfg.pretrained is not None
        if cfg.pretrained is not None:
            self.load_trunk(cfg.pretrained)

    def load_trunk(self, path: str | Path) -> None:
        """Initialise the trunk from a MobileNetV2 ``features.*`` state dict (torchvision keys)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"student.pretrained={str(path)!r} does not exist: pass the MobileNetV2 "
                "features file (e.g. mobilenet_v2_imagenet_features.pt) or pretrained=None"
            )
        state = load_state_file(path, "student.pretrained")
        own = self.features.state_dict()
        wanted = {
            k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")
        }
        wanted = {k: v for k, v in wanted.items() if k in own}
        missing = sorted(set(own) - set(wanted))
        if missing:
            raise ValueError(f"{path} lacks {len(missing)} trunk tensors, e.g. {missing[:3]}")
        apply_state(self.features, wanted, path, "student.pretrained")
        log.info("student trunk: first %d MobileNetV2 blocks from %s", self.config.depth, path)

    def train(self, mode: bool = True) -> Student:
        super().train(mode)
        if mode and self.frozen_bn:
            for m in self.features.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def prepare(self, images: ImageInput) -> Tensor:
        """Any images -> unit-RGB ``(B, 3, S, S)`` at the student's input size."""
        device = self.head[0].weight.device
        return batch_resize([c.to(device) for c in to_unit_rgb(images)], self.config.input_size)

    def forward(self, pixels: Tensor) -> Tensor:
        x = self.features(normalize(pixels, IMAGENET_MEAN, IMAGENET_STD))
        x = self.neck(x).mean(dim=(2, 3))
        return self.head(x)

    def embed(self, images: ImageInput) -> Tensor:
        """L2-normalised embeddings ``(B, embed_dim)`` of images of any size."""
        return F.normalize(self(self.prepare(images)), dim=-1)
