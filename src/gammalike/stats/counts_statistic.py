"""Significance, errors and upper limits of a counts excess.

`CashCountsStatistic` (known background) and `WStatCountsStatistic`
(background measured in an OFF region) answer the questions asked of a
counts excess: how large is it (``n_sig``), how significant (``ts``,
``sqrt_ts``, ``p_value``), what are its likelihood errors (``compute_errn``,
``compute_errp``), its upper limit (``compute_upper_limit``), and how large
must an excess be to reach a given significance
(``n_sig_matching_significance``).  Everything is vectorized over arrays of
counts (one value per pixel of a map, say); scalar inputs give numpy scalars.

All results come from the profile of the fit statistic as a function of the
excess ``x`` over the null hypothesis: ``stat(x)`` is convex with its
minimum ``stat_max`` at ``x = n_sig`` and the errors are where it crosses
``stat_max + n_sigma**2``.  The crossings are found by a vectorized
bracket-and-regula-falsi search, with no Python loop over elements.
"""
import numpy as np
from scipy.stats import chi2 as chi2_distribution

from .fit_statistics import cash, cstat, wstat

__all__ = ["CashCountsStatistic", "WStatCountsStatistic"]

# Bracket expansion doubles the step at most this often (a factor 2**_N_EXPAND).
_N_EXPAND = 200
# Maximum number of refinement steps inside a bracket.
_N_REFINE = 100


def _out(value):
    """0-d arrays become numpy scalars, other arrays pass through."""
    return np.asarray(value)[()]


def _find_crossing(fcn, x_start, step, x_limit=None, f_scale=1.0):
    """Vectorized search for the zero of ``fcn`` along one direction.

    ``fcn(x_start) < 0`` and ``fcn`` increases monotonically as ``x`` moves
    from ``x_start`` in the direction of ``step`` (sign of ``step``).  The
    bracket ``[x_start, x_start + k * step]`` is doubled until ``fcn`` is
    >= 0 at its far end, then refined by `_refine`.

    Parameters
    ----------
    fcn : callable
        Vectorized function of an array shaped like ``x_start``.
    x_start : `~numpy.ndarray`
        Start points (``fcn < 0`` there).
    step : `~numpy.ndarray`
        Initial step, non-zero, its sign sets the direction.
    x_limit : `~numpy.ndarray`, optional
        Domain boundary in the search direction: a search that reaches it
        without a crossing returns ``x_limit``.
    f_scale : float or `~numpy.ndarray`
        Magnitude of the terms whose difference ``fcn`` is: values of ``fcn``
        below ``f_scale`` times a few machine epsilons count as zero.

    Returns
    -------
    x : `~numpy.ndarray`
        Crossing points (NaN where none was found).
    """
    x_start = np.asarray(x_start, dtype=np.float64)
    step = np.broadcast_to(np.asarray(step, dtype=np.float64), x_start.shape).copy()
    direction = np.sign(step)
    if x_limit is not None:
        x_limit = np.broadcast_to(np.asarray(x_limit, dtype=np.float64), x_start.shape)

    def far_end(s):
        x = x_start + s
        if x_limit is not None:
            x = np.where(direction * (x - x_limit) > 0, x_limit, x)
        return x

    x_far = far_end(step)
    at_limit = np.zeros(x_start.shape, dtype=bool)
    for _ in range(_N_EXPAND):
        below = fcn(x_far) < 0
        if x_limit is not None:
            at_limit = below & (x_far == x_limit)
            below &= ~at_limit
        if not below.any():
            break
        step = np.where(below, 2 * step, step)
        x_far = np.where(below, far_end(step), x_far)
    else:
        below = fcn(x_far) < 0
        x_far = np.where(below & ~at_limit, np.nan, x_far)

    return _refine(fcn, x_start, x_far, at_limit, x_limit, f_scale)


