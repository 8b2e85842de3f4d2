"""The fitter: minimise the total fit statistic of datasets over free parameters.

`Fit` only duck-types its ``datasets`` argument (modeling never imports
``gammalike.datasets``):

- an object with ``stat_sum()`` and ``models`` (whose ``parameters`` are
  fitted), e.g. `~gammalike.datasets.Datasets` or a single dataset;
- a list or tuple of such objects: the statistic is the sum of their
  ``stat_sum()``, the parameters the union of their models' parameters.

The statistic is ``-2 log L``.  The backends vary parameter *factors* (order
one after `Parameters.autoscale`); a `Parameter` object shared by several
models or datasets is a single free parameter.
"""
import logging

import numpy as np
from astropy.table import Table

from ..utils.threads import with_blas_threads
from .covariance import Covariance
from .fit_result import CovarianceResult, FitResult, OptimizeResult
from .iminuit_backend import confidence_iminuit, covariance_iminuit, optimize_iminuit
from .parameter import Parameter, Parameters
from .hessian import refine_covariance
from .scipy_backend import covariance_scipy, optimize_scipy

__all__ = ["Fit"]

log = logging.getLogger(__name__)

BACKENDS = {
    "minuit": {"optimize": optimize_iminuit, "covariance": covariance_iminuit},
    "scipy": {"optimize": optimize_scipy, "covariance": covariance_scipy},
}

_NO_FREE = "Fit: datasets have no free parameters: set models on the datasets first"
#: warn when the covariance check finds the statistic still this far above its minimum
#: (0.01: about 0.1 sigma; every fit of the test suite, seeds included, ends below 1e-3)
EDM_WARNING = 0.01
#: a fit that stopped short is polished down to this distance (MIGRAD's default goal: 2e-4)
EDM_POLISHED = 1e-3
#: at most this many Newton steps polish a fit that stopped short, each halved at most
#: MAX_HALVINGS times until it lowers the statistic
MAX_NEWTON_STEPS = 5
MAX_HALVINGS = 4


def _unique_names(names):
    seen = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        out.append(name if count == 0 else f"{name}_{count}")
        seen[name] = count + 1
    return out


def _has_setter(obj, name):
    attr = getattr(type(obj), name, None)
    return isinstance(attr, property) and attr.fset is not None


