"""How the numbers were made, so that a reader can judge them."""
from __future__ import annotations

from dlbench import render, stats
from dlbench.report import markup
from dlbench.report.markup import Section


def build(data):
    if not data.groups:
        return None
    methods = render.counted_methods(row.epoch_seconds.method for row in data.rows if row.epoch_seconds is not None)
    lines = [
        "Every run (repeat) is a fresh process, and the process is the unit: each repeat's figure is the mean of "
        "its steady-state epochs, and the table's epoch time is the geometric mean of those figures over the "
        "repeats. The first epoch carries compilation and autotuning: it is warm-up, kept out and shown as "
        "'1st epoch s'; a later epoch still slower than the ones after it extends the warm-up, with a warning.",
        "95% intervals are t intervals on the logs of the repeat figures (a ratio: Welch's t); when a budget added "
        "repeats until the verdicts were decided, they are anytime-valid confidence sequences, which stay valid "
        "under that stopping. One repeat gives an interval over its epochs only, labelled within-process, and no "
        f"verdict. Methods used here: {methods or '-'}.",
        f"Verdicts against the fastest: slower when the ratio's interval excludes 1; equal within "
        f"±{stats.MARGIN:.0%} when it lies inside that margin; a tie when it contains 1 but is wider; no verdict "
        f"with fewer than {stats.MIN_REPEATS} repeats a side. Each verdict's chance of calling identical frameworks "
        "different is at most 5% (tested by simulation in tests/test_stats.py).",
        "Noise %: the between-process and within-process relative standard deviations. A repeat far from the "
        "others is flagged as an outlier and kept.",
        "Frameworks are compared only when device, data, samples, batch size, threads, precision, compile mode and "
        "tier agree; other settings make another comparison.",
        "Validation is timed apart from training; the input pipeline share is the part of the steady-state "
        "training time spent gathering and augmenting batches in dlbench's NumPy pipeline.",
    ]
    body = markup.bullet_list(lines)
    return Section("method", "How these numbers were made", body[0], body[1])
