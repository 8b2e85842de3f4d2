"""The norm kernel: fit one amplitude to a fixed template, for many problems at once.

Every estimator (flux points, TS and excess maps, light curves, upper
limits) reduces to the same question: given data and a *fixed* prediction
``other + norm * template``, what is the best ``norm``, how significant is it
and how well is it constrained?  This module answers it with pure functions
on float arrays, vectorized over independent problems (energy bins, time
bins, pixels): arrays have shape ``(n_problems, n_bins)`` and every result
shape ``(n_problems,)``.

A problem is described by one or several *terms* (`cash_term`,
`wstat_term`, `chi2_term`); the statistic of a problem is the sum of its
terms' statistics over their bins, so joint datasets (even of different
kinds) are one problem: concatenate the bins of all datasets of one kind
along the last axis (pad with ``mask=False``), and pass one term per kind.

Statistics (values identical to `gammalike.stats`, ``-2 log L``):

- ``"cash"``: ``cash(counts, background + norm * template)``;
  ``background`` holds everything fixed (background and other sources).
- ``"wstat"``: ``wstat(counts, counts_off, alpha, signal + norm * template)``,
  the background profiled at each norm; ``signal`` is the fixed signal of
  other sources.
- ``"chi2"``: ``((data - model - norm * template) / error)**2``.

All three are convex functions of ``norm`` (the W statistic is a profile of a
jointly convex Poisson likelihood), so a safeguarded Newton iteration with a
bracket that shrinks at every step finds the minimum and the crossings
``stat = stat_best + delta`` reliably, kinks included (e.g. a bin with no ON
and no OFF counts, whose W statistic has its minimum in a corner at 0).

Norm bounds
-----------
Norms may be negative (a deficit), as long as the total predicted counts
stay positive in every bin with counts > 0 (cash; the W statistic
profiles the background so it is finite for every norm).  Bins without
counts do not constrain the norm (their cash term is ``2 max(mu, 1e-25)``,
as in `gammalike.stats.cash`).  On top of this the caller may give
``norm_min`` / ``norm_max`` (default: unbounded); a minimum or crossing at a
bound is reported at the bound (crossings beyond it are NaN).

Results (`estimate_norm`)
-------------------------
``norm``, ``stat`` (at the best fit), ``stat_null`` (at norm = 0),
``ts = stat_null - stat``, ``sqrt_ts = sign(norm) sqrt(ts)``,
``norm_err = sqrt(2 / d2stat/dnorm2)`` (curvature at the best fit; where
there is none, a minimum in a kink, the mean distance to the 1-sigma crossings),
``norm_errn`` / ``norm_errp`` (distance to the crossings at
``stat_best + n_sigma**2`` below / above), ``norm_ul`` (crossing at
``stat_best + n_sigma_ul**2`` above the best fit), ``stat_scan`` over
``norm_scan``, ``success``, ``niter``.
"""
from dataclasses import dataclass, field

import numpy as np

from ..stats import TRUNCATION_VALUE, cash, chi2, wstat
from ..stats.fit_statistics import _wstat_profile

__all__ = [
    "NormTerm",
    "STAT_TYPES",
    "cash_term",
    "wstat_term",
    "chi2_term",
    "make_term",
    "norm_stat",
    "norm_stat_derivatives",
    "fit_norm",
    "norm_crossing",
    "norm_errors",
    "norm_ul",
    "norm_stat_scan",
    "estimate_norm",
]

STAT_TYPES = ("cash", "wstat", "chi2")

#: Iteration cap of the safeguarded Newton loops (bisection alone gains 1e-18 in 60 steps).
MAX_ITER = 100


@dataclass(frozen=True)
class NormTerm:
    """One statistic over bins, as a function of the norm (see the module doc).

    Build with `cash_term`, `wstat_term`, `chi2_term` or `make_term`.  Arrays
    are float64 of shape ``(n_problems, n_bins)``; ``mask`` is bool of the same
    shape (False bins contribute nothing).
    """

    stat_type: str
    arrays: dict = field(repr=False)
    mask: np.ndarray = field(repr=False)

    @property
    def n_problems(self):
        return self.mask.shape[0]

    @property
    def template(self):
        return self.arrays["template"]


