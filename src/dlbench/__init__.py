"""dlbench: the same models trained and served in every deep-learning framework, timed honestly.

This module stays importable on Python 3.6 with the standard library alone: the worker imports it.
"""
__version__ = "0.1.0"


def load(path):
    """A store's (or an export folder's) tables as pandas DataFrames: load(path).runs, .epochs, .inference, ... (see
    dlbench.frames and docs/export.md)."""
    from dlbench.frames import load as load_frames  # pandas and pyarrow only when asked for
    return load_frames(path)
