"""Pieces of a CUDA check run: a forced process group, a training run's record, a
tracker's frames/s, and fixed-width summary lines.

>>> cols = (("part", "<6", None, 0), ("ok", "<4", None, 0), ("loss", ">6", "loss", 3))
>>> fixed_width(cols), fixed_width(cols, ["a", "yes"], {"loss": 1.23456})
('part  ok    loss', 'a     yes  1.235')
>>> fixed_width(cols, ["b", "NO"], {})
'b     NO       -'
>>> from types import SimpleNamespace as NS
>>> cfg = NS(train=NS(amp_dtype="bfloat16"), data=NS(augment=NS(scales=[96], max_size=192),
...          clip_length=2, num_workers=0), semantic=NS(semantics="student", dswr="on"),
...          model=NS(backbone="resnet50", d_model=256, enc_layers=1, dec_layers=2,
...                   n_levels=4, ffn_dim=1024))
>>> rec = train_record(cfg, "cpu", amp=True)
>>> rec["amp_active"], rec["amp_dtype"], rec["semantics"], rec["model"]["d_model"]
(False, 'bfloat16', 'student/dswr=on', 256)
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as tdist

from vsdmot.data.preprocess import resize_size
from vsdmot.engine.distributed import DistInfo
from vsdmot.tracking.registry import step
from vsdmot.utils.io import atomic_write
from vsdmot.utils.sysinfo import cuda_peak_memory
from vsdmot.utils.timing import time_calls

#: A summary column: (header, width and alignment, key in a record, decimals).
Column = tuple[str, str, str | None, int]


@dataclass(frozen=True)
class ForcedDist(DistInfo):
    """A :class:`DistInfo` whose ``enabled`` is True even at world size 1, so the Trainer
    takes its DDP path (DistributedDataParallel, all_gather_object, barrier)."""

    @property
    def enabled(self) -> bool:  # type: ignore[override]
        return True


def forced_dist(device: str, result: dict) -> ForcedDist:
    """A process group (nccl on CUDA, gloo on CPU) from torchrun's environment, checked by
    one all_reduce; its backend and the check go into ``result``."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local, dev = int(os.environ.get("LOCAL_RANK", "0")), torch.device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    tdist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
    t = torch.ones(4, device=dev) * (rank + 1)
    tdist.all_reduce(t)
    result.update(backend=tdist.get_backend(), world_size=world, ddp_path_forced=True,
                  all_reduce_ok=bool(t[0].item() == world * (world + 1) / 2))  # fmt: skip
    return ForcedDist(rank, world, local, dev)


def save_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON (atomically, folders made; odd values as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        json.dump(data, f, indent=2, default=str)


def run_limited(argv: list[str], limit: float, **kwargs) -> dict:
    """Run ``argv`` (``subprocess.run`` keywords) for at most ``limit`` seconds: its return
    code (``"timeout"`` when killed) and wall seconds.

    >>> import sys
    >>> r = run_limited([sys.executable, "-c", "pass"], 60)
    >>> r["rc"], r["wall_s"] > 0
    (0, True)
    >>> run_limited([sys.executable, "-c", "import time; time.sleep(5)"], 0.5)["rc"]
    'timeout'
    """
    t0 = time.perf_counter()
    try:
        rc: int | str = subprocess.run(argv, timeout=limit, **kwargs).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    return {"rc": rc, "wall_s": time.perf_counter() - t0}


def guarded(result: dict, fn: Callable[[], object]) -> None:
    """Run ``fn``; a failure is reported in ``result`` (``ok``, ``error``), not hidden."""
    try:
        fn()
        result["ok"] = True
    except Exception as exc:
        traceback.print_exc()
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])


def train_record(cfg, device: str, amp: bool) -> dict:
    """What a training run of config ``cfg`` ran with: AMP, input sizes, model layout."""
    return {
        "device": device, "amp": amp, "amp_dtype": cfg.train.amp_dtype if amp else None,
        "amp_active": amp and device.startswith("cuda"),
        "input_scales": list(cfg.data.augment.scales), "max_size": cfg.data.augment.max_size,
        "clip_length": cfg.data.clip_length, "num_workers": cfg.data.num_workers,
        "model": {k: getattr(cfg.model, k) for k in ("backbone", "d_model", "enc_layers",
                                                      "dec_layers", "n_levels", "ffn_dim")},
        "semantics": f"{cfg.semantic.semantics}/dswr={cfg.semantic.dswr}",
        "torch_threads": torch.get_num_threads(),
    }  # fmt: skip


def tracker_fps(tracker, frames: Sequence[tuple], warmup: int, n: int, cuda: bool) -> dict:
    """frames/s of ``tracker`` over ``n`` of ``frames`` (sequence name, BGR frame, proposals)
    after ``warmup`` untimed ones (cuDNN autotune, allocator); a new sequence resets the
    tracker. Peak GPU memory of the timed frames; a failure is recorded, not raised."""
    timed, n_tracks, seq, r = frames[warmup : warmup + n] or frames[:n], [], [], {}
    sync = torch.cuda.synchronize if cuda else None

    def update(item: tuple) -> None:
        if seq[-1:] != [item[0]]:
            tracker.reset()
            seq.append(item[0])
        n_tracks.append(len(step(tracker, item[1], item[2])))

    def run() -> None:
        for _, frame, props in frames[:warmup]:
            step(tracker, frame, props)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        tracker.reset()
        dt = sum(time_calls(update, timed, sync=sync))
        r.update(frames=len(timed), seconds=dt, fps=len(timed) / dt,
                 ms_per_frame=1000 * dt / len(timed), **cuda_peak_memory(),
                 mean_tracks_reported=float(np.mean(n_tracks[-len(timed) :])))  # fmt: skip

    guarded(r, run)
    return r