def _prepare(mask, **arrays):
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays.values()),
                                np.shape(mask) if mask is not None else ())
    if len(shape) == 1:
        shape = (1,) + shape
    if len(shape) != 2:
        raise ValueError(f"norm kernel: arrays must have shape (n_problems, n_bins), got {shape}")
    out = {k: np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), shape))
           for k, v in arrays.items()}
    mask = np.ones(shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), shape)
    finite = np.ones(shape, bool)
    for value in out.values():
        finite &= np.isfinite(value)
    mask = mask & finite
    # NaN in masked-out bins would still poison sums through 0 * nan
    out = {k: np.where(mask, v, 0.0) for k, v in out.items()}
    return out, np.ascontiguousarray(mask)


def cash_term(counts, template, background=0.0, mask=None):
    """Cash term: counts with known fixed prediction ``background`` plus ``norm * template``.

    Parameters
    ----------
    counts : array_like, shape (n_problems, n_bins)
        Observed counts.
    template : array_like
        Predicted counts of the source at norm = 1 (>= 0).
    background : array_like
        Fixed predicted counts (background and other sources).
    mask : array_like of bool, optional
        Bins used (default all; non-finite inputs are masked too).
    """
    arrays, mask = _prepare(mask, counts=counts, template=template, background=background)
    return NormTerm("cash", arrays, mask)


def wstat_term(counts, template, counts_off, alpha, signal=0.0, mask=None):
    """W-statistic term: ON/OFF counts, background profiled at every norm.

    Parameters
    ----------
    counts, counts_off : array_like, shape (n_problems, n_bins)
        ON and OFF counts.
    template : array_like
        Predicted signal counts of the source at norm = 1 (>= 0).
    alpha : array_like
        ON/OFF exposure ratio.
    signal : array_like
        Fixed predicted signal counts of other sources.
    mask : array_like of bool, optional
        Bins used.
    """
    arrays, mask = _prepare(mask, counts=counts, template=template, counts_off=counts_off,
                            alpha=alpha, signal=signal)
    return NormTerm("wstat", arrays, mask)


def chi2_term(data, template, error, model=0.0, mask=None):
    """Chi2 term: ``((data - model - norm * template) / error)**2``.

    Parameters
    ----------
    data : array_like, shape (n_problems, n_bins)
        Measured values.
    template : array_like
        Prediction of the source at norm = 1.
    error : array_like
        Errors of the data (> 0; bins with error <= 0 are masked).
    model : array_like
        Fixed prediction of other sources.
    mask : array_like of bool, optional
        Bins used.
    """
    error = np.asarray(error, dtype=np.float64)
    good = error > 0
    mask = good if mask is None else np.asarray(mask, bool) & good
    arrays, mask = _prepare(mask, data=data, template=template, error=error, model=model)
    arrays["error"] = np.where(mask, arrays["error"], 1.0)
    return NormTerm("chi2", arrays, mask)


def make_term(stat_type, **arrays):
    """Term of the given ``stat_type`` ("cash", "wstat" or "chi2") from keyword arrays."""
    makers = {"cash": cash_term, "wstat": wstat_term, "chi2": chi2_term}
    if stat_type not in makers:
        raise ValueError(f"norm kernel: unknown stat_type {stat_type!r}, expected one of {STAT_TYPES}")
    return makers[stat_type](**arrays)


def _as_terms(terms):
    if isinstance(terms, NormTerm):
        terms = [terms]
    terms = list(terms)
    if not terms:
        raise ValueError("norm kernel: no terms given")
    n = {t.n_problems for t in terms}
    if len(n) != 1:
        raise ValueError(f"norm kernel: terms have different numbers of problems {sorted(n)}")
    return terms


# ----------------------------------------------------------------------------- statistic
def _expand(norm, arrays, mask):
    """Broadcast ``norm`` (n,) or (n, m) against bins: returns views of shape (n, [m,] bins)."""
    norm = np.asarray(norm, dtype=np.float64)
    if norm.ndim == 1:
        return norm[:, None], arrays, mask
    return norm[:, :, None], {k: v[:, None, :] for k, v in arrays.items()}, mask[:, None, :]


