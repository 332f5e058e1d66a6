"""vsdmot: multi-object tracking in low-quality video with distilled visual semantics.

Importing vsdmot registers its trackers (``vsdmot``, ``deepsort``) with the
``trackers`` package, beside ByteTrack, OC-SORT, BoT-SORT, C-BIoU and SORT.
"""

from vsdmot._version import __version__
from vsdmot.tracking import registry as _registry  # noqa: F401  (registration)

__all__ = ["__version__"]
