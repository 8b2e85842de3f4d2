"""The "minuit" fit backend: iminuit's MIGRAD, HESSE and MINOS.

All functions work on parameter *factors* (numbers of order one) and a
statistic ``fcn(x)`` equal to ``-2 log L``, hence ``errordef = 1``.
"""
import numpy as np

__all__ = ["optimize_iminuit", "covariance_iminuit", "confidence_iminuit"]

#: Defaults of ``optimize_opts`` for the minuit backend.  ``tol = 0.1`` is
#: iminuit's own default: MIGRAD stops when the estimated distance to the
#: minimum is below ``0.002 * tol * errordef`` (2e-4 in stat units), far below
#: the statistical errors.
MINUIT_DEFAULTS = {"tol": 0.1, "strategy": 1, "print_level": 0, "migrad_opts": None}


def _options(opts, what):
    opts = dict(opts or {})
    unknown = set(opts) - set(MINUIT_DEFAULTS)
    if unknown:
        raise TypeError(
            f"Fit: unknown {what} for backend 'minuit': {sorted(unknown)}; "
            f"expected some of {sorted(MINUIT_DEFAULTS)}"
        )
    return {**MINUIT_DEFAULTS, **opts}


def _make_minuit(fcn, x0, bounds, steps, names, opts):
    from iminuit import Minuit

    minuit = Minuit(fcn, np.array(x0, dtype=float), name=names)
    minuit.errordef = Minuit.LEAST_SQUARES  # = 1: the statistic is -2 log L
    minuit.errors = steps
    if any(lo is not None or hi is not None for lo, hi in bounds):
        minuit.limits = bounds
    minuit.tol = opts["tol"]
    minuit.strategy = opts["strategy"]
    minuit.print_level = opts["print_level"]
    return minuit


def _failure_message(fmin):
    """Human readable reason why a MIGRAD minimum is not valid."""
    reasons = []
    if fmin.has_reached_call_limit:
        reasons.append("call limit reached")
    if fmin.is_above_max_edm:
        reasons.append(f"estimated distance to minimum too large (edm={fmin.edm:.3g})")
    if not fmin.has_posdef_covar:
        reasons.append("covariance not positive definite")
    if fmin.hesse_failed:
        reasons.append("hesse failed")
    if not reasons:
        reasons.append("invalid minimum")
    return "Optimization failed: " + ", ".join(reasons) + "."


def optimize_iminuit(fcn, x0, bounds, steps, names, opts=None):
    """Minimise ``fcn`` with MIGRAD.

    Returns
    -------
    dict with x, fval, success, message, nfev, method, minuit.
    """
    opts = _options(opts, "optimize_opts")
    minuit = _make_minuit(fcn, x0, bounds, steps, names, opts)
    minuit.migrad(**(opts["migrad_opts"] or {}))
    fmin = minuit.fmin
    success = bool(fmin.is_valid)
    message = "Optimization terminated successfully." if success else _failure_message(fmin)
    return {
        "x": np.array(minuit.values, dtype=float),
        "fval": float(fmin.fval),
        "success": success,
        "message": message,
        "nfev": int(fmin.nfcn),
        "method": "migrad",
        "minuit": minuit,
    }


def covariance_iminuit(fcn, x0, bounds, steps, names, opts=None, minuit=None):
    """Covariance of the factors from HESSE (``2 * inv(Hessian of fcn)``).

    ``minuit``, when given, is the Minuit object of the preceding MIGRAD at ``x0``.
    """
    opts = _options(opts, "covariance_opts")
    if minuit is None:
        minuit = _make_minuit(fcn, x0, bounds, steps, names, opts)
    else:
        minuit.strategy = opts["strategy"]
        minuit.print_level = opts["print_level"]
    nfcn_before = minuit.nfcn
    minuit.hesse()
    matrix = minuit.covariance
    fmin = minuit.fmin
    success = matrix is not None and fmin is not None and fmin.has_accurate_covar and not fmin.hesse_failed
    if matrix is None:
        matrix = np.full((len(x0), len(x0)), np.nan)
    message = "Hesse terminated successfully." if success else "Hesse failed."
    return {
        "matrix": np.array(matrix, dtype=float),
        "success": bool(success),
        "message": message,
        "nfev": int(minuit.nfcn - nfcn_before),
        "method": "hesse",
        "minuit": minuit,
    }


def _minos_cl(sigma):
    # iminuit reads cl >= 1 as a number of sigma and 0 < cl < 1 as a probability.
    if sigma >= 1:
        return float(sigma)
    from scipy.stats import chi2

    return float(chi2.cdf(sigma ** 2, 1))


def confidence_iminuit(fcn, x0, bounds, steps, names, index, sigma=1, opts=None):
    """Asymmetric errors of factor ``index`` with MINOS (profile likelihood).

    MIGRAD runs first so that MINOS starts from a valid minimum.

    Returns
    -------
    dict with errp, errn (positive, factor units), success, message, nfev.
    """
    opts = _options(opts, "confidence_opts")
    minuit = _make_minuit(fcn, x0, bounds, steps, names, opts)
    minuit.migrad(**(opts["migrad_opts"] or {}))
    name = names[index]
    minuit.minos(name, cl=_minos_cl(sigma))
    merr = minuit.merrors[name]
    success = bool(merr.is_valid)
    message = "Minos terminated successfully." if success else "Minos failed."
    return {
        "success": success,
        "errp": float(merr.upper),
        "errn": float(-merr.lower),
        "nfev": int(minuit.nfcn),
        "message": message,
    }
