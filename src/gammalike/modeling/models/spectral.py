"""Power-law family, log-parabola, constant and Gaussian-line spectral models.

All ``evaluate`` functions work on floats in internal units: energy in TeV,
dnde in cm-2 s-1 TeV-1, integral amplitudes in cm-2 s-1.
"""
import numpy as np
from scipy.special import erf, erfc, exprel

from ..parameter import Parameter
from .spectral_core import SpectralModel

__all__ = [
    "ConstantSpectralModel",
    "PowerLawSpectralModel",
    "PowerLaw2SpectralModel",
    "BrokenPowerLawSpectralModel",
    "SmoothBrokenPowerLawSpectralModel",
    "LogParabolaSpectralModel",
    "GaussianSpectralModel",
    "power_law_integral",
]


def power_law_integral(emin, emax, index, reference=1.0):
    """``integral of (E / reference)**(-index) dE`` from ``emin`` to ``emax``.

    Written as ``reference * x1**g * L * exprel(g L)`` with ``g = 1 - index``,
    ``x1 = emin / reference`` and ``L = ln(emax / emin)``: exact, and smooth
    through ``index = 1`` (where it becomes ``reference * ln(emax / emin)``).
    """
    log_ratio = np.log(emax / emin)
    g = 1.0 - index
    return reference * (emin / reference) ** g * log_ratio * exprel(g * log_ratio)


class ConstantSpectralModel(SpectralModel):
    """Constant dN/dE: ``dnde = const``."""

    tag = ["ConstantSpectralModel", "const"]
    const = Parameter("const", "1e-12 cm-2 s-1 TeV-1", is_norm=True)

    @staticmethod
    def evaluate(energy, const):
        return np.full(np.shape(energy), const, dtype=float)

    def _integral(self, emin, emax, const):
        return const * (emax - emin)

    def _energy_flux(self, emin, emax, const):
        return 0.5 * const * (emax ** 2 - emin ** 2)


class PowerLawSpectralModel(SpectralModel):
    r"""Power law: ``dnde = amplitude * (E / reference) ** -index``."""

    tag = ["PowerLawSpectralModel", "pl"]
    index = Parameter("index", 2.0)
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    reference = Parameter("reference", "1 TeV", frozen=True)

    @staticmethod
    def evaluate(energy, index, amplitude, reference):
        return amplitude * (energy / reference) ** (-index)

    def _integral(self, emin, emax, index, amplitude, reference):
        return amplitude * power_law_integral(emin, emax, index, reference)

    def _energy_flux(self, emin, emax, index, amplitude, reference):
        # E dnde = amplitude * reference * (E / reference)^(1 - index)
        return amplitude * reference * power_law_integral(emin, emax, index - 1, reference)

    def inverse(self, value, energy_min=None, energy_max=None):
        """Energy where dN/dE equals ``value`` (closed form)."""
        from astropy import units as u

        index, amplitude, reference = self.parameter_values()
        ratio = u.Quantity(value).to_value(self.dnde_unit) / amplitude
        return u.Quantity(reference * ratio ** (-1.0 / index), "TeV")

    @property
    def pivot_energy(self):
        """Decorrelation energy ``reference * exp(cov(index, amplitude) / (amplitude var(index)))``."""
        from astropy import units as u

        covar = self.covariance.data
        index, amplitude, reference = self.parameter_values()
        var_index = covar[0, 0]
        if var_index <= 0:
            return u.Quantity(np.nan, "TeV")
        # covariance is in the parameters' own units; amplitude's unit cancels in the ratio
        amp_value = self.amplitude.value
        return u.Quantity(reference * np.exp(covar[0, 1] / (amp_value * var_index)), "TeV")


class PowerLaw2SpectralModel(SpectralModel):
    r"""Power law normalised by its integral between ``emin`` and ``emax``.

    ``dnde = amplitude * E**-index / integral(E**-index, emin, emax)``, so
    ``amplitude`` is the flux in cm-2 s-1 between ``emin`` and ``emax``.
    """

    tag = ["PowerLaw2SpectralModel", "pl-2"]
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1", is_norm=True)
    index = Parameter("index", 2.0)
    emin = Parameter("emin", "0.1 TeV", frozen=True)
    emax = Parameter("emax", "100 TeV", frozen=True)

    @staticmethod
    def evaluate(energy, amplitude, index, emin, emax):
        return amplitude * energy ** (-index) / power_law_integral(emin, emax, index)

    def _integral(self, e1, e2, amplitude, index, emin, emax):
        return amplitude * power_law_integral(e1, e2, index) / power_law_integral(emin, emax, index)

    def _energy_flux(self, e1, e2, amplitude, index, emin, emax):
        return (amplitude * power_law_integral(e1, e2, index - 1)
                / power_law_integral(emin, emax, index))


