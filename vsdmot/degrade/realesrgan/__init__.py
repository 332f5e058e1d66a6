"""Real-ESRGAN's second-order degradation (Wang et al., ICCVW 2021) as the type ``realesrgan``.

:mod:`.ranges` holds the published ranges and reads a YAML file of other ones,
:mod:`.kernels` builds the blur and sinc kernels, :mod:`.stages` the blur / resize /
noise / JPEG steps, :mod:`.protocol` draws a parameter set and runs it, and :mod:`.op`
registers the type. Importing this package registers it.
"""

from vsdmot.degrade.realesrgan.op import RealESRGAN
from vsdmot.degrade.realesrgan.ranges import PUBLISHED, Ranges, RangesError, load_ranges

__all__ = ["PUBLISHED", "Ranges", "RangesError", "RealESRGAN", "load_ranges"]
