"""A tracker that fails on purpose: SORT whose construction raises the first ``failures``
times, counted in a marker file, so a test can make a task fail once (and succeed when
tried again) or every time, in any process.

Importing this module registers ``flaky`` with the tracker registry; a Ray worker imports
it through :func:`register`, its process setup hook.
"""

from __future__ import annotations

from pathlib import Path

from trackers import SORTTracker


class FlakyTracker(SORTTracker):
    """SORT, after ``failures`` failed constructions recorded in ``marker``."""

    tracker_id = "flaky"
    search_space = None  # nothing to tune (SORT's space names settings this one lacks)

    def __init__(self, marker: str = "", failures: int = 1, frame_rate: float = 30.0) -> None:
        path = Path(marker)
        seen = len(path.read_text().splitlines()) if path.is_file() else 0
        if seen < failures:
            with path.open("a") as f:
                f.write("failed\n")
            raise RuntimeError(f"injected failure {seen + 1} of {failures}")
        super().__init__(frame_rate=frame_rate)


def register() -> None:
    """Process setup hook: importing this module registered the tracker."""
