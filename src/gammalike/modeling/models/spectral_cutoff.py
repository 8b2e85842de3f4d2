"""Power laws with exponential cutoffs (IACT and Fermi-LAT catalogue forms)."""
import numpy as np
from scipy.special import gamma, gammainc, gammaincc

from ..parameter import Parameter
from .spectral_core import SpectralModel, integrate_log

__all__ = [
    "ExpCutoffPowerLawSpectralModel",
    "ExpCutoffPowerLaw3FGLSpectralModel",
    "SuperExpCutoffPowerLaw4FGLSpectralModel",
    "SuperExpCutoffPowerLaw4FGLDR3SpectralModel",
]

# Below this value of the incomplete-gamma order s the closed form loses
# precision (gamma(s) ~ 1/s multiplies a difference of numbers close to 1),
# and for s <= 0 scipy has no upper incomplete gamma: use quadrature then.
_MIN_GAMMA_ORDER = 0.1


def _upper_gamma_difference(s, t1, t2):
    """``Gamma(s, t1) - Gamma(s, t2)`` for s > 0, t1 <= t2 (upper incomplete gamma).

    Uses the regularized function whose values are not close to one, to avoid
    cancellation in the tails.
    """
    tail = gammaincc(s, t1) - gammaincc(s, t2)
    head = gammainc(s, t2) - gammainc(s, t1)
    return gamma(s) * np.where(t1 > s, tail, head)


class ExpCutoffPowerLawSpectralModel(SpectralModel):
    r"""Power law with an exponential cutoff.

    ``dnde = amplitude * (E / reference)**-index * exp(-(lambda_ * E)**alpha)``

    Integrals are closed form (incomplete gamma function of order
    ``(1 - index) / alpha``, resp. ``(2 - index) / alpha`` for the energy flux)
    when that order is positive, and Gauss-Legendre quadrature otherwise.
    """

    tag = ["ExpCutoffPowerLawSpectralModel", "ecpl"]
    index = Parameter("index", 1.5)
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    reference = Parameter("reference", "1 TeV", frozen=True)
    lambda_ = Parameter("lambda_", "0.1 TeV-1")
    alpha = Parameter("alpha", 1.0, frozen=True)

    @staticmethod
    def evaluate(energy, index, amplitude, reference, lambda_, alpha):
        pwl = amplitude * (energy / reference) ** (-index)
        return pwl * np.exp(-((lambda_ * energy) ** alpha))

    def _closed_form(self, emin, emax, index, amplitude, reference, lambda_, alpha, power):
        # With t = (lambda E)^alpha:  int A (E/E0)^-G E^p exp(-t) dE
        #   = A E0^G lambda^(G-1-p) / alpha * [Gamma(s, t1) - Gamma(s, t2)],  s = (1 + p - G) / alpha
        s = (1.0 + power - index) / alpha
        t1 = (lambda_ * emin) ** alpha
        t2 = (lambda_ * emax) ** alpha
        factor = amplitude * reference ** index * lambda_ ** (index - 1.0 - power) / alpha
        return factor * _upper_gamma_difference(s, t1, t2)

    def _use_closed_form(self, index, lambda_, alpha, power):
        return lambda_ > 0 and alpha > 0 and (1.0 + power - index) / alpha > _MIN_GAMMA_ORDER

    def _integral(self, emin, emax, *pars):
        index, amplitude, reference, lambda_, alpha = pars
        if self._use_closed_form(index, lambda_, alpha, 0):
            return self._closed_form(emin, emax, *pars, power=0)
        return integrate_log(lambda e: self.evaluate(e, *pars), emin, emax)

    def _energy_flux(self, emin, emax, *pars):
        index, amplitude, reference, lambda_, alpha = pars
        if self._use_closed_form(index, lambda_, alpha, 1):
            return self._closed_form(emin, emax, *pars, power=1)
        return integrate_log(lambda e: self.evaluate(e, *pars), emin, emax, power=1)

    @property
    def e_peak(self):
        """Energy of the E^2 dN/dE maximum: ``((2 - index) / alpha)**(1/alpha) / lambda_``."""
        from astropy import units as u

        index, amplitude, reference, lambda_, alpha = self.parameter_values()
        if index >= 2 or lambda_ <= 0 or alpha <= 0:
            return u.Quantity(np.nan, "TeV")
        return u.Quantity(((2 - index) / alpha) ** (1 / alpha) / lambda_, "TeV")