def model_input_wh(frame: np.ndarray, short: int, max_side: int) -> list[int]:
    """The model's input width and height for ``frame`` at a short / max side."""
    h, w = frame.shape[:2]
    return list(resize_size(w, h, short, max_side))


def fmt(v: object, nd: int = 2) -> str:
    """``v`` with ``nd`` decimals if a float, ``-`` for None."""
    return "-" if v is None else f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def fixed_width(
    cols: Sequence[Column], lead: list[str] | None = None, rec: dict | None = None
) -> str:
    """One fixed-width line: the headers without ``lead``; else the ``lead`` cells, then
    ``rec``'s values of the remaining columns."""
    if lead is None:
        cells = [h for h, *_ in cols]
    else:
        cells = [*lead, *(fmt((rec or {}).get(key), nd) for _, _, key, nd in cols[len(lead) :])]
    return "".join(f"{c:{w}}" for c, (_, w, _, _) in zip(cells, cols, strict=True))


TRAIN_PARTS = ("train_amp", "train_amp_nw0", "train_fp32", "torchrun_cli", "torchrun_ddp")
TRAIN_COLS: tuple[Column, ...] = (
    ("part", "<14", None, 0), ("ok", "<5", None, 0),
    ("steps/s", ">9", "steps_per_s_median", 2), ("(mean)", ">8", "steps_per_s_mean", 2),
    ("peak GiB", ">10", "peak_allocated_gib", 2), ("loss first", ">12", "loss_first", 3),
    ("last", ">9", "loss_last", 3), ("falls", ">7", "loss_falls", 2))  # fmt: skip
TRACK_COLS: tuple[Column, ...] = (
    ("tracker", "<14", None, 0), ("device", "<8", None, 0), ("px", ">6", None, 0),
    ("model in", ">12", None, 0), ("fps", ">9", "fps", 1), ("ms/frame", ">10", "ms_per_frame", 1),
    ("frames", ">8", "frames", 2), ("peak GiB", ">10", "peak_allocated_gib", 2))  # fmt: skip


def summary_lines(parts: dict[str, dict], env: dict) -> list[str]:
    """The check's summary: versions, one line per training part (with its loss means and
    AMP), the torchrun findings, one line per tracker size and device.

    >>> parts = {"train_amp": {"rc": 0, "ok": True, "steps_per_s_median": 2.5},
    ...          "track_cpu": {"device": "cpu", "sizes": {"384": {"fps": 12.25}}}}
    >>> for line in summary_lines(parts, {"torch": "2.5"})[1:]:
    ...     print(line.rstrip())
    part          ok     steps/s  (mean)  peak GiB  loss first     last  falls
    train_amp     yes       2.50       -         -           -        -      -
    tracker       device      px    model in      fps  ms/frame  frames  peak GiB
                  cpu        384           -     12.2         -       -         -
    """
    lines = [f"torch {env.get('torch')} (CUDA {env.get('torch_cuda')}, cuDNN {env.get('cudnn')}, "
             f"NCCL {env.get('nccl')}); nvidia-smi: {env.get('nvidia_smi')}",
             fixed_width(TRAIN_COLS)]  # fmt: skip
    for name, r in ((n, parts[n]) for n in TRAIN_PARTS if n in parts):
        ok = "yes" if r.get("ok", True) and r.get("rc") == 0 else "NO"
        lines.append(fixed_width(TRAIN_COLS, [name, ok], r))
        if r.get("loss_curve"):
            k = r.get("loss_mean_of")
            lines.append(
                f"  {name}: amp={r.get('amp_active')} {r.get('amp_dtype')}, "
                f"loss_first{k}_mean={fmt(r.get('loss_first_mean'), 3)} "
                f"loss_last{k}_mean={fmt(r.get('loss_last_mean'), 3)}, "
                f"finite={r.get('loss_finite')}, scales={r.get('input_scales')}"
            )
    if ddp := parts.get("torchrun_ddp"):
        lines.append(f"  torchrun_ddp: backend={ddp.get('backend')} all_reduce_ok="
                     f"{ddp.get('all_reduce_ok')} world={ddp.get('world_size')}")  # fmt: skip
    if cli := parts.get("torchrun_cli"):
        lines.append(f"  torchrun_cli: process_group_created={cli.get('process_group_created')}")
    lines.append(fixed_width(TRACK_COLS))
    for r in (parts.get(n) or {} for n in ("track_cuda", "track_cpu")):
        for size, s in (r.get("sizes") or {}).items():
            wh = "x".join(map(str, s.get("model_input_wh", []))) or "-"
            lines.append(fixed_width(TRACK_COLS, ["", r.get("device", "-"), size, wh], s))
    return lines
