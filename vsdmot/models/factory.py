"""The one place a VSD-MOT model is assembled, for training and for inference.

:func:`build_model` builds the tracker around a given semantic branch (or none);
:func:`build_vsdmot` builds the branch the semantic config describes too.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from vsdmot.models.config import ModelConfig
from vsdmot.models.tracker import VSDMOT
from vsdmot.semantics.branch import build_semantic_branch
from vsdmot.semantics.config import SemanticConfig
from vsdmot.semantics.student_file import load_student_into_branch


def build_model(cfg: ModelConfig, semantic_branch: nn.Module | None = None) -> VSDMOT:
    """Build the tracker; ``semantic_branch=None`` builds no semantic parameters at all.

    Parameter initialisation is seeded by ``cfg.seed`` without touching the caller's
    global RNG state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return VSDMOT(cfg, semantic_branch=semantic_branch)


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
        load_student_into_branch(branch, semantic_cfg.student_weights)
    return build_model(model_cfg, branch)
