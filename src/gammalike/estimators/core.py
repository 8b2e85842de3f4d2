"""`Estimator`: the shared shape of all estimators (configured callables).

The constructor takes and validates every option; ``run(...)`` does the work
and returns a new object.  This base class holds what the estimators share:

- ``n_sigma`` (asymmetric errors at ``stat_best + n_sigma**2``) and
  ``n_sigma_ul`` (upper limits at ``stat_best + n_sigma_ul**2``);
- ``selection_optional``: None (only the always-computed quantities),
  ``"all"`` or a list taken from the estimator's ``_available_selection_optional``;
- the ``norm`` options of the estimators that fit an amplitude: a
  `~gammalike.modeling.Parameter` named "norm" whose ``min`` / ``max`` bound
  the fit and whose scan settings (``scan_min``, ``scan_max``,
  ``scan_n_values``, ``scan_values``, ``interp``) give the likelihood-profile
  grid.  Default: unbounded (norms may be negative; the data bound them, see
  `gammalike.estimators.norm_kernel`), scan 0.2 to 5 in 11 log-spaced values.
"""
import copy

import numpy as np

from ..modeling import Parameter

__all__ = ["Estimator", "make_norm_parameter", "DEFAULT_NORM_SCAN"]

#: Default likelihood-profile grid of the norm (log-spaced).
DEFAULT_NORM_SCAN = {"scan_min": 0.2, "scan_max": 5.0, "scan_n_values": 11}


def make_norm_parameter(norm=None, norm_min=None, norm_max=None, norm_n_values=None,
                        norm_values=None):
    """The "norm" `Parameter` of an estimator from the user's options.

    Parameters
    ----------
    norm : `~gammalike.modeling.Parameter` or dict, optional
        A Parameter (copied) or keyword arguments of one (``min``, ``max``,
        ``scan_min``, ``scan_max``, ``scan_n_values``, ``scan_values``, ``interp``).
    norm_min, norm_max : float, optional
        Scan range (the older gammapy keywords; they set ``scan_min`` / ``scan_max``).
    norm_n_values : int, optional
        Number of scan values.
    norm_values : array_like, optional
        Explicit scan values.

    Returns
    -------
    norm : `~gammalike.modeling.Parameter`
    """
    if isinstance(norm, Parameter):
        par = norm.copy()
        if par.name != "norm":
            raise ValueError(f"Estimator: the norm parameter must be named 'norm', got {par.name!r}")
    else:
        options = dict(norm or {})
        unknown = set(options) - {"value", "min", "max", "scan_min", "scan_max", "scan_n_values",
                                  "scan_values", "interp", "frozen"}
        if unknown:
            raise ValueError(f"Estimator: unknown norm options {sorted(unknown)}")
        kwargs = {"interp": "log", **DEFAULT_NORM_SCAN, **options}
        par = Parameter("norm", kwargs.pop("value", 1.0), is_norm=True, **kwargs)
    if norm_min is not None:
        par.scan_min = float(norm_min)
    if norm_max is not None:
        par.scan_max = float(norm_max)
    if norm_n_values is not None:
        par.scan_n_values = int(norm_n_values)
    if norm_values is not None:
        par.scan_values = np.asarray(norm_values, dtype=float)
    return par


def check_energy_edges(energy_edges, owner):
    """Energy edges as an increasing 1D Quantity in TeV, or a clear error naming ``owner``."""
    from astropy import units as u

    edges = u.Quantity(energy_edges)
    if not edges.unit.is_equivalent("TeV"):
        raise u.UnitConversionError(f"{owner}: energy_edges must be energies, got unit '{edges.unit}'")
    edges = edges.to("TeV")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges.value) <= 0):
        raise ValueError(f"{owner}: energy_edges must be >= 2 increasing energies, got {edges}")
    return edges


def check_source(source, owner):
    """A model name or index, or a TypeError naming ``owner``."""
    if not isinstance(source, (str, int, np.integer)):
        raise TypeError(f"{owner}: source must be a name or an index, got {source!r}")
    return source


def _check_sigma(value, what):
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"Estimator: {what} must be a positive number, got {value}")
    return value


class Estimator:
    """Base class of the estimators (see the module doc)."""

    tag = None
    _available_selection_optional = ()

    # -- shared options ---------------------------------------------------
    @property
    def n_sigma(self):
        """Width of the asymmetric errors (in sigma)."""
        return self._n_sigma

    @n_sigma.setter
    def n_sigma(self, value):
        self._n_sigma = _check_sigma(value, "n_sigma")

    @property
    def n_sigma_ul(self):
        """Level of the upper limits (in sigma)."""
        return self._n_sigma_ul

    @n_sigma_ul.setter
    def n_sigma_ul(self, value):
        self._n_sigma_ul = _check_sigma(value, "n_sigma_ul")

    @property
    def selection_optional(self):
        """Optional quantities computed by `run` (list of str)."""
        return self._selection_optional

    @selection_optional.setter
    def selection_optional(self, value):
        available = list(self._available_selection_optional)
        if value is None:
            selection = []
        elif value == "all":
            selection = available
        else:
            selection = [value] if isinstance(value, str) else list(value)
            unknown = [v for v in selection if v not in available]
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}: unknown selection_optional {unknown}; "
                    f"expected None, 'all' or a subset of {available}"
                )
        self._selection_optional = selection

    @property
    def norm(self):
        """The "norm" parameter: fit bounds and scan grid (`~gammalike.modeling.Parameter`)."""
        return self._norm

    @norm.setter
    def norm(self, value):
        self._norm = make_norm_parameter(value)

    def _norm_bounds(self):
        """Fit bounds of the norm as floats (NaN -> unbounded)."""
        lo, hi = self.norm.min, self.norm.max
        return (-np.inf if np.isnan(lo) else lo), (np.inf if np.isnan(hi) else hi)

    def _norm_scan_values(self):
        return np.asarray(self.norm.scan_values_default, dtype=float)

    # -- misc -------------------------------------------------------------
    def copy(self):
        """Deep copy of the estimator."""
        return copy.deepcopy(self)

    def _options(self):
        return {k.lstrip("_"): v for k, v in self.__dict__.items()}

    def __str__(self):
        name = type(self).__name__
        lines = [name, "-" * len(name), ""]
        for key, value in self._options().items():
            if isinstance(value, Parameter):
                value = f"Parameter(min={value.min}, max={value.max}, scan={value.scan_values_default.round(3).tolist()})"
            lines.append(f"  {key:<24}: {value}")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"{type(self).__name__}()"
