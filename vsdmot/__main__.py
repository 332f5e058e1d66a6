"""``python -m vsdmot``: the same command line as the ``vsdmot`` script."""

from vsdmot.cli.main import app

if __name__ == "__main__":
    app()
