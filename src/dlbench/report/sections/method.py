"""How the numbers were made, so that a reader can judge them."""
from __future__ import annotations

from dlbench.report import markup
from dlbench.report.markup import Section


def build(data):
    if not data.groups:
        return None
    methods = sorted({row.epoch_seconds.method for row in data.rows if row.epoch_seconds is not None})
    lines = [
        "Every run (repeat) is a fresh process; the first epoch carries compilation and autotuning, is flagged as "
        "warm-up and kept out of the steady-state mean (it is shown as '1st epoch s').",
        "Steady-state epoch time: the mean over the steady epochs of all ok runs, with a 95% bootstrap CI: repeats "
        "resampled, then epochs within each (hierarchical); BCa with three or more repeats, percentile otherwise; "
        f"{data.n_resamples} resamples, seed {data.seed}. Methods used here: {', '.join(methods) or '-'}.",
        "Ratios between frameworks: mean(a) / mean(b) with a percentile bootstrap CI, each side resampled on its "
        "own; a CI that contains 1 is a tie. Fewer than two steady values give no CI ('-'), never an invented one.",
        "Frameworks are compared only when device, data, samples, batch size, threads, precision, compile mode and "
        "tier agree; other settings make another comparison.",
        "Validation is timed apart from training; the input pipeline share is the part of the steady-state "
        "training time spent gathering and augmenting batches in dlbench's NumPy pipeline.",
    ]
    body = markup.bullet_list(lines)
    return Section("method", "How these numbers were made", body[0], body[1])
