"""Dimensionless spectral "norm" models, applied as factors to another spectrum.

Their ``evaluate`` is dimensionless, so ``integral_float`` returns TeV and
``energy_flux_float`` TeV^2 (times the norm).
"""
import copy

import numpy as np
from astropy import units as u

from ..parameter import Parameter, Parameters
from .spectral import power_law_integral
from .spectral_core import SpectralModel, integrate_log
from .spectral_template import loglog_integral, loglog_interp

__all__ = [
    "PowerLawNormSpectralModel",
    "LogParabolaNormSpectralModel",
    "PiecewiseNormSpectralModel",
]


class _NormSpectralModel(SpectralModel):
    _abstract = True
    _dnde_unit = u.dimensionless_unscaled
    is_norm_spectral_model = True


class PowerLawNormSpectralModel(_NormSpectralModel):
    """Power-law norm: ``norm * (E / reference)**-tilt``."""

    tag = ["PowerLawNormSpectralModel", "pl-norm"]
    norm = Parameter("norm", 1.0, is_norm=True)
    tilt = Parameter("tilt", 0.0, frozen=True)
    reference = Parameter("reference", "1 TeV", frozen=True)

    @staticmethod
    def evaluate(energy, norm, tilt, reference):
        return norm * (energy / reference) ** (-tilt)

    def _integral(self, emin, emax, norm, tilt, reference):
        return norm * power_law_integral(emin, emax, tilt, reference)

    def _energy_flux(self, emin, emax, norm, tilt, reference):
        return norm * reference * power_law_integral(emin, emax, tilt - 1, reference)


class LogParabolaNormSpectralModel(_NormSpectralModel):
    """Log-parabola norm (natural log): ``norm * x**(-alpha - beta ln x)``, ``x = E / reference``."""

    tag = ["LogParabolaNormSpectralModel", "lp-norm"]
    norm = Parameter("norm", 1.0, is_norm=True)
    reference = Parameter("reference", "10 TeV", frozen=True)
    alpha = Parameter("alpha", 0.0)
    beta = Parameter("beta", 0.0)

    @staticmethod
    def evaluate(energy, norm, reference, alpha, beta):
        log_x = np.log(energy / reference)
        return norm * np.exp(-(alpha + beta * log_x) * log_x)


class PiecewiseNormSpectralModel(_NormSpectralModel):
    """Norm interpolated between free values at fixed energy nodes.

    One parameter per node, named ``norm_0``, ``norm_1``...

    Parameters
    ----------
    energy : `~astropy.units.Quantity`
        Node energies (increasing).
    norms : array-like or list of `Parameter`, optional
        Node values (ones by default).
    interp : {"log", "lin"}
        "log": log-log interpolation (a piecewise power law, integrated
        exactly), falling back to values linear in ln E while any norm is
        <= 0 (a fit may cross zero); "lin": values linear in ln E.  Outside
        the nodes the end segments are extrapolated.
    """

    tag = ["PiecewiseNormSpectralModel", "piecewise-norm"]

    def __init__(self, energy, norms=None, interp="log"):
        energy = u.Quantity(energy)
        if energy.ndim != 1 or len(energy) < 2:
            raise ValueError("PiecewiseNormSpectralModel: energy needs at least two nodes (1D)")
        if np.any(np.diff(energy.value) <= 0):
            raise ValueError("PiecewiseNormSpectralModel: energy nodes must increase")
        if interp not in ("log", "lin"):
            raise ValueError(f"PiecewiseNormSpectralModel: interp must be 'log' or 'lin', got {interp!r}")
        if norms is None:
            norms = np.ones(len(energy))
        if len(norms) != len(energy):
            raise ValueError(
                f"PiecewiseNormSpectralModel: {len(norms)} norms for {len(energy)} energy nodes"
            )
        self._energy = energy
        self._energy_tev = energy.to_value("TeV")
        self.interp = interp
        defaults = []
        for idx, value in enumerate(norms):
            name = f"norm_{idx}"
            if isinstance(value, Parameter):
                par = value if value.name == name else _renamed(value, name)
            else:
                par = Parameter(name, float(u.Quantity(value).to_value("")), is_norm=True)
            self.__dict__[name] = par
            default = Parameter(name, 1.0, is_norm=True)
            defaults.append(default)
        self._instance_defaults = Parameters(defaults)
        # products with other models integrate across the nodes' kinks
        self._quad_width = min(0.7, float(np.min(np.diff(np.log(self._energy_tev)))))
        self._internal_units = tuple(u.dimensionless_unscaled for _ in defaults)
        self._covariance = None

    def _defaults(self):
        return self._instance_defaults

    @property
    def energy(self):
        """Node energies."""
        return self._energy

    @property
    def norms(self):
        """The node parameters."""
        return self.parameters

    def _values(self):
        return np.array(self.parameter_values(), dtype=float)

    def _use_log(self, values):
        return self.interp == "log" and np.all(values > 0)

    def dnde_float(self, energy):
        energy = np.asarray(energy, dtype=float)
        values = self._values()
        if self._use_log(values):
            return loglog_interp(energy, self._energy_tev, values)
        return _lin_interp(np.log(energy), np.log(self._energy_tev), values)

    def integral_float(self, energy_min, energy_max):
        values = self._values()
        if self._use_log(values):
            return loglog_integral(energy_min, energy_max, self._energy_tev, values)
        return integrate_log(self.dnde_float, energy_min, energy_max)

    def energy_flux_float(self, energy_min, energy_max):
        values = self._values()
        if self._use_log(values):
            return loglog_integral(energy_min, energy_max, self._energy_tev, values, power=1)
        return integrate_log(self.dnde_float, energy_min, energy_max, power=1)

    def to_dict(self, full_output=False):
        data = super().to_dict(full_output)
        data["energy"] = {"data": self._energy.value.tolist(),
                          "unit": self._energy.unit.to_string("fits")}
        data["interp"] = self.interp
        return data

    @classmethod
    def from_dict(cls, data, **kwargs):
        if "energy" not in data:
            raise KeyError("PiecewiseNormSpectralModel YAML: missing key 'energy'")
        energy = u.Quantity(data["energy"]["data"], data["energy"].get("unit", "TeV"))
        pars = data.get("parameters", [])
        model = cls(energy=energy, interp=data.get("interp", "log"))
        model._update_parameters_from_dict(pars)
        return model


def _renamed(par, name):
    new = copy.copy(par)
    new._name = name
    return new


def _lin_interp(x, xp, fp):
    """Linear interpolation extrapolated with the end segments."""
    idx = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[idx + 1] - fp[idx]) / (xp[idx + 1] - xp[idx])
    return fp[idx] + slope * (x - xp[idx])
