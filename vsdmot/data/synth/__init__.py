"""Procedurally generated, annotated pedestrian-like sequences (MOTChallenge layout).

``generate_dataset`` writes whole datasets; ``render_sequence`` yields frames
and gt in memory; ``simulate_detections`` turns any gt into detector output.
"""

from vsdmot.data.synth.detector import DetectorConfig, simulate_detections
from vsdmot.data.synth.generate import (
    SynthFrame,
    SynthInfo,
    generate_dataset,
    generate_sequence,
    read_synth_info,
    render_sequence,
    sequence_seed,
)
from vsdmot.data.synth.scene import SynthConfig

__all__ = [
    "DetectorConfig",
    "SynthConfig",
    "SynthFrame",
    "SynthInfo",
    "generate_dataset",
    "generate_sequence",
    "read_synth_info",
    "render_sequence",
    "sequence_seed",
    "simulate_detections",
]
