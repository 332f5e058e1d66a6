"""Every degradation op, by name: importing this module registers all of them.

The ops register themselves (:func:`vsdmot.degrade.base.register`) when their module is
imported; this module imports each one, so :data:`REGISTRY` is complete for anything that
imports it. It sits above the op modules and below :class:`~vsdmot.degrade.degrader.Degrader`:
``base`` <- ops <- ``mix`` <- ``registry`` <- ``degrader``.

A type is named as ``NAME`` or, for a type with options, ``NAME:key=value,...`` in the
one spec grammar (:mod:`vsdmot.utils.specs`), e.g. ``realesrgan:config=ranges.yaml``.

>>> DEGRADATION_TYPES[:4]
('codec', 'contrast', 'defocus_blur', 'downscale')
>>> create("fog").name
'fog'
>>> "realesrgan" in DEGRADATION_TYPES, "realesrgan" in single_types()
(True, False)
"""

from __future__ import annotations

# Imported for their side effect: each module registers its ops in REGISTRY.
from vsdmot.degrade import blur, compression, mix, noise, realesrgan, weather  # noqa: F401
from vsdmot.degrade.base import REGISTRY, STAGE_COMPOSITE, Degradation
from vsdmot.utils.specs import parse_spec, typed_options

DEGRADATION_TYPES: tuple[str, ...] = tuple(sorted(REGISTRY))


def single_types() -> tuple[str, ...]:
    """The types of one camera stage: every type but the whole chains (``mix``,
    ``realesrgan``), which are never a part of another chain or training draw."""
    return tuple(t for t in DEGRADATION_TYPES if REGISTRY[t].stage != STAGE_COMPOSITE)


def create(spec: str) -> Degradation:
    """A fresh (not yet set-up) op from ``NAME[:key=value,...]``; ``ValueError`` lists
    the known names, :class:`~vsdmot.utils.specs.SpecError` an unknown option."""
    parsed = parse_spec(spec)
    try:
        cls = REGISTRY[parsed.name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(
            f"unknown degradation type {parsed.name!r}; known types: {known}"
        ) from None
    return cls(**typed_options(parsed, cls))
