"""One progress bar over a whole run, on any executor: units finished, with how many
failed and how many tasks are running now."""

from __future__ import annotations

from tqdm.auto import tqdm


class ProgressBar:
    """``total`` units (cells, trials, videos); ``finished(failed=...)`` counts one.

    >>> bar = ProgressBar(3, "run", "cell", enabled=False)
    >>> bar.finished(); bar.finished(failed=True); bar.set_running(2)
    >>> bar.counts
    {'done': 1, 'failed': 1, 'running': 2}
    """

    def __init__(self, total: int, desc: str, unit: str, *, enabled: bool = True) -> None:
        self._bar = tqdm(total=total, desc=desc, unit=unit, disable=not enabled)
        self.counts = {"done": 0, "failed": 0, "running": 0}

    def finished(self, *, failed: bool = False) -> None:
        self.counts["failed" if failed else "done"] += 1
        self._show()
        self._bar.update(1)

    def set_running(self, n: int) -> None:
        if n != self.counts["running"]:
            self.counts["running"] = n
            self._show()

    def _show(self) -> None:
        self._bar.set_postfix(self.counts, refresh=False)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
