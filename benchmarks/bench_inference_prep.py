"""The runtime tracker's model, as loaded vs prepared for inference, side by side.

Usage (from the project root)::

    python benchmarks/bench_inference_prep.py [--rounds 5] [--steps 20]

The shipped model, loaded twice; one copy goes through
:func:`vsdmot.nn.fold.prepare_for_inference` (batch norm folded into the convolutions,
channels-last weights), as :class:`~vsdmot.tracking.tracker.VSDMOTTracker` does. Both
run ``inference_step`` on the same 768x576 frame (model input 288 px, 12 proposals,
no track queries), one torch thread, rounds interleaved (A B, A B, ...). Reported: the
median milliseconds per step of each, their ratio, and the largest difference of
their outputs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from common import ROOT, command, table, write_report

from vsdmot.nn.fold import prepare_for_inference
from vsdmot.tracking.params import InputParams
from vsdmot.tracking.query_tracker import model_inputs
from vsdmot.tracking.weights import load_tracker_model


def timed(model, inputs, steps: int) -> float:
    """Milliseconds per step over ``steps`` steps."""
    start = time.perf_counter()
    for _ in range(steps):
        model.inference_step(*inputs, None)
    return 1000 * (time.perf_counter() - start) / steps


@torch.no_grad()
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/inference_prep.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (576, 768, 3), dtype=np.uint8)
    x1 = rng.uniform(0, 700, 12)
    y1 = rng.uniform(0, 400, 12)
    proposals = np.stack([x1, y1, x1 + 40, y1 + 120, rng.uniform(0.3, 1, 12)], axis=1)
    image, mask, props, _ = model_inputs(frame, proposals, InputParams(), torch.device("cpu"))
    inputs = (image, mask, props)
    loaded, prepared = load_tracker_model().model, load_tracker_model().model
    prepare_for_inference(prepared)
    a, b = loaded.inference_step(*inputs, None), prepared.inference_step(*inputs, None)
    diff = max(float((a.logits - b.logits).abs().max()), float((a.boxes - b.boxes).abs().max()))
    times: dict[str, list[float]] = {"as loaded": [], "prepared": []}
    for _ in range(args.rounds):
        times["as loaded"].append(timed(loaded, inputs, args.steps))
        times["prepared"].append(timed(prepared, inputs, args.steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    cmd = command("benchmarks/bench_inference_prep.py")
    lines = [
        "# The runtime tracker's model: as loaded vs prepared for inference", "",
        f"Command: `{cmd}`", "",
        f"Shipped model, `inference_step` on one 768x576 frame (input {tuple(image.shape[-2:])}, "
        f"12 proposals), 1 torch thread, median of {args.rounds} interleaved rounds of "
        f"{args.steps} steps. Prepared: batch norm folded into the convolutions and "
        "channels-last weights (`vsdmot.nn.fold.prepare_for_inference`, what `vsdmot track` "
        f"runs). Largest output difference (logits, boxes): {diff:.1e}.", "",
        *table(["model", "ms per step", "vs as loaded"],
               [[k, f"{v:.1f}", f"{v / med['as loaded']:.2f}x"] for k, v in med.items()],
               "---:|"),
    ]  # fmt: skip
    write_report(args.out, lines, {"command": cmd, "times_ms": times, "max_diff": diff})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
