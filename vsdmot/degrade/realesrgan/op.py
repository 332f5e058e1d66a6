"""``realesrgan``: Real-ESRGAN's second-order degradation as a degradation type.

One parameter set is drawn per sequence from the sequence RNG (like the fixed
parameters of every other type); the frame RNG draws only the noise, so any frame can
be regenerated on its own.

Severity does not change the drawn parameters: they are the protocol. It sets how
much of the protocol's change reaches the frame, ``out = clean + (s / 5) (protocol -
clean)``: severity 5 is the protocol exactly, 0 the clean frame, and a schedule fades
the protocol in and out. The quality label keeps its meaning, ``1 - s / 5``.

>>> import numpy as np
>>> from vsdmot.degrade.base import frame_rng, sequence_rng
>>> op = RealESRGAN()
>>> op.setup(sequence_rng(0), (64, 48))
>>> sorted(op.params)
['config', 'protocol', 'ranges']
>>> op.apply(np.full((48, 64, 3), 128, np.uint8), 5.0, frame_rng(0, 0, 1)).shape
(48, 64, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vsdmot.degrade.base import (
    MAX_SEVERITY,
    STAGE_COMPOSITE,
    Degradation,
    register,
    to_float,
    to_uint8,
)
from vsdmot.degrade.realesrgan.protocol import (
    Kernels,
    ProtocolParams,
    build_kernels,
    draw_protocol,
    run_protocol,
)
from vsdmot.degrade.realesrgan.ranges import PUBLISHED, Ranges, load_ranges


@register
class RealESRGAN(Degradation):
    """The Real-ESRGAN protocol with the published ranges, or those of a YAML file.

    ``config``: a ranges file (see :mod:`vsdmot.degrade.realesrgan.ranges`); on the
    command line ``--type realesrgan:config=ranges.yaml``.
    """

    name = "realesrgan"
    stage = STAGE_COMPOSITE  # a whole camera-to-file chain: never one part of a mix

    def __init__(self, config: str | None = None) -> None:
        super().__init__()
        self.config = config
        # Read here, not in setup(): a bad file fails before any frame is written.
        self.ranges: Ranges = PUBLISHED if config is None else load_ranges(config)
        self.protocol: ProtocolParams | None = None
        self.kernels: Kernels | None = None

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        self.protocol = draw_protocol(rng, self.ranges)
        self.kernels = build_kernels(self.protocol)
        return {
            "protocol": self.protocol.to_json(),
            "config": self.config,
            "ranges": self.ranges.to_json(),
        }

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        assert self.protocol is not None and self.kernels is not None
        clean = to_float(frame)
        out = run_protocol(clean, self.protocol, self.kernels, rng)
        weight = severity / MAX_SEVERITY
        if weight < 1.0:
            out = clean + np.float32(weight) * (out - clean)
        return to_uint8(out)
