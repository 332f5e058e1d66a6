"""vsdmot's runtime tracker as a ``trackers`` tracker (``tracker_id = "vsdmot"``).

It sits in ``trackers``' registry beside ByteTrack, OC-SORT, BoT-SORT, C-BIoU and
SORT, so ``trackers``' CLI and :class:`trackers.tune.Tuner` see it, and it drops
into a plain ``supervision`` loop::

    import vsdmot  # registers "vsdmot" and "deepsort"
    from trackers.core.base import BaseTracker

    tracker = BaseTracker._lookup_tracker("vsdmot").tracker_class(miss_tolerance=20)
    for frame, detections in stream:  # detections: sv.Detections (xyxy, confidence)
        tracks = tracker.update(detections, frame=frame)  # sv.Detections with tracker_id

The settings are flat and typed here because the registry reads them from this
signature; inside, :class:`~vsdmot.tracking.params.TrackerParams` groups them and
:class:`~vsdmot.tracking.query_tracker.QueryTracker` runs the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import supervision as sv
from trackers.core.base import BaseTracker

from vsdmot.tracking.base import (
    FrameTracks,
    detections_to_proposals,
    frame_tracks_to_detections,
)
from vsdmot.tracking.params import (
    AppearanceParams,
    EvidenceParams,
    InputParams,
    LifecycleParams,
    MatchingParams,
    MotionParams,
    TrackerParams,
    inert_settings,
    setting_help,
)

# Short names for the defaults of the flat signature below (one source: params.py).
_A, _E, _I, _L, _M, _V = (AppearanceParams, EvidenceParams, InputParams, LifecycleParams,
                          MatchingParams, MotionParams)  # fmt: skip

#: What the model-backed arguments mean (the settings' meanings live in params.py).
_CONTEXT_HELP = {
    "weights": "Checkpoint (model.pt or a training checkpoint); None: the shipped model.",
    "device": "Torch device of the model: cpu | cuda | cuda:N.",
    "frame_rate": "Frame rate of the video (accepted like every tracker; frames are counted).",
}


def _settings_init(init: Callable[..., None]) -> Callable[..., None]:
    """Remember which settings the caller gave, so that the settings recorded with the
    weights fill in only the others; and write the ``Args:`` section the registry reads
    from the settings' one-line meanings."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            raise TypeError(f"{type(self).__name__} takes keyword arguments only")
        self._explicit = frozenset(kwargs)
        init(self, **kwargs)

    meanings = {**_CONTEXT_HELP, **setting_help()}
    args = "\n".join(f"    {name}: {text}" for name, text in meanings.items())
    wrapper.__doc__ = f"{(init.__doc__ or '').strip()}\n\nArgs:\n{args}\n"
    return wrapper


