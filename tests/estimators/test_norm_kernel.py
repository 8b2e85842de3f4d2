"""The norm kernel (gammalike.estimators.norm_kernel).

Expected values come from closed forms (single-bin cash / chi2 problems,
the W statistic of empty bins) and, for random problems of each statistic,
from a brute-force dense scan of the full likelihood computed directly with
`gammalike.stats` (hypothesis).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gammalike.estimators.norm_kernel import (
    cash_term,
    chi2_term,
    estimate_norm,
    fit_norm,
    make_term,
    norm_stat,
    norm_stat_derivatives,
    wstat_term,
)
from gammalike.stats import cash, chi2, wstat


def test_cash_single_bin_closed_form():
    # one bin: norm = (n - b) / s, curvature 2 n s^2 / n^2 -> err = sqrt(n) / s
    n, s, b = np.array([[25.0]]), np.array([[4.0]]), np.array([[5.0]])
    result = estimate_norm(cash_term(n, s, b), selection_optional="all", norm_values=[0, 1, 5])
    assert result["norm"][0] == pytest.approx(5.0, rel=1e-9, abs=0)
    assert result["norm_err"][0] == pytest.approx(5.0 / 4.0, rel=1e-9, abs=0)
    # TS = 2 (n log(n / b) - (n - b))
    assert result["ts"][0] == pytest.approx(2 * (25 * np.log(5) - 20), rel=1e-9, abs=0)
    assert result["sqrt_ts"][0] == pytest.approx(np.sqrt(result["ts"][0]))
    # crossings solve 2 (mu - n - n log(mu / n)) = delta with mu = b + x s
    for key, delta, sign in (("norm_errp", 1, 1), ("norm_ul", 4, 1), ("norm_errn", 1, -1)):
        x = result[key][0]
        x = result["norm"][0] + sign * x if key != "norm_ul" else x
        mu = 5 + 4 * x
        assert 2 * (mu - 25 - 25 * np.log(mu / 25)) == pytest.approx(delta, abs=1e-7)
    assert result["stat_scan"].shape == (1, 3)
    assert result["stat_scan"][0, 2] == pytest.approx(result["stat"][0])
    assert result["success"].all()


def test_chi2_closed_form():
    data = np.array([[2.0, 3.0], [-1.0, 1.0]])
    template = np.array([[1.0, 2.0], [1.0, 1.0]])
    error = np.array([[0.5, 1.0], [1.0, 1.0]])
    result = estimate_norm(chi2_term(data, template, error), selection_optional=["errn-errp"])
    w = template**2 / error**2
    expected = (template * data / error**2).sum(1) / w.sum(1)
    assert np.allclose(result["norm"], expected, rtol=1e-12, atol=0)
    # parabola: every error is 1 / sqrt(sum w)
    err = 1 / np.sqrt(w.sum(1))
    for key in ("norm_err", "norm_errn", "norm_errp"):
        assert np.allclose(result[key], err, rtol=1e-8, atol=0), key
    assert np.allclose(result["ts"], expected**2 / err**2, rtol=1e-10, atol=0)
    assert result["sqrt_ts"][1] == 0  # norm exactly 0 in the second problem


def test_wstat_empty_bins_kink():
    # n_on = n_off = 0: W = 2 x s (x >= 0) and -2 x s / alpha (x < 0): minimum in the kink at 0
    alpha, s = 0.1, 3.0
    term = wstat_term(np.zeros((1, 1)), [[s]], np.zeros((1, 1)), [[alpha]])
    result = estimate_norm(term, selection_optional="all", norm_values=[0.5])
    assert abs(result["norm"][0]) < 1e-9
    assert result["ts"][0] == pytest.approx(0, abs=1e-9)
    assert result["norm_ul"][0] == pytest.approx(4 / (2 * s), rel=1e-8, abs=0)
    assert result["norm_errp"][0] == pytest.approx(1 / (2 * s), rel=1e-8, abs=0)
    assert result["norm_errn"][0] == pytest.approx(alpha / (2 * s), rel=1e-8, abs=0)


def test_negative_norm_allowed_until_counts_prediction_vanishes():
    # deficit: best norm negative; the cash domain ends where b + x s = 0 in a bin with counts
    n, s, b = np.array([[2.0]]), np.array([[10.0]]), np.array([[8.0]])
    result = estimate_norm(cash_term(n, s, b), selection_optional=["errn-errp"])
    assert result["norm"][0] == pytest.approx(-0.6, rel=1e-9, abs=0)
    assert result["sqrt_ts"][0] < 0
    lower = result["norm"][0] - result["norm_errn"][0]
    assert lower > -0.8  # never beyond the domain bound -b/s


def test_norm_bounds():
    n, s, b = np.array([[2.0]]), np.array([[10.0]]), np.array([[8.0]])
    result = fit_norm(cash_term(n, s, b), norm_min=0)
    assert result["norm"][0] == 0
    result = estimate_norm(cash_term([[100.0]], [[1.0]], [[1.0]]), norm_max=50, selection_optional=["ul"])
    assert result["norm"][0] == pytest.approx(50)
    assert np.isnan(result["norm_ul"][0])  # the UL crossing lies beyond norm_max


def test_masked_and_joint_terms_add():
    rng = np.random.default_rng(0)
    n = rng.poisson(10, (3, 4)).astype(float)
    s, b = rng.uniform(1, 3, (3, 4)), rng.uniform(2, 5, (3, 4))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 1, 1]], bool)
    term = cash_term(n, s, b, mask=mask)
    x = np.array([0.5, 1.0, 2.0])
    expected = np.sum(np.where(mask, cash(n, b + x[:, None] * s), 0), axis=1)
    assert np.allclose(norm_stat(x, term), expected, rtol=1e-14, atol=0)
    # a cash and a chi2 term in the same problems: statistics add
    other = make_term("chi2", data=np.ones((3, 2)), template=np.ones((3, 2)), error=np.ones((3, 2)))
    total = norm_stat(x, [term, other])
    assert np.allclose(total, expected + 2 * (1 - x) ** 2, atol=0)
    d1, _ = norm_stat_derivatives(estimate_norm([term, other])["norm"], [term, other])
    assert np.allclose(d1, 0, atol=1e-5)


def test_nan_inputs_are_masked():
    n = np.array([[10.0, np.nan]])
    result = estimate_norm(cash_term(n, [[1.0, 1.0]], [[2.0, 2.0]]))
    assert result["norm"][0] == pytest.approx(8.0)


# ------------------------------------------------------------------ brute force
def _dense_scan(stat_func, lo, hi, n=20001):
    x = np.linspace(lo, hi, n)
    return x, stat_func(x)


def _brute_force(stat_func, domain_min, scale):
    """Best norm, n_sigma=1 crossings and 2-sigma UL from dense scans of ``stat_func``.

    A first wide scan locates the minimum, a second dense one covers the
    region where the statistic is within 5 of it.  Returns the values and the
    final grid step.
    """
    lo = domain_min + 1e-9 if np.isfinite(domain_min) else -scale
    x, stat = _dense_scan(stat_func, lo, scale, 100001)
    ok = stat <= stat.min() + 6
    lo2, hi2 = x[max(np.argmax(ok) - 1, 0)], x[min(len(x) - 1 - np.argmax(ok[::-1]) + 1, len(x) - 1)]
    lo2 = max(lo2, lo)
    x, stat = _dense_scan(stat_func, lo2, hi2, 100001)
    i = np.argmin(stat)
    best, smin = x[i], stat[i]

    def crossing(delta, side):
        sel = slice(i, None) if side > 0 else slice(None, i + 1)
        xs, ys = x[sel], stat[sel] - smin - delta
        if side < 0:
            xs, ys = xs[::-1], ys[::-1]
        above = np.nonzero(ys >= 0)[0]
        if above.size == 0:
            return np.nan
        j = above[0]
        return np.interp(0, [ys[j - 1], ys[j]], [xs[j - 1], xs[j]]) if side > 0 else np.interp(
            0, [ys[j - 1], ys[j]], [xs[j - 1], xs[j]])

    return best, crossing(1, -1), crossing(1, 1), crossing(4, 1), x[1] - x[0]


def _check(result, brute, scale):
    best, lower, upper, ul, step = brute
    tol = max(3 * step, 1e-3 * scale)
    assert abs(result["norm"][0] - best) <= tol
    assert abs(result["norm"][0] - result["norm_errn"][0] - lower) <= tol
    assert abs(result["norm"][0] + result["norm_errp"][0] - upper) <= tol
    assert abs(result["norm_ul"][0] - ul) <= tol


bins = st.integers(min_value=1, max_value=6)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=st.data(), nbin=bins)
def test_cash_against_brute_force(data, nbin):
    floats = st.floats(min_value=0.05, max_value=30)
    counts = np.array(data.draw(st.lists(st.integers(0, 60), min_size=nbin, max_size=nbin)), float)
    template = np.array(data.draw(st.lists(floats, min_size=nbin, max_size=nbin)))
    background = np.array(data.draw(st.lists(floats, min_size=nbin, max_size=nbin)))

    def stat_func(x):
        return cash(counts, background + x[:, None] * template).sum(1)

    has = counts > 0
    domain_min = np.max(-background[has] / template[has]) if has.any() else -np.inf
    result = estimate_norm(cash_term(counts[None], template[None], background[None]),
                           selection_optional="all", norm_values=[1.0])
    if not has.any():
        # no counts: the statistic 2 sum(max(mu, 0)) decreases down to where every
        # prediction vanishes, then stays flat (no minimum to compare)
        return
    brute = _brute_force(stat_func, domain_min, 20 * (10 + counts.sum()) / template.min())
    _check(result, brute, 1 + abs(brute[0]))
    assert result["stat"][0] == pytest.approx(stat_func(np.array([brute[0]]))[0], abs=1e-3)


@SETTINGS
@given(data=st.data(), nbin=bins)
def test_wstat_against_brute_force(data, nbin):
    floats = st.floats(min_value=0.05, max_value=30)
    counts = np.array(data.draw(st.lists(st.integers(0, 60), min_size=nbin, max_size=nbin)), float)
    counts_off = np.array(data.draw(st.lists(st.integers(0, 200), min_size=nbin, max_size=nbin)), float)
    alpha = np.array(data.draw(st.lists(st.floats(0.02, 1.0), min_size=nbin, max_size=nbin)))
    template = np.array(data.draw(st.lists(floats, min_size=nbin, max_size=nbin)))

    def stat_func(x):
        return wstat(counts, counts_off, alpha, x[:, None] * template).sum(1)

    result = estimate_norm(wstat_term(counts[None], template[None], counts_off[None], alpha[None]),
                           selection_optional="all", norm_values=[1.0])
    scale = 20 * (10 + counts.sum() + (alpha * counts_off).sum()) / template.min()
    brute = _brute_force(stat_func, -np.inf, scale)
    _check(result, brute, 1 + abs(brute[0]))


@SETTINGS
@given(data=st.data(), nbin=bins)
def test_chi2_against_brute_force(data, nbin):
    values = np.array(data.draw(st.lists(st.floats(-10, 10), min_size=nbin, max_size=nbin)))
    template = np.array(data.draw(st.lists(st.floats(0.1, 5), min_size=nbin, max_size=nbin)))
    error = np.array(data.draw(st.lists(st.floats(0.1, 5), min_size=nbin, max_size=nbin)))
    model = np.array(data.draw(st.lists(st.floats(0, 2), min_size=nbin, max_size=nbin)))

    def stat_func(x):
        return chi2(values, model + x[:, None] * template, error).sum(1)

    result = estimate_norm(chi2_term(values[None], template[None], error[None], model[None]),
                           selection_optional="all", norm_values=[1.0])
    brute = _brute_force(stat_func, -np.inf, 1e3)
    _check(result, brute, 1 + abs(brute[0]))


def test_vectorized_equals_one_by_one():
    rng = np.random.default_rng(3)
    n = rng.poisson(5, (20, 5)).astype(float)
    n_off = rng.poisson(30, (20, 5)).astype(float)
    s, alpha = rng.uniform(0.1, 4, (20, 5)), rng.uniform(0.05, 0.5, (20, 5))
    many = estimate_norm(wstat_term(n, s, n_off, alpha), selection_optional="all", norm_values=[0, 1])
    for i in range(20):
        one = estimate_norm(wstat_term(n[i:i + 1], s[i:i + 1], n_off[i:i + 1], alpha[i:i + 1]),
                            selection_optional="all", norm_values=[0, 1])
        for key in ("norm", "norm_errn", "norm_errp", "norm_ul", "ts"):
            assert one[key][0] == pytest.approx(many[key][i], rel=1e-7, abs=1e-9), key
