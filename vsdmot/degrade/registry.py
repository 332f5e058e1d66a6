"""Every degradation op, by name: importing this module registers all of them.

The ops register themselves (:func:`vsdmot.degrade.base.register`) when their module is
imported; this module imports each one, so :data:`REGISTRY` is complete for anything that
imports it. It sits above the op modules and below :class:`~vsdmot.degrade.degrader.Degrader`:
``base`` <- ops <- ``mix`` <- ``registry`` <- ``degrader``.

>>> DEGRADATION_TYPES[:4]
('codec', 'contrast', 'defocus_blur', 'downscale')
>>> create("fog").name
'fog'
"""

from __future__ import annotations

# Imported for their side effect: each module registers its ops in REGISTRY.
from vsdmot.degrade import blur, compression, mix, noise, weather  # noqa: F401
from vsdmot.degrade.base import REGISTRY, Degradation

DEGRADATION_TYPES: tuple[str, ...] = tuple(sorted(REGISTRY))


def create(name: str) -> Degradation:
    """A fresh (not yet set-up) op by name; ``ValueError`` lists the known names."""
    try:
        return REGISTRY[name]()
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"unknown degradation type {name!r}; known types: {known}") from None