class VSDMOTTracker(BaseTracker):
    """vsdmot: query-based tracking with the distilled semantics, on any proposals.

    Settings passed here win; then the settings recorded with the weights; then the
    defaults below (which the shipped model records).
    """

    tracker_id = "vsdmot"
    #: The model reads the pixels: ``update`` needs the frame.
    uses_frame: ClassVar[bool] = True
    search_space: ClassVar[dict[str, dict]] = {
        "birth_thresh": {"type": "uniform", "range": [0.1, 0.6]},
        "miss_tolerance": {"type": "randint", "range": [3, 40]},
        "dedup_iou": {"type": "uniform", "range": [0.3, 0.8]},
        "min_hits": {"type": "randint", "range": [1, 4]},
        "association": {"type": "choice", "options": ["fused", "anchor", "botsort"]},
        "high_thresh": {"type": "uniform", "range": [0.2, 0.6]},
        "match_iou": {"type": "uniform", "range": [0.1, 0.5]},
        "query_keep": {"type": "uniform", "range": [0.5, 1.0]},
        "appearance_weight": {"type": "uniform", "range": [0.0, 0.6]},
        "rescore": {"type": "uniform", "range": [0.0, 1.0]},
        "refine_boxes": {"type": "choice", "options": [False, True]},
    }

    @classmethod
    def inert_settings(cls, settings: dict[str, Any]) -> set[str]:
        """The names in ``settings`` that would have no effect beside the others (a tuner
        samples only the settings that count in the mode it chose).

        >>> sorted(VSDMOTTracker.inert_settings({"association": "botsort", "keep_thresh": 0.5,
        ...                                      "rescore": 0.5}))
        ['keep_thresh']
        """
        names = setting_help()
        tunable = {k: v for k, v in settings.items() if k in names}
        return set(inert_settings(TrackerParams(**tunable), tunable))

    @_settings_init
    def __init__(
        self,
        *,
        weights: str | None = None,
        device: str = "cpu",
        frame_rate: float = 30.0,
        birth_thresh: float = _L.birth_thresh,
        keep_thresh: float = _L.keep_thresh,
        miss_tolerance: int = _L.miss_tolerance,
        dedup_iou: float = _L.dedup_iou,
        min_hits: int = _L.min_hits,
        max_tracks: int = _L.max_tracks,
        motion: str = _V.motion,
        velocity_momentum: float = _V.velocity_momentum,
        cmc: bool = _V.cmc,
        cmc_downscale: int = _V.cmc_downscale,
        association: str = _M.association,
        anchor_iou: float = _M.anchor_iou,
        high_thresh: float = _M.high_thresh,
        low_thresh: float = _M.low_thresh,
        match_iou: float = _M.match_iou,
        low_match_iou: float = _M.low_match_iou,
        reid_cos: float = _M.reid_cos,
        query_box_cue: bool = _M.query_box_cue,
        query_keep: float = _M.query_keep,
        iou_buffer: float = _M.iou_buffer,
        reupdate: bool = _M.reupdate,
        rescore: float = _E.rescore,
        refine_boxes: bool = _E.refine_boxes,
        unconfirmed_iou: float = _E.unconfirmed_iou,
        appearance_weight: float = _A.appearance_weight,
        appearance_dswr: bool = _A.appearance_dswr,
        embedding_momentum: float = _A.embedding_momentum,
        appearance_embedder: str = _A.appearance_embedder,
        proposal_min_score: float = _I.proposal_min_score,
        input_short_side: int = _I.input_short_side,
        input_max_side: int = _I.input_max_side,
        semantic_fusion: bool = _I.semantic_fusion,
    ) -> None:
        """Load the weights and set up an empty tracker."""
        from vsdmot.nn.fold import prepare_for_inference
        from vsdmot.tracking.embedders import build_appearance_embedder
        from vsdmot.tracking.query_botsort import QueryBoTSORT
        from vsdmot.tracking.query_tracker import QueryTracker
        from vsdmot.tracking.weights import load_tracker_model

        given = {k: v for k, v in locals().items() if k in self._explicit}
        settings = {k: v for k, v in given.items() if k not in _CONTEXT_HELP}
        self.loaded = load_tracker_model(weights, device=device)
        prepare_for_inference(self.loaded.model)  # this copy only ever tracks
        self.params: TrackerParams = self.loaded.tracker_params(**settings)
        # A setting given but without effect in the chosen mode is refused, not dropped.
        if problems := inert_settings(self.params, settings):
            raise ValueError("; ".join(problems.values()))
        # Engines by association: BoT-SORT's core keeps the identities itself; the other
        # rules (fused, anchor, e2e) are associators inside vsdmot's own engine.
        engines = {"botsort": QueryBoTSORT}
        engine = engines.get(self.params.matching.association, QueryTracker)
        embedder = build_appearance_embedder(self.params.appearance.appearance_embedder)
        self.core = engine(self.loaded.model, self.params, device=device, embedder=embedder)
        self._init_timestamp_state(frame_rate)
        self.tracks: list[Any] = []
        self.last = FrameTracks.empty()

    def update(
        self,
        detections: sv.Detections,
        frame: np.ndarray | None = None,
        timestamp: float | None = None,
    ) -> sv.Detections:
        """Track one frame: ``detections`` are the proposals, ``frame`` the BGR image.

        Returns the tracks reported on this frame (ids from 0, as ``trackers`` counts),
        with the frame's quality estimate q_t and fusion weight w_t in ``metadata`` when
        the model has a semantic branch.
        """
        if frame is None:
            raise ValueError("vsdmot reads the pixels: pass update(detections, frame=frame)")
        self.last = self.core.update(frame, detections_to_proposals(detections))
        self.tracks = [t for t in self.core.tracks if t.tracker_id >= 0]
        return frame_tracks_to_detections(self.last)

    def reset(self) -> None:
        self.core.reset()
        self.tracks = []
        self.last = FrameTracks.empty()

    def describe(self) -> str:
        return self.loaded.describe()
