"""`ParameterEstimator`: best fit, errors, TS, upper limit and profile of one parameter.

Unlike the norm kernel this works on any parameter, through the full fitter
(`~gammalike.modeling.Fit`): ``optimize`` for the best fit, ``covariance``
for the symmetric error, ``confidence`` (MINOS with minuit) for the
asymmetric errors and the upper limit, ``stat_profile`` for the scan.
"""
import numpy as np

from ..modeling import Fit, Parameter
from .core import Estimator

__all__ = ["ParameterEstimator"]


class ParameterEstimator(Estimator):
    """Estimate one parameter of the datasets' models.

    Parameters
    ----------
    n_sigma : float
        Width of the asymmetric errors.
    n_sigma_ul : float
        Upper-limit level (``stat_best + n_sigma_ul**2``).
    null_value : float
        Parameter value of the null hypothesis for the TS.
    selection_optional : None, "all" or list of {"errn-errp", "ul", "scan"}
        Optional quantities.
    n_scan_values : int
        Number of scan values.
    scan_n_sigma : float
        Scan range: best fit +- ``scan_n_sigma`` errors.
    reoptimize : bool
        Re-optimise the other free parameters for the TS, the errors and the scan.
    fit : `~gammalike.modeling.Fit`, optional
        Fitter (default ``Fit()``).
    """

    tag = "ParameterEstimator"
    _available_selection_optional = ("errn-errp", "ul", "scan")

    def __init__(self, n_sigma=1, n_sigma_ul=2, null_value=1e-150, selection_optional=None,
                 n_scan_values=30, scan_n_sigma=3, reoptimize=True, fit=None):
        self.n_sigma = n_sigma
        self.n_sigma_ul = n_sigma_ul
        self.null_value = float(null_value)
        self.selection_optional = selection_optional
        if int(n_scan_values) < 2:
            raise ValueError(f"ParameterEstimator: n_scan_values must be >= 2, got {n_scan_values}")
        self.n_scan_values = int(n_scan_values)
        self.scan_n_sigma = float(scan_n_sigma)
        self.reoptimize = bool(reoptimize)
        self.fit = fit if fit is not None else Fit()

    def run(self, datasets, parameter):
        """Estimate ``parameter``.

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gammalike.datasets.Datasets`
            Datasets with their models.
        parameter : `~gammalike.modeling.Parameter` or str
            The parameter (a name must be unique among the models' parameters).

        Returns
        -------
        result : dict
            ``<name>``, ``<name>_err``, ``ts``, ``npred`` (per dataset, summed over
            its fit mask), ``stat``, ``success``; ``<name>_errn``/``<name>_errp``,
            ``<name>_ul``, ``<name>_scan``/``stat_scan`` when selected.  The
            models are left at the best fit, frozen states are restored.
        """
        fit = self.fit
        par = _resolve(datasets, parameter)
        name = par.name
        parameters = _parameters(datasets)
        with parameters.restore_status(restore_values=False):
            par.frozen = False
            result_fit = fit.optimize(datasets)
            stat = float(result_fit.total_stat)
            value = par.value
            covariance = fit.covariance(datasets)
            best = [p.value for p in parameters]
            result = {
                name: value,
                f"{name}_err": par.error if covariance.success else np.nan,
                "stat": stat,
                "success": bool(result_fit.success),
                "npred": _npred(datasets),
            }
            if "errn-errp" in self.selection_optional:
                out = fit.confidence(datasets, par, sigma=self.n_sigma, reoptimize=self.reoptimize)
                result[f"{name}_errn"], result[f"{name}_errp"] = out["errn"], out["errp"]
                _set(parameters, best)
            if "ul" in self.selection_optional:
                out = fit.confidence(datasets, par, sigma=self.n_sigma_ul, reoptimize=self.reoptimize)
                result[f"{name}_ul"] = value + out["errp"]
                _set(parameters, best)
            if "scan" in self.selection_optional:
                error = par.error if par.error > 0 else (abs(value) * 0.1 or 1.0)
                saved = (par.scan_values, par.scan_min, par.scan_max, par.scan_n_values)
                par.scan_values = np.linspace(value - self.scan_n_sigma * error,
                                              value + self.scan_n_sigma * error, self.n_scan_values)
                profile = fit.stat_profile(datasets, par, reoptimize=self.reoptimize)
                par.scan_values, par.scan_min, par.scan_max, par.scan_n_values = saved
                result[f"{name}_scan"] = profile[f"{name}_scan"]
                result["stat_scan"] = profile["stat_scan"]
                _set(parameters, best)
            # null hypothesis
            par.value = self.null_value
            par.frozen = True
            free = [p for p in parameters.unique_parameters if not p.frozen]
            if self.reoptimize and free:
                stat_null = float(fit.optimize(datasets).total_stat)
            else:
                stat_null = float(_stat_sum(datasets))
            par.frozen = False
            _set(parameters, best)
        _stat_sum(datasets)  # refresh the datasets' caches at the best fit
        result["stat_null"] = stat_null
        result["ts"] = stat_null - stat
        return result


def _as_list(datasets):
    if isinstance(datasets, (list, tuple)):
        return list(datasets)
    if hasattr(datasets, "__iter__"):
        return list(datasets)
    return [datasets]


def _parameters(datasets):
    from ..modeling import Parameters

    stacks = [d.models.parameters for d in _as_list(datasets) if getattr(d, "models", None) is not None]
    return Parameters.from_stack(stacks).unique_parameters


def _resolve(datasets, parameter):
    parameters = _parameters(datasets)
    if isinstance(parameter, Parameter):
        if parameter not in parameters:
            raise ValueError(f"ParameterEstimator: {parameter.name!r} is not a parameter of the datasets' models")
        return parameter
    matches = [p for p in parameters if p.name == parameter]
    if len(matches) != 1:
        raise ValueError(
            f"ParameterEstimator: {len(matches)} parameters named {parameter!r}; pass the Parameter "
            f"object (parameters: {parameters.names})"
        )
    return matches[0]


def _set(parameters, values):
    for p, v in zip(parameters, values):
        p.value = v


def _stat_sum(datasets):
    return sum(d.stat_sum() for d in _as_list(datasets))


def _npred(datasets):
    """Predicted counts of each dataset summed over its fit mask (NaN without counts)."""
    out = []
    for d in _as_list(datasets):
        if not hasattr(d, "npred") or not hasattr(d, "_mask_array"):
            out.append(np.nan)
            continue
        npred = np.asarray(d.npred().data, float)
        mask = d._mask_array()
        out.append(float(npred.sum() if mask is None else npred[np.asarray(mask, bool).reshape(npred.shape)].sum()))
    return np.array(out)
