"""PNG plot of HOTA against degradation severity (matplotlib, Agg, no pyplot state)."""

from __future__ import annotations

from pathlib import Path

from vsdmot.eval.robustness import RobustnessResult
from vsdmot.utils.io import atomic_write


def plot_robustness(result: RobustnessResult, path: str | Path) -> None:
    """HOTA of the LQ run per severity bucket, clean references, written atomically.

    Solid line: LQ predictions on the frames of each bucket. Dashed line: the
    clean predictions on the same frames (when comparable). Horizontal line:
    clean HOTA over whole sequences.
    """
    # Figure + Agg canvas directly: pyplot keeps global figure state and picks
    # a GUI backend, neither of which a library should do.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    sev = sorted(result.buckets)
    ax.plot(sev, [100 * result.buckets[s].hota for s in sev], "o-", label="LQ")
    clean_sev = [s for s in sev if result.buckets[s].clean_hota is not None]
    if clean_sev:
        ax.plot(
            clean_sev,
            [100 * result.buckets[s].clean_hota for s in clean_sev],  # type: ignore[operator]
            "s--",
            label="clean, same frames",
        )
    ax.axhline(100 * result.clean.combined.HOTA, color="gray", linestyle=":", label="clean (all)")
    for s in sev:
        ax.annotate(
            f"{result.buckets[s].frames} fr",
            (s, 100 * result.buckets[s].hota),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    ax.set_xlabel("severity (rounded)")
    ax.set_ylabel("HOTA (%)")
    ax.set_xticks(range(0, 6))
    ax.set_xlim(-0.5, 5.5)
    ax.set_ylim(0, 105)
    ax.set_title(f"HOTA vs severity (rPC = {result.rPC:.3f})")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png")
