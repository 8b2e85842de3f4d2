"""The "scipy" fit backend: `scipy.optimize.minimize` and a numerical Hessian.

All functions work on parameter *factors* and a statistic ``fcn(x)`` equal
to ``-2 log L``: the covariance is ``2 * inv(H)`` with ``H`` the Hessian of
``fcn``.
"""
import numpy as np

__all__ = ["optimize_scipy", "covariance_scipy", "numerical_hessian"]

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


def numerical_hessian(fcn, x, steps, bounds=None, f0=None):
    """Hessian of ``fcn`` at ``x`` by central finite differences.

    The step of each coordinate is adapted so that ``fcn`` changes by
    0.01 to 5 units along it (about 0.1 to 2 sigma for ``-2 log L``):
    large enough to beat round-off, small enough to stay quadratic.  Steps are
    shrunk to stay inside ``bounds`` where there is room.

    Returns
    -------
    hessian : `~numpy.ndarray`
        Shape (n, n).
    nfev : int
        Number of evaluations.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    nfev = 0

    def f(point):
        nonlocal nfev
        nfev += 1
        return float(fcn(point))

    if f0 is None:
        f0 = f(x)
    h = np.where(np.asarray(steps, dtype=float) > 0, steps, 0.1)
    if bounds is not None:
        for i, (lo, hi) in enumerate(bounds):
            room = min(x[i] - lo if lo is not None else np.inf, hi - x[i] if hi is not None else np.inf)
            if 0 < room < h[i]:
                h[i] = 0.9 * room

    hess = np.zeros((n, n))
    for i in range(n):
        for _ in range(10):
            e = np.zeros(n)
            e[i] = h[i]
            d2 = f(x + e) + f(x - e) - 2 * f0
            if np.isfinite(d2) and 0.01 <= d2 <= 5:
                break
            if not np.isfinite(d2) or d2 > 5:
                h[i] *= 0.1 if not np.isfinite(d2) else np.sqrt(1.0 / d2)
            else:
                h[i] *= min(np.sqrt(1.0 / d2), 10.0) if d2 > 0 else 10.0
        hess[i, i] = d2 / h[i] ** 2

    for i in range(n):
        for j in range(i + 1, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h[i]
            ej[j] = h[j]
            value = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej))
            hess[i, j] = hess[j, i] = value / (4 * h[i] * h[j])
    return hess, nfev


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