class BrokenPowerLawSpectralModel(SpectralModel):
    r"""Broken power law: index ``index1`` below ``ebreak``, ``index2`` above.

    ``dnde = amplitude * (E / ebreak) ** -index`` (continuous at ``ebreak``).
    """

    tag = ["BrokenPowerLawSpectralModel", "bpl"]
    index1 = Parameter("index1", 2.0)
    index2 = Parameter("index2", 2.0)
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    ebreak = Parameter("ebreak", "1 TeV")

    @staticmethod
    def evaluate(energy, index1, index2, amplitude, ebreak):
        index = np.where(energy < ebreak, index1, index2)
        return amplitude * (energy / ebreak) ** (-index)

    def _split(self, emin, emax, ebreak):
        lo_max = np.minimum(emax, ebreak)
        hi_min = np.maximum(emin, ebreak)
        lo_min = np.minimum(emin, lo_max)
        hi_max = np.maximum(emax, hi_min)
        return lo_min, lo_max, hi_min, hi_max

    def _integral(self, emin, emax, index1, index2, amplitude, ebreak):
        a, b, c, d = self._split(emin, emax, ebreak)
        return amplitude * (power_law_integral(a, b, index1, ebreak)
                            + power_law_integral(c, d, index2, ebreak))

    def _energy_flux(self, emin, emax, index1, index2, amplitude, ebreak):
        a, b, c, d = self._split(emin, emax, ebreak)
        return amplitude * ebreak * (power_law_integral(a, b, index1 - 1, ebreak)
                                     + power_law_integral(c, d, index2 - 1, ebreak))


class SmoothBrokenPowerLawSpectralModel(SpectralModel):
    r"""Smoothly broken power law.

    ``dnde = amplitude * (E / reference)**-index1
    * (1 + (E / ebreak)**((index2 - index1) / beta))**-beta``
    """

    tag = ["SmoothBrokenPowerLawSpectralModel", "sbpl"]
    index1 = Parameter("index1", 2.0)
    index2 = Parameter("index2", 2.0)
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    ebreak = Parameter("ebreak", "1 TeV")
    reference = Parameter("reference", "1 TeV", frozen=True)
    # The smoothness is degenerate with the break energy and the indices for
    # most data: frozen by default, as in the reference implementation.
    beta = Parameter("beta", 1.0, frozen=True)

    @staticmethod
    def evaluate(energy, index1, index2, amplitude, ebreak, reference, beta):
        pwl = amplitude * (energy / reference) ** (-index1)
        brk = (1 + (energy / ebreak) ** ((index2 - index1) / beta)) ** (-beta)
        return pwl * brk


class LogParabolaSpectralModel(SpectralModel):
    r"""Log parabola, natural-log convention.

    ``dnde = amplitude * x ** (-alpha - beta * ln(x))`` with ``x = E / reference``.
    Use `from_log10` for parameters published with ``log10``.
    """

    tag = ["LogParabolaSpectralModel", "lp"]
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    reference = Parameter("reference", "10 TeV", frozen=True)
    alpha = Parameter("alpha", 2.0)
    beta = Parameter("beta", 1.0)

    @staticmethod
    def evaluate(energy, amplitude, reference, alpha, beta):
        log_x = np.log(energy / reference)
        return amplitude * np.exp(-(alpha + beta * log_x) * log_x)

    @classmethod
    def from_log10(cls, amplitude, reference, alpha, beta):
        """Create from the ``log10`` convention: ``beta_ln = beta_log10 / ln(10)``."""
        return cls(amplitude=amplitude, reference=reference, alpha=alpha,
                   beta=float(beta) / np.log(10))

    @property
    def e_peak(self):
        """Energy of the E^2 dN/dE peak: ``reference * exp((2 - alpha) / (2 beta))`` (NaN if beta <= 0)."""
        from astropy import units as u

        amplitude, reference, alpha, beta = self.parameter_values()
        if beta <= 0:
            return u.Quantity(np.nan, "TeV")
        return u.Quantity(reference * np.exp((2 - alpha) / (2 * beta)), "TeV")


class GaussianSpectralModel(SpectralModel):
    r"""Gaussian line: ``dnde = amplitude / (sigma sqrt(2 pi)) exp(-(E - mean)^2 / (2 sigma^2))``.

    ``amplitude`` is the total flux (cm-2 s-1).
    """

    tag = ["GaussianSpectralModel", "gauss"]
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1", is_norm=True)
    mean = Parameter("mean", "1 TeV")
    sigma = Parameter("sigma", "2 TeV")

    @staticmethod
    def evaluate(energy, amplitude, mean, sigma):
        return (amplitude / (sigma * np.sqrt(2 * np.pi))
                * np.exp(-0.5 * ((energy - mean) / sigma) ** 2))

    def _integral(self, emin, emax, amplitude, mean, sigma):
        z1 = (emin - mean) / (sigma * np.sqrt(2))
        z2 = (emax - mean) / (sigma * np.sqrt(2))
        # erfc differences keep precision in the tails
        upper = erfc(z1) - erfc(z2)
        lower = erfc(-z2) - erfc(-z1)
        middle = erf(z2) - erf(z1)
        diff = np.where(z1 > 0, upper, np.where(z2 < 0, lower, middle))
        return 0.5 * amplitude * diff

    def _energy_flux(self, emin, emax, amplitude, mean, sigma):
        z1 = (emin - mean) / sigma
        z2 = (emax - mean) / sigma
        # int E g dE = mean * int g dE + amplitude sigma / sqrt(2 pi) [exp(-z1^2/2) - exp(-z2^2/2)]
        return (mean * self._integral(emin, emax, amplitude, mean, sigma)
                + amplitude * sigma / np.sqrt(2 * np.pi)
                * (np.exp(-0.5 * z1 ** 2) - np.exp(-0.5 * z2 ** 2)))
