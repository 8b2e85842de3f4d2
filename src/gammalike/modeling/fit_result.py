"""Results of `Fit`: optimisation, covariance and their combination."""
__all__ = ["OptimizeResult", "CovarianceResult", "FitResult"]


def _block(title, rows):
    lines = [title, ""]
    lines += [f"\t{key:<10} : {value}" for key, value in rows]
    return "\n".join(lines) + "\n"


class OptimizeResult:
    """Outcome of `Fit.optimize`.

    Parameters
    ----------
    backend : str
        "minuit" or "scipy".
    method : str
        Minimiser used ("migrad", "L-BFGS-B"...).
    success : bool
        Whether the minimiser reports convergence.
    message : str
        "Optimization terminated successfully." or the reason of the failure.
    nfev : int
        Number of evaluations of the fit statistic.
    total_stat : float
        Fit statistic (``-2 log L``) at the best fit.
    parameters : `~gammalike.modeling.Parameters`
        The datasets' parameters (a reference: they hold the best fit until
        changed again; `values` keeps a snapshot).
    trace : `~astropy.table.Table` or None
        Statistic and free parameter values at each evaluation (``store_trace``).
    minuit : `iminuit.Minuit` or None
        The Minuit object of the minuit backend.
    """

    def __init__(self, backend, method, success, message, nfev, total_stat,
                 parameters, trace=None, minuit=None):
        self.backend = backend
        self.method = method
        self.success = bool(success)
        self.message = message
        self.nfev = int(nfev)
        self.total_stat = float(total_stat)
        self.parameters = parameters
        #: Snapshot of all parameter values (in their units) at the end of the fit.
        self.values = parameters.values
        self.trace = trace
        self.minuit = minuit

    def __str__(self):
        return _block("OptimizeResult", [
            ("backend", self.backend),
            ("method", self.method),
            ("success", self.success),
            ("message", self.message),
            ("nfev", self.nfev),
            ("total stat", f"{self.total_stat:.2f}"),
        ])

    def __repr__(self):
        return (f"OptimizeResult(backend={self.backend!r}, success={self.success}, "
                f"nfev={self.nfev}, total_stat={self.total_stat:.6g})")


class CovarianceResult:
    """Outcome of `Fit.covariance`.

    Parameters
    ----------
    backend, method, success, message : see `OptimizeResult`
    matrix : `~numpy.ndarray`
        Covariance of the free parameters (`parameters`), in their units:
        the backend's, checked (and if needed re-measured) in decorrelated
        coordinates unless ``covariance_opts={"refine": False}``.
    parameters : `~gammalike.modeling.Parameters`
        The free parameters the matrix is indexed by.
    nfev : int
        Evaluations of the statistic (backend and check).
    minuit : `iminuit.Minuit` or None
        The Minuit object of HESSE; its own covariance is HESSE's, before the check.
    """

    def __init__(self, backend, method, success, message, matrix=None, parameters=None,
                 nfev=0, minuit=None):
        self.backend = backend
        self.method = method
        self.success = bool(success)
        self.message = message
        self.matrix = matrix
        self.parameters = parameters
        self.nfev = int(nfev)
        self.minuit = minuit

    def __str__(self):
        return _block("CovarianceResult", [
            ("backend", self.backend),
            ("method", self.method),
            ("success", self.success),
            ("message", self.message),
        ])

    def __repr__(self):
        return f"CovarianceResult(backend={self.backend!r}, success={self.success})"


class FitResult:
    """Outcome of `Fit.run`: an `OptimizeResult` and a `CovarianceResult`.

    Parameters
    ----------
    optimize_result : `OptimizeResult`
    covariance_result : `CovarianceResult` or None
    models : models container or None
        The datasets' models (holding best-fit values and errors).
    covariance : `~gammalike.modeling.Covariance` or None
        Covariance of all parameters of ``models`` (frozen ones on the diagonal
        with their previous error).
    """

    def __init__(self, optimize_result, covariance_result=None, models=None, covariance=None):
        self._optimize_result = optimize_result
        self._covariance_result = covariance_result
        self._models = models
        self._covariance = covariance

    @property
    def optimize_result(self):
        return self._optimize_result

    @property
    def covariance_result(self):
        return self._covariance_result

    @property
    def models(self):
        """The datasets' models."""
        return self._models

    @property
    def parameters(self):
        """The datasets' parameters (a reference)."""
        return self._optimize_result.parameters

    @property
    def covariance(self):
        """`~gammalike.modeling.Covariance` of all parameters (None without covariance step)."""
        return self._covariance

    @property
    def total_stat(self):
        return self._optimize_result.total_stat

    @property
    def success(self):
        """Optimisation and (when run) covariance both succeeded."""
        ok = self._optimize_result.success
        if self._covariance_result is not None:
            ok = ok and self._covariance_result.success
        return ok

    @property
    def nfev(self):
        return self._optimize_result.nfev

    @property
    def message(self):
        return self._optimize_result.message

    @property
    def backend(self):
        return self._optimize_result.backend

    @property
    def method(self):
        return self._optimize_result.method

    @property
    def trace(self):
        return self._optimize_result.trace

    @property
    def minuit(self):
        return self._optimize_result.minuit

    def __str__(self):
        text = str(self._optimize_result)
        if self._covariance_result is not None:
            text += "\n" + str(self._covariance_result)
        return text

    def __repr__(self):
        return (f"FitResult(backend={self.backend!r}, success={self.success}, "
                f"total_stat={self.total_stat:.6g})")

