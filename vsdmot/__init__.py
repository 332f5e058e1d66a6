"""vsdmot: multi-object tracking in low-quality video with distilled visual semantics."""

__version__ = "0.1.0"
