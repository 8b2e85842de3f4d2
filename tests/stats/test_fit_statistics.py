"""Tests of gammalike.stats.fit_statistics.

Expected numbers come from closed forms written out here (Poisson
likelihoods, Li & Ma 1983 eq. 17, the W-statistic special cases derived from
the ON/OFF likelihood) and from a brute-force numerical minimisation of the
ON/OFF likelihood over the background mean.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

from gammalike.stats import (
    TRUNCATION_VALUE,
    cash,
    chi2,
    chi2_flux_points,
    chi2_flux_points_ul,
    cstat,
    get_wstat_gof_terms,
    get_wstat_mu_bkg,
    get_wstat_mu_bkg_off,
    wstat,
)

counts = st.integers(min_value=0, max_value=500)
alphas = st.floats(min_value=1e-2, max_value=20)
signals = st.floats(min_value=-100, max_value=1000)


def xlogx(n):
    n = np.asarray(n, dtype=float)
    return np.where(n > 0, n * np.log(np.where(n > 0, n, 1)), 0.0)


def onoff_neg2logl(n_on, n_off, alpha, mu_sig, mu_off):
    """-2 log L of the ON/OFF Poisson likelihood minus its saturated value."""
    mu_on = mu_sig + alpha * mu_off
    value = 2 * (mu_on + mu_off) - 2 * n_on * np.log(mu_on) if n_on > 0 else 2 * (mu_on + mu_off)
    if n_off > 0:
        value = value - 2 * n_off * np.log(mu_off)
    return value - 2 * (n_on - xlogx(n_on) + n_off - xlogx(n_off))


def brute_force_wstat(n_on, n_off, alpha, mu_sig):
    """Minimise the ON/OFF likelihood over mu_off >= 0 with mu_on >= 0."""
    lo = max(0.0, -mu_sig / alpha)
    hi = 10 * (n_on + n_off + abs(mu_sig) / alpha + 1)

    def fcn(mu_off):
        if mu_off <= 0 and n_off > 0:
            return np.inf
        if mu_sig + alpha * mu_off <= 0 and n_on > 0:
            return np.inf
        return float(onoff_neg2logl(n_on, n_off, alpha, mu_sig, mu_off))

    result = minimize_scalar(
        fcn, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13 * hi, "maxiter": 5000}
    )
    return min(result.fun, fcn(lo), fcn(hi))


# --- cash and cstat ---------------------------------------------------------


def test_cash_closed_form():
    # 2 * (mu - n log mu) written out
    n, mu = np.array([0, 1, 7, 100]), np.array([0.5, 2.0, 7.0, 93.2])
    assert_allclose(cash(n, mu), 2 * (mu - n * np.log(mu)), rtol=1e-14)
    assert_allclose(cash(3, 2.5), 2 * (2.5 - 3 * np.log(2.5)), rtol=1e-14)


def test_cash_truncation():
    # mu <= 0 is clipped to the truncation value before the log
    expected = 2 * (TRUNCATION_VALUE - 5 * np.log(TRUNCATION_VALUE))
    assert_allclose(cash([5, 5], [0.0, -3.0]), [expected, expected], rtol=1e-14)
    assert_allclose(cash(0, 0.0), 2 * TRUNCATION_VALUE)
    assert_allclose(cash(5, 0.0, truncation_value=1e-5), 2 * (1e-5 - 5 * np.log(1e-5)))


def test_cstat_closed_form():
    # 2 * (mu - n + n log(n / mu)), n log n = 0 for n = 0
    n, mu = np.array([0.0, 1, 7, 100]), np.array([0.5, 2.0, 7.0, 93.2])
    expected = 2 * (mu - n + xlogx(n) - np.where(n > 0, n * np.log(mu), 0))
    assert_allclose(cstat(n, mu), expected, rtol=1e-11, atol=1e-15)
    assert cstat(7, 7.0) == 0
    # cstat is cash minus its saturated value cash(n, n)
    assert_allclose(cstat(n, mu), cash(n, mu) - cash(n, n), rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(n=counts, mu=st.floats(min_value=1e-6, max_value=1e4))
def test_cstat_non_negative(n, mu):
    # the saturated model is the maximum of the Poisson likelihood
    assert cstat(n, mu) >= 0


# --- wstat --------------------------------------------------------------------


def test_wstat_li_ma():
    # mu_sig = 0 gives Li & Ma (1983) eq. 17 squared
    n_on, n_off, alpha = np.array([10.0, 13, 120]), np.array([20.0, 11, 400]), np.array([0.1, 0.5, 0.2])
    n_tot = n_on + n_off
    ts = 2 * (
        n_on * np.log((1 + alpha) / alpha * n_on / n_tot)
        + n_off * np.log((1 + alpha) * n_off / n_tot)
    )
    assert_allclose(wstat(n_on, n_off, alpha, 0), ts, rtol=1e-12)


def test_wstat_profile_background_at_zero_signal():
    # d/dmu_off = 0 with mu_sig = 0 gives mu_off = (n_on + n_off) / (1 + alpha)
    n_on, n_off, alpha = 10, 20, 0.1
    assert_allclose(get_wstat_mu_bkg_off(n_on, n_off, alpha, 0), 30 / 1.1, rtol=1e-14)
    assert_allclose(get_wstat_mu_bkg(n_on, n_off, alpha, 0), 0.1 * 30 / 1.1, rtol=1e-14)


def test_wstat_n_on_zero():
    # n_on = 0: mu_off = n_off / (1 + alpha), W = 2 (mu_sig + n_off log(1 + alpha))
    n_off, alpha = np.array([0.0, 3, 50, 50]), np.array([0.3, 0.3, 2.0, 0.01])
    mu_sig = np.array([2.0, 0.5, -10, 7])
    assert_allclose(wstat(0, n_off, alpha, mu_sig), 2 * (mu_sig + n_off * np.log1p(alpha)), rtol=1e-13)
    assert_allclose(get_wstat_mu_bkg_off(0, n_off, alpha, mu_sig), n_off / (1 + alpha), rtol=1e-14)


def test_wstat_n_on_zero_boundary():
    # n_on = 0 and mu_sig < -alpha n_off / (1 + alpha): the background is pinned
    # by mu_on = mu_sig + alpha mu_off >= 0, so mu_off = -mu_sig / alpha and
    # W = cstat(n_off, mu_off) (and W = -2 mu_sig / alpha for n_off = 0).
    alpha = 0.5
    assert_allclose(wstat(0, 0, alpha, -3.0), 12.0, rtol=1e-14)
    mu_off = 40.0
    expected = 2 * (mu_off - 20 + 20 * np.log(20 / mu_off))
    assert_allclose(wstat(0, 20, alpha, -alpha * mu_off), expected, rtol=1e-13)
    # the best fit mu_sig = -alpha n_off reproduces the data exactly
    assert_allclose(wstat(0, 20, alpha, -alpha * 20), 0, atol=1e-12)


def test_wstat_n_off_zero():
    # n_off = 0, mu_sig < alpha n_on / (1 + alpha):
    #   mu_off = n_on / (1 + alpha) - mu_sig / alpha,
    #   W = 2 (-mu_sig / alpha + n_on log((1 + alpha) / alpha))
    # n_off = 0 otherwise: mu_off = 0, W = cstat(n_on, mu_sig)
    n_on, alpha = 10.0, 0.25  # threshold alpha n_on / (1 + alpha) = 2
    mu_sig = np.array([-5.0, 0.0, 1.0, 1.999])
    expected = 2 * (-mu_sig / alpha + n_on * np.log((1 + alpha) / alpha))
    assert_allclose(wstat(n_on, 0, alpha, mu_sig), expected, rtol=1e-13)
    assert_allclose(
        get_wstat_mu_bkg_off(n_on, 0, alpha, mu_sig), n_on / (1 + alpha) - mu_sig / alpha, rtol=1e-13
    )
    mu_sig = np.array([2.0, 5.0, 10.0, 30.0])
    expected = 2 * (mu_sig - n_on + n_on * np.log(n_on / mu_sig))
    assert_allclose(wstat(n_on, 0, alpha, mu_sig), expected, rtol=1e-13, atol=1e-14)
    assert_allclose(get_wstat_mu_bkg_off(n_on, 0, alpha, mu_sig), 0, atol=1e-14)


def test_wstat_both_zero():
    # no counts at all: W = 2 mu_sig for mu_sig >= 0, -2 mu_sig / alpha below
    assert_allclose(wstat(0, 0, 0.2, [0.0, 3.0, -1.0]), [0, 6, 10], rtol=1e-14, atol=1e-20)


def test_wstat_textbook_formula_and_gof_terms():
    # W = 2 (mu_sig + (1 + alpha) mu_off - n_on log mu_on - n_off log mu_off) + gof
    n_on, n_off, alpha = np.array([13.0, 5, 100]), np.array([11.0, 30, 80]), np.array([0.5, 0.1, 1.3])
    mu_sig = np.array([3.0, -1.0, 40.0])
    mu_off = get_wstat_mu_bkg_off(n_on, n_off, alpha, mu_sig)
    raw = 2 * (mu_sig + (1 + alpha) * mu_off - n_on * np.log(mu_sig + alpha * mu_off) - n_off * np.log(mu_off))
    gof = -2 * (n_on * (1 - np.log(n_on)) + n_off * (1 - np.log(n_off)))
    assert_allclose(get_wstat_gof_terms(n_on, n_off), gof, rtol=1e-14)
    assert_allclose(wstat(n_on, n_off, alpha, mu_sig), raw + gof, rtol=1e-10)
    assert_allclose(get_wstat_gof_terms(0, [0, 2]), [0, -2 * (2 - 2 * np.log(2))], rtol=1e-14)


def test_wstat_profile_is_stationary():
    # the profiled background is a zero of d(-2 log L)/d mu_off
    n_on, n_off, alpha, mu_sig = 13.0, 11.0, 0.5, 2.5
    mu_off = float(get_wstat_mu_bkg_off(n_on, n_off, alpha, mu_sig))
    eps = 1e-6 * mu_off
    lower = onoff_neg2logl(n_on, n_off, alpha, mu_sig, mu_off - eps)
    upper = onoff_neg2logl(n_on, n_off, alpha, mu_sig, mu_off + eps)
    assert abs(upper - lower) / (2 * eps) < 1e-6


@settings(max_examples=200, deadline=None)
@given(n_on=counts, n_off=counts, alpha=alphas, mu_sig=signals)
def test_wstat_equals_brute_force_profile(n_on, n_off, alpha, mu_sig):
    # the analytic profile equals a numerical minimisation over mu_off
    expected = brute_force_wstat(n_on, n_off, alpha, mu_sig)
    actual = float(wstat(n_on, n_off, alpha, mu_sig))
    assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)
    # and is a true minimum: the brute force cannot beat it
    assert actual <= expected + 1e-9 * (1 + abs(expected))


@settings(max_examples=150, deadline=None)
@given(n_on=counts, n_off=counts, alpha=alphas, mu_sig=signals)
def test_wstat_non_negative_and_zero_at_best_fit(n_on, n_off, alpha, mu_sig):
    assert wstat(n_on, n_off, alpha, mu_sig) >= 0
    # mu_sig = n_on - alpha n_off with mu_off = n_off is the saturated model
    best = n_on - alpha * n_off
    assert_allclose(wstat(n_on, n_off, alpha, best), 0, atol=1e-9 * (1 + n_on + n_off))
    assert_allclose(get_wstat_mu_bkg_off(n_on, n_off, alpha, best), n_off, rtol=1e-9, atol=1e-9)


def test_wstat_precision_large_counts():
    # near the best fit W is quadratic with curvature 1 / (n_on + alpha^2 n_off)
    n_on, n_off, alpha = 1e8, 4e8, 0.2
    sigma = np.sqrt(n_on + alpha**2 * n_off)
    best = n_on - alpha * n_off
    assert_allclose(wstat(n_on, n_off, alpha, best + sigma), 1.0, rtol=1e-3)
    assert_allclose(wstat(n_on, n_off, alpha, best - 0.1 * sigma), 0.01, rtol=1e-3)


def test_wstat_broadcasting():
    n_on = np.array([[1.0], [5.0], [20.0]])
    stat = wstat(n_on, [0, 3, 7, 9], 0.3, 1.5)
    assert stat.shape == (3, 4)
    assert stat.dtype == np.float64
    assert_allclose(stat[2, 1], wstat(20, 3, 0.3, 1.5), rtol=1e-15)


def test_wstat_alpha_zero():
    # no OFF exposure in the ON region: only the signal predicts ON counts
    assert_allclose(wstat(5, 7, 0, 3.0), cstat(5, 3.0), rtol=1e-14)


# --- chi2 ---------------------------------------------------------------------


def test_chi2():
    assert_allclose(chi2([3, 5], [1, 5], [2, 1]), [1, 0])


def test_chi2_flux_points_asymmetric():
    # errn is used where the model is below the data, errp where it is above
    data = np.array([10.0, 10.0, 10.0])
    model = np.array([8.0, 13.0, 10.0])
    errn, errp = np.array([1.0, 1.0, 1.0]), np.array([3.0, 3.0, 3.0])
    assert_allclose(chi2_flux_points(data, model, errn, errp), [4.0, 1.0, 0.0])


def test_chi2_flux_points_ul():
    # one-sided: no cost below the limit, Gaussian penalty above
    assert_allclose(chi2_flux_points_ul([1.0, 1.0, 1.0], [0.5, 1.0, 1.6], 0.2), [0, 0, 9.0])
