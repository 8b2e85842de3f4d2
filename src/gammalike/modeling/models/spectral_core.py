"""Spectral model base class, log-energy quadrature and model arithmetic.

Every spectral model exposes two layers:

* a float fast path used inside likelihoods (``dnde_float``, ``integral_float``,
  ``energy_flux_float``): float64 arrays in TeV and cm-2 s-1 TeV-1, no Quantity;
* the public Quantity API (``model(energy)``, ``integral``, ``energy_flux``,
  their errors, ``plot``...), which converts once at the edges.

Integrals are closed form where a model overrides ``_integral`` /
``_energy_flux``; otherwise a fixed Gauss-Legendre rule in ln(E) is used
(`integrate_log`).
"""
import operator

import numpy as np
from astropy import units as u

from ..parameter import Parameter, Parameters
from .core import ModelBase, MODEL_REGISTRY

__all__ = [
    "SpectralModel",
    "CompoundSpectralModel",
    "ScaleSpectralModel",
    "integrate_log",
    "DNDE_UNIT",
    "FLUX_UNIT",
    "EFLUX_UNIT",
]

#: Internal units of the fast path.
ENERGY_UNIT = u.TeV
DNDE_UNIT = u.Unit("cm-2 s-1 TeV-1")
FLUX_UNIT = u.Unit("cm-2 s-1")
EFLUX_UNIT = u.Unit("TeV cm-2 s-1")

# Gauss-Legendre rule in ln(E): 12 nodes per sub-interval of at most 0.7 in
# ln(E) (a factor 2 in energy).  The integrand E f(E) of the smooth spectral
# models is an entire function of ln(E) there, and the 12-node rule (exact to
# degree 23) is accurate to < 1e-10 for power laws with cutoffs or curvature
# over such an interval.
_GL_ORDER = 12
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)
_MAX_SUB_WIDTH = 0.7


def _nodes(n_sub):
    t = ((np.arange(n_sub)[:, None] + 0.5 * (_GL_X[None, :] + 1.0)) / n_sub).ravel()
    w = np.tile(_GL_W, n_sub) / (2.0 * n_sub)
    return t, w


_NODE_CACHE = {}


def integrate_log(func, energy_min, energy_max, power=0, max_width=_MAX_SUB_WIDTH):
    """Integrate ``func(E) * E**power`` from ``energy_min`` to ``energy_max``.

    Fixed, vectorized Gauss-Legendre quadrature in ln(E): every interval is
    cut into the same number of sub-intervals, chosen so that the widest
    interval's pieces are at most 0.7 wide in ln(E).

    Parameters
    ----------
    func : callable
        Float function of an energy array (any shape, TeV).
    energy_min, energy_max : array-like
        Integration bounds (TeV, > 0), broadcast together.
    power : float
        Extra power of energy in the integrand (1 for energy fluxes).
    max_width : float
        Largest sub-interval width in ln(E) (0.7 by default; tabulated models
        with structure on finer scales pass less).

    Returns
    -------
    integral : `~numpy.ndarray`
        One value per interval, shape of the broadcast bounds.
    """
    emin, emax = np.broadcast_arrays(np.asarray(energy_min, dtype=float),
                                     np.asarray(energy_max, dtype=float))
    lo = np.log(emin)
    width = np.log(emax) - lo
    if width.size == 0:
        return np.zeros(width.shape)
    widest = np.nanmax(np.abs(width))
    n_sub = max(1, int(np.ceil(widest / max_width))) if np.isfinite(widest) else 1
    nodes = _NODE_CACHE.get(n_sub)
    if nodes is None:
        nodes = _NODE_CACHE.setdefault(n_sub, _nodes(n_sub))
    t, w = nodes
    energy = np.exp(lo[..., None] + width[..., None] * t)
    values = func(energy) * energy ** (power + 1)
    return values @ w * width


