"""The blur kernels of the Real-ESRGAN protocol, built from their drawn parameters.

Six blur kinds share one form: a rotated covariance ``S`` (standard deviations
``sigma_x``, ``sigma_y``, rotation ``theta``) gives the quadratic form
``q = x^T S^-1 x`` on the kernel grid, and a shape turns ``q`` into weights:

- ``iso`` / ``aniso``: a Gaussian, ``exp(-q / 2)``;
- ``generalized_iso`` / ``generalized_aniso``: ``exp(-q^beta / 2)`` (flat-topped for
  ``beta > 1``, heavy-tailed below);
- ``plateau_iso`` / ``plateau_aniso``: ``1 / (1 + q^beta)``.

The ``_iso`` kinds have ``sigma_y = sigma_x`` and ``theta = 0``.

``sinc`` is the circular low-pass filter with cut-off ``omega_c`` (radians per
pixel): ``omega_c J1(omega_c r) / (2 pi r)``, a sharp cut-off whose side lobes
ring next to edges, as an over-sharpened camera or a resampler does.

Every kernel is normalised to sum 1, so a flat image stays flat.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import special

#: The shape of each kernel family as a function of the quadratic form ``q`` and ``beta``.
SHAPES: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "gaussian": lambda q, beta: np.exp(-0.5 * q),
    "generalized": lambda q, beta: np.exp(-0.5 * q**beta),
    "plateau": lambda q, beta: 1.0 / (q**beta + 1.0),
}

#: Blur kinds by their Real-ESRGAN names: ``(family, isotropic)``.
KINDS: dict[str, tuple[str, bool]] = {
    "iso": ("gaussian", True),
    "aniso": ("gaussian", False),
    "generalized_iso": ("generalized", True),
    "generalized_aniso": ("generalized", False),
    "plateau_iso": ("plateau", True),
    "plateau_aniso": ("plateau", False),
}
KERNEL_KINDS: tuple[str, ...] = tuple(KINDS)
SINC = "sinc"


@dataclass(frozen=True)
class KernelParams:
    """One drawn kernel: a blur kind (``sigma_x``, ``sigma_y``, ``theta``, and ``beta``
    for the generalized and plateau families) or ``sinc`` (``omega_c``)."""

    kind: str
    size: int
    sigma_x: float | None = None
    sigma_y: float | None = None
    theta: float | None = None
    beta: float | None = None
    omega_c: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The parameters that apply to this kind (no ``None`` entries).

        >>> KernelParams("sinc", 9, omega_c=1.5).to_json()
        {'kind': 'sinc', 'size': 9, 'omega_c': 1.5}
        """
        return {k: v for k, v in asdict(self).items() if v is not None}


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets from the centre tap of an odd ``size x size`` kernel."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be a positive odd number, got {size}")
    ax = np.arange(size, dtype=np.float64) - size // 2
    return np.meshgrid(ax, ax)


def blur_kernel(
    kind: str, size: int, sigma_x: float, sigma_y: float, theta: float, beta: float = 1.0
) -> np.ndarray:
    """A normalised blur kernel of one of :data:`KERNEL_KINDS`.

    >>> k = blur_kernel("aniso", 7, 2.0, 0.5, 0.0)
    >>> k.shape, round(float(k.sum()), 6), bool(k[3, :].sum() > k[:, 3].sum())
    ((7, 7), 1.0, True)
    """
    family, _ = KINDS[kind]
    xx, yy = _grid(size)
    c, s = math.cos(theta), math.sin(theta)
    # S = R diag(sx^2, sy^2) R^T; q = x^T S^-1 x in the rotated frame.
    u, v = c * xx + s * yy, -s * xx + c * yy
    q = (u / sigma_x) ** 2 + (v / sigma_y) ** 2
    with np.errstate(over="ignore"):  # q^beta -> inf far out: weight 0, the right limit
        weights = SHAPES[family](q, beta)
    return (weights / weights.sum()).astype(np.float32)


def sinc_kernel(size: int, omega_c: float) -> np.ndarray:
    """The normalised circular low-pass (2-D sinc) kernel with cut-off ``omega_c``.

    >>> k = sinc_kernel(13, math.pi / 4)
    >>> round(float(k.sum()), 6), bool(k.min() < 0)  # negative side lobes: ringing
    (1.0, True)
    """
    xx, yy = _grid(size)
    r = np.hypot(xx, yy)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = omega_c * special.j1(omega_c * r) / (2.0 * math.pi * r)
    weights[r == 0] = omega_c**2 / (4.0 * math.pi)  # the limit at the centre
    return (weights / weights.sum()).astype(np.float32)


def make_kernel(params: KernelParams) -> np.ndarray:
    """The kernel that ``params`` describe."""
    if params.kind == SINC:
        assert params.omega_c is not None
        return sinc_kernel(params.size, params.omega_c)
    assert params.sigma_x is not None and params.sigma_y is not None and params.theta is not None
    beta = 1.0 if params.beta is None else params.beta
    return blur_kernel(params.kind, params.size, params.sigma_x, params.sigma_y, params.theta, beta)
