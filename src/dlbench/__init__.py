"""dlbench: the same models trained and served in every deep-learning framework, timed honestly.

This module stays importable on Python 3.6 with the standard library alone: the worker imports it.
"""
__version__ = "0.1.0"
