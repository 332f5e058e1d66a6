"""The semantic branch: teachers, the distilled student, DCSD losses and DSWR.

See ``DESIGN.md`` parts 4-6. Entry point for the tracker:
:func:`~vsdmot.semantics.branch.build_semantic_branch`. The embedding losses DCSD is made
of (``alignment_loss``, ``structure_loss``) are in :mod:`vsdmot.nn.losses`.
"""

from vsdmot.semantics.branch import SemanticBranch, build_semantic_branch
from vsdmot.semantics.cache import EmbeddingCache
from vsdmot.semantics.config import (
    LossWeights,
    QualityConfig,
    SemanticConfig,
    StudentConfig,
    TeacherConfig,
)
from vsdmot.semantics.distill import DistillBatch, TrainHistory, distill_student, fit_quality_head
from vsdmot.semantics.losses import dcsd_losses
from vsdmot.semantics.quality import QualityHead, QualitySmoother, SemanticFusion
from vsdmot.semantics.student import Student
from vsdmot.semantics.teachers import (
    ClipTeacher,
    ClipTowerTeacher,
    Teacher,
    TeacherLoadError,
    clip_tower_teacher,
    load_clip_teacher,
    load_teacher,
    mobilenet_v2_teacher,
)

__all__ = [
    "ClipTeacher",
    "ClipTowerTeacher",
    "DistillBatch",
    "EmbeddingCache",
    "LossWeights",
    "QualityConfig",
    "QualityHead",
    "QualitySmoother",
    "SemanticBranch",
    "SemanticConfig",
    "SemanticFusion",
    "Student",
    "StudentConfig",
    "Teacher",
    "TeacherConfig",
    "TeacherLoadError",
    "TrainHistory",
    "build_semantic_branch",
    "clip_tower_teacher",
    "dcsd_losses",
    "distill_student",
    "fit_quality_head",
    "load_clip_teacher",
    "load_teacher",
    "mobilenet_v2_teacher",
]
