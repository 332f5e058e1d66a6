"""What a network costs: parameters, FLOPs, and the random-weight CLIP ViT-B/32 teacher
that the speed benchmarks time (the architecture's cost without its download).

>>> from torch import nn
>>> lin = nn.Linear(100, 10)
>>> round(n_params(lin), 6), round(n_params(lin, nn.Linear(10, 1)), 6)
(0.00101, 0.001021)
>>> gflops(lin, torch.zeros(4, 100)) * 1e9  # 4 rows x 100 x 10 multiply-adds x 2
8000.0
>>> load_average() != ""
True
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from vsdmot.semantics.teachers import ClipTeacher


def n_params(*modules: nn.Module) -> float:
    """Parameters of the modules together, in millions."""
    return sum(p.numel() for m in modules for p in m.parameters()) / 1e6


def gflops(call: Callable[[Tensor], object], x: Tensor) -> float:
    """GFLOPs of ``call(x)`` (``torch.utils.flop_counter``: one multiply-add = 2 FLOPs)."""
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        call(x)
    return counter.get_total_flops() / 1e9


def load_average() -> str:
    """The 1-minute load average of the machine, ``unknown`` where /proc has none."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def random_clip_teacher(name: str = "clip-vit-b32-random") -> ClipTeacher:
    """CLIP ViT-B/32's vision tower (``CLIPVisionConfig()`` defaults) with random weights
    (seed 0): the real teacher's architecture and cost, not its accuracy."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    tower = CLIPVisionModelWithProjection(CLIPVisionConfig()).eval()
    return ClipTeacher(tower, input_size=224, mean=(0.5,) * 3, std=(0.25,) * 3,
                       resize="squash", name=name)  # fmt: skip
