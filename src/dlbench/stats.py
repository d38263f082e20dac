"""Confidence intervals for benchmark epoch times.

Methods:

* ``bootstrap_ci``: bootstrap CI of the mean of one sample, either the plain
  percentile interval or the bias-corrected and accelerated (BCa) interval of
  Efron & Tibshirani, *An Introduction to the Bootstrap* (1993), ch. 14.3:
  bias correction z0 from the share of resampled means below the estimate,
  acceleration from the jackknife.
* ``hierarchical_ci``: two-level bootstrap for several repeats (processes):
  resample the repeats, then the epoch times within each chosen repeat, so that
  the spread between repeats widens the interval. BCa (acceleration from a
  leave-one-group-out jackknife) with at least 3 repeats, percentile otherwise.
* ``ratio_ci``: percentile CI of mean(a) / mean(b), each side resampled
  independently (hierarchically when it has several repeats).

No interval is invented from fewer than two values: ``low``/``high`` are None.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import NamedTuple

import numpy as np

_NORMAL = NormalDist()


class Interval(NamedTuple):
    estimate: float
    low: float | None
    high: float | None
    method: str
    n: int
    groups: int


def _as_sample(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"expected a 1-D sample, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("sample contains NaN or infinite values")
    return x


def _as_groups(groups) -> list[np.ndarray]:
    # Empty repeats (all epochs were warm-up) carry no information: drop them.
    out = [g for g in (_as_sample(g) for g in groups) if g.size]
    if not out:
        raise ValueError("no values")
    return out


def _check_args(n_resamples: int, confidence: float) -> None:
    if int(n_resamples) < 1:
        raise ValueError("n_resamples must be >= 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")


def _resampled_means(groups: list[np.ndarray], n_resamples: int, rng) -> np.ndarray:
    """Pooled mean of each bootstrap resample (one group: plain resampling)."""
    if len(groups) == 1:
        x = groups[0]
        return x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    # Pad the groups into one matrix so both levels are drawn in one go; the mask
    # drops the padding slots beyond each chosen group's own size.
    sizes = np.array([g.size for g in groups])
    padded = np.zeros((len(groups), sizes.max()))
    for i, g in enumerate(groups):
        padded[i, : g.size] = g
    chosen = rng.integers(0, len(groups), size=(n_resamples, len(groups)))
    n_chosen = sizes[chosen][..., None]
    pos = rng.integers(0, n_chosen, size=(*chosen.shape, sizes.max()))
    mask = np.arange(sizes.max()) < n_chosen
    total = np.where(mask, padded[chosen[..., None], pos], 0.0).sum(axis=(1, 2))
    return total / n_chosen[..., 0].sum(axis=1)


def _bca_bounds(means, estimate, jackknife, alpha):
    """BCa percentile levels (Efron & Tibshirani eq. 14.10), or None if undefined."""
    # Mid-rank share of resampled means below the estimate (as scipy does) so that
    # ties with the estimate do not bias z0.
    share = (np.count_nonzero(means < estimate) + np.count_nonzero(means <= estimate)) / (
        2 * means.size
    )
    if not 0.0 < share < 1.0:
        return None  # z0 would be infinite
    z0 = _NORMAL.inv_cdf(share)
    d = jackknife.mean() - jackknife
    den = 6.0 * np.sum(d**2) ** 1.5
    if den == 0.0:
        return None  # acceleration 0/0
    a = np.sum(d**3) / den
    levels = []
    for z in (_NORMAL.inv_cdf(alpha), _NORMAL.inv_cdf(1.0 - alpha)):
        levels.append(_NORMAL.cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z))))
    return levels if all(np.isfinite(levels)) else None


def _interval(groups, n_resamples, confidence, seed, use_bca, prefix) -> Interval:
    _check_args(n_resamples, confidence)
    pooled = np.concatenate(groups)
    estimate = float(pooled.mean())
    n, k = pooled.size, len(groups)
    if n < 2:
        return Interval(estimate, None, None, "none", n, k)
    if np.all(pooled == pooled[0]):
        # Every resample has the same mean: the interval is exact, BCa is 0/0.
        return Interval(estimate, estimate, estimate, prefix + "percentile", n, k)
    means = _resampled_means(groups, int(n_resamples), np.random.default_rng(seed))
    alpha = (1.0 - confidence) / 2.0
    levels = None
    if use_bca:
        if k == 1:  # leave one value out
            jack = (pooled.sum() - pooled) / (n - 1)
        else:  # leave one group out
            jack = np.array([(pooled.sum() - g.sum()) / (n - g.size) for g in groups])
        levels = _bca_bounds(means, estimate, jack, alpha)
    method = prefix + ("BCa" if levels is not None else "percentile")
    low, high = np.quantile(means, levels if levels is not None else [alpha, 1 - alpha])
    return Interval(estimate, float(low), float(high), method, n, k)


def bootstrap_ci(values, *, n_resamples=1000, confidence=0.95, method="BCa", seed=0) -> Interval:
    """Bootstrap CI of the mean of a 1-D sample; method "BCa" or "percentile"."""
    if method not in ("BCa", "percentile"):
        raise ValueError(f"unknown method {method!r}")
    x = _as_sample(values)
    if x.size == 0:
        raise ValueError("no values")
    return _interval([x], n_resamples, confidence, seed, method == "BCa", "")


def hierarchical_ci(groups, *, n_resamples=1000, confidence=0.95, seed=0) -> Interval:
    """Two-level bootstrap CI of the pooled mean of several repeats."""
    gs = _as_groups(groups)
    if len(gs) == 1:
        return bootstrap_ci(gs[0], n_resamples=n_resamples, confidence=confidence, seed=seed)
    # With 2 groups the leave-one-group-out jackknife is too crude for BCa.
    return _interval(gs, n_resamples, confidence, seed, len(gs) >= 3, "hierarchical-")


def ratio_ci(groups_a, groups_b, *, n_resamples=1000, confidence=0.95, seed=0) -> Interval:
    """Percentile CI of mean(a) / mean(b) (pooled means), sides resampled independently."""
    _check_args(n_resamples, confidence)
    ga, gb = _as_groups(groups_a), _as_groups(groups_b)
    a, b = np.concatenate(ga), np.concatenate(gb)
    if b.mean() == 0.0:
        raise ValueError("mean of the denominator is zero")
    estimate = float(a.mean() / b.mean())
    n, k = a.size + b.size, len(ga) + len(gb)
    if a.size < 2 or b.size < 2:
        return Interval(estimate, None, None, "none", n, k)
    rng = np.random.default_rng(seed)
    ratios = _resampled_means(ga, int(n_resamples), rng) / _resampled_means(gb, int(n_resamples), rng)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [alpha, 1.0 - alpha])
    method = "hierarchical-percentile" if max(len(ga), len(gb)) > 1 else "percentile"
    return Interval(estimate, float(low), float(high), method, n, k)


def is_tie(interval: Interval) -> bool:
    """True when the CI contains 1.0; False when there is no CI."""
    if interval.low is None or interval.high is None:
        return False
    return interval.low <= 1.0 <= interval.high


def steady_state(epoch_times, warmup_flags) -> list[float]:
    """The epoch times whose warm-up flag is false, in order."""
    times, flags = list(epoch_times), list(warmup_flags)
    if len(times) != len(flags):
        raise ValueError("epoch_times and warmup_flags differ in length")
    return [float(t) for t, w in zip(times, flags) if not w]