class SpectralModel(ModelBase):
    """Base class of spectral models.

    Subclasses define the parameters (class attributes), ``tag`` and a static
    ``evaluate(energy, *pars)`` on floats in internal units.  They may
    override ``_integral(emin, emax, *pars)`` and ``_energy_flux`` with closed
    forms; the default is `integrate_log`.
    """

    _family = "spectral"
    _abstract = True
    #: Unit of ``evaluate`` (norm models: dimensionless).
    _dnde_unit = DNDE_UNIT
    #: Whether the model is a dimensionless factor applied to another model.
    is_norm_spectral_model = False
    #: Widest Gauss-Legendre sub-interval in ln(E) used by `integrate_log`.
    _quad_width = _MAX_SUB_WIDTH

    @staticmethod
    def evaluate(energy, *pars):
        raise NotImplementedError

    # -- float fast path ------------------------------------------------
    def dnde_float(self, energy):
        """dN/dE at ``energy`` (TeV floats) in cm-2 s-1 TeV-1 (norm models: dimensionless)."""
        return self.evaluate(np.asarray(energy, dtype=float), *self.parameter_values())

    def integral_float(self, energy_min, energy_max):
        """Integral of dN/dE between bounds in TeV: cm-2 s-1 (norm models: TeV)."""
        return self._integral(np.asarray(energy_min, dtype=float),
                              np.asarray(energy_max, dtype=float), *self.parameter_values())

    def energy_flux_float(self, energy_min, energy_max):
        """Integral of E dN/dE between bounds in TeV: TeV cm-2 s-1."""
        return self._energy_flux(np.asarray(energy_min, dtype=float),
                                 np.asarray(energy_max, dtype=float), *self.parameter_values())

    def _integral(self, emin, emax, *pars):
        return integrate_log(lambda e: self.evaluate(e, *pars), emin, emax,
                             max_width=self._quad_width)

    def _energy_flux(self, emin, emax, *pars):
        return integrate_log(lambda e: self.evaluate(e, *pars), emin, emax, power=1,
                             max_width=self._quad_width)

    # -- units ----------------------------------------------------------
    @property
    def dnde_unit(self):
        """Unit of dN/dE as returned by ``model(energy)``."""
        return self._dnde_unit

    @property
    def flux_unit(self):
        return self.dnde_unit * ENERGY_UNIT

    @property
    def eflux_unit(self):
        return self.dnde_unit * ENERGY_UNIT ** 2

    # -- Quantity API ---------------------------------------------------
    def __call__(self, energy):
        """dN/dE at ``energy`` (Quantity)."""
        energy = _energy_value(energy)
        return u.Quantity(self.dnde_float(energy), self.dnde_unit)

    def integral(self, energy_min, energy_max, **kwargs):
        """Integral flux between ``energy_min`` and ``energy_max`` (Quantities)."""
        values = self.integral_float(_energy_value(energy_min), _energy_value(energy_max))
        return u.Quantity(values, self.flux_unit)

    def energy_flux(self, energy_min, energy_max, **kwargs):
        """Energy flux between ``energy_min`` and ``energy_max`` (Quantities)."""
        values = self.energy_flux_float(_energy_value(energy_min), _energy_value(energy_max))
        return u.Quantity(values, self.eflux_unit)

    def _propagate(self, func, epsilon=1e-4):
        """Value of ``func()`` and its error from the model covariance.

        Central numerical derivatives with respect to every parameter of
        non-zero variance, step ``epsilon`` times the parameter's error, then
        ``sigma^2 = J C J^T``.
        """
        value = np.asarray(func(), dtype=float)
        parameters = self.parameters
        covar = self.covariance.data
        sigma = np.sqrt(np.clip(np.diag(covar), 0, None))
        idx = np.flatnonzero(sigma > 0)
        if idx.size == 0:
            return value, np.zeros_like(value)
        jac = []
        # A parameter shared by two components of a compound model appears twice:
        # perturbing the object once gives the total derivative, so the other
        # occurrences get a zero row (the covariance rows are duplicates).
        seen = set()
        for i in idx:
            par = parameters[int(i)]
            if id(par) in seen:
                jac.append(np.zeros_like(value))
                continue
            seen.add(id(par))
            step = epsilon * sigma[i]
            old = par.value
            try:
                par.value = old + step
                up = np.asarray(func(), dtype=float)
                par.value = old - step
                down = np.asarray(func(), dtype=float)
            finally:
                par.value = old
            jac.append((up - down) / (2 * step))
        jac = np.array(jac)
        sub = covar[np.ix_(idx, idx)]
        variance = np.einsum("i...,ij,j...->...", jac, sub, jac)
        return value, np.sqrt(np.clip(variance, 0, None))

    def evaluate_error(self, energy, epsilon=1e-4):
        """dN/dE and its error (from the covariance) at ``energy``.

        Returns
        -------
        dnde : `~astropy.units.Quantity`
            Array of shape ``(2,) + energy.shape``: value and error.
        """
        energy = _energy_value(energy)
        value, error = self._propagate(lambda: self.dnde_float(energy), epsilon)
        return u.Quantity(np.stack([value, error]), self.dnde_unit)

    def integral_error(self, energy_min, energy_max, epsilon=1e-4, **kwargs):
        """Integral flux and its error: Quantity of shape ``(2,) + bounds shape``."""
        emin, emax = _energy_value(energy_min), _energy_value(energy_max)
        value, error = self._propagate(lambda: self.integral_float(emin, emax), epsilon)
        return u.Quantity(np.stack([value, error]), self.flux_unit)

    def energy_flux_error(self, energy_min, energy_max, epsilon=1e-4, **kwargs):
        """Energy flux and its error: Quantity of shape ``(2,) + bounds shape``."""
        emin, emax = _energy_value(energy_min), _energy_value(energy_max)
        value, error = self._propagate(lambda: self.energy_flux_float(emin, emax), epsilon)
        return u.Quantity(np.stack([value, error]), self.eflux_unit)

    def spectral_index(self, energy, epsilon=1e-5):
        """Local spectral index ``-d ln(dN/dE) / d ln(E)`` (numerical derivative)."""
        energy = _energy_value(energy)
        f_up = self.dnde_float(energy * (1 + epsilon))
        f_down = self.dnde_float(energy / (1 + epsilon))
        return -(np.log(f_up) - np.log(f_down)) / (2 * np.log1p(epsilon))

    def spectral_index_error(self, energy, epsilon=1e-5):
        """Spectral index and its error: array of shape ``(2,) + energy.shape``."""
        value, error = self._propagate(lambda: self.spectral_index(energy, epsilon))
        return np.stack([value, error])

    def inverse(self, value, energy_min=0.1 * u.TeV, energy_max=100 * u.TeV):
        """Energy at which dN/dE equals ``value`` (root search in ln E between the bounds).

        NaN where there is no sign change of ``dnde - value`` between the bounds.
        """
        from scipy.optimize import brentq

        value = u.Quantity(value)
        target = np.atleast_1d(value.to_value(self.dnde_unit))
        lo, hi = np.log(_energy_value(energy_min)), np.log(_energy_value(energy_max))
        out = np.full(target.shape, np.nan)
        for i, val in enumerate(target.ravel()):
            def fn(x):
                return np.log(self.dnde_float(np.exp(x))) - np.log(val)
            try:
                f_lo, f_hi = fn(lo), fn(hi)
                if np.sign(f_lo) != np.sign(f_hi):
                    out.flat[i] = np.exp(brentq(fn, lo, hi, xtol=1e-12, rtol=1e-12))
            except (ValueError, FloatingPointError):
                pass
        out = out.reshape(target.shape)
        if np.ndim(value) == 0:
            out = out[0]
        return u.Quantity(out, ENERGY_UNIT)

    def reference_fluxes(self, energy_min, energy_max):
        """Reference fluxes of this model in energy bins, as `FluxPoints` need them.

        Returns
        -------
        fluxes : dict
            ``e_ref`` (geometric bin centre), ``ref_flux``, ``ref_dnde``,
            ``ref_eflux`` and ``ref_e2dnde`` (Quantities).
        """
        emin, emax = _energy_value(energy_min), _energy_value(energy_max)
        e_ref = np.sqrt(emin * emax)
        dnde = self.dnde_float(e_ref)
        return {
            "e_ref": u.Quantity(e_ref, ENERGY_UNIT),
            "ref_flux": u.Quantity(self.integral_float(emin, emax), self.flux_unit),
            "ref_dnde": u.Quantity(dnde, self.dnde_unit),
            "ref_eflux": u.Quantity(self.energy_flux_float(emin, emax), self.eflux_unit),
            "ref_e2dnde": u.Quantity(e_ref ** 2 * dnde, self.eflux_unit),
        }

    # -- plotting -------------------------------------------------------
    def plot(self, energy_bounds=None, ax=None, sed_type="dnde", energy_power=0, n_points=100,
             **kwargs):
        """Plot the model on log-log, unit-aware axes; see `~.spectral_plot.plot_spectrum`.

        Default units (`gammalike.utils.plot_units`): energy in TeV, dnde in
        cm-2 s-1 TeV-1, e2dnde and eflux in erg cm-2 s-1, flux in cm-2 s-1
        (``yunits`` / ``xunits`` change them; axes that already carry units
        keep them).  The axes accept Quantity limits afterwards.
        """
        from .spectral_plot import plot_spectrum

        return plot_spectrum(self, energy_bounds, ax=ax, sed_type=sed_type,
                             energy_power=energy_power, n_points=n_points, **kwargs)

    def plot_error(self, energy_bounds=None, ax=None, sed_type="dnde", energy_power=0,
                   n_points=100, **kwargs):
        """Plot the 1-sigma band from the covariance; see `~.spectral_plot.plot_spectrum_error`.

        A band reaching zero runs off the bottom of the log axes without
        stretching its limits.
        """
        from .spectral_plot import plot_spectrum_error

        return plot_spectrum_error(self, energy_bounds, ax=ax, sed_type=sed_type,
                                   energy_power=energy_power, n_points=n_points, **kwargs)

    # -- arithmetic -----------------------------------------------------
    def __add__(self, other):
        return CompoundSpectralModel(self, _as_model(other), operator.add)

    def __radd__(self, other):
        return CompoundSpectralModel(_as_model(other), self, operator.add)

    def __sub__(self, other):
        return CompoundSpectralModel(self, _as_model(other), operator.sub)

    def __rsub__(self, other):
        return CompoundSpectralModel(_as_model(other), self, operator.sub)

    def __mul__(self, other):
        if isinstance(other, (int, float, np.number)):
            return ScaleSpectralModel(self, norm=float(other))
        return CompoundSpectralModel(self, other, operator.mul)

    def __rmul__(self, other):
        if isinstance(other, (int, float, np.number)):
            return ScaleSpectralModel(self, norm=float(other))
        return CompoundSpectralModel(other, self, operator.mul)

    def __truediv__(self, other):
        if isinstance(other, (int, float, np.number)):
            return ScaleSpectralModel(self, norm=1.0 / float(other))
        return CompoundSpectralModel(self, other, operator.truediv)

    def __pos__(self):
        return self

    def __neg__(self):
        return ScaleSpectralModel(self, norm=-1.0)


