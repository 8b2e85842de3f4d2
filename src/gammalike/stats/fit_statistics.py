"""Fit statistics used in gamma-ray astronomy, as pure numpy functions.

All functions return the per-bin contribution to ``-2 log L`` (up to a
constant that depends on the data only); the caller sums.  Inputs broadcast
against each other and are converted to float64; no units.

Conventions
-----------
- ``cash``: Poisson likelihood without the ``log n!`` term,
  ``2 * (mu - n * log(mu))`` (Cash 1979), the gammapy convention.
- ``cstat``: Cash with the saturated model subtracted,
  ``2 * (mu - n + n * log(n / mu))``: zero for a perfect fit, non-negative.
- ``wstat``: the ON/OFF profile likelihood where the background in every bin
  is a free Poisson mean that is profiled analytically (XSPEC manual,
  appendix "Statistics", W statistic; Arnaud et al.).  It is written as
  ``cstat(n_on, mu_on) + cstat(n_off, mu_off)`` with the profiled means,
  which equals the textbook expression
  ``2 * (mu_sig + (1 + alpha) mu_off - n_on log(mu_sig + alpha mu_off)
  - n_off log(mu_off) - n_on (1 - log n_on) - n_off (1 - log n_off))``
  but keeps its precision for large counts (every term is >= 0).

Expected counts below ``truncation_value`` are clipped to it before the log
is taken, so a model predicting zero counts in a bin with counts gives a
large but finite statistic.
"""
import numpy as np
from scipy.special import xlogy

__all__ = [
    "TRUNCATION_VALUE",
    "cash",
    "cstat",
    "wstat",
    "get_wstat_mu_bkg",
    "get_wstat_mu_bkg_off",
    "get_wstat_gof_terms",
    "chi2",
    "chi2_flux_points",
    "chi2_flux_points_ul",
]

TRUNCATION_VALUE = 1e-25


