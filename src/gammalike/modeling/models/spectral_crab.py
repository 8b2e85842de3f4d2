"""Published Crab nebula spectra."""
import numpy as np
from astropy import units as u

from ..parameter import Parameter
from .spectral import LogParabolaSpectralModel, PowerLawSpectralModel
from .spectral_core import SpectralModel
from .spectral_cutoff import ExpCutoffPowerLawSpectralModel

__all__ = ["MeyerCrabSpectralModel", "create_crab_spectral_model"]

# 1 erg in TeV
_ERG_TO_TEV = u.erg.to(u.TeV)


class MeyerCrabSpectralModel(SpectralModel):
    r"""Crab SED of Meyer, Horns & Zechlin (2010, A&A 523, A2), times ``norm``.

    ``log10(E^2 dN/dE / (erg cm-2 s-1)) = sum_i p_i log10(E / TeV)^i`` with
    ``p = [-10.2795, -0.53963, -0.09889, 0.00617, 0.00254, 0.00041]``
    (their fit of the inverse-Compton component, valid ~1 GeV - 100 TeV).
    """

    tag = ["MeyerCrabSpectralModel", "meyer"]
    norm = Parameter("norm", 1.0, is_norm=True)

    coefficients = np.array([-10.2795, -0.53963, -0.09889, 0.00617, 0.00254, 0.00041])

    @staticmethod
    def evaluate(energy, norm):
        log_e = np.log10(energy)
        # polynomial in log10(E), highest power first for polyval
        log_e2dnde = np.polyval(MeyerCrabSpectralModel.coefficients[::-1], log_e)
        return norm * 10 ** log_e2dnde * _ERG_TO_TEV / energy ** 2


def _crab_models():
    tev = u.Unit("cm-2 s-1 TeV-1")
    return {
        # Meyer et al. 2010, A&A 523, A2
        "meyer": lambda: MeyerCrabSpectralModel(),
        # HEGRA: Aharonian et al. 2004, ApJ 614, 897 (power law)
        "hegra": lambda: PowerLawSpectralModel(
            amplitude=2.83e-11 * tev, index=2.62, reference=1 * u.TeV),
        # H.E.S.S.: Aharonian et al. 2006, A&A 457, 899 (power law fit)
        "hess_pl": lambda: PowerLawSpectralModel(
            amplitude=3.45e-11 * tev, index=2.63, reference=1 * u.TeV),
        # H.E.S.S. 2006, same paper: power law with exponential cutoff, E_c = 14.3 TeV
        "hess_ecpl": lambda: ExpCutoffPowerLawSpectralModel(
            amplitude=3.76e-11 * tev, index=2.39, lambda_=1 / 14.3 * u.Unit("TeV-1"),
            reference=1 * u.TeV),
        # H.E.S.S. 2006, same paper: curved power law E^(-Gamma + beta log10 E) with
        # I0 = 3.55e-11, Gamma = 2.47, beta = -0.24 (log10); natural-log beta = 0.24 / ln 10.
        # (Values quoted from memory of the paper; check against Table 6 before relying on them.)
        "hess_lp": lambda: LogParabolaSpectralModel(
            amplitude=3.55e-11 * tev, alpha=2.47, beta=0.24 / np.log(10), reference=1 * u.TeV),
        # MAGIC: Aleksic et al. 2015, JHEAp 5-6, 30 (log parabola, log10 beta 0.24)
        "magic_lp": lambda: LogParabolaSpectralModel(
            amplitude=3.23e-11 * tev, alpha=2.47, beta=0.24 / np.log(10), reference=1 * u.TeV),
        # MAGIC 2015, same paper: power law with exponential cutoff, E_c = 6.0 TeV
        "magic_ecpl": lambda: ExpCutoffPowerLawSpectralModel(
            amplitude=3.80e-11 * tev, index=2.21, lambda_=1 / 6.0 * u.Unit("TeV-1"),
            reference=1 * u.TeV),
    }


def create_crab_spectral_model(reference="meyer"):
    """Published Crab nebula spectral model.

    Parameters
    ----------
    reference : {"meyer", "hegra", "hess_pl", "hess_ecpl", "hess_lp", "magic_lp", "magic_ecpl"}
        Which publication.

    Returns
    -------
    model : `SpectralModel`
        A new model instance.
    """
    models = _crab_models()
    if reference not in models:
        raise ValueError(
            f"Unknown Crab reference {reference!r}; choose one of {', '.join(models)}"
        )
    return models[reference]()
