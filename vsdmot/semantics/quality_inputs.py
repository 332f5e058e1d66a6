"""What the DSWR quality head sees of a frame, by version of the head.

A version turns unit-RGB frames of any size into the head's ``(B, C, S, S)`` input.
The frame itself is shrunk to ``S`` (64 px by default) for brightness, contrast and
colour; noise and blur are invisible at that size, so each version adds maps of
high-frequency energy measured on the frame *before* it is shrunk:

* **1** (the shipped model's head): RGB + the luma's detail energy (4 channels).
* **2**: RGB + the luma's detail energy at the frame's resolution and at half of it (their
  difference says how much of the detail is finest-scale: noise raises it, blur lowers
  it, whatever the scene's texture) + the chroma's detail energy (camera noise is
  coloured, natural texture and compression residue mostly are not) + the frame's
  directional balance, four constant channels (:func:`directional_balance`: motion blur
  removes the detail along one direction only, which an isotropic energy map barely
  shows on a scene rich in lines across it) (10 channels).

Versions are never changed once released: a model file records its head's version
(``semantic.quality.version``; files without the key hold version 1), and a new input
is a new version.

>>> [QUALITY_INPUTS[v].channels for v in sorted(QUALITY_INPUTS)]
[4, 10]
>>> QUALITY_INPUTS[2].prepare([torch.rand(3, 50, 80)], 32).shape
torch.Size([1, 10, 32, 32])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from vsdmot.semantics.preprocess import batch_resize

# ITU-R BT.601 luma and chroma (YCbCr) and a 4-neighbour Laplacian: the high-pass of
# the detail-energy maps.
_LUMA = (0.299, 0.587, 0.114)
_CHROMA = ((-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
_LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))
# First differences along 0, 90, 45 and 135 degrees.
_DIRECTIONS = (
    ((0.0, 0.0, 0.0), (0.0, -1.0, 1.0), (0.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 1.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    ((0.0, 0.0, 0.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),
)


def _energy(planes: Tensor, size: int) -> Tensor:
    """``log`` of the mean ``|Laplacian|`` of ``(P, 1, H, W)`` planes, summed over the
    planes and pooled to ``(1, size, size)``."""
    kernel = planes.new_tensor(_LAPLACIAN)[None, None]
    lap = F.conv2d(F.pad(planes, (1, 1, 1, 1), mode="replicate"), kernel).abs()
    return torch.log(F.adaptive_avg_pool2d(lap.sum(dim=0, keepdim=True), size) + 1e-3)[0]


def _luma(image: Tensor) -> Tensor:
    return (image * image.new_tensor(_LUMA)[:, None, None]).sum(dim=0)[None, None]


def detail_energy(image: Tensor, size: int) -> Tensor:
    """``log`` of the mean ``|Laplacian|`` of the full-resolution luma, pooled to ``size``.

    Computed *before* downscaling: noise raises and blur lowers high-frequency energy,
    and both become invisible once a frame is shrunk to the head's 64 px input.

    >>> flat, noisy = torch.full((3, 64, 64), 0.5), torch.rand(3, 64, 64)
    >>> bool(detail_energy(noisy, 8).mean() > detail_energy(flat, 8).mean())
    True
    """
    return _energy(_luma(image), size)


def coarse_detail_energy(image: Tensor, size: int) -> Tensor:
    """:func:`detail_energy` of the luma at half the frame's resolution (2 x 2 means).

    >>> noisy = torch.rand(3, 64, 64)  # white noise loses most of its energy at half size
    >>> bool((coarse_detail_energy(noisy, 8) < detail_energy(noisy, 8)).all())
    True
    """
    luma = _luma(image)
    if min(luma.shape[-2:]) >= 2:
        luma = F.avg_pool2d(luma, 2)
    return _energy(luma, size)


def chroma_detail_energy(image: Tensor, size: int) -> Tensor:
    """Detail energy of the two chroma planes (Cb + Cr), pooled to ``size``.

    >>> grey = torch.rand(1, 64, 64).expand(3, 64, 64)  # texture without colour
    >>> colour = torch.rand(3, 64, 64)
    >>> bool(chroma_detail_energy(grey, 8).max() < chroma_detail_energy(colour, 8).min())
    True
    """
    chroma = torch.einsum("ck,khw->chw", image.new_tensor(_CHROMA), image)
    return _energy(chroma[:, None], size)


def directional_balance(image: Tensor) -> Tensor:
    """``(4,)``: the ``log`` mean ``|first difference|`` of the full-resolution luma along
    0, 90, 45 and 135 degrees, less their mean, sorted (so it does not depend on *which*
    direction lost detail).

    >>> rows = torch.linspace(0, 1, 64)[None, :, None].expand(3, 64, 64)  # detail across rows
    >>> b = directional_balance(rows)
    >>> bool(b[0] < -2), abs(float(b.sum())) < 1e-4
    (True, True)
    """
    luma = _luma(image)
    kernels = image.new_tensor(_DIRECTIONS)[:, None]
    diff = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), kernels).abs()
    energy = torch.log(diff.mean(dim=(2, 3))[0] + 1e-4)
    return torch.sort(energy - energy.mean()).values


def _scaled(energy: Tensor) -> Tensor:
    """Log-energies (about -7..0) centred around 0 at the scale of ``2 * rgb - 1``."""
    return (energy + 3.0) / 2.0


def _inputs_v1(crops: Sequence[Tensor], size: int) -> Tensor:
    rgb = batch_resize(crops, size)
    energy = torch.stack([detail_energy(c, size) for c in crops])
    return torch.cat([rgb * 2.0 - 1.0, _scaled(energy)], dim=1)


def _inputs_v2(crops: Sequence[Tensor], size: int) -> Tensor:
    rgb = batch_resize(crops, size)
    maps = (detail_energy, coarse_detail_energy, chroma_detail_energy)
    energy = torch.stack([torch.cat([m(c, size) for m in maps]) for c in crops])
    balance = torch.stack([directional_balance(c) for c in crops])
    constant = balance[:, :, None, None].expand(-1, -1, size, size)
    return torch.cat([rgb * 2.0 - 1.0, _scaled(energy), constant], dim=1)


@dataclass(frozen=True)
class QualityInputs:
    """One version of the head's input: its channel count and how frames become it."""

    channels: int
    prepare: Callable[[Sequence[Tensor], int], Tensor]
    summary: str


#: The head's input by version (``semantic.quality.version``).
QUALITY_INPUTS: dict[int, QualityInputs] = {
    1: QualityInputs(4, _inputs_v1, "RGB + luma detail energy"),
    2: QualityInputs(
        10,
        _inputs_v2,
        "RGB + luma detail energy at 1 and 1/2 resolution + chroma detail energy + "
        "directional balance",
    ),
}