def _as_float(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def cash(n_on, mu_on, truncation_value=TRUNCATION_VALUE):
    r"""Cash statistic for Poisson data with known background.

    .. math:: C = 2 (\mu_{on} - n_{on} \log \mu_{on})

    The ``log(n_on!)`` term is left out (gammapy convention), so the value of
    a perfect fit is not zero; differences of ``cash`` are what matter.

    Parameters
    ----------
    n_on : array_like
        Observed counts.
    mu_on : array_like
        Predicted counts; values below ``truncation_value`` are clipped to it.
    truncation_value : float
        Lower limit applied to ``mu_on``.

    Returns
    -------
    stat : `~numpy.ndarray`
        Per-bin statistic.
    """
    n_on, mu_on = _as_float(n_on, mu_on)
    mu_on = np.maximum(mu_on, truncation_value)
    return 2 * (mu_on - n_on * np.log(mu_on))


def cstat(n_on, mu_on, truncation_value=TRUNCATION_VALUE):
    r"""Cash statistic with the saturated model subtracted.

    .. math:: C = 2 (\mu_{on} - n_{on} + n_{on} (\log n_{on} - \log \mu_{on}))

    with ``n log n = 0`` for ``n = 0``.  Zero when ``mu_on == n_on``,
    non-negative otherwise.

    Parameters
    ----------
    n_on : array_like
        Observed counts.
    mu_on : array_like
        Predicted counts; values below ``truncation_value`` are clipped to it.
    truncation_value : float
        Lower limit applied to ``mu_on``.

    Returns
    -------
    stat : `~numpy.ndarray`
        Per-bin statistic.
    """
    n_on, mu_on = _as_float(n_on, mu_on)
    mu_on = np.maximum(mu_on, truncation_value)
    # Written as 2 * (d - n log(1 + d / n)) with d = mu - n: near the best
    # fit both terms are O(d) and the result O(d**2 / n), so log1p keeps the
    # error at eps * d instead of eps * n (this sets the precision of sqrt_ts
    # near zero).  Far from it, log(mu / n) avoids log1p(-1 + tiny).
    delta = mu_on - n_on
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = delta / n_on
        log_ratio = np.where(np.abs(ratio) <= 0.5, np.log1p(ratio), np.log(mu_on / n_on))
        n_log_ratio = np.where(n_on == 0, 0.0, n_on * log_ratio)
    return 2 * (delta - n_log_ratio)


def _wstat_profile(n_on, n_off, alpha, mu_sig):
    """Profiled ON and OFF background means for the W statistic.

    Returns ``(mu_on, mu_off)``: ``mu_on = mu_sig + alpha * mu_off`` is the
    total predicted ON counts and ``mu_off`` the predicted OFF counts at the
    maximum of the likelihood over ``mu_off``, subject to the physical
    constraints ``mu_off >= 0`` and ``mu_on >= 0``.

    Setting the derivative of ``-2 log L`` with respect to ``mu_off`` to zero
    gives a quadratic.  Written for ``mu_off``::

        alpha (1 + alpha) mu_off**2 + B mu_off - n_off mu_sig = 0,
        B = (1 + alpha) mu_sig - alpha (n_on + n_off)

    and for ``mu_on``::

        (1 + alpha) mu_on**2 - P mu_on + alpha n_on mu_sig = 0,
        P = (1 + alpha) mu_sig + alpha (n_on + n_off)

    The larger root is the minimum in both cases (the smaller one is outside
    the domain).  For ``mu_sig >= 0`` the ``mu_off`` form is used, for
    ``mu_sig < 0`` the ``mu_on`` form (there ``mu_on`` is small and
    ``mu_sig + alpha * mu_off`` would lose it to cancellation).  Each root is
    evaluated in the form free of cancellation.

    ``n_on = 0``: the likelihood no longer pushes ``mu_on`` away from zero, the
    unconstrained optimum is ``mu_off = n_off / (1 + alpha)``, and when that
    would make ``mu_on`` negative (``mu_sig < -alpha n_off / (1 + alpha)``) the
    optimum sits on the boundary ``mu_on = 0``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        one_alpha = 1 + alpha
        n_tot = n_on + n_off

        # mu_sig >= 0: solve for mu_off
        b_coef = one_alpha * mu_sig - alpha * n_tot
        c_coef = n_off * mu_sig
        disc = np.sqrt(np.maximum(b_coef**2 + 4 * alpha * one_alpha * c_coef, 0))
        mu_off_pos = np.where(
            b_coef <= 0,
            (disc - b_coef) / (2 * alpha * one_alpha),
            2 * c_coef / (b_coef + disc),
        )
        mu_on_pos = mu_sig + alpha * mu_off_pos

        # mu_sig < 0: solve for mu_on
        p_coef = one_alpha * mu_sig + alpha * n_tot
        q_coef = -alpha * n_on * mu_sig  # >= 0 here
        disc = np.sqrt(np.maximum(p_coef**2 + 4 * one_alpha * q_coef, 0))
        mu_on_neg = np.where(
            p_coef >= 0,
            (p_coef + disc) / (2 * one_alpha),
            2 * q_coef / (disc - p_coef),
        )
        mu_off_neg = (mu_on_neg - mu_sig) / alpha

        negative = mu_sig < 0
        mu_on = np.where(negative, mu_on_neg, mu_on_pos)
        mu_off = np.where(negative, mu_off_neg, mu_off_pos)

        # n_on = 0: unconstrained optimum or the mu_on = 0 boundary
        mu_off_zero = n_off / one_alpha
        mu_on_zero = mu_sig + alpha * mu_off_zero
        on_boundary = mu_on_zero < 0
        mu_on_zero = np.where(on_boundary, 0.0, mu_on_zero)
        mu_off_zero = np.where(on_boundary, -mu_sig / alpha, mu_off_zero)
        zero_on = n_on == 0
        mu_on = np.where(zero_on, mu_on_zero, mu_on)
        mu_off = np.where(zero_on, mu_off_zero, mu_off)

        # alpha = 0: the ON region sees no background, the OFF mean is n_off
        no_alpha = alpha == 0
        mu_on = np.where(no_alpha, mu_sig, mu_on)
        mu_off = np.where(no_alpha, n_off, mu_off)
    return mu_on, mu_off


def wstat(n_on, n_off, alpha, mu_sig, truncation_value=TRUNCATION_VALUE):
    r"""W statistic: ON/OFF Poisson likelihood with the background profiled.

    .. math::

        W = 2 \big(\mu_{sig} + (1 + \alpha)\mu_{off} - n_{on}\log(\mu_{sig} + \alpha\mu_{off})
            - n_{off}\log\mu_{off} - n_{on}(1 - \log n_{on}) - n_{off}(1 - \log n_{off})\big)

    with :math:`\mu_{off}` the OFF-region background mean that minimises
    :math:`W` for the given signal (see `get_wstat_mu_bkg_off`) and
    ``n log n = 0`` for ``n = 0``.  The saturated-model terms make ``W`` zero
    for ``mu_sig = n_on - alpha * n_off`` and non-negative otherwise.

    Special cases (XSPEC manual, appendix "Statistics", rewritten in counts):

    - ``n_on = 0``: ``W = 2 (mu_sig + n_off log(1 + alpha))``; for
      ``mu_sig < -alpha n_off / (1 + alpha)`` the background is constrained
      by ``mu_on >= 0`` instead and
      ``W = cstat(n_off, -mu_sig / alpha)``, so ``W`` stays >= 0 and
      grows again for very negative signal.
    - ``n_off = 0`` and ``mu_sig < alpha n_on / (1 + alpha)``:
      ``W = 2 (-mu_sig / alpha + n_on log((1 + alpha) / alpha))``;
    - ``n_off = 0`` otherwise: ``mu_off = 0`` and ``W = cstat(n_on, mu_sig)``.

    All follow from the same profile computed in `get_wstat_mu_bkg_off`.

    Parameters
    ----------
    n_on : array_like
        Counts in the ON region.
    n_off : array_like
        Counts in the OFF region.
    alpha : array_like
        Exposure ratio ON / OFF (``acceptance / acceptance_off``).
    mu_sig : array_like
        Predicted signal counts in the ON region.
    truncation_value : float
        Lower limit applied to the predicted ON and OFF counts inside logs.

    Returns
    -------
    stat : `~numpy.ndarray`
        Per-bin statistic.
    """
    n_on, n_off, alpha, mu_sig = _as_float(n_on, n_off, alpha, mu_sig)
    mu_on, mu_off = _wstat_profile(n_on, n_off, alpha, mu_sig)
    return cstat(n_on, mu_on, truncation_value) + cstat(n_off, mu_off, truncation_value)


def get_wstat_mu_bkg_off(n_on, n_off, alpha, mu_sig):
    """Profiled background mean in the OFF region for the W statistic.

    This is the ``mu_bkg`` of the textbook W-statistic formula (see `wstat`):
    the expected OFF counts that maximise the ON/OFF likelihood for the given
    signal.

    Parameters
    ----------
    n_on, n_off, alpha, mu_sig : array_like
        See `wstat`.

    Returns
    -------
    mu_off : `~numpy.ndarray`
        Predicted OFF counts.
    """
    n_on, n_off, alpha, mu_sig = _as_float(n_on, n_off, alpha, mu_sig)
    return _wstat_profile(n_on, n_off, alpha, mu_sig)[1]


def get_wstat_mu_bkg(n_on, n_off, alpha, mu_sig):
    """Profiled background counts in the ON region for the W statistic.

    ``alpha * get_wstat_mu_bkg_off(...)``: the background a WStat fit predicts
    in the ON region, what `SpectrumDatasetOnOff.background` shows.

    Parameters
    ----------
    n_on, n_off, alpha, mu_sig : array_like
        See `wstat`.

    Returns
    -------
    mu_bkg : `~numpy.ndarray`
        Predicted background counts in the ON region.
    """
    n_on, n_off, alpha, mu_sig = _as_float(n_on, n_off, alpha, mu_sig)
    mu_on, mu_off = _wstat_profile(n_on, n_off, alpha, mu_sig)
    return alpha * mu_off


def get_wstat_gof_terms(n_on, n_off):
    r"""Saturated-model terms of the W statistic.

    .. math:: -2 \big(n_{on}(1 - \log n_{on}) + n_{off}(1 - \log n_{off})\big)

    with ``n log n = 0`` for ``n = 0``.  Adding them to the bare likelihood
    ``2 (mu_sig + (1 + alpha) mu_off - n_on log mu_on - n_off log mu_off)``
    gives `wstat`.

    Parameters
    ----------
    n_on, n_off : array_like
        ON and OFF counts.

    Returns
    -------
    terms : `~numpy.ndarray`
    """
    n_on, n_off = _as_float(n_on, n_off)
    return -2 * (n_on - xlogy(n_on, n_on) + n_off - xlogy(n_off, n_off))


def chi2(n, mu, sigma):
    r"""Chi-square statistic :math:`((n - \mu) / \sigma)^2`.

    Parameters
    ----------
    n : array_like
        Measured values.
    mu : array_like
        Predicted values.
    sigma : array_like
        Errors on the measured values.

    Returns
    -------
    stat : `~numpy.ndarray`
    """
    n, mu, sigma = _as_float(n, mu, sigma)
    return ((n - mu) / sigma) ** 2


def chi2_flux_points(data, model, data_errn, data_errp):
    """Chi-square for flux points with asymmetric errors.

    The lower error ``data_errn`` is used where the model lies below the
    data point, the upper error ``data_errp`` where it lies above (or on it).
    Both errors are positive numbers.

    Parameters
    ----------
    data : array_like
        Measured fluxes (or norms).
    model : array_like
        Predicted fluxes.
    data_errn, data_errp : array_like
        Negative and positive errors of the measurement (both > 0).

    Returns
    -------
    stat : `~numpy.ndarray`
    """
    data, model, data_errn, data_errp = _as_float(data, model, data_errn, data_errp)
    sigma = np.where(model < data, data_errn, data_errp)
    return ((data - model) / sigma) ** 2


def chi2_flux_points_ul(data_ul, model, sigma_ul):
    r"""One-sided chi-square penalty for flux upper limits.

    An upper limit only says the flux is below ``data_ul``: a model below it
    costs nothing, a model above it costs a one-sided Gaussian penalty

    .. math:: ((\mathrm{model} - \mathrm{ul}) / \sigma_{ul})^2 \quad (\mathrm{model} > \mathrm{ul}).

    This is an opt-in convention: by default `FluxPointsDataset` leaves
    upper-limit points out of its statistic (as gammapy does); a
    dataset configured to use upper limits adds this term for them.
    ``sigma_ul`` sets how hard the limit is, e.g. the flux error of the
    point or a fraction of ``data_ul``.

    Parameters
    ----------
    data_ul : array_like
        Upper limits.
    model : array_like
        Predicted fluxes.
    sigma_ul : array_like
        Width of the penalty above the limit (> 0).

    Returns
    -------
    stat : `~numpy.ndarray`
    """
    data_ul, model, sigma_ul = _as_float(data_ul, model, sigma_ul)
    excess = np.maximum(model - data_ul, 0)
    return (excess / sigma_ul) ** 2
