"""dlbench.stats, tested for what it claims: simulations under a two-level noise model with known truth (coverage of
the 95% intervals, the false-verdict rate of an A/A comparison, with and without adaptive stopping), the
confidence sequence's Bayes factor against numerical integration, and the exact cases."""
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from dlbench import stats
from dlbench.stats import Interval

# The two-level model of a benchmark (the measurements on a 2-core VM): each process draws its own speed
# (between-process SD 10%), each of its 4 steady epochs varies about it (within-process SD 2%).
BETWEEN, WITHIN, EPOCHS = 0.10, 0.02, 4
SUITES = 4000


def suites(rng, n, k, mu=1.0, between=BETWEEN, within=WITHIN, epochs=EPOCHS):
    """n simulated rows of k repeats each: epoch times, shape (n, k, epochs)."""
    b = rng.normal(0.0, between, (n, k, 1))
    w = rng.normal(0.0, within, (n, k, epochs))
    return mu * np.exp(b + w)


def true_typical(between=BETWEEN, within=WITHIN, epochs=EPOCHS):
    """What the estimate targets, exp(E[log of a repeat's mean epoch time]) for mu = 1, by a large independent draw
    (its Monte Carlo error is about 1e-5, far below the intervals' widths)."""
    return float(np.exp(np.log(suites(np.random.default_rng(99), 1_000_000, 1, 1.0, between, within,
                                      epochs).mean(axis=2)).mean()))


def coverage(intervals, truth):
    return np.mean([iv.low <= truth <= iv.high for iv in intervals])


@pytest.mark.parametrize("k", [2, 3, 4, 5, 7, 10])
def test_mean_interval_covers_the_truth_95_percent_at_every_repeat_count(k):
    rng = np.random.default_rng(k)
    rows = suites(rng, SUITES, k, mu=2.0)
    truth = 2.0 * true_typical()
    found = coverage([stats.mean_interval(list(r)) for r in rows], truth)
    assert 0.93 <= found <= 0.97, f"{k} repeats: {found:.3f}"


@pytest.mark.parametrize("k_a,k_b,between_b", [(3, 3, BETWEEN), (3, 3, 0.03), (4, 4, BETWEEN), (5, 5, 0.04),
                                               (3, 5, 0.05), (7, 7, BETWEEN), (10, 10, 0.03)])
def test_ratio_interval_covers_the_true_ratio_95_percent(k_a, k_b, between_b):
    rng = np.random.default_rng(10 * k_a + k_b)
    a = suites(rng, SUITES, k_a, mu=1.3)
    b = suites(rng, SUITES, k_b, mu=1.0, between=between_b)
    truth = 1.3 * true_typical() / true_typical(between=between_b)
    found = coverage([stats.ratio_interval(list(x), list(y)) for x, y in zip(a, b)], truth)
    assert 0.93 <= found <= 0.97, f"{k_a} and {k_b} repeats: {found:.3f}"


@pytest.mark.parametrize("k", [3, 5])
def test_a_a_comparison_calls_identical_rows_different_at_the_stated_rate(k):
    rng = np.random.default_rng(100 + k)
    a, b = suites(rng, SUITES, k), suites(rng, SUITES, k)
    verdicts = [stats.verdict(stats.ratio_interval(list(x), list(y))) for x, y in zip(a, b)]
    different = np.mean([v in ("faster", "slower") for v in verdicts])
    assert 0.03 <= different <= 0.07, different


def test_two_repeats_a_side_are_never_a_verdict():
    # Welch's interval at 2 repeats a side covers about 97.6% under equal variances: more than it claims.
    rng = np.random.default_rng(2)
    a, b = suites(rng, 200, 2), suites(rng, 200, 2, mu=3.0)
    assert {stats.verdict(stats.ratio_interval(list(x), list(y))) for x, y in zip(a, b)} == {"inconclusive"}


# -- the confidence sequence (adaptive repeats) --------------------------------------------------------------------

