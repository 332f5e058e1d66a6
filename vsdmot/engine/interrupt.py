"""Ctrl-C during training: stop at the next step boundary with a checkpoint.

A ``KeyboardInterrupt`` raised in the middle of a step could land between the
optimiser's update and the step counter, so a checkpoint saved then would not resume
exactly. The first SIGINT therefore only asks the loop to stop; the loop saves
``last.pt`` once the step is complete and then raises ``KeyboardInterrupt`` itself. A
second SIGINT stops at once (nothing more is saved).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

log = logging.getLogger(__name__)


class StopRequest:
    """Context manager: while active, the first SIGINT sets :attr:`requested`.

    Only in the main thread of a single process: under ``torchrun`` every rank gets the
    signal at a different point of its step, and a checkpoint is a collective, so there
    the default behaviour (stop at once, resume from the last periodic checkpoint) stays.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupt: stopping after this step with a checkpoint "
                    "(Ctrl-C again to stop at once)")  # fmt: skip

    def __enter__(self) -> StopRequest:
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        if self.enabled:
            signal.signal(signal.SIGINT, self._previous)
