"""Sensor noise and low light.

==================  =========================================  ================================
type                parameter at severity 0 / 1 / 2 / 3 / 4 / 5  model (x in [0, 1])
==================  =========================================  ================================
``gaussian_noise``  sigma: 0 / .04 / .07 / .10 / .14 / .20      ``x + N(0, sigma^2)``
``shot_noise``      photons: inf / 60 / 30 / 15 / 8 / 4         ``Poisson(x photons) / photons``
``low_light``       exposure: 1 / .55 / .40 / .28 / .18 / .11   ``y = exposure x^gamma``, then
                    gamma: 1 / 1.2 / 1.35 / 1.5 / 1.65 / 1.8    Poisson-Gaussian noise on ``y``;
                    photons: inf / 400 / 200 / 100 / 50 / 25    a colour cast (white-balance
                    read sigma: 0 / .004 / .007 / .01 / .014    error, up to 8 %) is fixed per
                    / .02                                       sequence
==================  =========================================  ================================

Photon counts are interpolated as ``1 / photons`` so severity 0 is noise-free.
Noise is drawn per frame from the frame RNG (sensor noise is independent
between frames); the parameters depend on the severity only, so a constant
severity gives stationary noise, not flicker.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vsdmot.degrade.base import (
    STAGE_SCENE,
    STAGE_SENSOR,
    Degradation,
    interp_param,
    register,
    to_float,
    to_uint8,
)

GAUSS_SIGMA = (0.0, 0.04, 0.07, 0.10, 0.14, 0.20)
SHOT_INV_PHOTONS = (0.0, 1 / 60, 1 / 30, 1 / 15, 1 / 8, 1 / 4)
LOWLIGHT_EXPOSURE = (1.0, 0.55, 0.40, 0.28, 0.18, 0.11)
LOWLIGHT_GAMMA = (1.0, 1.2, 1.35, 1.5, 1.65, 1.8)
LOWLIGHT_INV_PHOTONS = (0.0, 1 / 400, 1 / 200, 1 / 100, 1 / 50, 1 / 25)
LOWLIGHT_READ_SIGMA = (0.0, 0.004, 0.007, 0.010, 0.014, 0.020)


def poisson_gaussian(
    img: np.ndarray, inv_photons: float, read_sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Signal-dependent shot noise plus signal-independent read noise on a [0, 1] image."""
    out = img
    if inv_photons > 0:
        photons = 1.0 / inv_photons
        out = rng.poisson(np.clip(out, 0, 1) * photons).astype(np.float32) / np.float32(photons)
    if read_sigma > 0:
        out = out + rng.normal(0.0, read_sigma, size=img.shape).astype(np.float32)
    return out


@register
class GaussianNoise(Degradation):
    """Additive white Gaussian noise, independent per pixel and channel."""

    name = "gaussian_noise"
    stage = STAGE_SENSOR

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        sigma = interp_param(severity, GAUSS_SIGMA)
        noise = rng.normal(0.0, sigma, size=frame.shape).astype(np.float32)
        return to_uint8(to_float(frame) + noise)


@register
class ShotNoise(Degradation):
    """Photon (Poisson) noise: brighter pixels get more absolute noise."""

    name = "shot_noise"
    stage = STAGE_SENSOR

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        inv = interp_param(severity, SHOT_INV_PHOTONS)
        return to_uint8(poisson_gaussian(to_float(frame), inv, 0.0, rng))


@register
class LowLight(Degradation):
    """Under-exposure: gamma darkening then Poisson-Gaussian sensor noise.

    The per-sequence colour cast (a slight warm/cool white-balance error that
    night footage usually has) is drawn once in :meth:`setup`.
    """

    name = "low_light"
    stage = STAGE_SCENE

    def _setup(self, rng: np.random.Generator, frame_size: tuple[int, int]) -> dict[str, Any]:
        cast = rng.uniform(-0.08, 0.08)  # + warm (more red), - cool (more blue)
        return {"bgr_cast": [round(1.0 - cast, 4), 1.0, round(1.0 + cast, 4)]}

    def _apply(self, frame: np.ndarray, severity: float, rng: np.random.Generator) -> np.ndarray:
        exposure = interp_param(severity, LOWLIGHT_EXPOSURE)
        gamma = interp_param(severity, LOWLIGHT_GAMMA)
        # The cast grows with darkness so severity 0 stays the identity.
        strength = min(severity, 1.0)
        cast = 1.0 + strength * (np.asarray(self.params["bgr_cast"], dtype=np.float32) - 1.0)
        dark = exposure * np.power(to_float(frame), gamma) * cast
        noisy = poisson_gaussian(
            dark,
            interp_param(severity, LOWLIGHT_INV_PHOTONS),
            interp_param(severity, LOWLIGHT_READ_SIGMA),
            rng,
        )
        return to_uint8(noisy)