class _FitProblem:
    """Datasets reduced to a statistic function and a parameter list."""

    def __init__(self, datasets):
        if hasattr(datasets, "stat_sum"):
            models = getattr(datasets, "models", None)
            if models is not None:
                parameters = models.parameters
            else:
                parameters = getattr(datasets, "parameters", None)
            self.stat_sum = datasets.stat_sum
            self.models = models
            self.models_list = [models] if models is not None else []
        elif isinstance(datasets, (list, tuple)):
            if len(datasets) == 0:
                raise ValueError("Fit: the list of datasets is empty")
            for idx, dataset in enumerate(datasets):
                if not hasattr(dataset, "stat_sum"):
                    raise TypeError(
                        f"Fit: datasets[{idx}] ({type(dataset).__name__}) has no stat_sum() method"
                    )
            self.models_list = [d.models for d in datasets if getattr(d, "models", None) is not None]
            parameters = None
            if self.models_list:
                parameters = Parameters.from_stack([m.parameters for m in self.models_list])
            self.stat_sum = _summed_stat(tuple(d.stat_sum for d in datasets))
            self.models = _merge_models(self.models_list)
        else:
            raise TypeError(
                "Fit: datasets must have stat_sum() and models, or be a list of such "
                f"datasets; got {type(datasets).__name__}"
            )
        if parameters is None:
            raise ValueError(_NO_FREE)
        self.parameters = Parameters(parameters).unique_parameters
        #: free parameters found not to change the statistic at the last check
        self.inert = []
        self.refresh()

    def refresh(self):
        """Re-read the free parameters (after freezing / unfreezing)."""
        self.free = self.parameters.free_parameters

    def check_free(self):
        if len(self.free) == 0:
            raise ValueError(_NO_FREE)

    def drop_inert(self):
        """Leave out the free parameters that do not change the statistic.

        E.g. the norm of a background energy bin outside every fit mask: such
        a parameter has a zero row in the Hessian, which makes MIGRAD's
        final HESSE, and so the whole fit, fail.  A parameter is inert when
        one initial step of its factor leaves the statistic bit-identical.

        Returns
        -------
        inert : list of `Parameter`
        """
        self.refresh()
        self.check_free()
        free = self.free
        x0 = np.array([p.factor for p in free], dtype=float)
        base = self.stat_sum()
        inert = []
        for idx, par in enumerate(free):
            step = _initial_step(par)
            if np.isfinite(par.factor_max) and x0[idx] + step > par.factor_max:
                step = -step
            x = x0.copy()
            x[idx] += step
            free.set_parameter_factors(x)
            if self.stat_sum() == base:
                inert.append(par)
        free.set_parameter_factors(x0)
        self.stat_sum()
        if len(inert) == len(free):
            raise ValueError(
                "Fit: none of the free parameters changes the statistic "
                "(is the fit mask empty, or are the models outside it?)"
            )
        if inert:
            self.free = Parameters([p for p in free if not any(p is q for q in inert)])
        self.inert = inert
        return inert

    def backend_inputs(self):
        """Start factors, factor bounds, initial steps and unique names."""
        free = self.free
        x0 = np.array([p.factor for p in free], dtype=float)
        bounds = [
            (None if np.isnan(p.factor_min) else p.factor_min,
             None if np.isnan(p.factor_max) else p.factor_max)
            for p in free
        ]
        steps = np.array([_initial_step(p) for p in free], dtype=float)
        names = _unique_names(free.names)
        return x0, bounds, steps, names

    def objective(self, trace=None):
        """``fcn(factors) -> stat``: the hot loop, plain floats only."""
        set_factors = self.free.set_parameter_factors
        stat_sum = self.stat_sum
        if trace is None:
            def fcn(factors):
                set_factors(factors)
                return stat_sum()
        else:
            append = trace.append

            def fcn(factors):
                set_factors(factors)
                stat = stat_sum()
                append((stat, *factors))
                return stat
        return fcn

    def resolve(self, parameter):
        """The `Parameter` object meant by a name or a Parameter."""
        if isinstance(parameter, Parameter):
            if parameter not in self.parameters:
                raise ValueError(f"Fit: parameter {parameter.name!r} is not a parameter of the datasets' models")
            return parameter
        if isinstance(parameter, str):
            matches = [p for p in self.parameters if p.name == parameter]
            if not matches:
                raise ValueError(
                    f"Fit: no parameter named {parameter!r}; parameters are {self.parameters.names}"
                )
            if len(matches) > 1:
                raise ValueError(
                    f"Fit: {len(matches)} different parameters are named {parameter!r}; "
                    "pass the Parameter object instead of its name"
                )
            return matches[0]
        raise TypeError(f"Fit: parameter must be a str or a Parameter, got {type(parameter).__name__}")


def _summed_stat(funcs):
    def stat_sum():
        total = 0.0
        for func in funcs:
            total += func()
        return total
    return stat_sum


def _merge_models(models_list):
    """One models container for a list of datasets (unique models, order kept)."""
    if len(models_list) <= 1:
        return models_list[0] if models_list else None
    seen = set()
    unique = []
    for models in models_list:
        for model in models:
            if id(model) not in seen:
                seen.add(id(model))
                unique.append(model)
    try:
        from .models import Models
    except ImportError:
        return unique
    return Models(unique)


def _initial_step(par):
    """Initial MIGRAD step of a factor: the known error, else iminuit's own default.

    iminuit's default (1 % of the value, 0.1 for a zero value) is what a fit
    without known errors gets in the reference implementation's release that
    printed seed 004: on that likelihood, which has several local minima a few
    hundredths of a degree apart, it reaches the seed's printed minimum from the
    seed's start, where a 10 % step reaches another one.
    """
    error = par.factor_error
    if np.isfinite(error) and error > 0:
        return error
    factor = abs(par.factor)
    return 0.01 * factor if factor > 0 else 0.1