def _as_model(other):
    if isinstance(other, SpectralModel):
        return other
    raise TypeError(
        f"Spectral model arithmetic needs two spectral models, got {type(other).__name__}"
    )


def _energy_value(energy):
    """Energy Quantity (or float in TeV) to float array in TeV."""
    if isinstance(energy, u.Quantity):
        return energy.to_value(ENERGY_UNIT)
    if isinstance(energy, str):
        return u.Quantity(energy).to_value(ENERGY_UNIT)
    if isinstance(energy, (list, tuple)) and energy and isinstance(energy[0], u.Quantity):
        return u.Quantity(energy).to_value(ENERGY_UNIT)
    return np.asarray(energy, dtype=float)


_OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
}


class _NestedSpectralModel(SpectralModel):
    """Spectral model whose parameters are those of other spectral models."""

    _abstract = True

    def _submodels(self):
        raise NotImplementedError

    @property
    def _quad_width(self):
        return min(m._quad_width for m in self._submodels())

    @property
    def parameters(self):
        return Parameters.from_stack([m.parameters for m in self._submodels()])

    def parameter_values(self):
        return tuple(v for m in self._submodels() for v in m.parameter_values())

    def unfreeze(self):
        for model in self._submodels():
            model.unfreeze()

    def _update_parameters_from_dict(self, pars):
        raise NotImplementedError


