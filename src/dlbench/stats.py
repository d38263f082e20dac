"""Intervals, verdicts and noise checks for benchmark times. Pure functions: no store, no printing.

The process (a repeat) is the unit of replication: epochs of one process share its luck (memory layout, neighbours
on the machine), so they cannot stand in for repeats. Each repeat contributes one figure, the mean of its
steady-state epoch times, and intervals are built on the logs of those figures: an estimate is their geometric
mean, and a ratio's interval is an interval for a difference of logs.

* Fixed repeats: Student's t interval on the log repeat means (k - 1 degrees of freedom); a ratio: Welch's t with
  the Welch-Satterthwaite degrees of freedom. Exact under a normal two-level model for one mean at every k >= 2;
  tests/test_stats.py checks the coverage of both by simulation.
* Adaptive repeats (a budget adds repeats until the verdicts are decided): a confidence sequence, valid at every
  number of repeats at once, so that stopping when it decides keeps its error rate. It inverts the scale-invariant
  normal-mixture Bayes factor (Gaussian mixture over the standardised effect, right-Haar prior over the scale;
  Lai 1976; Wang & Ramdas 2023, "Anytime-valid t-tests and confidence sequences for Gaussian means with unknown
  variance"), a nonnegative martingale under the null, so Ville's inequality bounds the chance that it ever excludes
  the truth by alpha. A ratio's sequence works on the differences of the two rows' log repeat means, paired by repeat
  index (independent rows: the pairs are independent draws).
* One repeat: a t interval over its epochs, labelled within-process only. No verdict is drawn from it.

Verdicts need an interval across repeats with at least MIN_REPEATS per side: "faster" or "slower" when the ratio's
interval excludes 1; "equivalent" when it lies within the margin around 1; "tie" when it contains 1 but is wider;
"inconclusive" otherwise.
"""
from __future__ import annotations

import math
import statistics
from typing import NamedTuple

import numpy as np

CONFIDENCE = 0.95
MARGIN = 0.05        # "equivalent": a ratio interval inside [1 / 1.05, 1.05]
MIN_REPEATS = 3      # per side, for a verdict: Welch's interval at 2 repeats a side covers more than it claims
MIXTURE_G = 10.0     # the confidence sequence's prior variance of the standardised effect: tightest at 4-10 repeats
VERDICTS = ("faster", "slower", "equivalent", "tie", "inconclusive")
DECIDED = ("faster", "slower", "equivalent")


class Interval(NamedTuple):
    estimate: float
    low: float | None            # None: no interval (too few values, or a confidence sequence still unbounded)
    high: float | None
    method: str                  # in words, e.g. "t over 5 repeats"
    n: int                       # the values behind it (epochs, or timed passes)
    groups: int                  # the repeats behind it; a ratio: the smaller side's
    across_repeats: bool = True  # False: within one process only, no verdict is drawn from it


class Spread(NamedTuple):
    """The noise of one row, as relative standard deviations (SD of the logs)."""
    between: float | None        # between processes, beyond what the within-process noise explains
    within: float | None         # between the steady epochs of one process, pooled over its repeats