def _refine(fcn, x_lo, x_hi, at_limit, x_limit, f_scale):
    """Regula falsi with the Illinois modification on brackets [x_lo, x_hi].

    ``fcn(x_lo) < 0 <= fcn(x_hi)``.  Superlinear for the smooth convex
    profiles used here (~10 evaluations instead of ~60 for bisection); a
    step that would leave the bracket falls back to bisection.
    """
    f_lo = fcn(x_lo)
    f_hi = fcn(x_hi)
    x = 0.5 * (x_lo + x_hi)
    result = np.full(x_lo.shape, np.nan)
    converged = np.zeros(x_lo.shape, dtype=bool)
    side = np.zeros(x_lo.shape, dtype=np.int8)
    # floating-point noise level of fcn: values are differences of statistics
    f_noise = 64 * np.finfo(np.float64).eps * np.abs(f_scale)
    for _ in range(_N_REFINE):
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (x_lo * f_hi - x_hi * f_lo) / (f_hi - f_lo)
        inside = (x > np.minimum(x_lo, x_hi)) & (x < np.maximum(x_lo, x_hi))
        x = np.where(inside, x, 0.5 * (x_lo + x_hi))
        f_x = fcn(x)
        positive = f_x >= 0
        # Illinois: halve the stale end's value when the same end moves twice
        f_lo = np.where(~positive, f_x, np.where(side == 1, 0.5 * f_lo, f_lo))
        f_hi = np.where(positive, f_x, np.where(side == -1, 0.5 * f_hi, f_hi))
        x_lo = np.where(positive, x_lo, x)
        x_hi = np.where(positive, x, x_hi)
        side = np.where(positive, 1, -1).astype(np.int8)
        done = (
            (np.abs(x_hi - x_lo) <= 1e-13 * (1 + np.abs(x)))
            | (np.abs(f_x) <= f_noise)
            | ~np.isfinite(x)
            | at_limit
        )
        # an element keeps the first value that met the tolerance
        result = np.where(done & ~converged, x, result)
        converged |= done
        if converged.all():
            break
    result = np.where(converged, result, x)
    return np.where(at_limit, x_limit, result) if x_limit is not None else result


