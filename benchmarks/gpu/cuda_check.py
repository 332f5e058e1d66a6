"""CUDA check of vsdmot on one GPU: AMP training steps, torchrun (nccl), tracker speed.

One driver (``all``) runs every part in its own subprocess, with a time limit each and a
global budget, writes ``cuda_check.json`` after every part (so a killed run still leaves
what it measured) and prints a final table::

    python benchmarks/gpu/cuda_check.py all --out $OUT            # on the GPU machine
    python benchmarks/gpu/cuda_check.py all --out /tmp/cc --smoke  # CPU dry run, tiny sizes

BENCHMARKS.md's GPU numbers: ``bash benchmarks/gpu/run.sh --budget 380`` (on one H200),
which runs ``python benchmarks/gpu/cuda_check.py all``.

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
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from vsdmot.bench import gpu_check

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLI = HERE / "vsdmot_cli.py"
PRESET = "mot17-gpu"
SMOKE = ["data.augment.scales=[96,128]", "data.augment.max_size=192", "data.input_size=128",
         "data.max_size=192", "data.clip_length=2", "data.num_workers=0", "model.enc_layers=1",
         "model.dec_layers=2"]  # fmt: skip


def log(msg: str) -> None:
    print(f"[cuda_check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def train_overrides(work: Path, steps: int, device: str, amp: bool, smoke: bool) -> list[str]:
    return [f"data.train=[{work / 'data'}]", "model.backbone_weights=null",
            "semantic.teacher.kind=mobilenet_v2",
            f"semantic.teacher.weights={work / 'mnv2_random_teacher.pt'}",
            "optim.warmup_steps=5", "train.epochs=null", f"train.steps={steps}",
            "train.log_every=1", "train.ckpt_every=1000000", "train.tensorboard=false",
            f"train.device={device}", f"train.amp={str(amp).lower()}",
            *(SMOKE if smoke else [])]  # fmt: skip


# -- workers (each in its own process) --------------------------------------------------


def cmd_train(a: argparse.Namespace) -> int:
    import torch

    from vsdmot.bench.training_run import summarise_training
    from vsdmot.config import compose_config
    from vsdmot.engine.trainer import train
    from vsdmot.utils.sysinfo import cuda_peak_memory

    over = train_overrides(Path(a.work), a.steps, a.device, a.amp, a.smoke) + list(a.override)
    cfg, out, cuda = compose_config(PRESET, over), Path(a.work) / a.name, a.device[:4] == "cuda"
    result = {"part": a.name, "preset": PRESET, **gpu_check.train_record(cfg, a.device, a.amp),
              "steps": a.steps, "extra_overrides": list(a.override)}  # fmt: skip
    dist = gpu_check.forced_dist(a.device, result) if a.force_ddp else None
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    gpu_check.guarded(result, lambda: result.update(final_step=train(cfg, out, dist=dist).step))
    if cuda:
        torch.cuda.synchronize()
    result.update(wall_s_train_call=time.perf_counter() - t0, **cuda_peak_memory(),
                  **summarise_training(out, a.warmup))  # fmt: skip
    if dist is not None:
        torch.distributed.destroy_process_group()
    gpu_check.save_json(Path(a.json), result)
    log(f"train part {a.name}: ok={result.get('ok')} json={a.json}")
    return 0 if result.get("ok") else 1


def cmd_track(a: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from vsdmot.bench.tracker_rows import public_frames
    from vsdmot.data.sequence import list_sequences
    from vsdmot.tracking.registry import build_tracker, describe_tracker

    frames = []  # (sequence, BGR frame, (P, 5) proposals), decoded beforehand
    for seq in list_sequences(a.data):
        frames += [
            (seq.name, f, p) for _, f, p in public_frames(seq, a.frames + a.warmup - len(frames))
        ]
    result: dict = {
        "part": f"track_{a.device.split(':')[0]}", "device": a.device,
        "frames_available": len(frames), "frame_size": list(frames[0][1].shape[:2][::-1]),
        "mean_proposals": float(np.mean([len(f[2]) for f in frames])),
        "torch_threads": torch.get_num_threads(), "sizes": {},
    }  # fmt: skip
    cuda = a.device.startswith("cuda")
    for short, max_side in (map(int, spec.split(":")) for spec in a.sizes.split(",")):
        spec = f"vsdmot:input_short_side={short},input_max_side={max_side}"
        tracker = build_tracker(spec, device=a.device)
        result["weights"] = describe_tracker(tracker)
        r = result["sizes"][str(short)] = {
            "input_short_side": short, "input_max_side": max_side,
            "model_input_wh": gpu_check.model_input_wh(frames[0][1], short, max_side),
            **gpu_check.tracker_fps(tracker, frames, a.warmup, a.frames, cuda)}  # fmt: skip
        log(f"track {a.device} {short}px: {r.get('fps', 'FAILED')}")
    result["ok"] = all(v.get("ok") for v in result["sizes"].values())
    gpu_check.save_json(Path(a.json), result)
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
        gpu_check.save_json(self.json_path, self.results)

    def part(self, name: str, argv: list[str], limit: float, min_needed: float = 20) -> dict:
        """Run one part; record rc, wall time, failure (timeout, rc != 0) and its JSON."""
        left = self.a.budget - (time.perf_counter() - self.start)
        rec: dict = {"cmd": shlex.join(argv)}
        if left < min_needed:
            rec.update(skipped=True, reason=f"global budget: {left:.0f}s left < {min_needed}s")
            self.results["failures"].append(f"{name}: skipped ({rec['reason']})")
        else:
            log(f"RUN {name} (limit {min(limit, left - 5):.0f}s): {rec['cmd']}")
            rec.update(gpu_check.run_limited(argv, min(limit, left - 5), env=self.env, cwd=ROOT))
            if rec["rc"] != 0:
                why = f"{name}: rc={rec['rc']} after {rec['wall_s']:.0f}s"
                self.results["failures"].append(why)
        log(f"END {name}: {rec.get('rc', rec.get('reason'))}")
        p = self.work / f"{name}.json"
        rec.update(json.loads(p.read_text()) if p.is_file() else {})
        self.results["parts"][name] = rec
        self.save()
        return rec

    def run(self) -> int:
        import torch

        from vsdmot.bench.training_run import summarise_training
        from vsdmot.nn.mobilenet_v2 import MobileNetV2Features
        from vsdmot.utils.sysinfo import nvidia_smi, torch_environment

        a, py, work = self.a, sys.executable, self.work
        shutil.rmtree(work, ignore_errors=True)  # a rerun on a warm machine: runs must not exist
        work.mkdir(parents=True)
        self.results["env"] = {**torch_environment(), "nvidia_smi": nvidia_smi()}
        log("env: " + json.dumps(self.results["env"]))
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

        def train(name: str, steps: int, amp: bool = True, limit: float = 150,
                  launch: tuple[str, ...] = tuple(me), need: float = 60) -> dict:  # fmt: skip
            """One training part: in this interpreter, or under torchrun with the DDP path."""
            return self.part(name, [*launch, "train", "--work", str(work), "--name", name,
                                    "--steps", str(steps), "--device", dev, "--json",
                                    str(work / f"{name}.json"), "--warmup", str(a.warmup),
                                    *threads, *(["--amp"] if amp else []),
                                    *(["--smoke"] if a.smoke else []),
                                    *(["--force-ddp"] if launch != tuple(me) else []),
                                    *(x for o in extra for x in ("--override", o))],
                             limit, need)  # fmt: skip

        # 1. AMP training, in process (peak memory is this process's)
        rec = train("train_amp", a.train_steps, limit=200)
        if rec.get("rc") not in (0, None) and not a.smoke:
            # DataLoader workers die in small /dev/shm containers: retry in-process loading
            extra.append("data.num_workers=0")
            train("train_amp_nw0", a.train_steps)
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
        rec.update((k, v) for k, v in summarise_training(run_dir, min(a.warmup, 3)).items()
                   if k != "loss_curve")  # fmt: skip
        train("torchrun_ddp", a.torchrun_steps, True, 120, (*tr, me[1]), 40)
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
            train("train_fp32", a.fp32_steps, False)
        return self.finish()

    def finish(self) -> int:
        fails, env = self.results["failures"], self.results.get("env", {})
        lines = ["", "=" * 78, *gpu_check.summary_lines(self.results["parts"], env),
                 "failures: " + ("; ".join(fails) if fails else "none"),
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
    if a.cmd != "all" and a.threads:
        import torch

        torch.set_num_threads(a.threads)
    return {"all": lambda: Driver(a).run(), "train": lambda: cmd_train(a),
            "track": lambda: cmd_track(a)}[a.cmd]()  # fmt: skip


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
