"""Tests for dlbench.stats: bootstrap CIs checked against scipy and against exact cases."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats

from dlbench.stats import (
    Interval,
    _resampled_means,
    bootstrap_ci,
    hierarchical_ci,
    is_tie,
    ratio_ci,
    steady_state,
)

# Skewed data (lognormal, sigma=1): BCa and percentile differ clearly here, by about
# 5% of the interval width at the low end and 8% at the high end.
SKEWED = np.random.default_rng(0).lognormal(0.0, 1.0, 30)

# Monte Carlo tolerance for comparing against scipy with independent random streams.
# Measured over 100 x 100 seed pairs on SKEWED: at 100_000 resamples the standard
# deviation of an endpoint is at most 0.4% of the width per side (0.55% for the
# difference of two runs), so 2% is about 3.7 standard deviations; no seed pair
# exceeded it. At 20_000 resamples the upper BCa endpoint varies by about 1% of the
# width per side and 12% of seed pairs exceed 2%, hence the larger count.
N_SCIPY = 100_000
REL_TOL = 0.02


def _scipy_ci(data, method, n_resamples=N_SCIPY, seed=12345):
    res = scipy.stats.bootstrap(
        (data,), np.mean, method=method, confidence_level=0.95,
        n_resamples=n_resamples, rng=np.random.default_rng(seed),
    )
    return res.confidence_interval


def _rel_diff(ours, ref):
    width = ref.high - ref.low
    return max(abs(ours.low - ref.low), abs(ours.high - ref.high)) / width


@pytest.mark.parametrize("method,other", [("BCa", "percentile"), ("percentile", "BCa")])
def test_bootstrap_matches_scipy(method, other):
    ref = _scipy_ci(SKEWED, method)
    ours = bootstrap_ci(SKEWED, n_resamples=N_SCIPY, method=method, seed=7)
    assert ours.method == method
    assert ours.estimate == pytest.approx(SKEWED.mean(), rel=1e-12)
    assert _rel_diff(ours, ref) < REL_TOL
    # The comparison can tell the methods apart: the other method misses the tolerance.
    wrong = bootstrap_ci(SKEWED, n_resamples=N_SCIPY, method=other, seed=7)
    assert _rel_diff(wrong, ref) > 2 * REL_TOL


@pytest.mark.parametrize("method", ["BCa", "percentile"])
def test_bootstrap_formula_matches_scipy_on_same_distribution(method):
    # Free of Monte Carlo noise: scipy computes its interval from our own bootstrap
    # distribution, so z0, the jackknife acceleration and the quantiles must agree exactly.
    means = _resampled_means([SKEWED], 5000, np.random.default_rng(3))
    ref = scipy.stats.bootstrap(
        (SKEWED,), np.mean, method=method, n_resamples=0,
        bootstrap_result=SimpleNamespace(bootstrap_distribution=means),
    ).confidence_interval
    ours = bootstrap_ci(SKEWED, n_resamples=5000, method=method, seed=3)
    assert ours.low == pytest.approx(ref.low, rel=1e-12)
    assert ours.high == pytest.approx(ref.high, rel=1e-12)


def test_deterministic_for_seed_and_seeds_differ_slightly():
    a = bootstrap_ci(SKEWED, seed=1)
    assert a == bootstrap_ci(list(SKEWED), seed=1)
    b = bootstrap_ci(SKEWED, seed=2)
    assert (a.low, a.high) != (b.low, b.high)
    width = a.high - a.low
    assert abs(a.low - b.low) < 0.1 * width and abs(a.high - b.high) < 0.1 * width
    assert all(type(v) is float for v in (a.estimate, a.low, a.high))


def test_too_few_values_equal_values_and_empty():
    one = bootstrap_ci([2.5])
    assert one == Interval(2.5, None, None, "none", 1, 1)
    assert not is_tie(one)
    assert bootstrap_ci(np.full(10, 3.0)) == Interval(3.0, 3.0, 3.0, "percentile", 10, 1)
    with pytest.raises(ValueError):
        bootstrap_ci([])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], method="basic")


def test_interval_contains_estimate_and_reports_counts():
    ci = bootstrap_ci(SKEWED)
    assert ci.low < ci.estimate < ci.high
    assert (ci.n, ci.groups, ci.method) == (30, 1, "BCa")


def test_hierarchical_one_group_is_bootstrap_ci():
    assert hierarchical_ci([SKEWED], seed=4) == bootstrap_ci(SKEWED, method="BCa", seed=4)
    # Empty repeats are dropped before counting groups.
    assert hierarchical_ci([[], SKEWED, []], seed=4) == bootstrap_ci(SKEWED, seed=4)
    assert hierarchical_ci([[], [1.5]]).method == "none"
    with pytest.raises(ValueError):
        hierarchical_ci([[], []])


def _repeats(means, per_group=20, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return [m + noise * rng.standard_normal(per_group) for m in means]


@pytest.mark.parametrize("means,method", [
    ([1.0, 1.3], "hierarchical-percentile"),
    ([1.0, 1.3, 0.9, 1.2], "hierarchical-BCa"),
])
def test_hierarchical_wider_than_flat_when_repeats_differ(means, method):
    groups = _repeats(means)
    pooled = np.concatenate(groups)
    ci = hierarchical_ci(groups, seed=5)
    assert ci.method == method
    assert ci.estimate == pytest.approx(pooled.mean(), rel=1e-12)
    assert (ci.n, ci.groups) == (pooled.size, len(means))
    assert ci.low <= ci.estimate <= ci.high
    flat = bootstrap_ci(pooled, seed=5)
    # The spread between repeats dominates: the flat interval ignores it.
    assert ci.high - ci.low > 3 * (flat.high - flat.low)


def test_hierarchical_estimate_is_pooled_mean_for_unequal_groups():
    groups = [[1.0, 2.0], [3.0, 4.0, 5.0, 6.0], [10.0]]
    ci = hierarchical_ci(groups)
    assert ci.estimate == pytest.approx(31.0 / 7.0)
    assert ci.low <= ci.estimate <= ci.high


def test_two_level_resampling_pools_unequal_groups_correctly():
    # Constant groups of sizes 2 and 8: a resample holds both copies of one group
    # (mean 1 or 5) or one of each (pooled mean (2*1 + 8*5) / 10 = 4.2). Padding
    # leaking into the mean would produce other values.
    means = _resampled_means([np.ones(2), np.full(8, 5.0)], 4000, np.random.default_rng(0))
    values, counts = np.unique(np.round(means, 12), return_counts=True)
    assert values.tolist() == [1.0, 4.2, 5.0]
    assert counts / counts.sum() == pytest.approx([0.25, 0.5, 0.25], abs=0.03)


def test_two_level_resampling_variance_matches_theory():
    # Equal group sizes m, G groups: Var* = (between + mean within / m) / G, with
    # population (1/G, 1/m) variances, for the two-stage bootstrap.
    groups = [np.random.default_rng(i).normal(i, 1.0, 10) for i in range(4)]
    means = _resampled_means(groups, 200_000, np.random.default_rng(1))
    g_means = np.array([g.mean() for g in groups])
    within = np.mean([g.var() for g in groups])
    expected = (g_means.var() + within / 10) / 4
    assert means.mean() == pytest.approx(g_means.mean(), abs=0.01)
    assert means.var() == pytest.approx(expected, rel=0.02)


def test_ratio_estimate_and_clear_difference():
    rng = np.random.default_rng(8)
    a = 1.0 + 0.02 * rng.standard_normal(20)
    b = 2.0 + 0.02 * rng.standard_normal(20)
    ci = ratio_ci([a], [b])
    assert ci.estimate == pytest.approx(a.mean() / b.mean(), rel=1e-12)
    assert ci.method == "percentile"
    assert (ci.n, ci.groups) == (40, 2)
    assert ci.low < ci.estimate < ci.high < 1.0
    assert not is_tie(ci)


def test_ratio_same_distribution_is_tie():
    rng = np.random.default_rng(9)
    a, b = 1.0 + 0.05 * rng.standard_normal((2, 30))
    ci = ratio_ci([a], [b], seed=3)
    assert ci.low < 1.0 < ci.high
    assert is_tie(ci)


def test_ratio_matches_scipy_two_sample_percentile():
    rng = np.random.default_rng(10)
    a, b = rng.lognormal(0.0, 0.5, 25), rng.lognormal(0.2, 0.5, 35)
    ref = scipy.stats.bootstrap(
        (a, b), lambda x, y, axis=-1: x.mean(axis=axis) / y.mean(axis=axis),
        method="percentile", n_resamples=N_SCIPY, rng=np.random.default_rng(11),
    ).confidence_interval
    ours = ratio_ci([a], [b], n_resamples=N_SCIPY, seed=12)
    assert _rel_diff(ours, ref) < REL_TOL


def test_ratio_hierarchical_and_too_few_values():
    slow = _repeats([2.0, 2.2, 1.9], seed=1)
    fast = _repeats([1.0], seed=2)
    ci = ratio_ci(fast, slow)
    assert ci.method == "hierarchical-percentile"
    pooled = np.concatenate(slow)
    assert ci.estimate == pytest.approx(fast[0].mean() / pooled.mean(), rel=1e-12)
    assert ci.low <= ci.estimate <= ci.high < 1.0
    none = ratio_ci([[1.0]], slow)
    assert (none.low, none.high, none.method) == (None, None, "none")
    assert not is_tie(none)
    with pytest.raises(ValueError):
        ratio_ci([], slow)


def test_is_tie_bounds_inclusive():
    assert is_tie(Interval(1.0, 0.9, 1.0, "percentile", 10, 1))
    assert not is_tie(Interval(0.9, 0.8, 0.99, "percentile", 10, 1))
    assert not is_tie(Interval(1.2, 1.01, 1.3, "percentile", 10, 1))


def test_steady_state_filters_warmup():
    times = np.array([5.0, 1.1, 1.0, 1.2])
    assert steady_state(times, [True, False, False, False]) == [1.1, 1.0, 1.2]
    assert steady_state([3.0, 1.0, 2.0], np.array([False, True, False])) == [3.0, 2.0]
    assert steady_state([], []) == []
    with pytest.raises(ValueError):
        steady_state([1.0, 2.0], [False])
