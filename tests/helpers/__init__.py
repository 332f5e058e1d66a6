"""Plain helpers shared by the test modules (fixtures stay in ``tests/conftest.py``).

Imported as ``from helpers.sequences import write_tiny_sequence``: pytest puts ``tests/``
on ``sys.path`` (rootdir conftest, default ``prepend`` import mode).
"""