def test_mixture_bayes_factor_is_the_integral_it_stands_for():
    """The closed form against the integral it comes from: N(x; delta sigma, sigma^2) mixed over delta ~ N(0, g)
    and over sigma with the right-Haar density 1/sigma, over the same without the effect."""
    x = np.random.default_rng(3).normal(0.4, 1.0, 5)
    for g in (stats.MIXTURE_G,):
        def with_effect(sigma):
            inner = scipy.integrate.quad(lambda d: np.exp(scipy.stats.norm.logpdf(x, d * sigma, sigma).sum())
                                         * scipy.stats.norm.pdf(d, 0, math.sqrt(g)), -40, 40, limit=200)[0]
            return inner / sigma
        null = scipy.integrate.quad(lambda s: np.exp(scipy.stats.norm.logpdf(x, 0, s).sum()) / s, 1e-3, 50,
                                    limit=200)[0]
        numeric = scipy.integrate.quad(with_effect, 1e-3, 50, limit=200)[0] / null
        t = x.mean() / (x.std(ddof=1) / math.sqrt(x.size))
        assert stats.mixture_bayes_factor(t, x.size, g) == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize("k", [3, 4, 6, 10, 30])
def test_sequence_factor_is_where_the_bayes_factor_reaches_one_over_alpha(k):
    factor = stats.sequence_factor(k)
    assert math.isfinite(factor) and factor > stats.t_factor(k)  # wider than the fixed-k interval
    assert stats.mixture_bayes_factor(factor, k) == pytest.approx(1 / 0.05, rel=1e-9)
    assert stats.sequence_factor(2) == math.inf  # two repeats: still unbounded


def time_uniform_miss(rows_a, rows_b=None, truth=1.0, until=20):
    """The share of simulated sequences whose interval excludes the truth at some count from 2 to `until`."""
    missed = 0
    for i in range(len(rows_a)):
        for k in range(2, until + 1):
            if rows_b is None:
                iv = stats.mean_interval(list(rows_a[i, :k]), anytime=True)
            else:
                iv = stats.ratio_interval(list(rows_a[i, :k]), list(rows_b[i, :k]), anytime=True)
            if iv.low is not None and not iv.low <= truth <= iv.high:
                missed += 1
                break
    return missed / len(rows_a)


def test_confidence_sequence_covers_at_every_repeat_count_at_once():
    rng = np.random.default_rng(5)
    rows = suites(rng, 800, 20)
    assert time_uniform_miss(rows, truth=true_typical()) <= 0.05
    a, b = suites(rng, 800, 20, mu=1.2), suites(rng, 800, 20, between=0.04)
    assert time_uniform_miss(a, b, truth=1.2 * true_typical() / true_typical(between=0.04)) <= 0.05


def adaptive_a_a(rng, anytime, n=800, start=3, most=20):
    """Two identical rows, a repeat added to both until the verdict is decided or `most` repeats: the share of
    identical pairs called faster or slower."""
    a, b = suites(rng, n, most), suites(rng, n, most)
    different = 0
    for x, y in zip(a, b):
        for k in range(start, most + 1):
            kind = stats.verdict(stats.ratio_interval(list(x[:k]), list(y[:k]), anytime=anytime))
            if kind in stats.DECIDED:
                different += kind in ("faster", "slower")
                break
    return different / n


def test_adaptive_stopping_keeps_the_false_verdict_rate_with_the_sequence():
    assert adaptive_a_a(np.random.default_rng(6), anytime=True) <= 0.05
    # The same stopping rule on the fixed-k interval: peeking after every repeat inflates the error many times,
    # which is why a budget switches to the sequence.
    assert adaptive_a_a(np.random.default_rng(6), anytime=False) > 0.15


# -- exact cases ---------------------------------------------------------------------------------------------------

def test_one_repeat_is_within_process_only_and_never_a_verdict():
    iv = stats.mean_interval([[1.0, 1.1, 0.9, 1.0]])
    assert not iv.across_repeats and iv.method.startswith("within-process only")
    assert iv.estimate == pytest.approx(1.0)
    half = scipy.stats.t.ppf(0.975, 3) * np.std(np.log([1.0, 1.1, 0.9, 1.0]), ddof=1) / 2
    assert (iv.low, iv.high) == pytest.approx((np.exp(-half), np.exp(half)))
    # Two very different epochs: wide, but a time is never below zero.
    assert 0 < stats.mean_interval([[0.4, 4.0]]).low
    ratio = stats.ratio_interval([[2.0, 2.1, 2.05]], [[1.0, 1.01, 0.99]])
    assert ratio.low > 1 and stats.verdict(ratio) == "inconclusive"
    assert "within-process" in stats.why_inconclusive(ratio)
    assert stats.mean_interval([[2.5]]).low is None


