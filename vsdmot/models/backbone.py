"""Backbones returning stride-8/16/32 feature maps, with stage freezing and frozen BN."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import Tensor, nn

from vsdmot.models.config import ModelConfig
from vsdmot.nn.frozen_bn import freeze_batch_norm
from vsdmot.nn.mobilenet_v2 import (
    STAGE_CHANNELS,
    MobileNetV2Features,
    load_mobilenet_v2_features,
)

logger = logging.getLogger(__name__)

STRIDES: tuple[int, int, int] = (8, 16, 32)


class Backbone(nn.Module):
    """Common interface: ``forward(images) -> [C3 (stride 8), C4 (16), C5 (32)]``.

    Subclasses expose ``stages()``: four module groups (stem to stride 4, then strides
    8, 16, 32) so that the earliest ones can be frozen uniformly.
    """

    channels: tuple[int, int, int]

    def stages(self) -> list[nn.Module]:
        raise NotImplementedError

    def freeze_stages(self, trainable: int) -> None:
        """Freeze all but the ``trainable`` deepest stages (0 freezes everything)."""
        stages = self.stages()
        for i, stage in enumerate(stages):
            train = i >= len(stages) - trainable
            for p in stage.parameters():
                p.requires_grad_(train)


class MobileNetV2Backbone(Backbone):
    """MobileNetV2 (pure PyTorch) with torchvision-compatible weights."""

    def __init__(self, weights: str | None) -> None:
        super().__init__()
        self.body = load_mobilenet_v2_features(weights) if weights else MobileNetV2Features()
        if not weights:
            logger.info("MobileNetV2 backbone randomly initialised (no weights given)")
        self.channels = STAGE_CHANNELS

    def stages(self) -> list[nn.Module]:
        f = self.body.features
        return [f[0:4], f[4:7], f[7:14], f[14:19]]

    def forward(self, images: Tensor) -> list[Tensor]:
        return self.body.forward_stages(images)


class HFResNetBackbone(Backbone):
    """A Hugging Face ``transformers`` ResNet (hub id or local folder), stages 2-4."""

    OUT_FEATURES = ("stage2", "stage3", "stage4")

    def __init__(self, weights: str | None) -> None:
        super().__init__()
        from transformers import ResNetBackbone, ResNetConfig

        out = list(self.OUT_FEATURES)
        if weights is None:
            logger.info("hf_resnet backbone randomly initialised (ResNet-50 layout)")
            self.body = ResNetBackbone(ResNetConfig(out_features=out))
        else:
            # ResNetBackbone rather than AutoBackbone: the latter asks the hub whether the
            # name exists even for a local folder, which fails offline.
            src = str(Path(weights)) if Path(weights).exists() else weights
            try:
                self.body = ResNetBackbone.from_pretrained(src, out_features=out)
            except OSError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise OSError(
                    f"model.backbone_weights={weights!r}: could not load it ({first}). Pass "
                    "a local folder made with ResNetBackbone.from_pretrained(<hub id>)"
                    ".save_pretrained(<folder>), or model.backbone_weights=null to start "
                    "from random weights"
                ) from exc
            logger.info("loaded hf_resnet backbone from %s", src)
        self.channels = tuple(self.body.channels)  # type: ignore[assignment]

    def stages(self) -> list[nn.Module]:
        s = self.body.encoder.stages
        return [nn.ModuleList([self.body.embedder, s[0]]), s[1], s[2], s[3]]

    def forward(self, images: Tensor) -> list[Tensor]:
        return list(self.body(pixel_values=images).feature_maps)


def build_backbone(cfg: ModelConfig) -> Backbone:
    """The backbone named by ``cfg.backbone``, with BN frozen and stages frozen as configured."""
    if cfg.backbone == "mobilenet_v2":
        net: Backbone = MobileNetV2Backbone(cfg.backbone_weights)
    elif cfg.backbone == "hf_resnet":
        net = HFResNetBackbone(cfg.backbone_weights)
    else:  # ModelConfig validates; kept for direct callers
        raise ValueError(f"unknown backbone {cfg.backbone!r}")
    if cfg.frozen_bn:
        freeze_batch_norm(net)
    net.freeze_stages(0 if cfg.freeze_backbone else cfg.trainable_stages)
    return net