class CompoundSpectralModel(_NestedSpectralModel):
    """Arithmetic combination of two spectral models: ``model1 <operator> model2``.

    Parameters
    ----------
    model1, model2 : `SpectralModel`
        Operands (their parameter objects are shared, not copied).
    operator : callable or str
        One of `operator.add`, `sub`, `mul`, `truediv` (or their names).
    """

    tag = ["CompoundSpectralModel", "compound"]

    def __init__(self, model1, model2, operator):
        if isinstance(operator, str):
            if operator not in _OPERATORS:
                raise ValueError(
                    f"CompoundSpectralModel: unknown operator {operator!r}; "
                    f"expected one of {list(_OPERATORS)}"
                )
            operator = _OPERATORS[operator]
        if operator.__name__ not in _OPERATORS:
            raise ValueError(
                f"CompoundSpectralModel: unsupported operator {operator.__name__!r}; "
                f"expected one of {list(_OPERATORS)}"
            )
        self.model1 = model1
        self.model2 = model2
        self.operator = operator
        self._covariance = None

    def _submodels(self):
        return (self.model1, self.model2)

    @property
    def dnde_unit(self):
        name = self.operator.__name__
        if name in ("add", "sub"):
            return self.model1.dnde_unit
        if name == "mul":
            return self.model1.dnde_unit * self.model2.dnde_unit
        return self.model1.dnde_unit / self.model2.dnde_unit

    @property
    def is_norm_spectral_model(self):
        return self.model1.is_norm_spectral_model and self.model2.is_norm_spectral_model

    def dnde_float(self, energy):
        energy = np.asarray(energy, dtype=float)
        return self.operator(self.model1.dnde_float(energy), self.model2.dnde_float(energy))

    def integral_float(self, energy_min, energy_max):
        name = self.operator.__name__
        if name in ("add", "sub"):
            # linear: exact when both operands are
            return self.operator(self.model1.integral_float(energy_min, energy_max),
                                 self.model2.integral_float(energy_min, energy_max))
        return integrate_log(self.dnde_float, energy_min, energy_max, max_width=self._quad_width)

    def energy_flux_float(self, energy_min, energy_max):
        name = self.operator.__name__
        if name in ("add", "sub"):
            return self.operator(self.model1.energy_flux_float(energy_min, energy_max),
                                 self.model2.energy_flux_float(energy_min, energy_max))
        return integrate_log(self.dnde_float, energy_min, energy_max, power=1,
                             max_width=self._quad_width)

    def to_dict(self, full_output=False):
        return {
            "type": self.type_name,
            "model1": self.model1.to_dict(full_output),
            "model2": self.model2.to_dict(full_output),
            "operator": self.operator.__name__,
        }

    @classmethod
    def from_dict(cls, data, **kwargs):
        for key in ("model1", "model2", "operator"):
            if key not in data:
                raise KeyError(f"CompoundSpectralModel YAML: missing key {key!r}")
        model1 = SpectralModel.from_dict(data["model1"])
        model2 = SpectralModel.from_dict(data["model2"])
        return cls(model1, model2, data["operator"])

    def __str__(self):
        return (f"{self.__class__.__name__}\n"
                f"    Component 1 : {self.model1}\n"
                f"    Component 2 : {self.model2}\n"
                f"    Operator : {self.operator.__name__}\n")

    def __repr__(self):
        return f"CompoundSpectralModel({self.model1!r}, {self.model2!r}, {self.operator.__name__})"