def _term_stat(term, norm):
    x, a, mask = _expand(norm, term.arrays, term.mask)
    if term.stat_type == "cash":
        stat = cash(a["counts"], a["background"] + x * a["template"])
    elif term.stat_type == "wstat":
        stat = wstat(a["counts"], a["counts_off"], a["alpha"], a["signal"] + x * a["template"])
    else:
        stat = chi2(a["data"], a["model"] + x * a["template"], a["error"])
    return np.sum(np.where(mask, stat, 0.0), axis=-1)


def norm_stat(norm, terms):
    """Total statistic of each problem at ``norm``.

    Parameters
    ----------
    norm : array_like, shape (n_problems,) or (n_problems, n_values)
        Norm values.
    terms : `NormTerm` or list of `NormTerm`
        The problems.

    Returns
    -------
    stat : `~numpy.ndarray`, shape of ``norm``
    """
    terms = _as_terms(terms)
    norm = np.asarray(norm, dtype=np.float64)
    return sum(_term_stat(t, norm) for t in terms)


def _wstat_derivatives(n_on, n_off, alpha, mu_sig):
    """First and second derivatives of the profiled W statistic per bin w.r.t. ``mu_sig``.

    Envelope theorem: ``dW/dmu_sig = 2 (1 - n_on / mu_on)`` at the profiled
    background; ``d2W = 2 n_on / mu_on**2 * dmu_on/dmu_sig`` with the implicit
    derivative of the profile quadratic.  On the ``mu_on = 0`` boundary
    (``n_on = 0``) the statistic is ``cstat(n_off, -mu_sig / alpha)``.
    """
    mu_on, mu_off = _wstat_profile(n_on, n_off, alpha, mu_sig)
    with np.errstate(divide="ignore", invalid="ignore"):
        one_alpha = 1 + alpha
        p_coef = one_alpha * mu_sig + alpha * (n_on + n_off)
        denom = 2 * one_alpha * mu_on - p_coef
        dmu_on = np.where(denom > 0, (one_alpha * mu_on - alpha * n_on) / denom, 1.0)
        mu_on_safe = np.maximum(mu_on, TRUNCATION_VALUE)
        d1 = 2 * (1 - n_on / mu_on_safe)
        d2 = 2 * n_on / mu_on_safe ** 2 * dmu_on
        # n_on = 0: W = 2 mu_sig + const, or on the boundary cstat(n_off, -mu_sig / alpha)
        boundary = (n_on == 0) & (mu_on <= 0) & (alpha > 0)
        mu_off_safe = np.maximum(mu_off, TRUNCATION_VALUE)
        d1_b = -(2 / alpha) * (1 - n_off / mu_off_safe)
        d2_b = 2 * n_off / (alpha ** 2 * mu_off_safe ** 2)
        zero_on = n_on == 0
        d1 = np.where(zero_on, np.where(boundary, d1_b, 2.0), d1)
        d2 = np.where(zero_on, np.where(boundary, d2_b, 0.0), d2)
    return d1, d2


def _term_derivatives(term, norm):
    x, a, mask = _expand(norm, term.arrays, term.mask)
    s = a["template"]
    if term.stat_type == "cash":
        n = a["counts"]
        mu = a["background"] + x * s
        inside = mu > TRUNCATION_VALUE
        with np.errstate(divide="ignore", invalid="ignore"):
            mu_safe = np.where(inside, mu, 1.0)
            d1 = np.where(inside, 2 * s * (1 - n / mu_safe), 0.0)
            d2 = np.where(inside, 2 * n * s ** 2 / mu_safe ** 2, 0.0)
    elif term.stat_type == "wstat":
        w1, w2 = _wstat_derivatives(a["counts"], a["counts_off"], a["alpha"], a["signal"] + x * s)
        d1, d2 = s * w1, s ** 2 * w2
    else:
        err2 = a["error"] ** 2
        d1 = -2 * s * (a["data"] - a["model"] - x * s) / err2
        d2 = 2 * s ** 2 / err2 * np.ones_like(x)
    d1 = np.sum(np.where(mask, d1, 0.0), axis=-1)
    d2 = np.sum(np.where(mask, d2, 0.0), axis=-1)
    return d1, d2