class CountsStatistic:
    """Base class: everything derived from the profile ``_stat_fcn``.

    Subclasses define ``n_on``, ``n_bkg``, ``n_sig``, ``error``,
    ``_stat_fcn(excess)``, ``_excess_min`` (lowest allowed excess or -inf) and
    ``_sqrt_ts_at(excess)`` (signed significance of data with that excess).
    """

    @property
    def excess(self):
        """Excess counts (alias of ``n_sig``)."""
        return self.n_sig

    @property
    def stat_null(self):
        """Statistic under the null hypothesis (no excess)."""
        return _out(self._stat_fcn(np.zeros(self._shape)))

    @property
    def stat_max(self):
        """Statistic at the best-fit excess ``n_sig`` (its minimum)."""
        return _out(self._stat_fcn(np.asarray(self.n_sig, dtype=np.float64)))

    @property
    def ts(self):
        """Test statistic ``stat_null - stat_max`` (>= 0)."""
        return _out(np.maximum(self.stat_null - self.stat_max, 0))

    @property
    def sqrt_ts(self):
        """Signed significance ``sign(n_sig) * sqrt(ts)``."""
        return _out(np.sign(self.n_sig) * np.sqrt(self.ts))

    @property
    def p_value(self):
        """Two-sided p-value of ``ts`` for one degree of freedom, ``chi2.sf(ts, 1)``."""
        return _out(chi2_distribution.sf(self.ts, 1))

    def _target(self, n_sigma):
        return self.stat_max + np.asarray(n_sigma, dtype=np.float64) ** 2

    def _initial_step(self, n_sigma):
        error = np.asarray(self.error, dtype=np.float64)
        # n_sigma * error is right for large counts; n_sigma**2 / 2 is the
        # distance for zero counts (stat = 2 * mu): start from the larger.
        return np.maximum(np.maximum(n_sigma * error, 0.5 * n_sigma**2), 1e-3)

    def _compute_bound(self, n_sigma, direction):
        n_sigma = np.asarray(n_sigma, dtype=np.float64)
        shape = np.broadcast_shapes(self._shape, n_sigma.shape)
        n_sig = np.broadcast_to(np.asarray(self.n_sig, dtype=np.float64), shape)
        target = np.broadcast_to(self._target(n_sigma), shape)

        def fcn(x):
            return self._stat_fcn(x) - target

        x_limit = None if direction > 0 else np.broadcast_to(self._excess_min, shape)
        x = _find_crossing(
            fcn,
            n_sig,
            direction * self._initial_step(n_sigma),
            x_limit,
            f_scale=1 + np.abs(target),
        )
        # n_sigma = 0 is the best fit itself
        return np.where(n_sigma == 0, n_sig, x)

    def compute_errn(self, n_sigma=1.0):
        """Negative error on the excess, from the likelihood profile.

        Returns ``x - n_sig`` (a negative number) with ``x < n_sig`` the excess
        where ``stat = stat_max + n_sigma**2``.  If the statistic stays below
        that level down to the lowest allowed excess, the distance to that
        boundary is returned.

        Parameters
        ----------
        n_sigma : float or array_like
            Confidence level in Gaussian sigmas.
        """
        return _out(self._compute_bound(n_sigma, -1) - self.n_sig)

    def compute_errp(self, n_sigma=1.0):
        """Positive error on the excess, from the likelihood profile.

        Returns ``x - n_sig`` (>= 0) with ``x > n_sig`` the excess where
        ``stat = stat_max + n_sigma**2``.

        Parameters
        ----------
        n_sigma : float or array_like
            Confidence level in Gaussian sigmas.
        """
        return _out(self._compute_bound(n_sigma, +1) - self.n_sig)

    def compute_upper_limit(self, n_sigma=3.0):
        """Upper limit on the excess: ``n_sig + compute_errp(n_sigma)``.

        The excess above the best fit where ``stat = stat_max + n_sigma**2``.

        Parameters
        ----------
        n_sigma : float or array_like
            Confidence level in Gaussian sigmas.
        """
        return _out(self._compute_bound(n_sigma, +1))

    def compute_lower_limit(self, n_sigma=3.0):
        """Lower limit on the excess: ``n_sig + compute_errn(n_sigma)``.

        Parameters
        ----------
        n_sigma : float or array_like
            Confidence level in Gaussian sigmas.
        """
        return _out(self._compute_bound(n_sigma, -1))

    def n_sig_matching_significance(self, significance):
        """Excess needed to reach a given signed significance.

        Keeps the background (and for ON/OFF, ``n_off``, ``alpha``,
        ``mu_sig``) fixed and finds the excess ``x``, i.e. ON counts
        ``n_bkg + x`` (plus ``mu_sig``), for which ``sqrt_ts == significance``.
        NaN where it cannot be reached (a negative significance beyond what
        zero ON counts give).

        Parameters
        ----------
        significance : float or array_like
            Target ``sqrt_ts``.
        """
        significance = np.asarray(significance, dtype=np.float64)
        shape = np.broadcast_shapes(self._shape, significance.shape)
        significance = np.broadcast_to(significance, shape)
        sign = np.where(significance >= 0, 1.0, -1.0)
        excess_min = np.broadcast_to(self._excess_min_on, shape)

        def fcn(x):
            return sign * (self._sqrt_ts_at(x) - significance)

        step = sign * np.maximum(np.abs(significance) * np.sqrt(np.maximum(self.n_bkg, 1)), 1e-3)
        x_limit = np.where(sign < 0, excess_min, np.inf)
        x = _find_crossing(fcn, np.zeros(shape), step, x_limit, f_scale=1 + np.abs(significance))
        reached = np.abs(self._sqrt_ts_at(x) - significance) < 1e-6 * (1 + np.abs(significance))
        x = np.where(significance == 0, 0.0, np.where(reached, x, np.nan))
        return _out(x)

    def info_dict(self):
        """Summary as a dict of plain floats (or arrays)."""
        return {
            "n_on": _out(self.n_on),
            "background": _out(self.n_bkg),
            "excess": _out(self.n_sig),
            "significance": self.sqrt_ts,
            "p_value": self.p_value,
        }

    def __str__(self):
        info = self.info_dict()
        lines = [self.__class__.__name__]
        for key, value in info.items():
            if np.ndim(value) == 0:
                lines.append(f"\t{key:<28}: {float(value):.4g}")
            else:
                lines.append(f"\t{key:<28}: array of shape {np.shape(value)}")
        return "\n".join(lines)

    def __repr__(self):
        return f"{self.__class__.__name__}(shape={self._shape})"


