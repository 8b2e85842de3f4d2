"""Tests of the published Crab spectra (amplitudes from the papers cited in the module)."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.modeling.models import (
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    MeyerCrabSpectralModel,
    PowerLawSpectralModel,
    create_crab_spectral_model,
)

# dnde at 1 TeV = the published amplitude (times the cutoff where there is one)
PUBLISHED = {
    "hegra": 2.83e-11,
    "hess_pl": 3.45e-11,
    "hess_ecpl": 3.76e-11 * np.exp(-1 / 14.3),
    "hess_lp": 3.55e-11,
    "magic_lp": 3.23e-11,
    "magic_ecpl": 3.80e-11 * np.exp(-1 / 6.0),
}


@pytest.mark.parametrize("reference", sorted(PUBLISHED))
def test_crab_amplitudes(reference):
    model = create_crab_spectral_model(reference)
    assert model(1 * u.TeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(PUBLISHED[reference], rel=1e-6, abs=0)


def test_crab_model_types_and_values():
    assert isinstance(create_crab_spectral_model("hess_pl"), PowerLawSpectralModel)
    ecpl = create_crab_spectral_model("hess_ecpl")
    assert isinstance(ecpl, ExpCutoffPowerLawSpectralModel)
    assert ecpl.index.value == 2.39
    assert ecpl.lambda_.quantity.to_value("TeV-1") == pytest.approx(1 / 14.3)
    lp = create_crab_spectral_model("magic_lp")
    assert isinstance(lp, LogParabolaSpectralModel)
    # MAGIC beta 0.24 in log10 convention -> natural log
    assert lp.beta.value == pytest.approx(0.24 / np.log(10))
    # a new instance each call
    assert create_crab_spectral_model("hess_pl") is not create_crab_spectral_model("hess_pl")
    with pytest.raises(ValueError, match="meyer"):
        create_crab_spectral_model("nonexistent")


def test_meyer():
    model = create_crab_spectral_model()
    assert isinstance(model, MeyerCrabSpectralModel)
    # at 1 TeV log10(E^2 dnde / erg cm-2 s-1) = p_0 = -10.2795
    e2dnde = (model(1 * u.TeV) * (1 * u.TeV) ** 2).to_value("erg cm-2 s-1")
    assert e2dnde == pytest.approx(10 ** -10.2795, rel=1e-6, abs=0)
    # at 10 TeV the sum of the coefficients
    e2dnde = (model(10 * u.TeV) * (10 * u.TeV) ** 2).to_value("erg cm-2 s-1")
    assert e2dnde == pytest.approx(10 ** sum(MeyerCrabSpectralModel.coefficients), rel=1e-6, abs=0)
