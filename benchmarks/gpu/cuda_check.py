"""CUDA check of vsdmot on one GPU: AMP training steps, torchrun (nccl), tracker speed.

One driver (``all``) runs every part in its own subprocess, with a time limit each and a
global budget, writes ``cuda_check.json`` after every part (so a killed run still leaves
what it measured) and prints a final table::

    python benchmarks/gpu/cuda_check.py all --out $OUT            # on the GPU machine
    python benchmarks/gpu/cuda_check.py all --out /tmp/cc --smoke  # CPU dry run, tiny sizes

Parts:

1. ``train``: the ``mot17-gpu`` preset (ResNet-50 layout, 6+6 layers, d=256, clips of 5
   frames, multi-scale 608-800 px short side, student semantics + DSWR, AMP bf16) through
   :func:`vsdmot.engine.trainer.train` (what ``vsdmot train`` calls), on sequences made by
   ``vsdmot synth`` at 1066x800. Offline stand-ins: random ResNet-50 (no hub download),
   a random-weight MobileNetV2 file as the distillation teacher (no CLIP download),
   ``optim.warmup_steps`` 5 instead of 500 (else the lr stays ~0 over a short run),
   ``train.epochs=null`` with ``train.steps`` N. Once with AMP, once in fp32.
2. ``torchrun --standalone --nproc_per_node=1``: (a) the real CLI (``vsdmot train``):
   with WORLD_SIZE=1 :func:`vsdmot.engine.distributed.init_distributed` creates no process
   group, so this is the single-process path under torchrun; (b) the same training with a
   process group forced (nccl on CUDA, gloo on CPU) and the Trainer's DDP path switched on
   at world size 1 (DistributedDataParallel, all_gather_object, barrier over nccl).
3. ``track``: the ``vsdmot`` tracker (registry spec, shipped weights) over generated
   1066x800 frames and their simulated detections as proposals, at 800 px and 384 px short
   side, frames/s after warm-up (frames decoded beforehand, timed with
   :func:`vsdmot.utils.timing.time_calls`); on CUDA and, for reference, on the CPU.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLI = HERE / "vsdmot_cli.py"
PRESET = "mot17-gpu"
SMOKE = ["data.augment.scales=[96,128]", "data.augment.max_size=192", "data.input_size=128",
         "data.max_size=192", "data.clip_length=2", "data.num_workers=0", "model.enc_layers=1",
         "model.dec_layers=2"]  # fmt: skip
TRAIN_PARTS = ("train_amp", "train_amp_nw0", "train_fp32", "torchrun_cli", "torchrun_ddp")


def log(msg: str) -> None:
    print(f"[cuda_check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def save(path: Path, data: dict) -> None:
    from vsdmot.utils.io import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        json.dump(data, f, indent=2, default=str)


def train_overrides(work: Path, steps: int, device: str, amp: bool, smoke: bool) -> list[str]:
    return [f"data.train=[{work / 'data'}]", "model.backbone_weights=null",
            "semantic.teacher.kind=mobilenet_v2",
            f"semantic.teacher.weights={work / 'mnv2_random_teacher.pt'}",
            "optim.warmup_steps=5", "train.epochs=null", f"train.steps={steps}",
            "train.log_every=1", "train.ckpt_every=1000000", "train.tensorboard=false",
            f"train.device={device}", f"train.amp={str(amp).lower()}",
            *(SMOKE if smoke else [])]  # fmt: skip


def summarise_run(run: Path, warmup: int) -> dict:
    """Loss first/last, finiteness, steps/s (median step time after ``warmup`` steps)."""
    path = run / "metrics.csv"
    rows = [{k: float(v) for k, v in r.items() if v not in ("", None)}
            for r in csv.DictReader(path.open())] if path.is_file() else []  # fmt: skip
    if not rows:
        return {"metrics_error": "no metrics.csv rows"}
    loss, it_s = [r["loss"] for r in rows], [r["it_s"] for r in rows if "it_s" in r]
    steps = [1.0 / v for v in (it_s[warmup:] if len(it_s) > warmup else it_s) if v > 0]
    k = max(1, min(5, len(loss) // 3))
    first_k, last_k = statistics.fmean(loss[:k]), statistics.fmean(loss[-k:])
    return {"steps_logged": len(rows), "loss_first": loss[0], "loss_last": loss[-1],
            "loss_first_mean": first_k, "loss_last_mean": last_k, "loss_mean_of": k,
            "loss_finite": all(math.isfinite(v) for v in loss), "loss_falls": last_k < first_k,
            "steps_per_s_median": 1.0 / statistics.median(steps) if steps else None,
            "steps_per_s_mean": len(steps) / sum(steps) if steps else None,
            "warmup_steps_excluded": min(warmup, len(it_s)),
            "loss_curve": [round(v, 4) for v in loss],
            "grad_norm_last": rows[-1].get("grad_norm")}  # fmt: skip


def cuda_mem() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {}
    return {"peak_allocated_gib": torch.cuda.max_memory_allocated() / 2**30,
            "peak_reserved_gib": torch.cuda.max_memory_reserved() / 2**30}  # fmt: skip


def guarded(result: dict, fn) -> None:
    """Run ``fn``; a failure is reported in ``result``, not hidden."""
    try:
        fn()
        result["ok"] = True
    except Exception as exc:
        traceback.print_exc()
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])


# -- workers (each in its own process) --------------------------------------------------


def forced_dist(device: str, result: dict):
    """A process group (nccl on CUDA, gloo on CPU) with one checked all_reduce, and a
    DistInfo whose ``enabled`` is True even at world size 1 (the Trainer's DDP path on)."""
    import torch
    import torch.distributed as tdist

    from vsdmot.engine.distributed import DistInfo

    @dataclass(frozen=True)
    class ForcedDist(DistInfo):
        @property
        def enabled(self) -> bool:  # type: ignore[override]
            return True

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


def cmd_train(a: argparse.Namespace) -> int:
    import torch

    from vsdmot.config import compose_config
    from vsdmot.engine.trainer import train

    if a.threads:
        torch.set_num_threads(a.threads)
    over = train_overrides(Path(a.work), a.steps, a.device, a.amp, a.smoke) + list(a.override)
    cfg, out = compose_config(PRESET, over), Path(a.work) / a.name
    m = cfg.model
    result: dict = {
        "part": a.name, "preset": PRESET, "device": a.device, "amp": a.amp,
        "amp_dtype": cfg.train.amp_dtype if a.amp else None,
        "amp_active": a.amp and a.device.startswith("cuda"),
        "input_scales": list(cfg.data.augment.scales), "max_size": cfg.data.augment.max_size,
        "clip_length": cfg.data.clip_length,
        "model": {k: getattr(m, k) for k in ("backbone", "d_model", "enc_layers", "dec_layers",
                                              "n_levels", "ffn_dim")},
        "semantics": f"{cfg.semantic.semantics}/dswr={cfg.semantic.dswr}", "steps": a.steps,
        "torch_threads": torch.get_num_threads(), "num_workers": cfg.data.num_workers,
        "extra_overrides": list(a.override),
    }  # fmt: skip
    dist = forced_dist(a.device, result) if a.force_ddp else None
    cuda = a.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    guarded(result, lambda: result.update(final_step=train(cfg, out, dist=dist).step))
    if cuda:
        torch.cuda.synchronize()
    result.update(wall_s_train_call=time.perf_counter() - t0, **cuda_mem(),
                  **summarise_run(out, a.warmup))  # fmt: skip
    if dist is not None:
        torch.distributed.destroy_process_group()
    save(Path(a.json), result)
    log(f"train part {a.name}: ok={result.get('ok')} json={a.json}")
    return 0 if result.get("ok") else 1


def cmd_track(a: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from vsdmot.data.preprocess import resize_size
    from vsdmot.data.sequence import MOTSequence, list_sequences
    from vsdmot.proposals import DetFileProposals
    from vsdmot.tracking.registry import build_tracker, describe_tracker, step
    from vsdmot.utils.timing import time_calls

    if a.threads:
        torch.set_num_threads(a.threads)
    frames = []  # (sequence, BGR frame, (P, 5) proposals), decoded beforehand
    for seq in map(MOTSequence, list_sequences(a.data)):
        props = DetFileProposals(seq.det_path)
        for t in range(1, min(len(seq), a.frames + a.warmup - len(frames)) + 1):
            frame = seq.frame(t)
            frames.append((seq.name, frame, props(frame, t)))
    cuda = a.device.startswith("cuda")
    result: dict = {
        "part": f"track_{a.device.split(':')[0]}", "device": a.device,
        "frames_available": len(frames), "frame_size": list(frames[0][1].shape[:2][::-1]),
        "mean_proposals": float(np.mean([len(f[2]) for f in frames])),
        "torch_threads": torch.get_num_threads(), "sizes": {},
    }  # fmt: skip
    for spec in a.sizes.split(","):
        short, max_side = (int(v) for v in spec.split(":"))
        tracker = build_tracker(f"vsdmot:input_short_side={short},input_max_side={max_side}",
                                device=a.device)  # fmt: skip
        result["weights"] = describe_tracker(tracker)
        r: dict = {"input_short_side": short, "input_max_side": max_side}
        timed, n_tracks, seq = frames[a.warmup : a.warmup + a.frames] or frames[: a.frames], [], []

        def update(item, n_tracks=n_tracks, seq=seq, tracker=tracker) -> None:
            if seq[-1:] != [item[0]]:  # a new sequence: a new tracker state
                tracker.reset()
                seq.append(item[0])
            n_tracks.append(len(step(tracker, item[1], item[2])))

        def run(tracker=tracker, r=r, timed=timed, n_tracks=n_tracks, short=short,
                max_side=max_side, update=update) -> None:  # fmt: skip
            for _, frame, props in frames[: a.warmup]:  # cuDNN autotune, allocator
                step(tracker, frame, props)
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            tracker.reset()
            dt = sum(time_calls(update, timed, sync=torch.cuda.synchronize if cuda else None))
            h, w = timed[0][1].shape[:2]
            r.update(frames=len(timed), seconds=dt, fps=len(timed) / dt,
                     ms_per_frame=1000 * dt / len(timed),
                     model_input_wh=list(resize_size(w, h, short, max_side)),
                     mean_tracks_reported=float(np.mean(n_tracks[-len(timed) :])),
                     **cuda_mem())  # fmt: skip

        guarded(r, run)
        result["sizes"][str(short)] = r
        log(f"track {a.device} {short}px: {r.get('fps', 'FAILED')}")
    result["ok"] = all(v.get("ok") for v in result["sizes"].values())
    save(Path(a.json), result)
    return 0 if result["ok"] else 1


# -- driver -----------------------------------------------------------------------------


class Driver:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a, self.out, self.work = a, Path(a.out), Path(a.work)
        self.json_path, self.start = self.out / "cuda_check.json", time.perf_counter()
        self.results: dict = {"args": vars(a), "parts": {}, "failures": []}
        py_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.env = {**os.environ, "PYTHONPATH": py_path, "PYTHONUNBUFFERED": "1"}
        if a.smoke:
            self.env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def save(self) -> None:
        self.results["elapsed_s"] = time.perf_counter() - self.start
        save(self.json_path, self.results)

    def part(self, name: str, argv: list[str], limit: float, min_needed: float = 20) -> dict:
        """Run one part; record rc, wall time, failure (timeout, rc != 0) and its JSON."""
        left = self.a.budget - (time.perf_counter() - self.start)
        rec: dict = {"cmd": shlex.join(argv)}
        if left < min_needed:
            rec.update(skipped=True, reason=f"global budget: {left:.0f}s left < {min_needed}s")
            self.results["failures"].append(f"{name}: skipped ({rec['reason']})")
        else:
            log(f"RUN {name} (limit {min(limit, left - 5):.0f}s): {rec['cmd']}")
            t0 = time.perf_counter()
            try:
                rec["rc"] = subprocess.run(argv, env=self.env, cwd=ROOT,
                                           timeout=min(limit, left - 5)).returncode  # fmt: skip
            except subprocess.TimeoutExpired:
                rec["rc"] = "timeout"
            rec["wall_s"] = time.perf_counter() - t0
            if rec["rc"] != 0:
                why = f"{name}: rc={rec['rc']} after {rec['wall_s']:.0f}s"
                self.results["failures"].append(why)
        log(f"END {name}: {rec.get('rc', rec.get('reason'))}")
        p = self.work / f"{name}.json"
        rec.update(json.loads(p.read_text()) if p.is_file() else {})
        self.results["parts"][name] = rec
        self.save()
        return rec

    def env_info(self) -> None:
        import torch

        cuda = torch.cuda.is_available()
        info = {"python": sys.version.split()[0], "platform": platform.platform(),
                "torch": torch.__version__, "torch_cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available()
                else None, "cuda_available": cuda,
                "nccl": ".".join(map(str, torch.cuda.nccl.version())) if cuda else None,
                "cpu_count": os.cpu_count()}  # fmt: skip
        if cuda:
            p = torch.cuda.get_device_properties(0)
            info.update(torch_gpu=p.name, gpu_mem_gib=p.total_memory / 2**30,
                        sm=f"{p.major}.{p.minor}", multiprocessors=p.multi_processor_count)
        try:
            q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                                "--format=csv,noheader"], capture_output=True, text=True,
                               timeout=30)  # fmt: skip
            info["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
        except (OSError, subprocess.TimeoutExpired) as exc:
            info["nvidia_smi"] = f"unavailable: {exc}"
        self.results["env"] = info
        log("env: " + json.dumps(info))

    def run(self) -> int:
        import torch

        from vsdmot.nn.mobilenet_v2 import MobileNetV2Features

        a, py, work = self.a, sys.executable, self.work
        shutil.rmtree(work, ignore_errors=True)  # a rerun on a warm machine: runs must not exist
        work.mkdir(parents=True)
        self.env_info()
        dev = "cuda" if torch.cuda.is_available() and not a.cpu_only else "cpu"
        self.results["train_device"] = dev
        me, threads = [py, str(Path(__file__).resolve())], ["--threads", "1"] if a.smoke else []
        w, h = (320, 240) if a.smoke else (1066, 800)  # the generator through its CLI
        rec = self.part("synth", [py, str(CLI), "synth", str(work / "data"), "--sequences",
                                  str(a.sequences), "--frames", str(a.frames), "--seed", "0",
                                  "--width", str(w), "--height", str(h)], 240)  # fmt: skip
        torch.manual_seed(0)
        torch.save(MobileNetV2Features().state_dict(), work / "mnv2_random_teacher.pt")
        if rec.get("rc") != 0:
            return self.finish()
        extra: list[str] = []

        def train(name: str, steps: int, amp: bool, *more: str) -> list[str]:
            return [*me, "train", "--work", str(work), "--name", name, "--steps", str(steps),
                    "--device", dev, "--json", str(work / f"{name}.json"), "--warmup",
                    str(a.warmup), *threads, *(["--amp"] if amp else []),
                    *(["--smoke"] if a.smoke else []), *more,
                    *(x for o in extra for x in ("--override", o))]  # fmt: skip

        # 1. AMP training, in process (peak memory is this process's)
        rec = self.part("train_amp", train("train_amp", a.train_steps, True), 200, 60)
        if rec.get("rc") not in (0, None) and not a.smoke:
            # DataLoader workers die in small /dev/shm containers: retry in-process loading
            extra.append("data.num_workers=0")
            self.part("train_amp_nw0", train("train_amp_nw0", a.train_steps, True), 150, 60)
        # 2a. torchrun, the real CLI; 2b. the process group forced and the DDP path on
        torchrun = Path(py).parent / "torchrun"
        tr = [str(torchrun)] if torchrun.is_file() else [py, "-m", "torch.distributed.run"]
        tr += ["--standalone", "--nproc_per_node=1"]
        run_dir = work / "torchrun_cli"
        over = train_overrides(work, a.torchrun_steps, dev, True, a.smoke) + extra
        rec = self.part("torchrun_cli", [*tr, str(CLI), "train", "--config", PRESET, "--out",
                                         str(run_dir), *over], 120, 40)  # fmt: skip
        logtxt = (run_dir / "train.log").read_text() if (run_dir / "train.log").is_file() else ""
        rec.update(process_group_created="process group:" in logtxt,
                   note="WORLD_SIZE=1: init_distributed() returns before init_process_group "
                   "(no nccl group, no DDP wrapper)")  # fmt: skip
        rec.update((k, v) for k, v in summarise_run(run_dir, min(a.warmup, 3)).items()
                   if k != "loss_curve")  # fmt: skip
        self.part("torchrun_ddp", [*tr, *train("torchrun_ddp", a.torchrun_steps, True,
                                               "--force-ddp")[1:]], 120, 40)  # fmt: skip
        # 3. tracker speed, GPU then CPU reference
        for name, device, frames, warm in (("track_cuda", "cuda", a.track_frames, "10"),
                                           ("track_cpu", "cpu", a.cpu_frames, "3")):  # fmt: skip
            if device == "cpu" or dev == "cuda":
                self.part(name, [*me, "track", "--data", str(work / "data"), "--device", device,
                                 "--frames", str(frames), "--warmup", warm,
                                 *(threads if device == "cpu" else []), "--json",
                                 str(work / f"{name}.json")], 120, 30)  # fmt: skip
        # 4. fp32 training for comparison (lowest priority: last)
        if a.fp32_steps > 0:
            self.part("train_fp32", train("train_fp32", a.fp32_steps, False), 150, 60)
        return self.finish()

    def finish(self) -> int:
        parts, e = self.results["parts"], self.results.get("env", {})
        f = lambda v, nd=2: "-" if v is None else (f"{v:.{nd}f}" if isinstance(v, float)  # noqa: E731
                                                   else str(v))  # fmt: skip
        lines = ["", "=" * 78, f"torch {e.get('torch')} (CUDA {e.get('torch_cuda')}, cuDNN "
                 f"{e.get('cudnn')}, NCCL {e.get('nccl')}); nvidia-smi: {e.get('nvidia_smi')}",
                 f"{'part':<14}{'ok':<5}{'steps/s':>9}{'(mean)':>8}{'peak GiB':>10}"
                 f"{'loss first':>12}{'last':>9}{'falls':>7}"]  # fmt: skip
        for name in (n for n in TRAIN_PARTS if n in parts):
            r = parts[name]
            ok = "yes" if r.get("ok", True) and r.get("rc") == 0 else "NO"
            lines.append(f"{name:<14}{ok:<5}{f(r.get('steps_per_s_median')):>9}"
                         f"{f(r.get('steps_per_s_mean')):>8}{f(r.get('peak_allocated_gib')):>10}"
                         f"{f(r.get('loss_first'), 3):>12}{f(r.get('loss_last'), 3):>9}"
                         f"{f(r.get('loss_falls')):>7}")  # fmt: skip
            if r.get("loss_curve"):
                k = r.get("loss_mean_of")
                lines.append(f"  {name}: amp={r.get('amp_active')} {r.get('amp_dtype')}, "
                             f"loss_first{k}_mean={f(r.get('loss_first_mean'), 3)} "
                             f"loss_last{k}_mean={f(r.get('loss_last_mean'), 3)}, "
                             f"finite={r.get('loss_finite')}, scales={r.get('input_scales')}")
        if ddp := parts.get("torchrun_ddp"):
            lines.append(f"  torchrun_ddp: backend={ddp.get('backend')} all_reduce_ok="
                         f"{ddp.get('all_reduce_ok')} world={ddp.get('world_size')}")  # fmt: skip
        if cli := parts.get("torchrun_cli"):
            made = cli.get("process_group_created")
            lines.append(f"  torchrun_cli: process_group_created={made}")
        lines.append(f"{'tracker':<14}{'device':<8}{'px':>6}{'model in':>12}{'fps':>9}"
                     f"{'ms/frame':>10}{'frames':>8}{'peak GiB':>10}")  # fmt: skip
        for r in (parts.get(n) or {} for n in ("track_cuda", "track_cpu")):
            for size, s in (r.get("sizes") or {}).items():
                wh = "x".join(map(str, s.get("model_input_wh", []))) or "-"
                lines.append(f"{'':<14}{r.get('device', '-'):<8}{size:>6}{wh:>12}"
                             f"{f(s.get('fps'), 1):>9}{f(s.get('ms_per_frame'), 1):>10}"
                             f"{f(s.get('frames')):>8}{f(s.get('peak_allocated_gib')):>10}")
        fails = self.results["failures"]
        lines += ["failures: " + ("; ".join(fails) if fails else "none"),
                  f"elapsed {time.perf_counter() - self.start:.0f}s; json: {self.json_path}",
                  "=" * 78]  # fmt: skip
        self.results["table"] = "\n".join(lines)
        print(self.results["table"], flush=True)
        self.save()
        return 0 if not fails else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = p.add_subparsers(dest="cmd", required=True)
    al = sub.add_parser("all", help="run every part (driver)")
    al.add_argument("--out", default=os.environ.get("OUT", "/tmp/cuda_check_out"))
    al.add_argument("--work", default="/tmp/vsdmot_cuda_check")
    al.add_argument("--smoke", action="store_true", help="CPU dry run: tiny sizes, 1 thread")
    al.add_argument("--cpu-only", action="store_true")
    al.add_argument("--budget", type=float, default=380.0, help="global seconds for all parts")
    for flag, default in (("--sequences", 2), ("--frames", 60), ("--train-steps", 30),
                          ("--fp32-steps", 15), ("--torchrun-steps", 10), ("--warmup", 5),
                          ("--track-frames", 100), ("--cpu-frames", 20)):  # fmt: skip
        al.add_argument(flag, type=int, default=default)
    tr = sub.add_parser("train", help="one training run (worker)")
    tk = sub.add_parser("track", help="tracker speed (worker)")
    for w in (tr, tk):
        w.add_argument("--device", default="cuda")
        w.add_argument("--warmup", type=int, default=10 if w is tk else 5)
        w.add_argument("--threads", type=int, default=0)
        w.add_argument("--json", required=True)
    for flag in ("--work", "--name"):
        tr.add_argument(flag, required=True)
    tr.add_argument("--steps", type=int, required=True)
    for flag in ("--amp", "--smoke", "--force-ddp"):
        tr.add_argument(flag, action="store_true")
    tr.add_argument("--override", action="append", default=[], help="extra KEY=VALUE")
    tk.add_argument("--data", required=True)
    tk.add_argument("--sizes", default="800:1333,384:640")
    tk.add_argument("--frames", type=int, default=100)
    a = p.parse_args(argv)
    return {"all": lambda: Driver(a).run(), "train": lambda: cmd_train(a),
            "track": lambda: cmd_track(a)}[a.cmd]()  # fmt: skip


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