class CashCountsStatistic(CountsStatistic):
    """Counts statistic for Poisson data with a known background (Cash).

    ``stat(x) = cash(n_on, mu_bkg + x)``; the best-fit excess is
    ``n_sig = n_on - mu_bkg`` and

    .. math:: TS = 2 \\big(n_{on} \\log(n_{on} / \\mu_{bkg}) - (n_{on} - \\mu_{bkg})\\big)

    (Li & Ma 1983, eq. 17 with a known background).  The excess cannot go
    below ``-mu_bkg`` (zero predicted counts).

    Parameters
    ----------
    n_on : array_like
        Observed counts.
    mu_bkg : array_like
        Known background counts.
    """

    def __init__(self, n_on, mu_bkg):
        n_on, mu_bkg = np.broadcast_arrays(
            np.asarray(n_on, dtype=np.float64), np.asarray(mu_bkg, dtype=np.float64)
        )
        self._n_on = n_on
        self._mu_bkg = mu_bkg
        self._shape = n_on.shape

    @property
    def n_on(self):
        """Observed counts."""
        return _out(self._n_on)

    @property
    def mu_bkg(self):
        """Known background counts."""
        return _out(self._mu_bkg)

    @property
    def n_bkg(self):
        """Background counts (``mu_bkg``)."""
        return _out(self._mu_bkg)

    @property
    def n_sig(self):
        """Excess ``n_on - mu_bkg``."""
        return _out(self._n_on - self._mu_bkg)

    @property
    def error(self):
        """Symmetric error on the excess, ``sqrt(n_on)`` (likelihood curvature)."""
        return _out(np.sqrt(self._n_on))

    @property
    def _excess_min(self):
        return -self._mu_bkg

    @property
    def _excess_min_on(self):
        # n_sig_matching_significance: fewest ON counts is zero
        return -self._mu_bkg

    def _stat_fcn(self, excess):
        return cash(self._n_on, self._mu_bkg + excess)

    @property
    def ts(self):
        """Test statistic ``stat_null - stat_max`` (>= 0).

        Computed as ``cstat(n_on, mu_bkg)``, the same difference written
        without the cancellation of two large ``cash`` values.
        """
        return _out(cstat(self._n_on, self._mu_bkg))

    def _sqrt_ts_at(self, excess):
        n_on = np.maximum(self._mu_bkg + excess, 0)
        return np.sign(excess) * np.sqrt(cstat(n_on, self._mu_bkg))

    def sum(self, axis=None):
        """Statistic of the summed counts and background along ``axis``."""
        return CashCountsStatistic(self._n_on.sum(axis=axis), self._mu_bkg.sum(axis=axis))

    def __getitem__(self, key):
        return CashCountsStatistic(self._n_on[key], self._mu_bkg[key])

    def info_dict(self):
        info = super().info_dict()
        info["mu_bkg"] = self.mu_bkg
        return info