class Fit:
    """Fit models to datasets by minimising their total statistic ``-2 log L``.

    Parameters
    ----------
    backend : {"minuit", "scipy"}
        Minimiser.  For compatibility with old scripts, datasets may be given
        here instead (``Fit(datasets).run()``); the backend is then "minuit".
    optimize_opts : dict, optional
        minuit: ``tol`` (default 0.1, iminuit's: MIGRAD stops at an estimated
        distance to minimum ``0.002 * tol`` in stat units), ``strategy``
        (default 1), ``print_level`` (default 0), ``migrad_opts`` (dict passed
        to `iminuit.Minuit.migrad`, e.g. ``ncall``).
        scipy: ``method`` (default "L-BFGS-B"), ``tol``, ``options`` passed to
        `scipy.optimize.minimize`.
    covariance_opts : dict, optional
        minuit: the same keys as ``optimize_opts`` (``strategy`` matters for
        HESSE), defaulting to the values given in ``optimize_opts``.
        scipy: none (numerical Hessian).
        Both: ``refine`` (default True): check the backend's covariance in
        its decorrelated coordinates and re-measure it there when the check
        fails (see `~gammalike.modeling.hessian.refine_covariance`).
        HESSE alone can be 2x off for strongly correlated parameters (e.g. a
        log-parabola with its reference energy far from the data).  The
        same check measures how far the statistic still is above its
        minimum: `run` finishes a fit the optimiser left more than
        `EDM_WARNING` short with Newton steps (see ``_polish``).
    confidence_opts : dict, optional
        The same keys as ``optimize_opts``, defaulting to the values given
        there: minuit uses them for MIGRAD + MINOS, scipy for the
        re-optimisations along the profile.
    store_trace : bool
        Keep the statistic and free parameter values of every evaluation in
        ``OptimizeResult.trace``.
    blas_threads : int or None
        BLAS threads while fitting (default 1: the likelihood is many small
        array operations); None leaves the BLAS setting alone.
    """

    def __init__(self, backend="minuit", optimize_opts=None, covariance_opts=None,
                 confidence_opts=None, store_trace=False, blas_threads=1):
        self._datasets = None
        if backend is not None and not isinstance(backend, str):
            self._datasets, backend = backend, "minuit"
        backend = "minuit" if backend is None else backend
        if backend not in BACKENDS:
            raise ValueError(f"Fit: unknown backend {backend!r}; expected one of {sorted(BACKENDS)}")
        self.backend = backend
        self.optimize_opts = dict(optimize_opts or {})
        self.covariance_opts = dict(covariance_opts or {})
        self.confidence_opts = dict(confidence_opts or {})
        # Unless told otherwise, MINOS / profile re-optimisations (and, for
        # minuit, HESSE) use the settings of the optimisation.
        self.confidence_opts = {**self.optimize_opts, **self.confidence_opts}
        if backend == "minuit":
            self.covariance_opts = {**self.optimize_opts, **self.covariance_opts}
        self.store_trace = bool(store_trace)
        self.blas_threads = blas_threads
        self._last_minuit = None

    def __repr__(self):
        return (f"Fit(backend={self.backend!r}, optimize_opts={self.optimize_opts}, "
                f"covariance_opts={self.covariance_opts}, store_trace={self.store_trace})")

    def _problem(self, datasets):
        if datasets is None:
            datasets = self._datasets
        if datasets is None:
            raise ValueError("Fit: no datasets given (pass them to run / optimize / covariance)")
        return _FitProblem(datasets)

    # -- main steps -----------------------------------------------------
    @with_blas_threads
    def run(self, datasets=None):
        """Optimise, then compute the covariance.

        Returns
        -------
        result : `FitResult`
        """
        problem = self._problem(datasets)
        optimize_result = self._optimize(problem)
        if not optimize_result.success:
            log.warning("Fit: optimisation failed: %s", optimize_result.message)
        covariance_result, covariance, check = self._covariance(problem)
        if optimize_result.success and check is not None and check.edm > EDM_WARNING:
            optimize_result, covariance_result, covariance, check = self._polish(
                problem, optimize_result, covariance_result, covariance, check)
        _warn_short(check)
        _warn_inert(problem.inert)
        return FitResult(optimize_result, covariance_result, models=problem.models, covariance=covariance)

    @with_blas_threads
    def optimize(self, datasets=None):
        """Minimise the statistic; parameters are left at the best fit.

        Returns
        -------
        result : `OptimizeResult`
        """
        problem = self._problem(datasets)
        result = self._optimize(problem)
        _warn_inert(problem.inert)
        return result

    @with_blas_threads
    def covariance(self, datasets=None):
        """Covariance of the free parameters at their current values.

        Sets ``error`` of every free parameter and, when the models container
        has a ``covariance`` setter, the models' covariance.

        Returns
        -------
        result : `CovarianceResult`
        """
        problem = self._problem(datasets)
        result, _, check = self._covariance(problem)
        _warn_short(check)
        _warn_inert(problem.inert)
        return result

    def _run_backend(self, problem, opts, trace=None):
        """Autoscale, minimise, set the best-fit factors; return (output, stat)."""
        problem.check_free()
        problem.free.autoscale()
        x0, bounds, steps, names = problem.backend_inputs()
        fcn = problem.objective(trace)
        out = BACKENDS[self.backend]["optimize"](fcn, x0, bounds, steps, names, opts)
        problem.free.set_parameter_factors(out["x"])
        # Evaluate once at the best fit so that dataset caches hold it.
        stat = float(problem.stat_sum())
        return out, stat

    def _optimize(self, problem):
        trace = [] if self.store_trace else None
        inert = problem.drop_inert()
        out, stat = self._run_backend(problem, self.optimize_opts, trace)
        if inert:
            # Inert at the start may act at the best fit (an index whose
            # amplitude started at zero): check again, and refit if so.
            if len(problem.drop_inert()) < len(inert):
                out, stat = self._run_backend(problem, self.optimize_opts, trace)
        free = problem.free
        minuit = out["minuit"]
        self._last_minuit = None
        if minuit is not None:
            self._last_minuit = (minuit, _state(free))
        table = None
        if trace is not None:
            scales = np.array([p.scale for p in free])
            names = ["total_stat"] + _unique_names(free.names)
            data = np.array(trace, dtype=float).reshape(-1, len(free) + 1)
            data[:, 1:] *= scales
            table = Table(data, names=names)
        return OptimizeResult(
            backend=self.backend, method=out["method"], success=out["success"],
            message=out["message"], nfev=out["nfev"], total_stat=stat,
            parameters=problem.parameters, trace=table, minuit=minuit,
        )

    def _covariance(self, problem):
        inert = problem.drop_inert()  # at the best fit: e.g. an index whose amplitude went to zero
        for par in inert:
            par.error = np.nan  # undefined: the statistic does not depend on it
        free = problem.free
        minuit = None
        if self._last_minuit is not None and self._last_minuit[1] == _state(free):
            # Right after MIGRAD at the same point: HESSE reuses its Minuit object.
            minuit = self._last_minuit[0]
        else:
            free.autoscale()
        x0, bounds, steps, names = problem.backend_inputs()
        fcn = problem.objective()
        opts = dict(self.covariance_opts)
        refine = opts.pop("refine", True)
        check = None
        out = BACKENDS[self.backend]["covariance"](fcn, x0, bounds, steps, names, opts, minuit=minuit)
        matrix, nfev, message, success = out["matrix"], out["nfev"], out["message"], out["success"]
        if refine and np.all(np.isfinite(matrix)):
            check = refine_covariance(fcn, x0, matrix, bounds)
            matrix, status = check.matrix, check.status
            nfev += check.nfev
            if status in ("confirmed", "refined") and not success:
                # e.g. HESSE made its matrix positive definite, and the check found it right
                success, message = True, "Covariance checked in decorrelated coordinates."
            elif status.startswith("refined"):
                message = f"{message[:-1]}; covariance refined in decorrelated coordinates."
            elif status == "unconfirmed":
                message = (f"{message[:-1]}; covariance refined, but the statistic is not "
                           "quadratic on the scale of the errors.")
                log.warning("Fit: %s", message)
            if status != "confirmed":
                log.debug("Fit: covariance check: %s", status)
        # HESSE moves the parameters around: put them back and refresh the caches.
        free.set_parameter_factors(x0)
        problem.stat_sum()
        scales = np.array([p.scale for p in free])
        matrix = matrix * np.outer(scales, scales)
        result = CovarianceResult(
            backend=self.backend, method=out["method"], success=success,
            message=message, matrix=matrix, parameters=free, nfev=nfev,
            minuit=out["minuit"],
        )
        if not np.all(np.isfinite(matrix)):
            log.warning("Fit: covariance could not be computed: %s", out["message"])
            return result, None, check
        for par, var in zip(free, np.diag(matrix)):
            par.error = np.sqrt(var) if var > 0 else 0.0
        free_covariance = Covariance(free, matrix)
        for models in problem.models_list:
            if _has_setter(models, "covariance"):
                covar = Covariance(models.parameters)
                covar.set_subcovariance(free_covariance)
                models.covariance = covar
        covariance = Covariance(problem.parameters)
        covariance.set_subcovariance(free_covariance)
        return result, covariance, check

    def _polish(self, problem, optimize_result, covariance_result, covariance, check):
        """Newton steps from a fit that stopped > `EDM_WARNING` short, until `EDM_POLISHED`.

        MIGRAD can stop short on a strongly correlated problem (its own
        distance estimate comes from its approximate covariance); the check
        in decorrelated coordinates measures the gradient anyway, so a Newton
        step costs a few evaluations.  Along a curved valley the full step
        can overshoot: it is halved until it lowers the statistic (at most
        `MAX_HALVINGS` times).  Returns the optimize result, covariance result,
        covariance and check, updated to the final point.
        """
        start = optimize_result.total_stat
        n_steps, nfev = 0, 0
        while check is not None and check.edm > EDM_POLISHED and n_steps < MAX_NEWTON_STEPS:
            free, bounds = problem.free, problem.backend_inputs()[1]
            x0 = np.array([p.factor for p in free], dtype=float)
            stat0 = float(problem.stat_sum())
            for halving in range(MAX_HALVINGS + 1):
                x1 = x0 + check.newton_step / 2 ** halving
                if any((lo is not None and x < lo) or (hi is not None and x > hi)
                       for x, (lo, hi) in zip(x1, bounds)):
                    continue
                free.set_parameter_factors(x1)
                nfev += 1
                if float(problem.stat_sum()) < stat0:
                    break
            else:
                free.set_parameter_factors(x0)
                problem.stat_sum()
                break
            n_steps += 1
            covariance_result, covariance, check = self._covariance(problem)
        if n_steps:
            stat = float(problem.stat_sum())
            log.info("Fit: %d Newton step(s) after the optimiser lowered the statistic by %.3g",
                     n_steps, start - stat)
            optimize_result = OptimizeResult(
                backend=optimize_result.backend, method=optimize_result.method,
                success=optimize_result.success,
                message=f"{optimize_result.message[:-1]}; {n_steps} Newton step(s) to the minimum.",
                nfev=optimize_result.nfev + nfev, total_stat=stat, parameters=problem.parameters,
                trace=optimize_result.trace, minuit=optimize_result.minuit,
            )
        return optimize_result, covariance_result, covariance, check

    # -- profiles ---------------------------------------------------------
    def _shift_args(self, datasets, parameter):
        """Support ``Fit(datasets).confidence("index")`` (datasets given to the constructor)."""
        if parameter is None and self._datasets is not None:
            return self._datasets, datasets
        return datasets, parameter

    @with_blas_threads
    def confidence(self, datasets, parameter=None, sigma=1, reoptimize=True):
        """Asymmetric errors of a parameter from the profile likelihood.

        The datasets must be at the best fit.  The interval ends are where
        the statistic, minimised over the other free parameters when
        ``reoptimize``, rises by ``sigma ** 2``.  The minuit backend uses MINOS
        (with ``reoptimize``); otherwise a root finder is run on the profile.
        Parameter values and frozen states are restored afterwards.

        Returns
        -------
        result : dict
            ``success``, ``errp``, ``errn`` (positive, in the parameter's unit),
            ``nfev``, ``message``.
        """
        datasets, parameter = self._shift_args(datasets, parameter)
        problem = self._problem(datasets)
        par = problem.resolve(parameter)
        with problem.parameters.restore_status():
            par.frozen = False
            problem.refresh()
            if self.backend == "minuit" and reoptimize:
                problem.free.autoscale()
                x0, bounds, steps, names = problem.backend_inputs()
                out = confidence_iminuit(
                    problem.objective(), x0, bounds, steps, names,
                    problem.free.index(par), sigma, self.confidence_opts,
                )
                out["errp"] *= par.scale
                out["errn"] *= par.scale
            else:
                out = _ProfileConfidence(self, problem, par, reoptimize).run(sigma)
        problem.stat_sum()
        return out

    def _profile_point(self, problem, par, value, reoptimize, opts):
        """Statistic at ``par = value`` (``par`` frozen), others re-optimised or not.

        Returns (stat, nfev, optimize_output or None).
        """
        par.value = value
        if reoptimize and len(problem.free) > 0:
            out, stat = self._run_backend(problem, opts)
            return stat, out["nfev"] + 1, out
        return float(problem.stat_sum()), 1, None

    @with_blas_threads
    def stat_profile(self, datasets, parameter=None, reoptimize=False):
        """Statistic along ``parameter.scan_values_default``.

        Returns
        -------
        result : dict
            ``"<name>_scan"`` (values in the parameter's unit), ``"stat_scan"``,
            ``"fit_results"`` (one `OptimizeResult` per value when ``reoptimize``).
        """
        datasets, parameter = self._shift_args(datasets, parameter)
        problem = self._problem(datasets)
        par = problem.resolve(parameter)
        values = np.asarray(par.scan_values_default, dtype=float)
        stats = np.empty(len(values))
        fit_results = []
        with problem.parameters.restore_status():
            par.frozen = True
            problem.refresh()
            for idx, value in enumerate(_progress(values, reoptimize, f"Scan {par.name}")):
                stat, _, out = self._profile_point(problem, par, value, reoptimize, self.optimize_opts)
                stats[idx] = stat
                if out is not None:
                    fit_results.append(self._result_from(problem, out, stat))
        problem.stat_sum()
        return {f"{par.name}_scan": values, "stat_scan": stats, "fit_results": fit_results}

    @with_blas_threads
    def stat_surface(self, datasets, x, y=None, reoptimize=False):
        """Statistic on the grid of ``x.scan_values_default`` by ``y.scan_values_default``.

        Returns
        -------
        result : dict
            ``"<x>_scan"``, ``"<y>_scan"``, ``"stat_scan"`` of shape (nx, ny) and
            ``"fit_results"`` (nested lists when ``reoptimize``).
        """
        if y is None and self._datasets is not None:
            datasets, x, y = self._datasets, datasets, x
        problem = self._problem(datasets)
        par_x, par_y = problem.resolve(x), problem.resolve(y)
        if par_x is par_y:
            raise ValueError(f"Fit: stat_surface needs two different parameters, got {par_x.name!r} twice")
        xs = np.asarray(par_x.scan_values_default, dtype=float)
        ys = np.asarray(par_y.scan_values_default, dtype=float)
        stats = np.empty((len(xs), len(ys)))
        fit_results = []
        grid = [(i, j) for i in range(len(xs)) for j in range(len(ys))]
        with problem.parameters.restore_status():
            par_x.frozen = par_y.frozen = True
            problem.refresh()
            row = []
            for i, j in _progress(grid, reoptimize, f"Surface {par_x.name}, {par_y.name}"):
                par_x.value = xs[i]
                stat, _, out = self._profile_point(problem, par_y, ys[j], reoptimize, self.optimize_opts)
                stats[i, j] = stat
                if out is not None:
                    row.append(self._result_from(problem, out, stat))
                    if j == len(ys) - 1:
                        fit_results.append(row)
                        row = []
        problem.stat_sum()
        name_x, name_y = par_x.name, par_y.name
        if name_x == name_y:
            name_y = f"{name_y}_1"
        return {f"{name_x}_scan": xs, f"{name_y}_scan": ys, "stat_scan": stats, "fit_results": fit_results}

    def _result_from(self, problem, out, stat):
        return OptimizeResult(
            backend=self.backend, method=out["method"], success=out["success"],
            message=out["message"], nfev=out["nfev"], total_stat=stat,
            parameters=problem.parameters, minuit=out["minuit"],
        )


