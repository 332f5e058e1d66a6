"""The ``vsdmot`` console script as a file, for ``python``/``torchrun`` where the package is
only on PYTHONPATH (not installed, so there is no ``vsdmot`` executable).

    torchrun --standalone --nproc_per_node=1 benchmarks/gpu/vsdmot_cli.py train --config ...
"""

from vsdmot.cli.main import app

if __name__ == "__main__":
    app()
