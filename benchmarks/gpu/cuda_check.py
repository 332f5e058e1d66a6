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
3. ``track``: :class:`vsdmot.tracking.query_tracker.QueryTracker` with the shipped weights
   over generated 1066x800 frames and their simulated detections as proposals, at 800 px
   and 384 px short side, frames/s after warm-up (frames decoded beforehand); on CUDA and,
   for reference, on the CPU.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLI = HERE / "vsdmot_cli.py"
PRESET = "mot17-gpu"


def log(msg: str) -> None:
    print(f"[cuda_check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------
# shared helpers


def train_overrides(
    work: Path, steps: int, device: str, amp: bool, smoke: bool, run_tb: bool = False
) -> list[str]:
    o = [
        f"data.train=[{work / 'data'}]",
        "model.backbone_weights=null",
        "semantic.teacher.kind=mobilenet_v2",
        f"semantic.teacher.weights={work / 'mnv2_random_teacher.pt'}",
        "optim.warmup_steps=5",
        "train.epochs=null",
        f"train.steps={steps}",
        "train.log_every=1",
        "train.ckpt_every=1000000",
        f"train.tensorboard={'true' if run_tb else 'false'}",
        f"train.device={device}",
        f"train.amp={'true' if amp else 'false'}",
    ]
    if smoke:
        o += [
            "data.augment.scales=[96,128]",
            "data.augment.max_size=192",
            "data.input_size=128",
            "data.max_size=192",
            "data.clip_length=2",
            "data.num_workers=0",
            "model.enc_layers=1",
            "model.dec_layers=2",
        ]
    return o


def read_metrics(run: Path) -> list[dict[str, float]]:
    path = run / "metrics.csv"
    if not path.is_file():
        return []
    rows = []
    with path.open() as f:
        for r in csv.DictReader(f):
            rows.append({k: float(v) for k, v in r.items() if v not in ("", None)})
    return rows


def summarise_run(rows: list[dict[str, float]], warmup: int) -> dict:
    """Loss first/last, finiteness, steps/s (median step time after ``warmup`` steps)."""
    if not rows:
        return {"ok": False, "error": "no metrics.csv rows"}
    loss = [r["loss"] for r in rows]
    it_s = [r["it_s"] for r in rows if "it_s" in r]
    steady = it_s[warmup:] if len(it_s) > warmup else it_s
    step_times = [1.0 / v for v in steady if v > 0]
    k = max(1, min(5, len(loss) // 3))
    first_k, last_k = statistics.fmean(loss[:k]), statistics.fmean(loss[-k:])
    return {
        "steps_logged": len(rows),
        "loss_first": loss[0],
        "loss_last": loss[-1],
        f"loss_first{k}_mean": first_k,
        f"loss_last{k}_mean": last_k,
        "loss_finite": all(math.isfinite(v) for v in loss),
        "loss_falls": last_k < first_k,
        "steps_per_s_median": 1.0 / statistics.median(step_times) if step_times else None,
        "steps_per_s_mean": len(step_times) / sum(step_times) if step_times else None,
        "steps_per_s_incl_warmup": len(it_s) / sum(1.0 / v for v in it_s if v > 0)
        if it_s
        else None,
        "warmup_steps_excluded": min(warmup, len(it_s)),
        "loss_curve": [round(v, 4) for v in loss],
        "grad_norm_last": rows[-1].get("grad_norm"),
    }


def cuda_mem() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {}
    return {
        "peak_allocated_gib": torch.cuda.max_memory_allocated() / 2**30,
        "peak_reserved_gib": torch.cuda.max_memory_reserved() / 2**30,
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)


# ---------------------------------------------------------------------------------------
# part workers (each in its own process)


def cmd_train(a: argparse.Namespace) -> int:
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from vsdmot.config import compose_config
    from vsdmot.engine.distributed import DistInfo
    from vsdmot.engine.trainer import train

    work = Path(a.work)
    out = work / a.name
    over = train_overrides(work, a.steps, a.device, a.amp, a.smoke) + list(a.override)
    cfg = compose_config(PRESET, over)
    result: dict = {
        "part": a.name,
        "preset": PRESET,
        "device": a.device,
        "amp": a.amp,
        "amp_dtype": cfg.train.amp_dtype if a.amp else None,
        "amp_active": a.amp and a.device.startswith("cuda"),
        "input_scales": list(cfg.data.augment.scales),
        "max_size": cfg.data.augment.max_size,
        "clip_length": cfg.data.clip_length,
        "model": {
            k: getattr(cfg.model, k)
            for k in ("backbone", "d_model", "enc_layers", "dec_layers", "n_levels", "ffn_dim")
        },
        "semantics": f"{cfg.semantic.semantics}/dswr={cfg.semantic.dswr}",
        "steps": a.steps,
        "torch_threads": torch.get_num_threads(),
        "num_workers": cfg.data.num_workers,
        "extra_overrides": list(a.override),
    }
    dist = None
    if a.force_ddp:
        import torch.distributed as tdist

        @dataclass_frozen
        class ForcedDist(DistInfo):
            """DistInfo whose ``enabled`` is True even at world size 1 (DDP path on)."""

            @property
            def enabled(self) -> bool:  # type: ignore[override]
                return True

        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK", "0"))
        dev = torch.device(a.device)
        if dev.type == "cuda":
            dev = torch.device("cuda", local)
            torch.cuda.set_device(dev)
        backend = "nccl" if dev.type == "cuda" else "gloo"
        tdist.init_process_group(backend=backend, rank=rank, world_size=world)
        # a real collective on the backend, checked
        t = torch.ones(4, device=dev) * (rank + 1)
        tdist.all_reduce(t)
        result.update(
            backend=tdist.get_backend(),
            world_size=world,
            all_reduce_ok=bool(t[0].item() == 1.0 * world * (world + 1) / 2),
        )
        dist = ForcedDist(rank, world, local, dev)
    if a.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    try:
        res = train(cfg, out, dist=dist)
        result["final_step"] = res.step
        result["ok"] = True
    except Exception as exc:  # report, don't hide
        import traceback

        traceback.print_exc()
        result["ok"] = False
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    result["wall_s_train_call"] = time.perf_counter() - t0
    result.update(cuda_mem())
    summary = summarise_run(read_metrics(out), a.warmup)
    if "error" in summary:
        result["metrics_error"] = summary["error"]
    else:
        result.update(summary)
    if a.force_ddp:
        import torch.distributed as tdist

        result["ddp_path_forced"] = True  # ForcedDist.enabled: Trainer wraps DDP
        tdist.destroy_process_group()
    write_json(Path(a.json), result)
    log(f"train part {a.name}: ok={result.get('ok')} json={a.json}")
    return 0 if result.get("ok") else 1


def dataclass_frozen(cls):
    from dataclasses import dataclass

    return dataclass(frozen=True)(cls)


def load_frames(
    data: Path, limit: int, width: int | None = None
) -> list[tuple[str, object, object]]:
    """(sequence, BGR frame, (P, 5) x1 y1 x2 y2 score proposals), sequence by sequence."""
    import cv2
    import numpy as np

    items = []
    for seq in sorted(p for p in data.iterdir() if (p / "img1").is_dir()):
        det = np.loadtxt(seq / "det" / "det.txt", delimiter=",", ndmin=2)
        for img in sorted((seq / "img1").glob("*.jpg")):
            n = int(img.stem)
            frame = cv2.imread(str(img))
            if width is not None and frame.shape[1] != width:
                h = round(frame.shape[0] * width / frame.shape[1])
                frame = cv2.resize(frame, (width, h), interpolation=cv2.INTER_LINEAR)
            d = det[det[:, 0] == n]
            props = (
                np.stack(
                    [d[:, 2], d[:, 3], d[:, 2] + d[:, 4], d[:, 3] + d[:, 5], d[:, 6]], axis=1
                ).astype(np.float32)
                if len(d)
                else np.zeros((0, 5), np.float32)
            )
            items.append((seq.name, frame, props))
            if len(items) >= limit:
                return items
    return items


def cmd_track(a: argparse.Namespace) -> int:
    import numpy as np
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from vsdmot.tracking.query_tracker import QueryTracker, TrackerParams
    from vsdmot.tracking.weights import load_tracker_model

    dev = a.device
    cuda = dev.startswith("cuda")
    frames = load_frames(Path(a.data), a.frames + a.warmup)
    result: dict = {
        "part": f"track_{dev.split(':')[0]}",
        "device": dev,
        "frames_available": len(frames),
        "frame_size": list(frames[0][1].shape[:2][::-1]) if frames else None,
        "mean_proposals": float(np.mean([len(f[2]) for f in frames])) if frames else 0,
        "torch_threads": torch.get_num_threads(),
        "sizes": {},
    }
    loaded = load_tracker_model(device=dev)
    result["weights"] = loaded.describe()
    for spec in a.sizes.split(","):
        short, max_side = (int(v) for v in spec.split(":"))
        params = TrackerParams(input_short_side=short, input_max_side=max_side)
        tracker = QueryTracker(loaded.model, params, device=dev)
        r: dict = {"input_short_side": short, "input_max_side": max_side}
        try:
            for _, frame, props in frames[: a.warmup]:  # warm-up (cuDNN autotune, allocator)
                tracker.update(frame, props)
            tracker.reset()
            timed = frames[a.warmup : a.warmup + a.frames] or frames[: a.frames]
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            seq, n_tracks = None, []
            t0 = time.perf_counter()
            for name, frame, props in timed:
                if name != seq:
                    tracker.reset()
                    seq = name
                n_tracks.append(len(tracker.update(frame, props)))
            if cuda:
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            h, w = timed[0][1].shape[:2]
            from vsdmot.data.preprocess import resize_size

            r.update(
                ok=True,
                frames=len(timed),
                seconds=dt,
                fps=len(timed) / dt,
                ms_per_frame=1000 * dt / len(timed),
                model_input_wh=list(resize_size(w, h, short, max_side)),
                mean_tracks_reported=float(np.mean(n_tracks)),
                **cuda_mem(),
            )
        except Exception as exc:
            import traceback

            traceback.print_exc()
            r.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])
        result["sizes"][str(short)] = r
        log(f"track {dev} {short}px: {r.get('fps', 'FAILED')}")
    result["ok"] = all(v.get("ok") for v in result["sizes"].values())
    write_json(Path(a.json), result)
    return 0 if result["ok"] else 1


# ---------------------------------------------------------------------------------------
# driver


class Driver:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.out = Path(a.out)
        self.work = Path(a.work)
        self.json_path = self.out / "cuda_check.json"
        self.start = time.perf_counter()
        self.results: dict = {"args": vars(a), "parts": {}, "failures": []}
        self.extra_over: list[str] = []
        py_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.env = {**os.environ, "PYTHONPATH": py_path, "PYTHONUNBUFFERED": "1"}
        if a.smoke:
            self.env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def left(self) -> float:
        return self.a.budget - (time.perf_counter() - self.start)

    def save(self) -> None:
        self.results["elapsed_s"] = time.perf_counter() - self.start
        write_json(self.json_path, self.results)

    def sh(self, name: str, argv: list[str], limit: float, min_needed: float = 20) -> dict:
        """Run one part; record rc, wall time and failure (timeout, rc != 0)."""
        left = self.left()
        rec: dict = {"cmd": shlex.join(argv)}
        if left < min_needed:
            rec.update(skipped=True, reason=f"global budget: {left:.0f}s left < {min_needed}s")
            self.results["failures"].append(f"{name}: skipped ({rec['reason']})")
            log(f"SKIP {name}: {rec['reason']}")
            return rec
        limit = min(limit, left - 5)
        log(f"RUN {name} (limit {limit:.0f}s): {rec['cmd']}")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(argv, env=self.env, cwd=ROOT, timeout=limit)
            rec["rc"] = proc.returncode
        except subprocess.TimeoutExpired:
            rec["rc"] = "timeout"
        rec["wall_s"] = time.perf_counter() - t0
        if rec["rc"] != 0:
            self.results["failures"].append(f"{name}: rc={rec['rc']} after {rec['wall_s']:.0f}s")
        log(f"END {name}: rc={rec['rc']} in {rec['wall_s']:.1f}s")
        return rec

    def env_info(self) -> None:
        import torch

        info = {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "torch": torch.__version__,
            "torch_cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version()
            if torch.backends.cudnn.is_available()
            else None,
            "cuda_available": torch.cuda.is_available(),
            "nccl": ".".join(map(str, torch.cuda.nccl.version()))
            if torch.cuda.is_available()
            else None,
            "cpu_count": os.cpu_count(),
        }
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info.update(
                torch_gpu=p.name,
                gpu_mem_gib=p.total_memory / 2**30,
                sm=f"{p.major}.{p.minor}",
                multiprocessors=p.multi_processor_count,
            )
        try:
            q = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=name,driver_version,memory.total",
                    "--format=csv,noheader",
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
            info["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
        except (OSError, subprocess.TimeoutExpired) as exc:
            info["nvidia_smi"] = f"unavailable: {exc}"
        self.results["env"] = info
        log("env: " + json.dumps(info))
        self.save()

    def part_json(self, name: str) -> dict:
        p = self.work / f"{name}.json"
        return json.loads(p.read_text()) if p.is_file() else {}

    def run(self) -> int:
        a, py = self.a, sys.executable
        if self.work.exists():  # a rerun on a warm machine: runs must not exist yet
            import shutil

            shutil.rmtree(self.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        self.env_info()
        import torch

        cuda = torch.cuda.is_available() and not a.cpu_only
        dev = "cuda" if cuda else "cpu"
        self.results["train_device"] = dev
        me = [py, str(Path(__file__).resolve())]
        threads = ["--threads", "1"] if a.smoke else []

        # data: the project's generator through its CLI, and a random teacher file
        w, h = (320, 240) if a.smoke else (1066, 800)
        rec = self.sh(
            "synth",
            [
                py,
                str(CLI),
                "synth",
                str(self.work / "data"),
                "--sequences",
                str(a.sequences),
                "--frames",
                str(a.frames),
                "--seed",
                "0",
                "--width",
                str(w),
                "--height",
                str(h),
            ],
            240,
        )
        self.results["parts"]["synth"] = rec
        from vsdmot.nn.mobilenet_v2 import MobileNetV2Features

        torch.manual_seed(0)
        torch.save(MobileNetV2Features().state_dict(), self.work / "mnv2_random_teacher.pt")
        self.save()
        if rec.get("rc") != 0:
            log("synth failed: nothing else can run")
            return self.finish()

        def train_part(name: str, steps: int, amp: bool, limit: float, extra=()):
            argv = [
                *me,
                "train",
                "--work",
                str(self.work),
                "--name",
                name,
                "--steps",
                str(steps),
                "--device",
                dev,
                "--json",
                str(self.work / f"{name}.json"),
                "--warmup",
                str(a.warmup),
                *threads,
                *(["--amp"] if amp else []),
                *(["--smoke"] if a.smoke else []),
                *extra,
            ]
            for o in self.extra_over:
                argv += ["--override", o]
            return argv

        # 1. AMP training, in process (peak memory is this process's)
        rec = self.sh("train_amp", train_part("train_amp", a.train_steps, True, 0), 200, 60)
        self.results["parts"]["train_amp"] = {**rec, **self.part_json("train_amp")}
        self.save()
        if rec.get("rc") not in (0, None) and not a.smoke:
            # DataLoader workers die in small /dev/shm containers: retry in-process loading
            log("train_amp failed: retrying once with data.num_workers=0")
            self.extra_over = ["data.num_workers=0"]
            rec = self.sh(
                "train_amp_nw0", train_part("train_amp_nw0", a.train_steps, True, 0), 150, 60
            )
            self.results["parts"]["train_amp_nw0"] = {**rec, **self.part_json("train_amp_nw0")}
            self.save()

        # 2a. torchrun, the real CLI
        torchrun = Path(sys.executable).parent / "torchrun"
        tr = [str(torchrun)] if torchrun.is_file() else [py, "-m", "torch.distributed.run"]
        tr += ["--standalone", "--nproc_per_node=1"]
        run_dir = self.work / "torchrun_cli"
        cli_over = train_overrides(self.work, a.torchrun_steps, dev, True, a.smoke)
        cli_over += self.extra_over
        rec = self.sh(
            "torchrun_cli",
            [*tr, str(CLI), "train", "--config", PRESET, "--out", str(run_dir), *cli_over],
            120,
            40,
        )
        logtxt = (run_dir / "train.log").read_text() if (run_dir / "train.log").is_file() else ""
        rec["process_group_created"] = "process group:" in logtxt
        rec["note"] = (
            "WORLD_SIZE=1: init_distributed() returns before init_process_group "
            "(no nccl group, no DDP wrapper)"
        )
        rec.update(
            {
                k: v
                for k, v in summarise_run(read_metrics(run_dir), min(a.warmup, 3)).items()
                if k != "loss_curve"
            }
        )
        self.results["parts"]["torchrun_cli"] = rec
        self.save()

        # 2b. torchrun with the process group forced (nccl on CUDA) and the DDP path on
        rec = self.sh(
            "torchrun_ddp",
            [
                *tr,
                me[1],
                *train_part("torchrun_ddp", a.torchrun_steps, True, 0, ["--force-ddp"])[2:],
            ],
            120,
            40,
        )
        self.results["parts"]["torchrun_ddp"] = {**rec, **self.part_json("torchrun_ddp")}
        self.save()

        # 3. tracker speed, GPU then CPU reference
        data = str(self.work / "data")
        sizes = "800:1333,384:640"
        if cuda:
            rec = self.sh(
                "track_cuda",
                [
                    *me,
                    "track",
                    "--data",
                    data,
                    "--device",
                    "cuda",
                    "--sizes",
                    sizes,
                    "--frames",
                    str(a.track_frames),
                    "--warmup",
                    "10",
                    "--json",
                    str(self.work / "track_cuda.json"),
                ],
                120,
                30,
            )
            self.results["parts"]["track_cuda"] = {**rec, **self.part_json("track_cuda")}
            self.save()
        rec = self.sh(
            "track_cpu",
            [
                *me,
                "track",
                "--data",
                data,
                "--device",
                "cpu",
                "--sizes",
                sizes,
                "--frames",
                str(a.cpu_frames),
                "--warmup",
                "3",
                *threads,
                "--json",
                str(self.work / "track_cpu.json"),
            ],
            120,
            30,
        )
        self.results["parts"]["track_cpu"] = {**rec, **self.part_json("track_cpu")}
        self.save()

        # 4. fp32 training for comparison (lowest priority: last)
        if a.fp32_steps > 0:
            rec = self.sh("train_fp32", train_part("train_fp32", a.fp32_steps, False, 0), 150, 60)
            self.results["parts"]["train_fp32"] = {**rec, **self.part_json("train_fp32")}
            self.save()
        return self.finish()

    def finish(self) -> int:
        self.save()
        P = self.results["parts"]
        e = self.results.get("env", {})

        def f(v, nd=2):
            return "-" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))

        lines = [
            "",
            "=" * 78,
            f"torch {e.get('torch')} (CUDA {e.get('torch_cuda')}, cuDNN {e.get('cudnn')}, "
            f"NCCL {e.get('nccl')}); nvidia-smi: {e.get('nvidia_smi')}",
            f"{'part':<14}{'ok':<5}{'steps/s':>9}{'(mean)':>8}{'peak GiB':>10}"
            f"{'loss first':>12}{'last':>9}{'falls':>7}",
        ]
        for name in ("train_amp", "train_amp_nw0", "train_fp32", "torchrun_cli", "torchrun_ddp"):
            r = P.get(name)
            if not r:
                continue
            ok = r.get("ok", r.get("rc") == 0) and r.get("rc") == 0
            lines.append(
                f"{name:<14}{'yes' if ok else 'NO':<5}{f(r.get('steps_per_s_median')):>9}"
                f"{f(r.get('steps_per_s_mean')):>8}{f(r.get('peak_allocated_gib')):>10}"
                f"{f(r.get('loss_first'), 3):>12}{f(r.get('loss_last'), 3):>9}"
                f"{f(r.get('loss_falls')):>7}"
            )
        for name in ("train_amp", "train_amp_nw0", "train_fp32"):
            r = P.get(name) or {}
            if r.get("loss_curve"):
                k = next(
                    (key for key in r if key.startswith("loss_first") and key.endswith("_mean")),
                    None,
                )
                k2 = next(
                    (key for key in r if key.startswith("loss_last") and key.endswith("_mean")),
                    None,
                )
                lines.append(
                    f"  {name}: amp={r.get('amp_active')} {r.get('amp_dtype')}, "
                    f"{k}={f(r.get(k), 3)} {k2}={f(r.get(k2), 3)}, "
                    f"finite={r.get('loss_finite')}, scales={r.get('input_scales')}"
                )
        ddp = P.get("torchrun_ddp") or {}
        if ddp:
            lines.append(
                f"  torchrun_ddp: backend={ddp.get('backend')} all_reduce_ok="
                f"{ddp.get('all_reduce_ok')} world={ddp.get('world_size')}"
            )
        cli = P.get("torchrun_cli") or {}
        if cli:
            lines.append(
                f"  torchrun_cli: process_group_created={cli.get('process_group_created')}"
            )
        lines.append(
            f"{'tracker':<14}{'device':<8}{'px':>6}{'model in':>12}{'fps':>9}"
            f"{'ms/frame':>10}{'frames':>8}{'peak GiB':>10}"
        )
        for name in ("track_cuda", "track_cpu"):
            r = P.get(name) or {}
            for size, s in (r.get("sizes") or {}).items():
                wh = "x".join(map(str, s.get("model_input_wh", []))) or "-"
                lines.append(
                    f"{'':<14}{r.get('device', '-'):<8}{size:>6}{wh:>12}"
                    f"{f(s.get('fps'), 1):>9}{f(s.get('ms_per_frame'), 1):>10}"
                    f"{f(s.get('frames')):>8}{f(s.get('peak_allocated_gib')):>10}"
                )
            if r.get("torch_threads"):
                lines.append(
                    f"{'':<14}({r.get('device')}: {r.get('torch_threads')} torch threads,"
                    f" {f(r.get('mean_proposals'), 1)} proposals/frame)"
                )
        fails = self.results["failures"]
        lines.append("failures: " + ("; ".join(fails) if fails else "none"))
        lines.append(f"elapsed {time.perf_counter() - self.start:.0f}s; json: {self.json_path}")
        lines.append("=" * 78)
        table = "\n".join(lines)
        print(table, flush=True)
        self.results["table"] = table
        self.save()
        return 0 if not fails else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    al = sub.add_parser("all", help="run every part (driver)")
    al.add_argument("--out", default=os.environ.get("OUT", "/tmp/cuda_check_out"))
    al.add_argument("--work", default="/tmp/vsdmot_cuda_check")
    al.add_argument("--smoke", action="store_true", help="CPU dry run: tiny sizes, 1 thread")
    al.add_argument("--cpu-only", action="store_true")
    al.add_argument("--budget", type=float, default=380.0, help="global seconds for all parts")
    al.add_argument("--sequences", type=int, default=2)
    al.add_argument("--frames", type=int, default=60, help="frames per generated sequence")
    al.add_argument("--train-steps", type=int, default=30)
    al.add_argument("--fp32-steps", type=int, default=15)
    al.add_argument("--torchrun-steps", type=int, default=10)
    al.add_argument("--warmup", type=int, default=5, help="train steps left out of steps/s")
    al.add_argument("--track-frames", type=int, default=100)
    al.add_argument("--cpu-frames", type=int, default=20)

    tr = sub.add_parser("train", help="one training run (worker)")
    tr.add_argument("--work", required=True)
    tr.add_argument("--name", required=True)
    tr.add_argument("--steps", type=int, required=True)
    tr.add_argument("--device", default="cuda")
    tr.add_argument("--amp", action="store_true")
    tr.add_argument("--smoke", action="store_true")
    tr.add_argument("--force-ddp", action="store_true")
    tr.add_argument("--warmup", type=int, default=5)
    tr.add_argument("--threads", type=int, default=0)
    tr.add_argument("--json", required=True)
    tr.add_argument("--override", action="append", default=[], help="extra KEY=VALUE")

    tk = sub.add_parser("track", help="tracker speed (worker)")
    tk.add_argument("--data", required=True)
    tk.add_argument("--device", default="cuda")
    tk.add_argument("--sizes", default="800:1333,384:640")
    tk.add_argument("--frames", type=int, default=100)
    tk.add_argument("--warmup", type=int, default=10)
    tk.add_argument("--threads", type=int, default=0)
    tk.add_argument("--json", required=True)

    a = p.parse_args(argv)
    if a.cmd == "all":
        return Driver(a).run()
    if a.cmd == "train":
        return cmd_train(a)
    return cmd_track(a)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
