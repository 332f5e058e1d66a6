"""The ImageNet normalisation every pretrained network here expects its RGB input in.

Shared by the data pipeline (which normalises frames), the tracker's backbone and the
semantic branch's teachers and student (which undo or redo it for their own input).
"""

from __future__ import annotations

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
