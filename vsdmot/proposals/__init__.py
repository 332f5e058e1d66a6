"""Proposal sources: per-frame person boxes that seed the tracker's anchor queries.

Every source maps ``(frame_bgr, frame_index)`` to a ``(P, 5)`` float32 array
``x1, y1, x2, y2, score`` (pixels, score in ``[0, 1]``).
"""

from vsdmot.proposals.base import (
    MissingDependencyError,
    ProposalError,
    ProposalSource,
    as_proposals,
    empty_proposals,
)
from vsdmot.proposals.build import build_proposal_source
from vsdmot.proposals.cache import CachedProposals
from vsdmot.proposals.det_db import DetDbProposals
from vsdmot.proposals.detfile import DetFileProposals, load_proposal_db, save_proposal_db
from vsdmot.proposals.hog import HOGPeopleProposals
from vsdmot.proposals.ultralytics import UltralyticsProposals  # imports ultralytics only when built
from vsdmot.proposals.yolo import YOLOProposals

__all__ = [
    "CachedProposals",
    "DetDbProposals",
    "DetFileProposals",
    "HOGPeopleProposals",
    "MissingDependencyError",
    "ProposalError",
    "ProposalSource",
    "UltralyticsProposals",
    "YOLOProposals",
    "as_proposals",
    "build_proposal_source",
    "empty_proposals",
    "load_proposal_db",
    "save_proposal_db",
]
