"""The trial process: one fresh Python process per trial, around one framework.

Everything in this package must run on Python 3.6 with the standard library and numpy only (CNTK exists only
for Python 3.6): no dataclasses, no `from __future__ import annotations`, no walrus, no built-in generic
annotations. The framework adapters it loads (dlbench.frameworks.*) may use whatever their framework's Python has.
"""
