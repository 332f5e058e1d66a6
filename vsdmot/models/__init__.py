"""The MOTRv2-family tracker model.

Public API: :class:`ModelConfig` + :func:`build_model` -> :class:`VSDMOT`
(``training_step``, ``inference_step``, ``next_track_queries``); :class:`TrackQueries`,
:class:`FrameOutput`; the semantic-branch contract :class:`SemanticOutput`; the data
boundary :class:`ClipBatch` / :class:`FrameTargets`; and the MobileNetV2 trunk
(:class:`MobileNetV2Features`, :func:`load_mobilenet_v2_features`).
"""

from vsdmot.models.batch import ClipBatch, FrameTargets
from vsdmot.models.config import ModelConfig, build_model
from vsdmot.models.fusion import SemanticOutput
from vsdmot.models.mobilenet_v2 import MobileNetV2Features, load_mobilenet_v2_features
from vsdmot.models.tracker import LEARNABLE, PROPOSAL, TRACK, VSDMOT, FrameOutput, TrackQueries

__all__ = [
    "LEARNABLE",
    "PROPOSAL",
    "TRACK",
    "VSDMOT",
    "ClipBatch",
    "FrameOutput",
    "FrameTargets",
    "MobileNetV2Features",
    "ModelConfig",
    "SemanticOutput",
    "TrackQueries",
    "build_model",
    "load_mobilenet_v2_features",
]
