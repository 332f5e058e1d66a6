"""Drive any registered tracker over a whole video."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm
from trackers.core.base import BaseTracker

from vsdmot.data.mot import MOTAnnotations
from vsdmot.tracking.base import FrameTracks
from vsdmot.tracking.registry import step

log = logging.getLogger(__name__)

#: ``(frame_bgr, frame_number) -> (P, 5)`` proposals (x1, y1, x2, y2, score).
ProposalFn = Callable[[np.ndarray, int], np.ndarray]
#: Called after each frame, e.g. to render it.
FrameCallback = Callable[[int, np.ndarray, FrameTracks], None]


@dataclass
class TrackingRun:
    """What tracking one video produced."""

    results: MOTAnnotations
    frames: int = 0
    skipped: list[int] = field(default_factory=list)
    seconds: float = 0.0
    per_frame: list[dict[str, float]] = field(default_factory=list)  # q_t, w_t, ... per frame
    interrupted: bool = False  # stopped by Ctrl-C (SIGINT): the results cover the frames before

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def num_tracks(self) -> int:
        return len(self.results.ids)


def track_frames(
    tracker: BaseTracker,
    frames: Iterable[tuple[int, np.ndarray | None]],
    proposals: ProposalFn,
    *,
    total: int | None = None,
    on_frame: FrameCallback | None = None,
    progress: bool = True,
    desc: str = "tracking",
    overlap: bool = True,
) -> TrackingRun:
    """Track ``(frame_number, frame)`` pairs; a ``None`` frame (corrupt) is skipped.

    Frame numbers are kept as given, so a skipped frame leaves a gap in the
    results instead of shifting later frames. With ``overlap`` (default),
    frames are decoded and their proposals computed in a worker thread, a
    couple of frames ahead, while the tracker runs on the current frame: the
    detector and the model then share the cores instead of taking turns.
    """
    tracker.reset()
    rows: list[np.ndarray] = []
    run = TrackingRun(MOTAnnotations())
    start = time.perf_counter()
    stream = _prefetch(frames, proposals) if overlap else _inline(frames, proposals)
    bar = tqdm(stream, total=total, desc=desc, unit="frame", disable=not progress)
    try:
        for t, frame, props in bar:
            if frame is None:
                run.skipped.append(t)
                continue
            tracks = step(tracker, frame, props)
            run.frames += 1
            if len(tracks):
                rows.append(
                    np.column_stack(
                        [
                            np.full(len(tracks), t),
                            tracks.tracker_ids,
                            tracks.tracker_dets,
                            tracks.tracker_confidences,
                        ]
                    )
                )
            scalars = {k: float(v) for k, v in tracks.extras.items() if np.ndim(v) == 0}
            run.per_frame.append({"frame": float(t), "tracks": float(len(tracks)), **scalars})
            if on_frame is not None:
                on_frame(t, frame, tracks)
            bar.set_postfix(tracks=len(tracks))
    except KeyboardInterrupt:
        # Cameras and streams are stopped this way: keep what was tracked.
        run.interrupted = True
        log.warning("interrupted after %d frame(s); keeping the results so far", run.frames)
    finally:
        bar.close()
        stream.close()  # stops the prefetch worker now, not at garbage collection
    run.seconds = time.perf_counter() - start
    if run.skipped:
        log.warning("skipped %d unreadable frame(s): %s", len(run.skipped), run.skipped[:10])
    if rows:
        run.results = MOTAnnotations.from_rows(np.concatenate(rows))
    return run


_Item = tuple[int, np.ndarray | None, np.ndarray | None]


def _inline(
    frames: Iterable[tuple[int, np.ndarray | None]], proposals: ProposalFn
) -> Iterator[_Item]:
    for t, frame in frames:
        yield t, frame, (None if frame is None else proposals(frame, t))


def _prefetch(
    frames: Iterable[tuple[int, np.ndarray | None]], proposals: ProposalFn, depth: int = 2
) -> Iterator[_Item]:
    """:func:`_inline` run in a worker thread, up to ``depth`` frames ahead.

    Errors in the worker are raised here, in order; closing the generator (a
    consumer that stops early) stops the worker.
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in _inline(frames, proposals):
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)

    worker = threading.Thread(target=work, name="vsdmot-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        # Wait for the frame in hand: the caller closes the source and the proposal cache
        # next, which must not happen under the worker's feet. Only a stalled stream read
        # can take this long.
        worker.join(timeout=60)
        if worker.is_alive():
            log.warning("the frame reader is still blocked after 60 s; closing anyway")
