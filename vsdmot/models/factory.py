"""The one place a VSD-MOT model is assembled, for training and for inference."""

from __future__ import annotations

import dataclasses

from vsdmot.models.config import ModelConfig, build_model
from vsdmot.models.tracker import VSDMOT
from vsdmot.semantics.config import SemanticConfig, build_semantic_branch


def build_vsdmot(
    model_cfg: ModelConfig, semantic_cfg: SemanticConfig, *, initial_weights: bool = True
) -> VSDMOT:
    """The model the two config sections describe.

    ``initial_weights`` reads the files a training run starts from (the
    pretrained backbone, a ``vsdmot distill`` student). Loading a trained
    checkpoint passes ``False``: its state dict holds every weight, and the
    training machine's paths must not be read.
    """
    if not initial_weights:
        model_cfg = dataclasses.replace(model_cfg, backbone_weights=None)
    branch = build_semantic_branch(semantic_cfg, model_cfg.d_model)
    if branch is not None and initial_weights and semantic_cfg.student_weights:
        from vsdmot.semantics.student_file import load_student_into_branch

        load_student_into_branch(branch, semantic_cfg.student_weights)
    return build_model(model_cfg, branch)
