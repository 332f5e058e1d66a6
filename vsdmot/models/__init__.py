"""The MOTRv2-family tracker model.

Public API: :class:`ModelConfig` + :func:`build_model` (or :func:`build_vsdmot`, which
adds the semantic branch a :class:`~vsdmot.semantics.config.SemanticConfig` describes)
-> :class:`VSDMOT` (``training_step``, ``inference_step``, ``next_track_queries``);
:class:`TrackQueries`, :class:`FrameOutput`; and the data boundary :class:`ClipBatch` /
:class:`FrameTargets`. The semantic-branch contract (:class:`~vsdmot.nn.fusion.SemanticOutput`)
and the MobileNetV2 trunk (:mod:`vsdmot.nn.mobilenet_v2`) live in :mod:`vsdmot.nn`, below
both this package and :mod:`vsdmot.semantics`.
"""

from vsdmot.models.batch import ClipBatch, FrameTargets
from vsdmot.models.config import ModelConfig
from vsdmot.models.factory import build_model, build_vsdmot
from vsdmot.models.tracker import LEARNABLE, PROPOSAL, TRACK, VSDMOT, FrameOutput, TrackQueries

__all__ = [
    "LEARNABLE",
    "PROPOSAL",
    "TRACK",
    "VSDMOT",
    "ClipBatch",
    "FrameOutput",
    "FrameTargets",
    "ModelConfig",
    "TrackQueries",
    "build_model",
    "build_vsdmot",
]