def norm_stat_derivatives(norm, terms):
    """First and second derivatives of the total statistic with respect to the norm.

    Returns
    -------
    d1, d2 : `~numpy.ndarray`, shape of ``norm``
    """
    terms = _as_terms(terms)
    d1 = d2 = 0.0
    for term in terms:
        t1, t2 = _term_derivatives(term, norm)
        d1, d2 = d1 + t1, d2 + t2
    return d1, d2


def _domain_min(terms):
    """Smallest norm keeping the predicted counts > 0 in cash bins with counts (-inf if none)."""
    lo = None
    for term in terms:
        if term.stat_type != "cash":
            continue
        a = term.arrays
        active = term.mask & (a["counts"] > 0) & (a["template"] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(active, -a["background"] / np.where(active, a["template"], 1.0), -np.inf)
        bound = bound.max(axis=-1) if bound.shape[-1] else np.full(bound.shape[0], -np.inf)
        lo = bound if lo is None else np.maximum(lo, bound)
    n = terms[0].n_problems
    return np.full(n, -np.inf) if lo is None else lo


def _initial_norm(terms):
    """Closed-form guess: excess over summed template (cash, wstat); chi2 is exact."""
    num = 0.0
    den = 0.0
    for term in terms:
        a, m = term.arrays, term.mask
        s = a["template"]
        if term.stat_type == "cash":
            num = num + np.sum(np.where(m, a["counts"] - a["background"], 0), axis=-1)
            den = den + np.sum(np.where(m, s, 0), axis=-1)
        elif term.stat_type == "wstat":
            excess = a["counts"] - a["alpha"] * a["counts_off"] - a["signal"]
            num = num + np.sum(np.where(m, excess, 0), axis=-1)
            den = den + np.sum(np.where(m, s, 0), axis=-1)
        else:
            w = 1 / a["error"] ** 2
            # scaled so that chi2 terms weigh like counts terms in the sum
            num = num + np.sum(np.where(m, s * (a["data"] - a["model"]) * w, 0), axis=-1)
            den = den + np.sum(np.where(m, s * s * w, 0), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        guess = num / den
    n = terms[0].n_problems
    return np.where(np.isfinite(guess), guess, 1.0) * np.ones(n)


def _bounds(terms, norm_min, norm_max):
    n = terms[0].n_problems
    lo = np.maximum(np.broadcast_to(np.asarray(norm_min, float), (n,)), _domain_min(terms))
    hi = np.broadcast_to(np.asarray(norm_max, float), (n,)).copy()
    return lo, hi


def _finish_step(x_new, lo, hi, x, step, direction):
    """Keep Newton steps inside the bracket (lo, hi); else bisect, or walk outwards.

    ``direction`` (+1 / -1) says on which side of ``x`` the solution lies; on a
    side where the bracket is still open the walk grows by ``step``.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        inside = np.isfinite(x_new) & (x_new > lo) & (x_new < hi)
        open_side = np.where(direction > 0, ~np.isfinite(hi), ~np.isfinite(lo))
        walk = x + direction * step
        fallback = np.where(open_side, walk, 0.5 * (lo + hi))
    return np.where(inside, x_new, fallback)


def fit_norm(terms, norm_min=-np.inf, norm_max=np.inf, norm_start=None, rtol=1e-10, max_iter=MAX_ITER):
    """Best-fit norm of each problem by safeguarded Newton iterations.

    Parameters
    ----------
    terms : `NormTerm` or list of `NormTerm`
        The problems.
    norm_min, norm_max : float or array_like
        Bounds (in addition to the data domain, see the module doc).
    norm_start : array_like, optional
        Starting values (default: the excess / template guess).
    rtol : float
        Convergence: Newton decrement ``d1**2 / d2`` below ``rtol`` (stat units,
        i.e. the statistic is within ``rtol`` of its minimum), or the bracket
        narrower than ``rtol`` times ``1 + |norm|``.
    max_iter : int
        Iteration cap.

    Returns
    -------
    result : dict
        ``norm``, ``stat``, ``success`` (converged), ``niter``.
    """
    terms = _as_terms(terms)
    lo, hi = _bounds(terms, norm_min, norm_max)
    x = _initial_norm(terms) if norm_start is None else np.array(norm_start, float) * np.ones(lo.shape)
    # start strictly inside the bounds
    width = np.where(np.isfinite(hi - lo), hi - lo, np.inf)
    with np.errstate(invalid="ignore"):
        inner_lo = np.where(np.isfinite(lo), lo + 1e-3 * np.minimum(width, np.abs(lo) + 1), -np.inf)
        inner_hi = np.where(np.isfinite(hi), hi - 1e-3 * np.minimum(width, np.abs(hi) + 1), np.inf)
    x = np.minimum(np.maximum(x, inner_lo), inner_hi)
    lo_b, hi_b = lo.copy(), hi.copy()
    active = np.isfinite(x)
    success = np.zeros(x.shape, bool)
    niter = np.zeros(x.shape, int)
    step = np.maximum(np.abs(x), 1.0)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sub = _subset(terms, idx)
        xi = x[idx]
        d1, d2 = norm_stat_derivatives(xi, sub)
        niter[idx] += 1
        # bracket update from the slope sign (convex statistic)
        lo_i = np.where(d1 < 0, xi, lo_b[idx])
        hi_i = np.where(d1 > 0, xi, hi_b[idx])
        lo_b[idx], hi_b[idx] = lo_i, hi_i
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            decrement = np.where(d2 > 0, d1 ** 2 / d2, np.inf)
            newton = xi - d1 / d2
            small_bracket = (hi_i - lo_i) <= rtol * (1 + np.abs(xi))
        by_newton = (decrement < rtol) & (newton >= lo_i) & (newton <= hi_i)
        done = (d1 == 0) | by_newton | small_bracket
        # at a closed bound with the slope pointing outwards: the minimum is the bound
        done |= ((xi <= lo[idx]) & (d1 >= 0)) | ((xi >= hi[idx]) & (d1 <= 0))
        success[idx[done]] = True
        x_new = _finish_step(newton, lo_i, hi_i, xi, step[idx], -np.sign(d1))
        x_new = np.minimum(np.maximum(x_new, lo[idx]), hi[idx])
        step[idx] *= 2
        # converged by Newton: its last step is nearly free and squares the error
        x[idx] = np.where(by_newton & (d1 != 0), newton, np.where(done, xi, x_new))
        active[idx[done]] = False
    # a minimum in a kink (no curvature) ends on a tiny bracket: take its best point
    stat = norm_stat(x, terms)
    for candidate in (lo_b, hi_b):
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(candidate) & (np.abs(candidate - x) <= 1e-6 * (1 + np.abs(x)))
        if ok.any():
            stat_c = norm_stat(np.where(ok, candidate, x), terms)
            better = ok & (stat_c < stat)
            x = np.where(better, candidate, x)
            stat = np.where(better, stat_c, stat)
    return {"norm": x, "stat": stat, "success": success, "niter": niter}


def _pick(value, idx):
    value = np.asarray(value, float)
    return value[idx] if value.ndim else value


def _subset(terms, idx):
    if all(idx.size == t.n_problems for t in terms):
        return terms
    return [NormTerm(t.stat_type, {k: v[idx] for k, v in t.arrays.items()}, t.mask[idx]) for t in terms]


def norm_crossing(terms, norm, stat_best, delta, side, norm_min=-np.inf, norm_max=np.inf,
                  norm_err=None, rtol=1e-8, max_iter=MAX_ITER):
    """Norm where the statistic reaches ``stat_best + delta`` below or above ``norm``.

    Parameters
    ----------
    terms : `NormTerm` or list of `NormTerm`
        The problems.
    norm, stat_best : array_like, shape (n_problems,)
        Best-fit norms and statistics.
    delta : float
        Rise of the statistic (``n_sigma**2``).
    side : {"lower", "upper"}
        Which crossing.
    norm_min, norm_max : float or array_like
        Bounds: NaN where the statistic does not reach the level within them.
    norm_err : array_like, optional
        Symmetric errors (first guess ``norm -/+ sqrt(delta) * norm_err``).
    rtol : float
        Tolerance on the statistic (``|stat - level| < rtol * max(delta, 1)``).

    Returns
    -------
    crossing : `~numpy.ndarray`, shape (n_problems,)
    """
    terms = _as_terms(terms)
    sign = 1.0 if side == "upper" else -1.0
    if side not in ("lower", "upper"):
        raise ValueError(f"norm_crossing: side must be 'lower' or 'upper', got {side!r}")
    norm = np.asarray(norm, float)
    level = np.asarray(stat_best, float) + delta
    lo_bound, hi_bound = _bounds(terms, norm_min, norm_max)
    if norm_err is None:
        _, d2 = norm_stat_derivatives(norm, terms)
        with np.errstate(divide="ignore", invalid="ignore"):
            norm_err = np.sqrt(2 / d2)
    norm_err = np.asarray(norm_err, float)
    scale = np.where(np.isfinite(norm_err) & (norm_err > 0), norm_err, np.maximum(np.abs(norm), 1.0))
    # bracket [a, b] along the search direction: g(a) < 0 at the best fit
    if sign > 0:
        lo_b, hi_b, bound = norm.copy(), hi_bound.copy(), hi_bound
    else:
        lo_b, hi_b, bound = lo_bound.copy(), norm.copy(), lo_bound
    x = norm + sign * np.sqrt(delta) * scale
    x = np.where(sign * (x - bound) >= 0, 0.5 * (norm + bound), x) if np.any(np.isfinite(bound)) else x
    x = np.where(np.isfinite(x), x, norm + sign * scale)
    # a best fit on the bound of the search side has no crossing within the bounds
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(norm) & np.isfinite(level) & (sign * (bound - norm) > 0)
    active = valid.copy()
    result = np.full(norm.shape, np.nan)
    step_scale = scale * 2
    tol = rtol * max(delta, 1.0)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sub = _subset(terms, idx)
        xi = x[idx]
        g = norm_stat(xi, sub) - level[idx]
        d1, _ = norm_stat_derivatives(xi, sub)
        # g is convex with g(norm) < 0: on the search side it is monotonic
        beyond = g > 0
        if sign > 0:
            hi_b[idx] = np.where(beyond, xi, hi_b[idx])
            lo_b[idx] = np.where(beyond, lo_b[idx], xi)
        else:
            lo_b[idx] = np.where(beyond, xi, lo_b[idx])
            hi_b[idx] = np.where(beyond, hi_b[idx], xi)
        lo_i, hi_i = lo_b[idx], hi_b[idx]
        converged = (np.abs(g) < tol) | ((hi_i - lo_i) <= 1e-12 * (1 + np.abs(xi)))
        # reached the bound without crossing
        at_bound = (~beyond) & (xi == bound[idx])
        result[idx[converged]] = xi[converged]
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.where(sign * d1 > 0, xi - g / d1, np.nan)
        direction = np.where(beyond, -sign, sign)
        x_new = _finish_step(newton, lo_i, hi_i, xi, step_scale[idx], direction)
        x_new = np.minimum(np.maximum(x_new, lo_bound[idx]), hi_bound[idx])
        step_scale[idx] *= 2
        x[idx] = x_new
        active[idx[converged | at_bound]] = False
    return result


def norm_errors(terms, norm, stat_best, n_sigma=1, norm_min=-np.inf, norm_max=np.inf, norm_err=None):
    """Asymmetric errors ``(errn, errp)``: distances to the ``n_sigma**2`` crossings (>= 0)."""
    delta = float(n_sigma) ** 2
    lower = norm_crossing(terms, norm, stat_best, delta, "lower", norm_min, norm_max, norm_err)
    upper = norm_crossing(terms, norm, stat_best, delta, "upper", norm_min, norm_max, norm_err)
    return np.asarray(norm) - lower, upper - np.asarray(norm)


def norm_ul(terms, norm, stat_best, n_sigma_ul=2, norm_min=-np.inf, norm_max=np.inf, norm_err=None):
    """Upper limit: crossing at ``stat_best + n_sigma_ul**2`` above the best fit."""
    return norm_crossing(terms, norm, stat_best, float(n_sigma_ul) ** 2, "upper", norm_min,
                         norm_max, norm_err)


def norm_stat_scan(terms, norm_values):
    """Statistic on a norm grid.

    Parameters
    ----------
    terms : `NormTerm` or list of `NormTerm`
        The problems.
    norm_values : array_like, shape (n_values,) or (n_problems, n_values)
        Grid (shared or per problem).

    Returns
    -------
    norm_scan, stat_scan : `~numpy.ndarray`, shape (n_problems, n_values)
    """
    terms = _as_terms(terms)
    n = terms[0].n_problems
    values = np.asarray(norm_values, float)
    if values.ndim == 1:
        values = np.broadcast_to(values, (n, values.size))
    return np.array(values), norm_stat(values, terms)


_OPTIONAL = ("errn-errp", "ul", "scan")


def _selection(selection_optional):
    if selection_optional is None:
        return set()
    if selection_optional == "all":
        return set(_OPTIONAL)
    if isinstance(selection_optional, str):
        selection_optional = [selection_optional]
    unknown = set(selection_optional) - set(_OPTIONAL)
    if unknown:
        raise ValueError(
            f"norm kernel: unknown selection_optional {sorted(unknown)}, expected 'all' or a "
            f"subset of {list(_OPTIONAL)}"
        )
    return set(selection_optional)


def estimate_norm(terms, n_sigma=1, n_sigma_ul=2, selection_optional=None, norm_min=-np.inf,
                  norm_max=np.inf, norm_values=None, norm_start=None):
    """Everything about the norm of each problem, as a dict of arrays.

    Parameters
    ----------
    terms : `NormTerm` or list of `NormTerm`
        The problems (``n_problems`` each).
    n_sigma : float
        Width of the asymmetric errors (``stat_best + n_sigma**2``).
    n_sigma_ul : float
        Upper-limit level (``stat_best + n_sigma_ul**2``).
    selection_optional : None, "all" or list of {"errn-errp", "ul", "scan"}
        Optional results.
    norm_min, norm_max : float or array_like
        Bounds of the fit and of the crossings.
    norm_values : array_like, optional
        Scan grid (needed for "scan"; shape (n_values,) or (n_problems, n_values)).
    norm_start : array_like, optional
        Starting norms.

    Returns
    -------
    result : dict of `~numpy.ndarray`
        Always ``norm``, ``norm_err``, ``stat``, ``stat_null``, ``ts``,
        ``sqrt_ts``, ``success``, ``niter``; ``norm_errn``/``norm_errp``,
        ``norm_ul``, ``norm_scan``/``stat_scan`` when selected.
    """
    terms = _as_terms(terms)
    selection = _selection(selection_optional)
    fit = fit_norm(terms, norm_min=norm_min, norm_max=norm_max, norm_start=norm_start)
    norm, stat = fit["norm"], fit["stat"]
    _, d2 = norm_stat_derivatives(norm, terms)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm_err = np.where(d2 > 0, np.sqrt(2 / d2), np.nan)
    # no curvature (a minimum in a kink, e.g. empty ON/OFF bins): the mean
    # distance to the 1-sigma crossings instead
    flat = np.isfinite(norm) & ~np.isfinite(norm_err)
    if flat.any():
        idx = np.flatnonzero(flat)
        sub = _subset(terms, idx)
        errn, errp = norm_errors(sub, norm[idx], stat[idx], 1.0, _pick(norm_min, idx),
                                 _pick(norm_max, idx), np.full(idx.size, np.nan))
        norm_err[idx] = 0.5 * (errn + errp)
    stat_null = norm_stat(np.zeros_like(norm), terms)
    ts = stat_null - stat
    with np.errstate(invalid="ignore"):
        sqrt_ts = np.where(norm < 0, -1.0, 1.0) * np.sqrt(np.clip(ts, 0, None))
    result = {
        "norm": norm, "norm_err": norm_err, "stat": stat, "stat_null": stat_null, "ts": ts,
        "sqrt_ts": sqrt_ts, "success": fit["success"], "niter": fit["niter"],
    }
    if "errn-errp" in selection:
        errn, errp = norm_errors(terms, norm, stat, n_sigma, norm_min, norm_max, norm_err)
        result["norm_errn"], result["norm_errp"] = errn, errp
    if "ul" in selection:
        result["norm_ul"] = norm_ul(terms, norm, stat, n_sigma_ul, norm_min, norm_max, norm_err)
    if "scan" in selection:
        if norm_values is None:
            raise ValueError("estimate_norm: 'scan' selected but no norm_values given")
        result["norm_scan"], result["stat_scan"] = norm_stat_scan(terms, norm_values)
    return result