class WStatCountsStatistic(CountsStatistic):
    """Counts statistic for ON/OFF measurements (W statistic).

    The background is measured by ``n_off`` counts in a region with ``1 /
    alpha`` times the ON exposure; its mean is profiled
    (see `~gammalike.stats.wstat`).  ``stat(x) = wstat(n_on, n_off, alpha,
    mu_sig + x)``; the best-fit excess is
    ``n_sig = n_on - alpha * n_off - mu_sig`` and for ``mu_sig = 0``
    ``sqrt_ts`` is the Li & Ma (1983) eq. 17 significance with the sign of
    the excess.

    Parameters
    ----------
    n_on : array_like
        Counts in the ON region.
    n_off : array_like
        Counts in the OFF region.
    alpha : array_like
        Exposure ratio ON / OFF.
    mu_sig : array_like, optional
        Signal counts expected under the null hypothesis (default 0), e.g. a
        known source when testing for an additional one.
    """

    def __init__(self, n_on, n_off, alpha, mu_sig=None):
        if mu_sig is None:
            mu_sig = 0.0
        arrays = np.broadcast_arrays(
            *(np.asarray(a, dtype=np.float64) for a in (n_on, n_off, alpha, mu_sig))
        )
        self._n_on, self._n_off, self._alpha, self._mu_sig = arrays
        self._shape = self._n_on.shape

    @property
    def n_on(self):
        """Counts in the ON region."""
        return _out(self._n_on)

    @property
    def n_off(self):
        """Counts in the OFF region."""
        return _out(self._n_off)

    @property
    def alpha(self):
        """Exposure ratio ON / OFF."""
        return _out(self._alpha)

    @property
    def mu_sig(self):
        """Signal counts of the null hypothesis."""
        return _out(self._mu_sig)

    @property
    def n_bkg(self):
        """Background estimate in the ON region, ``alpha * n_off``."""
        return _out(self._alpha * self._n_off)

    @property
    def n_sig(self):
        """Excess ``n_on - alpha * n_off - mu_sig``."""
        return _out(self._n_on - self._alpha * self._n_off - self._mu_sig)

    @property
    def error(self):
        """Symmetric error on the excess, ``sqrt(n_on + alpha**2 * n_off)``."""
        return _out(np.sqrt(self._n_on + self._alpha**2 * self._n_off))

    @property
    def _excess_min(self):
        # The profiled W statistic grows without bound for a very negative
        # signal (the background must then make up for it), so no boundary.
        return np.full(self._shape, -np.inf)

    @property
    def _excess_min_on(self):
        # n_sig_matching_significance: fewest ON counts is zero
        return -self._alpha * self._n_off - self._mu_sig

    def _stat_fcn(self, excess):
        return wstat(self._n_on, self._n_off, self._alpha, self._mu_sig + excess)

    def _sqrt_ts_at(self, excess):
        n_on = np.maximum(self._alpha * self._n_off + self._mu_sig + excess, 0)
        stat_null = wstat(n_on, self._n_off, self._alpha, self._mu_sig)
        stat_max = wstat(n_on, self._n_off, self._alpha, n_on - self._alpha * self._n_off)
        return np.sign(excess) * np.sqrt(np.maximum(stat_null - stat_max, 0))

    def sum(self, axis=None):
        """Statistic of the summed counts along ``axis``.

        ``alpha`` of the sum is the OFF-count weighted mean,
        ``sum(alpha * n_off) / sum(n_off)`` (so the summed background is
        exact), or the plain mean where no OFF counts were recorded.
        """
        n_off = self._n_off.sum(axis=axis)
        n_bkg = (self._alpha * self._n_off).sum(axis=axis)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(n_off > 0, n_bkg / n_off, self._alpha.mean(axis=axis))
        return WStatCountsStatistic(
            self._n_on.sum(axis=axis), n_off, alpha, self._mu_sig.sum(axis=axis)
        )

    def __getitem__(self, key):
        return WStatCountsStatistic(
            self._n_on[key], self._n_off[key], self._alpha[key], self._mu_sig[key]
        )

    def info_dict(self):
        info = super().info_dict()
        info["n_off"] = self.n_off
        info["alpha"] = self.alpha
        info["mu_sig"] = self.mu_sig
        return info
