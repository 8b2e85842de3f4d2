"""Tests of gammalike.stats.counts_statistic.

Expected numbers come from closed forms written out here: Li & Ma (1983)
eq. 17 for ON/OFF, the known-background likelihood ratio
``2 (n log(n / mu) - (n - mu))``, the zero-count profiles (``stat = 2 mu``)
and the Gaussian limit of large counts.  Errors and limits are checked
against the statistic itself: ``stat(n_sig + err) - stat_max == n_sigma**2``.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.stats import norm

from gammalike.stats import CashCountsStatistic, WStatCountsStatistic, cash, wstat

counts = st.integers(min_value=0, max_value=300)
alphas = st.floats(min_value=1e-2, max_value=10)
n_sigmas = st.floats(min_value=0.5, max_value=5)


def li_ma_17(n_on, n_off, alpha):
    """Li & Ma (1983) eq. 17, unsigned."""
    n_tot = n_on + n_off
    term_on = n_on * np.log((1 + alpha) / alpha * n_on / n_tot)
    term_off = n_off * np.log((1 + alpha) * n_off / n_tot)
    return np.sqrt(2 * (term_on + term_off))


def cash_sqrt_ts(n_on, mu_bkg):
    return np.sqrt(2 * (n_on * np.log(n_on / mu_bkg) - (n_on - mu_bkg)))


# --- closed-form values -----------------------------------------------------------


def test_wstat_li_ma_reference():
    stat = WStatCountsStatistic(n_on=10, n_off=20, alpha=0.1)
    assert_allclose(stat.n_bkg, 2.0)
    assert_allclose(stat.n_sig, 8.0)
    assert_allclose(stat.excess, 8.0)
    assert_allclose(stat.sqrt_ts, li_ma_17(10, 20, 0.1), rtol=1e-12)
    assert_allclose(stat.sqrt_ts, 3.6851, atol=1e-4)  # value of the formula above
    assert_allclose(stat.error, np.sqrt(10 + 0.01 * 20), rtol=1e-14)
    assert_allclose(stat.stat_max, 0, atol=1e-12)
    assert_allclose(stat.stat_null, li_ma_17(10, 20, 0.1) ** 2, rtol=1e-12)


def test_wstat_li_ma_arrays_and_sign():
    n_on = np.array([10.0, 13, 120, 2])
    n_off = np.array([20.0, 11, 400, 40])
    alpha = np.array([0.1, 0.5, 0.2, 0.25])
    stat = WStatCountsStatistic(n_on, n_off, alpha)
    sign = np.sign(n_on - alpha * n_off)
    assert_allclose(stat.sqrt_ts, sign * li_ma_17(n_on, n_off, alpha), rtol=1e-12)
    assert stat.sqrt_ts[-1] < 0


def test_cash_reference():
    stat = CashCountsStatistic(n_on=13, mu_bkg=5.5)
    assert_allclose(stat.n_sig, 7.5)
    assert_allclose(stat.n_bkg, 5.5)
    assert_allclose(stat.error, np.sqrt(13))
    assert_allclose(stat.sqrt_ts, cash_sqrt_ts(13, 5.5), rtol=1e-12)
    assert_allclose(stat.stat_null, cash(13, 5.5), rtol=1e-14)
    assert_allclose(stat.stat_max, cash(13, 13), rtol=1e-14)
    negative = CashCountsStatistic(n_on=3, mu_bkg=5.5)
    assert_allclose(negative.sqrt_ts, -cash_sqrt_ts(3, 5.5), rtol=1e-12)


def test_p_value():
    # ts with one degree of freedom: two-sided Gaussian tail of sqrt_ts
    stat = WStatCountsStatistic([10, 5, 100], [20, 30, 300], 0.1)
    assert_allclose(stat.p_value, 2 * norm.sf(np.abs(stat.sqrt_ts)), rtol=1e-10)


def test_wstat_mu_sig():
    # a known signal in the null hypothesis: the excess is counted above it
    stat = WStatCountsStatistic(n_on=30, n_off=20, alpha=0.5, mu_sig=8)
    assert_allclose(stat.n_sig, 30 - 10 - 8)
    assert_allclose(stat.stat_null, wstat(30, 20, 0.5, 8), rtol=1e-14)
    assert_allclose(stat.stat_max, 0, atol=1e-12)


def test_scalars_in_scalars_out():
    stat = WStatCountsStatistic(13, 11, 0.5)
    for value in (stat.sqrt_ts, stat.ts, stat.compute_errn(), stat.compute_upper_limit(), stat.n_sig_matching_significance(3)):
        assert np.ndim(value) == 0
        assert isinstance(float(value), float)
    stat = CashCountsStatistic(np.ones((2, 3)), 0.5)
    assert stat.sqrt_ts.shape == (2, 3)
    assert stat.compute_errp().shape == (2, 3)


def test_info_and_str():
    stat = WStatCountsStatistic(13, 11, 0.5)
    info = stat.info_dict()
    assert_allclose(info["excess"], 7.5)
    assert_allclose(info["significance"], stat.sqrt_ts)
    assert_allclose(info["n_off"], 11)
    text = str(stat)
    assert "WStatCountsStatistic" in text and "significance" in text and "7.5" in text
    assert "mu_bkg" in str(CashCountsStatistic(3, 1.0))


def test_sum_and_getitem():
    stat = WStatCountsStatistic([10, 20], [30, 10], [0.1, 0.4])
    total = stat.sum()
    assert_allclose(total.n_on, 30)
    assert_allclose(total.n_off, 40)
    # the summed background is exact: alpha = sum(alpha n_off) / sum(n_off)
    assert_allclose(total.n_bkg, 3 + 4)
    assert_allclose(stat[1].sqrt_ts, WStatCountsStatistic(20, 10, 0.4).sqrt_ts)
    cash_stat = CashCountsStatistic([[1, 2], [3, 4]], 1.5).sum(axis=0)
    assert_allclose(cash_stat.n_on, [4, 6])
    assert_allclose(cash_stat.n_bkg, [3, 3])


# --- errors and limits ------------------------------------------------------------


def test_errors_zero_counts():
    # Cash, n_on = 0: stat = 2 (mu_bkg + x), minimum on the boundary x = -mu_bkg,
    # so errn = 0 and errp = n_sigma**2 / 2.
    stat = CashCountsStatistic(0, 2.0)
    assert_allclose(stat.compute_errn(1), 0, atol=1e-12)
    assert_allclose(stat.compute_errp(2), 2.0, rtol=1e-9)
    assert_allclose(stat.compute_upper_limit(2), -2.0 + 2.0, atol=1e-9)
    # ON/OFF with no counts: stat = 2 x above 0 and -2 x / alpha below
    stat = WStatCountsStatistic(0, 0, 0.2)
    assert_allclose(stat.compute_errn(1), -0.1, rtol=1e-9)
    assert_allclose(stat.compute_errp(3), 4.5, rtol=1e-9)


def test_errors_gaussian_limit():
    # large counts: the profile is a parabola of width `error`
    stat = WStatCountsStatistic(1e6, 2e6, 0.3)
    assert_allclose(stat.compute_errp(1), stat.error, rtol=1e-3)
    assert_allclose(stat.compute_errn(1), -stat.error, rtol=1e-3)
    assert_allclose(stat.compute_upper_limit(2), stat.n_sig + 2 * stat.error, rtol=1e-5)
    stat = CashCountsStatistic(1e6, 3e5)
    assert_allclose(stat.compute_errp(1), 1e3, rtol=1e-3)
    assert_allclose(stat.compute_errn(1), -1e3, rtol=1e-3)


@settings(max_examples=100, deadline=None)
@given(n_on=counts, n_off=counts, alpha=alphas, n_sigma=n_sigmas)
def test_wstat_errors_match_stat_difference(n_on, n_off, alpha, n_sigma):
    stat = WStatCountsStatistic(n_on, n_off, alpha)
    errn, errp = stat.compute_errn(n_sigma), stat.compute_errp(n_sigma)
    assert errn < 0 < errp
    for excess in (stat.n_sig + errn, stat.n_sig + errp):
        delta = wstat(n_on, n_off, alpha, excess) - stat.stat_max
        assert_allclose(delta, n_sigma**2, rtol=1e-8)
    assert_allclose(stat.compute_upper_limit(n_sigma), stat.n_sig + errp, rtol=1e-12, atol=1e-12)
    assert_allclose(stat.compute_lower_limit(n_sigma), stat.n_sig + errn, rtol=1e-12, atol=1e-12)
    assert_allclose(stat.sqrt_ts**2, stat.ts, rtol=1e-12, atol=1e-12)
    assert np.sign(stat.sqrt_ts) == np.sign(stat.n_sig) or stat.ts < 1e-12


@settings(max_examples=100, deadline=None)
@given(n_on=counts, mu_bkg=st.floats(min_value=1e-2, max_value=300), n_sigma=n_sigmas)
def test_cash_errors_match_stat_difference(n_on, mu_bkg, n_sigma):
    stat = CashCountsStatistic(n_on, mu_bkg)
    errp = stat.compute_errp(n_sigma)
    delta = cash(n_on, mu_bkg + stat.n_sig + errp) - stat.stat_max
    assert_allclose(delta, n_sigma**2, rtol=1e-8)
    errn = stat.compute_errn(n_sigma)
    lower = stat.n_sig + errn
    assert lower >= -mu_bkg - 1e-12
    if lower > -mu_bkg:  # otherwise the boundary (zero predicted counts) is hit
        delta = cash(n_on, mu_bkg + lower) - stat.stat_max
        assert_allclose(delta, n_sigma**2, rtol=1e-8)
    assert_allclose(stat.sqrt_ts**2, stat.ts, rtol=1e-12, atol=1e-12)


def test_vectorized_errors_equal_elementwise():
    n_on = np.array([0, 1, 5, 13, 100, 2])
    n_off = np.array([0, 4, 0, 11, 80, 50])
    alpha = np.array([0.2, 0.5, 0.1, 0.5, 1.0, 0.3])
    stat = WStatCountsStatistic(n_on, n_off, alpha)
    errn, ul = stat.compute_errn(1), stat.compute_upper_limit(3)
    for idx in range(len(n_on)):
        single = WStatCountsStatistic(n_on[idx], n_off[idx], alpha[idx])
        assert_allclose(single.compute_errn(1), errn[idx], rtol=1e-10)
        assert_allclose(single.compute_upper_limit(3), ul[idx], rtol=1e-10)


def test_n_sigma_array():
    stat = WStatCountsStatistic(13, 11, 0.5)
    errp = stat.compute_errp(np.array([1.0, 2.0, 0.0]))
    assert_allclose(errp[0], stat.compute_errp(1))
    assert_allclose(errp[1], stat.compute_errp(2))
    assert errp[2] == 0


# --- excess matching a significance -----------------------------------------------


@settings(max_examples=100, deadline=None)
@given(n_off=st.integers(min_value=1, max_value=1000), alpha=alphas, significance=st.floats(-3, 8))
def test_wstat_n_sig_matching_significance(n_off, alpha, significance):
    stat = WStatCountsStatistic(0, n_off, alpha)
    excess = stat.n_sig_matching_significance(significance)
    if np.isnan(excess):
        # unreachable: even n_on = 0 is not that negative
        assert significance < WStatCountsStatistic(0, n_off, alpha).sqrt_ts + 1e-9
        return
    n_on = alpha * n_off + excess
    assert n_on >= 0
    # sqrt of a difference of statistics: ~1e-8 absolute noise near zero
    assert_allclose(WStatCountsStatistic(n_on, n_off, alpha).sqrt_ts, significance, atol=1e-7)


def test_cash_n_sig_matching_significance():
    mu_bkg = np.array([1.0, 10.0, 1e4, 3.0])
    significance = np.array([5.0, 3.0, 5.0, -3.0])
    excess = CashCountsStatistic(0, mu_bkg).n_sig_matching_significance(significance)
    assert_allclose(CashCountsStatistic(mu_bkg[:3] + excess[:3], mu_bkg[:3]).sqrt_ts, significance[:3], rtol=1e-10)
    # large background: Gaussian limit excess = significance * sqrt(mu_bkg)
    assert_allclose(excess[2], 5 * 100, rtol=2e-2)
    # n_on = 0 with mu_bkg = 3 gives -sqrt(6) > -3: unreachable
    assert np.isnan(excess[3])
    assert CashCountsStatistic(4, 4.0).n_sig_matching_significance(0) == 0
