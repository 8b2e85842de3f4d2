"""The "scipy" fit backend: `scipy.optimize.minimize` and a numerical Hessian.

All functions work on parameter *factors* and a statistic ``fcn(x)`` equal
to ``-2 log L``: the covariance is ``2 * inv(H)`` with ``H`` the Hessian of
``fcn``.
"""
import numpy as np

from .hessian import numerical_hessian

__all__ = ["optimize_scipy", "covariance_scipy"]

#: Defaults of ``optimize_opts`` for the scipy backend.  ``method`` is any
#: `scipy.optimize.minimize` method; ``tol`` and ``options`` are passed on.
SCIPY_DEFAULTS = {"method": "L-BFGS-B", "tol": None, "options": None}

_BOUNDED_METHODS = {"l-bfgs-b", "tnc", "slsqp", "powell", "trust-constr", "nelder-mead", "cobyla", "cobyqa"}


def _options(opts, what, defaults=SCIPY_DEFAULTS):
    opts = dict(opts or {})
    unknown = set(opts) - set(defaults)
    if unknown:
        raise TypeError(
            f"Fit: unknown {what} for backend 'scipy': {sorted(unknown)}; "
            f"expected some of {sorted(defaults)}"
        )
    return {**defaults, **opts}


def optimize_scipy(fcn, x0, bounds, steps, names, opts=None):
    """Minimise ``fcn`` with `scipy.optimize.minimize`.

    Returns
    -------
    dict with x, fval, success, message, nfev, method, minuit (None).
    """
    from scipy.optimize import minimize

    opts = _options(opts, "optimize_opts")
    method = opts["method"]
    has_bounds = any(lo is not None or hi is not None for lo, hi in bounds)
    kwargs = {}
    if has_bounds:
        if method.lower() not in _BOUNDED_METHODS:
            raise ValueError(
                f"Fit: scipy method {method!r} does not support the parameter bounds; "
                f"use one of {sorted(_BOUNDED_METHODS)}"
            )
        kwargs["bounds"] = bounds
    options = dict(opts["options"] or {})
    if method.lower() == "nelder-mead" and "initial_simplex" not in options:
        # A simplex sized by the expected errors rather than 5 % of each factor.
        x0 = np.asarray(x0, dtype=float)
        simplex = np.tile(x0, (len(x0) + 1, 1))
        simplex[1:] += np.diag(steps)
        options["initial_simplex"] = simplex
    res = minimize(fcn, np.asarray(x0, dtype=float), method=method, tol=opts["tol"],
                   options=options, **kwargs)
    success = bool(res.success)
    message = "Optimization terminated successfully." if success else str(res.message)
    return {
        "x": np.array(res.x, dtype=float),
        "fval": float(res.fun),
        "success": success,
        "message": message,
        "nfev": int(res.nfev),
        "method": method,
        "minuit": None,
    }


def covariance_scipy(fcn, x0, bounds, steps, names, opts=None, minuit=None):
    """Covariance of the factors: ``2 * inv(numerical Hessian of fcn)``.

    ``opts`` accepts nothing yet (kept for the common backend signature).
    """
    _options(opts, "covariance_opts", defaults={})
    hess, nfev = numerical_hessian(fcn, x0, steps, bounds)
    n = len(x0)
    success = bool(np.all(np.isfinite(hess)))
    if success:
        try:
            np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            success = False
    if success:
        matrix = 2 * np.linalg.inv(hess)
    elif np.all(np.isfinite(hess)):
        matrix = 2 * np.linalg.pinv(hess)
    else:
        matrix = np.full((n, n), np.nan)
    message = "Hesse terminated successfully." if success else "Hessian is not positive definite."
    return {
        "matrix": matrix,
        "success": success,
        "message": message,
        "nfev": nfev,
        "method": "hesse",
        "minuit": None,
    }
