"""Two CPU processes under torchrun (gloo): both ranks must end with identical weights."""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers.sequences import write_tiny_sequence

TESTS = Path(__file__).resolve().parent

SCRIPT = """
import hashlib, json, os, sys
from pathlib import Path
import torch
sys.path.insert(0, {tests!r})
from helpers.models import ToyTracker, toy_config
from vsdmot.engine.trainer import train

torch.set_num_threads(1)
built, worlds = [], []

def factory(cfg):
    dist = torch.distributed
    worlds.append(dist.get_world_size() if dist.is_initialized() else 1)
    built.append(ToyTracker(cfg))
    return built[-1]

cfg = toy_config(Path({data!r}), "train.steps=3", "train.log_every=1", "train.ckpt_every=3")
train(cfg, {out!r}, model_factory=factory)
model = built[0]
flat = torch.cat([p.detach().flatten() for p in model.parameters()])
init = torch.cat([p.detach().flatten() for p in ToyTracker(cfg).parameters()])
rank = int(os.environ["RANK"])
Path({out!r}, f"rank{{rank}}.json").write_text(json.dumps({{
    "world": worlds[0],
    "left_group": not torch.distributed.is_initialized(),
    "sha": hashlib.sha256(flat.numpy().tobytes()).hexdigest(),
    "moved": float((flat - init).abs().max()),
    "unused_grad": model.unused.weight.grad is not None
                   and bool(model.unused.weight.grad.abs().sum() > 0),
}}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_ranks_stay_in_sync(tmp_path: Path) -> None:
    data = tmp_path / "ds"
    write_tiny_sequence(data, n_frames=8)
    out = tmp_path / "run"
    script = tmp_path / "ddp_train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(tests=str(TESTS), data=str(data),
                                                    out=str(out))))  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(TESTS.parent)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           f"--master_port={_free_port()}", str(script)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world"] == ranks[1]["world"] == 2
    assert ranks[0]["left_group"] and ranks[1]["left_group"]  # train() left the group it joined
    assert ranks[0]["sha"] == ranks[1]["sha"]
    assert ranks[0]["moved"] > 1e-4  # the parameters did train
    assert not ranks[0]["unused_grad"]
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    assert all(math.isfinite(float(r["loss"])) for r in rows)
    assert (out / "model.pt").is_file() and (out / "checkpoints" / "last.pt").is_file()
    # Only rank 0 writes: a single set of outputs, no stray temp files.
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "last.pt",
        "step_0000003.pt",
    ]
