"""The semantic branch the tracker calls once per frame (contract: :mod:`vsdmot.nn.fusion`).

``semantics: student`` runs the distilled student (and, while training, the DCSD
losses against the teacher); ``semantics: teacher`` runs the frozen teacher
itself, the slow direct-integration baseline. With ``dswr: on`` a quality head
estimates ``q_t`` and a gate scales the injection per channel.

The teacher is deliberately *not* a registered sub-module: it never appears in
``parameters()`` (so no optimizer can touch it), never bloats checkpoints (a
CLIP tower is ~350 MB and is reloaded from its source), and follows the input's
device on use.

In training the tracker calls the branch once per batch with all ``B * T`` frames of its
clips, so the DCSD *structure* term compares ``B * T`` frames (consecutive frames of one
clip are near-duplicates; :func:`~vsdmot.semantics.distill.distill_student`, which samples
frames across sequences, is where that term does most of its work). At inference it is
called once per frame.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsdmot.nn.fusion import SemanticOutput
from vsdmot.semantics.config import SemanticConfig
from vsdmot.semantics.losses import dcsd_losses
from vsdmot.semantics.preprocess import valid_crops
from vsdmot.semantics.quality import QualityHead, QualitySmoother, SemanticFusion
from vsdmot.semantics.student import Student
from vsdmot.semantics.teachers import Teacher, load_teacher, teacher_embed_dim

log = logging.getLogger(__name__)


class SemanticBranch(nn.Module):
    """Frames -> the vector added to every query, with ``q_t``, ``w_t`` and weighted losses.

    Extra keyword arguments beyond the tracker's contract:

    * ``teacher_embeddings`` ``(B, C)``: precomputed teacher targets (e.g. from
      :class:`~vsdmot.semantics.cache.EmbeddingCache`); the teacher is then not run.
    * ``smoother``: the runtime tracker's :class:`QualitySmoother` for this video;
      ``q_t`` is smoothed before the gate when it is given.
    * ``fuse=False`` (inference only): the queries get nothing (a zero injection, weight
      0) and the student is not run; ``q_t`` is still estimated, for the appearance weight
      and the per-frame output.
    """

    def __init__(self, cfg: SemanticConfig, d_model: int, teacher: Teacher | None = None) -> None:
        super().__init__()
        if cfg.semantics not in ("teacher", "student"):
            raise ValueError(
                f"SemanticBranch needs semantics=teacher|student, got {cfg.semantics!r} "
                "(semantics=none builds no branch: use build_semantic_branch)"
            )
        self.config = cfg
        self.d_model = int(d_model)
        if cfg.semantics == "teacher" and teacher is None:
            teacher = load_teacher(cfg.teacher)
        self._teacher: Teacher | None = None
        if teacher is not None:
            self.attach_teacher(teacher, check_dim=False)
        if teacher is not None:
            embed_dim = teacher.embed_dim
        else:
            embed_dim = cfg.embed_dim or teacher_embed_dim(cfg.teacher)
        if cfg.embed_dim is not None and cfg.embed_dim != embed_dim:
            raise ValueError(
                f"embed_dim={cfg.embed_dim} but the teacher gives {embed_dim}-d vectors"
            )
        self.embed_dim = embed_dim
        self.student = Student(cfg.student, embed_dim) if cfg.semantics == "student" else None
        self.quality_head = QualityHead(cfg.quality) if cfg.dswr == "on" else None
        self.fusion = SemanticFusion(
            embed_dim,
            d_model,
            hidden=cfg.adapter_hidden,
            gate_hidden=cfg.quality.gate_hidden,
            gate=cfg.dswr == "on",
            zero_init=cfg.adapter_zero_init,
        )

    # -- teacher handling --------------------------------------------------------------

    @property
    def teacher(self) -> Teacher | None:
        return self._teacher

    def attach_teacher(self, teacher: Teacher, check_dim: bool = True) -> None:
        """Use ``teacher`` (frozen) for targets or, in teacher mode, for the semantics."""
        if check_dim and teacher.embed_dim != self.embed_dim:
            raise ValueError(
                f"teacher {teacher.teacher_id} gives {teacher.embed_dim}-d vectors, "
                f"the branch was built for {self.embed_dim}"
            )
        teacher.requires_grad_(False)
        # object.__setattr__ keeps it out of nn.Module's registry (see module docstring).
        object.__setattr__(self, "_teacher", teacher)

    def teacher_on(self, device: torch.device) -> Teacher:
        """The teacher (loaded on first use) on ``device``."""
        return self._teacher_on(device)

    def _teacher_on(self, device: torch.device) -> Teacher:
        if self._teacher is None:
            log.info("loading the distillation teacher (%s)", self.config.teacher.kind)
            self.attach_teacher(load_teacher(self.config.teacher))
        assert self._teacher is not None
        if self._teacher.device != device:
            self._teacher.to(device)
        return self._teacher

    @property
    def distilling(self) -> bool:
        """Whether a training forward computes DCSD losses."""
        w = self.config.loss_weights
        c = self.config
        return self.student is not None and (
            (c.use_alignment and w.alignment > 0) or (c.use_structure and w.structure > 0)
        )

    # -- forward -----------------------------------------------------------------------

    def forward(
        self,
        images: Tensor,
        masks: Tensor | None = None,
        clean_images: Tensor | None = None,
        quality_targets: Tensor | None = None,
        *,
        teacher_embeddings: Tensor | None = None,
        smoother: QualitySmoother | None = None,
        fuse: bool = True,
    ) -> SemanticOutput:
        crops = valid_crops(images, masks)
        if not fuse:
            if self.training:
                raise ValueError("fuse=False is an inference switch; training always fuses")
            q = self._quality(crops, None, {}, smoother)
            zeros = images.new_zeros(len(crops), self.d_model)
            return SemanticOutput(injection=zeros, quality=q, weight=zeros)
        losses: dict[str, Tensor] = {}

        if self.student is None:
            s = self._teacher_on(images.device).embed(crops)
        else:
            raw = self.student(self.student.prepare(crops))
            s = F.normalize(raw, dim=-1)
            if self.training and self.distilling:
                targets = teacher_embeddings
                if targets is None:
                    source = crops if clean_images is None else valid_crops(clean_images, masks)
                    targets = self._teacher_on(images.device).embed(source)
                losses.update(dcsd_losses(raw, targets.to(raw), self.config))

        q = self._quality(crops, quality_targets, losses, smoother)
        injection, weight = self.fusion(s, q)
        return SemanticOutput(injection=injection, quality=q, weight=weight, losses=losses)

    def _quality(
        self,
        crops: Tensor,
        quality_targets: Tensor | None,
        losses: dict[str, Tensor],
        smoother: QualitySmoother | None,
    ) -> Tensor | None:
        """q_t per frame (None without a quality head); adds the head's loss to ``losses``
        in training when labels are given."""
        if self.quality_head is None:
            return None
        logits = self.quality_head(self.quality_head.prepare(crops))
        if self.training and quality_targets is not None and self.config.loss_weights.quality > 0:
            t = quality_targets.to(logits)
            known = torch.isfinite(t)  # NaN marks frames without a label
            if known.any():
                losses["sem_quality"] = self.config.loss_weights.quality * QualityHead.loss(
                    logits[known], t[known]
                )
        # Detached: q_t stays a calibrated quality estimate supervised by the labels;
        # the tracking loss adapts the gate that reads it, not the estimate itself.
        q = torch.sigmoid(logits).detach()
        return q if smoother is None else smoother(q)


def build_semantic_branch(
    cfg: SemanticConfig, d_model: int, teacher: Teacher | None = None
) -> SemanticBranch | None:
    """Build the branch the tracker adds to its queries, or ``None`` for ``semantics: none``.

    ``teacher`` lets a caller pass an already loaded teacher (shared with a cache or a
    distillation loop); otherwise ``semantics: teacher`` loads it here and
    ``semantics: student`` loads it lazily, only when a training step needs targets.

    >>> build_semantic_branch(SemanticConfig(semantics="none"), d_model=128) is None
    True
    """
    if cfg.semantics == "none":
        return None
    return SemanticBranch(cfg, d_model=d_model, teacher=teacher)
