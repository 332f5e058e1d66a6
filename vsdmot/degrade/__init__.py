"""Degradation toolkit: seeded, time-varying low-quality versions of clean video.

Types (severity in [0, 5], 0 = identity; parameter tables in each module and
in ``docs/degradations.md``): ``gaussian_noise``, ``shot_noise``, ``low_light``
(:mod:`.noise`); ``motion_blur``, ``defocus_blur`` (:mod:`.blur`); ``jpeg``,
``codec``, ``downscale`` (:mod:`.compression`); ``fog``, ``rain``,
``contrast`` (:mod:`.weather`); ``mix`` (:mod:`.mix`); ``realesrgan``, Real-ESRGAN's
second-order protocol (:mod:`.realesrgan`; severity scales how much of it reaches the
frame, 5 is the protocol itself).

Seeding: fixed per-sequence parameters come from ``(seed, sequence key)``,
per-frame noise from ``(seed, sequence key, frame)``; see :mod:`.base`.
Schedules of per-frame severities live in :mod:`.schedules`, quality labels
and PSNR/SSIM in :mod:`.quality`, whole datasets in :mod:`.dataset`, every op by name in
:mod:`.registry`.

>>> sorted(REGISTRY)[:4]
['codec', 'contrast', 'defocus_blur', 'downscale']
"""

from vsdmot.degrade.base import REGISTRY, Degradation
from vsdmot.degrade.degrader import Degrader
from vsdmot.degrade.quality import psnr, quality_label, ssim
from vsdmot.degrade.registry import DEGRADATION_TYPES, create
from vsdmot.degrade.schedules import SCHEDULES, make_schedule

__all__ = [
    "DEGRADATION_TYPES",
    "REGISTRY",
    "SCHEDULES",
    "Degradation",
    "Degrader",
    "create",
    "make_schedule",
    "psnr",
    "quality_label",
    "ssim",
]