def _sample(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"expected a 1-D sample, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("times must be finite and positive")
    return x


def _groups(groups) -> list[np.ndarray]:
    """Each repeat's steady-state values; repeats without any (every epoch was warm-up) carry nothing."""
    out = [g for g in (_sample(g) for g in groups) if g.size]
    if not out:
        raise ValueError("no values")
    return out


def _alpha(confidence):
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    return 1.0 - confidence


def _t_quantile(confidence, df):
    """Student's t quantile that a two-sided interval at `confidence` spans, df degrees of freedom. scipy.stats is
    imported here, not with the module: it is most of the CLI's start-up time (0.8 of 1.0 s), and most commands
    never compute an interval."""
    from scipy import stats as scipy_stats
    return float(scipy_stats.t.ppf(1.0 - _alpha(confidence) / 2.0, df))


def t_factor(k, confidence=CONFIDENCE):
    """The multiple of the standard error that a fixed-k t interval (k - 1 df) spans on each side."""
    return _t_quantile(confidence, k - 1)


def sequence_factor(k, confidence=CONFIDENCE, g=MIXTURE_G):
    """The multiple of the standard error that the confidence sequence spans on each side after k values, or inf
    while it is still unbounded. From the mixture Bayes factor B = (1 + kg)^(-1/2) * ((1 + t^2/v) /
    (1 + t^2/((1 + kg)v)))^((v + 1)/2), v = k - 1: the sequence is {t : B < 1/alpha}."""
    if k < 2:
        return math.inf
    v, alpha = k - 1, _alpha(confidence)
    r = (math.sqrt(1.0 + k * g) / alpha) ** (2.0 / (v + 1))
    if r >= 1.0 + k * g:
        return math.inf
    return math.sqrt(v * (r - 1.0) / (1.0 - r / (1.0 + k * g)))


def mixture_bayes_factor(t, k, g=MIXTURE_G):
    """The scale-invariant normal-mixture Bayes factor of a one-sample t statistic from k values (tested against
    numerical integration in tests/test_stats.py)."""
    v = k - 1
    return (1.0 + k * g) ** -0.5 * ((1.0 + t * t / v) / (1.0 + t * t / ((1.0 + k * g) * v))) ** ((v + 1) / 2.0)


def repeat_means(groups) -> np.ndarray:
    """One figure per repeat: the mean of its steady-state values."""
    return np.array([g.mean() for g in _groups(groups)])


def _symmetric(center, se, factor, method, n, k, across=True):
    """The interval exp(center +- factor * se) around exp(center): symmetric on the log scale."""
    if not math.isfinite(factor):
        return Interval(math.exp(center), None, None, method, n, k, across)
    half = factor * se
    return Interval(math.exp(center), math.exp(center - half), math.exp(center + half), method, n, k, across)


def mean_interval(groups, *, confidence=CONFIDENCE, anytime=False) -> Interval:
    """The typical steady-state time of a process (geometric mean of the repeat means) and its interval; with one
    repeat, the mean of its epochs with a within-process interval."""
    gs = _groups(groups)
    k, n = len(gs), sum(g.size for g in gs)
    if k == 1:  # the repeat's own figure, within a factor from t on its log epoch times (never below zero)
        x = gs[0]
        if x.size < 2:
            return Interval(float(x.mean()), None, None, "none: one value", n, 1, False)
        return _symmetric(math.log(x.mean()), np.log(x).std(ddof=1) / math.sqrt(x.size), t_factor(x.size, confidence),
                          f"within-process only: t over the {x.size} epochs of 1 repeat", n, 1, False)
    logs = np.log([g.mean() for g in gs])
    se = logs.std(ddof=1) / math.sqrt(k)
    if anytime:
        return _symmetric(float(logs.mean()), se, sequence_factor(k, confidence),
                          f"anytime-valid t over {k} repeats", n, k)
    return _symmetric(float(logs.mean()), se, t_factor(k, confidence), f"t over {k} repeats", n, k)


def ratio_interval(groups_a, groups_b, *, confidence=CONFIDENCE, anytime=False) -> Interval:
    """a's typical time over b's, with its interval: Welch's t on the log repeat means; a confidence sequence on
    their paired differences when `anytime`; within-process only (Welch over log epoch times) when a side has one
    repeat."""
    ga, gb = _groups(groups_a), _groups(groups_b)
    ka, kb = len(ga), len(gb)
    n = sum(g.size for g in ga) + sum(g.size for g in gb)
    if min(ka, kb) == 1:
        xa, xb = np.log(np.concatenate(ga)), np.log(np.concatenate(gb))
        estimate = math.log(np.concatenate(ga).mean() / np.concatenate(gb).mean())
        if xa.size < 2 or xb.size < 2:
            return Interval(math.exp(estimate), None, None, "none: one value on a side", n, 1, False)
        se, df = _welch(xa, xb)
        return _symmetric(estimate, se, _t_quantile(confidence, df),
                          "within-process only: Welch's t over epochs (a side has 1 repeat)", n, 1, False)
    la = np.log([g.mean() for g in ga])
    lb = np.log([g.mean() for g in gb])
    if anytime:
        pairs = min(ka, kb)
        d = la[:pairs] - lb[:pairs]
        return _symmetric(float(d.mean()), d.std(ddof=1) / math.sqrt(pairs), sequence_factor(pairs, confidence),
                          f"anytime-valid t over {pairs} paired repeats", n, pairs)
    se, df = _welch(la, lb)
    return _symmetric(float(la.mean() - lb.mean()), se, _t_quantile(confidence, df),
                      f"Welch's t over {ka} and {kb} repeats", n, min(ka, kb))


def _welch(xa, xb):
    """Standard error of mean(xa) - mean(xb) and its Welch-Satterthwaite degrees of freedom."""
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    se2 = va + vb
    if se2 == 0.0:
        return 0.0, float(xa.size + xb.size - 2)
    return math.sqrt(se2), se2 ** 2 / (va ** 2 / (xa.size - 1) + vb ** 2 / (xb.size - 1))


def invert(interval: Interval) -> Interval:
    """The interval of the reciprocal (a time ratio read as a speed ratio, seconds as items per second)."""
    flip = (lambda v: None if v is None else 1.0 / v)
    return interval._replace(estimate=1.0 / interval.estimate, low=flip(interval.high), high=flip(interval.low))


def scale(interval: Interval, factor: float) -> Interval:
    """The interval of a constant times the quantity (a price per hour, images per pass)."""
    times = (lambda v: None if v is None else v * factor)
    return interval._replace(estimate=interval.estimate * factor, low=times(interval.low), high=times(interval.high))


def verdict(ratio: Interval | None, margin=MARGIN, min_repeats=MIN_REPEATS) -> str:
    """What a ratio (this time / the reference's) says: faster, slower, equivalent, tie or inconclusive."""
    if ratio is None or ratio.low is None or not ratio.across_repeats or ratio.groups < min_repeats:
        return "inconclusive"
    if ratio.high < 1.0:
        return "faster"
    if ratio.low > 1.0:
        return "slower"
    if ratio.low >= 1.0 / (1.0 + margin) and ratio.high <= 1.0 + margin:
        return "equivalent"
    return "tie"


def why_inconclusive(ratio: Interval | None, min_repeats=MIN_REPEATS) -> str:
    if ratio is None:
        return "no result on a side"
    if not ratio.across_repeats:
        return "one repeat on a side: its interval is within-process only"
    if ratio.groups < min_repeats:
        return f"{ratio.groups} repeats on a side, a verdict needs {min_repeats}"
    return f"the interval is still unbounded after {ratio.groups} repeats"


def spread(groups) -> Spread:
    """Between- and within-process relative SDs: the within part pools each repeat's epochs about its own mean;
    the between part is what the repeat means vary beyond the within part's share of them."""
    gs = _groups(groups)
    logs = [np.log(g) for g in gs]
    dof = sum(x.size - 1 for x in logs)
    within = math.sqrt(sum(((x - x.mean()) ** 2).sum() for x in logs) / dof) if dof else None
    if len(gs) < 2:
        return Spread(None, within)
    means = np.log([g.mean() for g in gs])
    per_repeat = statistics.fmean(1.0 / g.size for g in gs)  # the within variance left in a repeat's mean
    between2 = means.var(ddof=1) - (within ** 2 * per_repeat if within is not None else 0.0)
    return Spread(math.sqrt(max(between2, 0.0)), within)


OUTLIER_Z = 3.5       # Iglewicz & Hoaglin's modified z-score cut-off
OUTLIER_FLOOR = 0.10  # and at least 10% from the median: smaller differences are ordinary process noise


def outlying_repeats(groups) -> list[int]:
    """Indices (among the repeats with values) of repeats whose mean lies far from the others: a modified z-score
    (0.6745 |x - median| / MAD) above 3.5 on the log means, and at least 10% away. Needs 3 repeats; flagged, never
    dropped."""
    gs = _groups(groups)
    if len(gs) < 3:
        return []
    logs = np.log([g.mean() for g in gs])
    deviation = np.abs(logs - np.median(logs))
    mad = np.median(deviation)
    limit = max(OUTLIER_Z * mad / 0.6745, math.log1p(OUTLIER_FLOOR))
    return [i for i, d in enumerate(deviation) if d > limit]


WARMUP_FLOOR = 0.05   # an epoch still warming up is more than 5% slower than the median of the ones after it


def warmup_epochs(times, declared=1) -> tuple[int, bool]:
    """(how many leading epochs are warm-up, whether the rest look steady). The declared warm-up (the first epoch)
    is extended while the next epoch is slower than the median of the three or more epochs after it by more than
    5% and by more than 3.5 robust SDs of them. Once too few epochs are left to judge, an extended warm-up whose
    next epoch is still slower than the rest marks the run as not steady."""
    times = [float(t) for t in times]
    n = min(declared, len(times))

    def slow(i):
        later = times[i + 1:]
        median = statistics.median(later)
        mad = statistics.median(abs(t - median) for t in later)
        return times[i] > median * (1 + WARMUP_FLOOR) and times[i] - median > OUTLIER_Z * mad / 0.6745

    while len(times) - n - 1 >= 3:
        if not slow(n):
            return n, True
        n += 1
    return n, n == declared or len(times) - n - 1 < 2 or not slow(n)


def steady_epochs(epoch_times, warmup_flags) -> tuple[list[float], int, bool]:
    """(steady-state epoch times, warm-up epochs used, steady): the declared warm-up is the leading run of flagged
    epochs, extended by warmup_epochs; flagged epochs later in the run stay out too."""
    times, flags = [float(t) for t in epoch_times], [bool(w) for w in warmup_flags]
    if len(times) != len(flags):
        raise ValueError("epoch_times and warmup_flags differ in length")
    declared = next((i for i, w in enumerate(flags) if not w), len(flags))
    used, steady = warmup_epochs(times, declared)
    return [t for i, (t, w) in enumerate(zip(times, flags)) if i >= used and not w], used, steady
