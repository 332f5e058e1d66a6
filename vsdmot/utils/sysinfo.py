"""What a benchmark runs on: library versions, the GPU, peak GPU memory.

>>> info = torch_environment()
>>> sorted(info)[:4], info["cuda_available"] in (True, False)
(['cpu_count', 'cuda_available', 'cudnn', 'nccl'], True)
>>> cuda_peak_memory() if not torch.cuda.is_available() else {}
{}
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import torch


def cuda_peak_memory() -> dict[str, float]:
    """Peak allocated and reserved GPU memory of this process (GiB); ``{}`` without CUDA."""
    if not torch.cuda.is_available():
        return {}
    return {"peak_allocated_gib": torch.cuda.max_memory_allocated() / 2**30,
            "peak_reserved_gib": torch.cuda.max_memory_reserved() / 2**30}  # fmt: skip


def nvidia_smi() -> str:
    """``nvidia-smi``'s name, driver version and memory of each GPU, or why it is not there."""
    query = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    try:
        q = subprocess.run(query, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable: {exc}"
    return q.stdout.strip() or q.stderr.strip()


def torch_environment() -> dict[str, object]:
    """Python, platform, torch / CUDA / cuDNN / NCCL versions, CPU count and GPU 0."""
    cuda = torch.cuda.is_available()
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    info: dict[str, object] = {
        "python": sys.version.split()[0], "platform": platform.platform(),
        "torch": torch.__version__, "torch_cuda": torch.version.cuda, "cudnn": cudnn,
        "cuda_available": cuda, "cpu_count": os.cpu_count(),
        "nccl": ".".join(map(str, torch.cuda.nccl.version())) if cuda else None,
    }  # fmt: skip
    if cuda:
        p = torch.cuda.get_device_properties(0)
        info.update(torch_gpu=p.name, gpu_mem_gib=p.total_memory / 2**30,
                    sm=f"{p.major}.{p.minor}", multiprocessors=p.multi_processor_count)  # fmt: skip
    return info
