"""The trial process: one fresh Python process per trial, around one framework.

  __main__.py   the entry point (python -m dlbench.worker): the trial as JSON on standard input
  run.py        one trial start to end: the start event, training or inference, always one final event
  settings.py   the trial's settings as one typed structure, every default held once (TrialSettings)
  process.py    process setup: CPU affinity, which frameworks were imported, a failure's status
  training.py   the training protocol (epochs); inference.py: the inference protocol (forward passes)
  protocol.py   the events, declared once, and their encoding on the event pipe
  memory.py     peak host and device memory; noise.py: other processes' CPU during the timed windows

Everything in this package must run on Python 3.6 with the standard library and numpy only (CNTK exists only
for Python 3.6): no dataclasses, no `from __future__ import annotations`, no walrus, no built-in generic
annotations. The framework adapters it loads (dlbench.frameworks.*) may use whatever their framework's Python has.
"""