class ScaleSpectralModel(_NestedSpectralModel):
    """A spectral model multiplied by a free factor ``norm``.

    Parameters
    ----------
    model : `SpectralModel`
        Model to scale.
    norm : float or `Parameter`
        Factor (default 1).
    """

    tag = ["ScaleSpectralModel", "scale"]
    norm = Parameter("norm", 1.0, is_norm=True)

    def __init__(self, model, norm=1.0):
        self.model = model
        super().__init__(norm=norm)

    def _submodels(self):
        return (self.model,)

    @property
    def parameters(self):
        return Parameters([self.norm]) + self.model.parameters

    def parameter_values(self):
        return (self.norm.value,) + self.model.parameter_values()

    def unfreeze(self):
        self.norm.frozen = False
        self.model.unfreeze()

    @property
    def dnde_unit(self):
        return self.model.dnde_unit

    @property
    def is_norm_spectral_model(self):
        return self.model.is_norm_spectral_model

    def dnde_float(self, energy):
        return self.norm.value * self.model.dnde_float(energy)

    def integral_float(self, energy_min, energy_max):
        return self.norm.value * self.model.integral_float(energy_min, energy_max)

    def energy_flux_float(self, energy_min, energy_max):
        return self.norm.value * self.model.energy_flux_float(energy_min, energy_max)

    def to_dict(self, full_output=False):
        return {
            "type": self.type_name,
            "parameters": [self.norm.to_dict()],
            "model": self.model.to_dict(full_output),
        }

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "model" not in data:
            raise KeyError("ScaleSpectralModel YAML: missing key 'model'")
        model = cls(SpectralModel.from_dict(data["model"]))
        for item in data.get("parameters", []):
            if item.get("name") != "norm":
                raise ValueError(
                    f"ScaleSpectralModel: unknown parameter {item.get('name')!r} in YAML; expected ['norm']"
                )
            model.norm.update_from_dict(item)
        return model


# Registry hook used by SpectralModel.from_dict for abstract bases.
SPECTRAL_REGISTRY = MODEL_REGISTRY["spectral"]