class ExpCutoffPowerLaw3FGLSpectralModel(SpectralModel):
    r"""Exponential cutoff power law of the 3FGL catalogue.

    ``dnde = amplitude * (E / reference)**-index * exp((reference - E) / ecut)``
    """

    tag = ["ExpCutoffPowerLaw3FGLSpectralModel", "ecpl-3fgl"]
    index = Parameter("index", 1.5)
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    reference = Parameter("reference", "1 TeV", frozen=True)
    ecut = Parameter("ecut", "10 TeV")

    @staticmethod
    def evaluate(energy, index, amplitude, reference, ecut):
        pwl = amplitude * (energy / reference) ** (-index)
        return pwl * np.exp((reference - energy) / ecut)


class SuperExpCutoffPowerLaw4FGLSpectralModel(SpectralModel):
    r"""Super-exponential cutoff power law of 4FGL (DR1/DR2, "PLSuperExpCutoff2").

    ``dnde = amplitude * (E / reference)**-index_1
    * exp(expfactor * (reference**index_2 - E**index_2))``

    Energies in the exponent are in TeV (the catalogue uses MeV: convert
    ``expfactor_TeV = expfactor_MeV * 1e6**index_2``).
    """

    tag = ["SuperExpCutoffPowerLaw4FGLSpectralModel", "secpl-4fgl"]
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    reference = Parameter("reference", "1 TeV", frozen=True)
    expfactor = Parameter("expfactor", 1e-2)
    index_1 = Parameter("index_1", 1.5)
    index_2 = Parameter("index_2", 2.0)

    @staticmethod
    def evaluate(energy, amplitude, reference, expfactor, index_1, index_2):
        pwl = amplitude * (energy / reference) ** (-index_1)
        return pwl * np.exp(expfactor * (reference ** index_2 - energy ** index_2))


class SuperExpCutoffPowerLaw4FGLDR3SpectralModel(SpectralModel):
    r"""Super-exponential cutoff power law of 4FGL-DR3 ("PLSuperExpCutoff4").

    With ``x = E / reference``, ``d = expfactor``, ``b = index_2``:
    ``dnde = amplitude * x**(d / b - index_1) * exp(d / b**2 * (1 - x**b))``;
    where ``|b ln x| < 1e-2`` the series
    ``x**(-index_1 - d/2 ln x - d b/6 ln^2 x - d b^2/24 ln^3 x)`` is used (it
    also covers ``b = 0``), as in the 4FGL-DR3 paper (Abdollahi et al. 2022).
    """

    tag = ["SuperExpCutoffPowerLaw4FGLDR3SpectralModel", "secpl-4fgl-dr3"]
    amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
    reference = Parameter("reference", "1 TeV", frozen=True)
    expfactor = Parameter("expfactor", 1e-2)
    index_1 = Parameter("index_1", 1.5)
    index_2 = Parameter("index_2", 2.0)

    @staticmethod
    def evaluate(energy, amplitude, reference, expfactor, index_1, index_2):
        log_x = np.log(energy / reference)
        b = index_2
        d = expfactor
        b_safe = b if b != 0 else 1.0
        exact = (d / b_safe - index_1) * log_x + d / b_safe ** 2 * (-np.expm1(b_safe * log_x))
        series = -(index_1 + d / 2 * log_x + d * b / 6 * log_x ** 2
                   + d * b ** 2 / 24 * log_x ** 3) * log_x
        small = np.abs(b * log_x) < 1e-2
        return amplitude * np.exp(np.where(small, series, exact))