def _warn_short(check):
    if check is not None and check.edm > EDM_WARNING:
        log.warning(
            "Fit: the parameters are not at the minimum: the statistic can still decrease by %.2g "
            "(the minimum is about %.2f sigma away); run the fit again from here or lower "
            "optimize_opts['tol']", check.edm, np.sqrt(check.edm),
        )


def _warn_inert(inert):
    if inert:
        log.warning(
            "Fit: %d free parameter(s) do not change the statistic (e.g. background norms "
            "of energy bins outside the fit mask) and are left where they are, without "
            "error: %s", len(inert), ", ".join(p.name for p in inert),
        )


def _state(free):
    return tuple((id(p), p.factor, p.scale) for p in free)


def _progress(items, reoptimize, desc):
    """Iterate with a tqdm bar when the loop is long enough to be worth one."""
    n_items = len(items)
    if n_items < (10 if reoptimize else 200):
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=n_items, leave=False)


class _ProfileConfidence:
    """Interval where the (profiled) statistic rises by ``sigma ** 2``, by root finding."""

    def __init__(self, fit, problem, par, reoptimize):
        self.fit = fit
        self.problem = problem
        self.par = par
        self.reoptimize = reoptimize
        self.nfev = 0
        self.opts = fit.confidence_opts

    def stat(self, value):
        stat, nfev, _ = self.fit._profile_point(self.problem, self.par, value, self.reoptimize, self.opts)
        self.nfev += nfev
        return stat

    def run(self, sigma):
        from scipy.optimize import brentq

        par, problem = self.par, self.problem
        value0 = par.value
        par.frozen = True
        problem.refresh()
        state = [(p, p.factor, p.scale) for p in problem.free]
        stat0 = self.stat(value0)
        target = stat0 + sigma ** 2
        step = par.error if par.error > 0 else (0.1 * abs(value0) or 1.0)
        errors, success, messages = {}, True, []
        for sign, key, bound in ((1, "errp", par.max), (-1, "errn", par.min)):
            for p, factor, scale in state:  # each side starts from the best fit
                p._scale, p._factor = scale, factor
            lo, dist, found = value0, step, False
            for _ in range(40):
                value = value0 + sign * dist
                at_bound = np.isfinite(bound) and sign * (value - bound) >= 0
                if at_bound:
                    value = bound
                if self.stat(value) >= target:
                    found = True
                    break
                if at_bound:
                    break
                lo, dist = value, dist * 2
            if not found:
                errors[key] = np.nan
                success = False
                messages.append(f"{key}: statistic does not rise by {sigma ** 2:g} within the bounds")
                continue
            a, b = sorted((lo, value))
            root = brentq(lambda v: self.stat(v) - target, a, b, xtol=1e-6 * step, rtol=1e-10)
            errors[key] = abs(root - value0)
        message = "Confidence terminated successfully." if success else "; ".join(messages)
        return {"success": success, "errp": errors["errp"], "errn": errors["errn"],
                "nfev": self.nfev, "message": message}