def test_t_interval_on_log_repeat_means():
    groups = [[1.0, 1.2], [2.0], [1.5, 1.5, 1.5]]
    logs = np.log([1.1, 2.0, 1.5])
    iv = stats.mean_interval(groups)
    half = scipy.stats.t.ppf(0.975, 2) * logs.std(ddof=1) / math.sqrt(3)
    assert iv.estimate == pytest.approx(math.exp(logs.mean()))
    assert (iv.low, iv.high) == pytest.approx((math.exp(logs.mean() - half), math.exp(logs.mean() + half)))
    assert (iv.n, iv.groups, iv.method) == (6, 3, "t over 3 repeats")
    assert stats.mean_interval([[], [1.0, 1.2], []]).groups == 1  # repeats without steady epochs drop out
    with pytest.raises(ValueError):
        stats.mean_interval([[], []])
    with pytest.raises(ValueError):
        stats.mean_interval([[1.0, float("nan")]])


def test_ratio_estimate_is_the_ratio_of_the_two_estimates():
    a, b = [[2.0, 2.2], [2.4], [2.1]], [[1.0], [1.1], [0.9, 1.0]]
    ratio = stats.ratio_interval(a, b)
    assert ratio.estimate == pytest.approx(stats.mean_interval(a).estimate / stats.mean_interval(b).estimate)
    assert ratio.low < ratio.estimate < ratio.high and ratio.groups == 3
    assert stats.invert(ratio).estimate == pytest.approx(1 / ratio.estimate)
    assert stats.invert(ratio).low == pytest.approx(1 / ratio.high)


@pytest.mark.parametrize("low,high,kind", [(1.1, 1.3, "slower"), (0.7, 0.9, "faster"), (0.97, 1.04, "equivalent"),
                                           (0.9, 1.2, "tie"), (0.96, 1.051, "tie")])
def test_verdicts(low, high, kind):
    assert stats.verdict(Interval(1.0, low, high, "t", 10, 3)) == kind
    assert stats.verdict(Interval(1.0, low, high, "t", 10, 2)) == "inconclusive"
    assert stats.verdict(Interval(1.0, None, None, "t", 10, 3)) == "inconclusive"


def test_spread_recovers_the_two_levels():
    rng = np.random.default_rng(8)
    rows = suites(rng, 1, 400, between=0.05, within=0.02, epochs=6)[0]
    found = stats.spread(list(rows))
    assert found.between == pytest.approx(0.05, rel=0.15) and found.within == pytest.approx(0.02, rel=0.05)
    assert stats.spread([[1.0, 1.1]]).between is None


def test_an_outlying_repeat_is_flagged_and_ordinary_noise_is_not():
    rng = np.random.default_rng(9)
    rows = list(suites(rng, 1, 6, between=0.02)[0])
    assert stats.outlying_repeats(rows) == []
    rows[3] = rows[3] * 1.4
    assert stats.outlying_repeats(rows) == [3]
    assert stats.outlying_repeats(rows[:2]) == []  # two repeats cannot say which one is odd


@pytest.mark.parametrize("times,used,steady", [
    ([3.0, 1.0, 1.02, 0.98, 1.01], 1, True),      # the first epoch compiles: the declared warm-up is enough
    ([3.0, 1.6, 1.0, 1.02, 0.99], 2, True),       # the second still compiles (a new shape): extended
    ([3.0, 1.6, 1.5, 1.0, 1.01], 2, False),       # slow for longer than the run allows: not steady
    ([3.0, 1.04, 1.0, 1.02, 0.98], 1, True),      # 4% is noise
    ([3.0, 1.0], 1, True),
    ([3.6, 0.107, 0.096, 0.099], 1, True),       # two later epochs are too few to judge the second by
])
def test_warmup_is_detected_not_assumed(times, used, steady):
    assert stats.warmup_epochs(times, 1) == (used, steady)


def test_steady_epochs_leave_out_the_detected_warmup():
    times, used, steady = stats.steady_epochs([3.0, 1.6, 1.0, 1.02, 0.99], [True, False, False, False, False])
    assert times == [1.0, 1.02, 0.99] and used == 2 and steady
    assert stats.steady_epochs([1.0, 2.0, 3.0], [False, True, False])[0] == [1.0, 3.0]
    with pytest.raises(ValueError):
        stats.steady_epochs([1.0, 2.0], [False])
