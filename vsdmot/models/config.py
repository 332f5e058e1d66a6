"""Typed configuration of the tracker model (a plain dataclass).

The model is built from it in :mod:`vsdmot.models.factory`; this module imports nothing
of the model, so anything that only reads or writes configs stays light.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelConfig:
    """Everything that shapes a :class:`~vsdmot.models.tracker.VSDMOT`.

    Defaults are a CPU-sized model (d=128, 2 encoder / 3 decoder layers,
    MobileNetV2 backbone); paper-scale GPU presets override them from YAML.

    >>> cfg = ModelConfig(d_model=64, n_heads=4)
    >>> cfg.d_model % cfg.n_heads
    0
    """

    # --- backbone ---------------------------------------------------------------
    backbone: str = "mobilenet_v2"
    """``"mobilenet_v2"`` (pure PyTorch) or ``"hf_resnet"`` (Hugging Face ``transformers``)."""
    backbone_weights: str | None = None
    """mobilenet_v2: path of a torchvision-layout ``features.*`` state dict; hf_resnet: hub id
    (e.g. ``"microsoft/resnet-50"``) or local folder. ``None`` = random init
    (hf_resnet: ``microsoft/resnet-50`` architecture is not implied; a config is required)."""
    frozen_bn: bool = True
    """Replace backbone BatchNorm by FrozenBatchNorm2d: clip batches are too small for
    batch statistics, and frozen statistics make each clip independent of its batch mates."""
    freeze_backbone: bool = False
    """Freeze every backbone parameter (overrides ``trainable_stages``)."""
    trainable_stages: int = 3
    """How many backbone stages, counted from the deepest, receive gradients. The backbone has
    four stages (stem to stride 4, then strides 8, 16, 32); 4 trains all of them."""

    # --- transformer ------------------------------------------------------------
    d_model: int = 128
    n_heads: int = 8
    n_levels: int = 3
    """Feature levels fed to deformable attention: strides 8/16/32, then one extra
    stride-2 convolution per level beyond 3."""
    n_points: int = 4
    enc_layers: int = 2
    dec_layers: int = 3
    ffn_dim: int = 512
    dropout: float = 0.0
    """0 by default: tracking clips are highly correlated and small models underfit first."""

    # --- queries ----------------------------------------------------------------
    num_learnable_queries: int = 10
    """Learnable (DETR-style) queries that detect objects the proposals miss. At least 1."""
    max_track_queries: int = 100
    """Cap on track queries carried to the next frame (highest scores kept)."""
    proposal_score_threshold: float = 0.05
    """Training only: proposals scoring below this do not become queries. At inference the
    runtime tracker decides which proposals to pass."""

    # --- loss -------------------------------------------------------------------
    cls_loss_weight: float = 2.0
    l1_loss_weight: float = 5.0
    giou_loss_weight: float = 2.0
    aux_loss_weight: float = 1.0
    """Weight of each intermediate decoder layer's (cls + l1 + giou) loss; 0 disables."""
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    match_cls_cost: float = 2.0
    match_l1_cost: float = 5.0
    match_giou_cost: float = 2.0

    # --- object embeddings (appearance cue of the runtime tracker) ---------------------
    embed_dim: int = 0
    """Size of the per-query appearance embedding (``EmbeddingHead``); 0 builds no head."""
    id_loss_weight: float = 1.0
    """Weight of the identity-contrastive loss across the frames of a clip."""
    id_temperature: float = 0.1
    object_distill: str = "none"
    """Object-level DCSD from the semantic branch's teacher on clean crops: ``none`` |
    ``align`` | ``structure`` | ``both``. Needs ``embed_dim > 0`` and a teacher."""
    object_align_weight: float = 1.0
    object_structure_weight: float = 1.0
    object_crop_size: int = 96
    """Side of the (squashed) object crops given to the teacher."""
    object_max_per_frame: int = 16
    """Most objects per frame sent to the teacher (bounds the cost of a step)."""

    # --- track-query augmentation (training only) ---------------------------------
    track_drop_prob: float = 0.1
    """Each carried track query is dropped with this probability: its object becomes a
    newborn again, so the model keeps learning to (re)detect."""
    fp_insert_prob: float = 0.3
    """Per clip and frame, probability of carrying an unmatched query as a false-positive
    track (labelled negative next frame), so track queries learn to die."""
    fp_max_per_frame: int = 1
    """Most false-positive track queries inserted per clip and frame (highest scores first)."""

    seed: int = 0
    """Seeds parameter initialisation (in :func:`~vsdmot.models.factory.build_model`) and
    the augmentation RNG."""

    def __post_init__(self) -> None:
        if self.backbone not in ("mobilenet_v2", "hf_resnet"):
            raise ValueError(f"unknown backbone {self.backbone!r}: mobilenet_v2 | hf_resnet")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} not divisible by n_heads={self.n_heads}")
        if self.n_levels < 3:
            raise ValueError("n_levels must be >= 3 (strides 8/16/32)")
        if self.num_learnable_queries < 1:
            raise ValueError("num_learnable_queries must be >= 1")
        if self.embed_dim < 0:
            raise ValueError("embed_dim must be >= 0 (0: no embedding head)")
        if self.object_distill not in ("none", "align", "structure", "both"):
            raise ValueError(
                f"object_distill={self.object_distill!r}: none | align | structure | both"
            )
        if self.object_distill != "none" and self.embed_dim == 0:
            raise ValueError("object_distill needs an embedding head (embed_dim > 0)")
        if not 0 <= self.trainable_stages <= 4:
            raise ValueError("trainable_stages must be in 0..4")

