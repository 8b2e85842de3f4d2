"""Tests of the cutoff power laws (expected values: closed forms and scipy quad)."""
import numpy as np
import pytest
from astropy import units as u
from scipy.integrate import quad

from gammalike.modeling.models import (
    ExpCutoffPowerLaw3FGLSpectralModel,
    ExpCutoffPowerLawSpectralModel,
    SpectralModel,
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel,
    SuperExpCutoffPowerLaw4FGLSpectralModel,
)

MODELS = [
    # index > 1: quadrature for the flux, closed form (order 0.5 / 1.5) for the energy flux
    ExpCutoffPowerLawSpectralModel(index=1.5, lambda_="1 TeV-1"),
    ExpCutoffPowerLawSpectralModel(index=2.3, lambda_="0.2 TeV-1"),
    # index < 1: closed form for both (incomplete gamma)
    ExpCutoffPowerLawSpectralModel(index=0.5, lambda_="0.2 TeV-1", alpha=1.5),
    ExpCutoffPowerLawSpectralModel(index=2.0, lambda_="0 TeV-1"),
    ExpCutoffPowerLaw3FGLSpectralModel(index=2.1, ecut="5 TeV"),
    SuperExpCutoffPowerLaw4FGLSpectralModel(expfactor=0.01, index_1=1.8, index_2=0.7),
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel(expfactor=0.3, index_1=1.8, index_2=0.7),
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel(expfactor=0.3, index_1=1.8, index_2=0.0),
]
BINS = [(0.5, 0.8), (0.1, 100.0), (1.7, 2.2), (5.0, 40.0), (0.01, 0.02)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_integrals_vs_quad(model):
    emin = np.array([b[0] for b in BINS])
    emax = np.array([b[1] for b in BINS])
    flux = model.integral_float(emin, emax)
    eflux = model.energy_flux_float(emin, emax)
    for i, (lo, hi) in enumerate(BINS):
        ref = quad(lambda e: float(model.dnde_float(np.array(e))), lo, hi, epsrel=1e-12, epsabs=0, limit=200)[0]
        ref_e = quad(lambda e: e * float(model.dnde_float(np.array(e))), lo, hi, epsrel=1e-12, epsabs=0, limit=200)[0]
        assert flux[i] == pytest.approx(ref, rel=1e-6, abs=0)
        assert eflux[i] == pytest.approx(ref_e, rel=1e-6, abs=0)


def test_ecpl_value():
    model = ExpCutoffPowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1",
                                           lambda_="0.1 TeV-1", alpha=2)
    # A (E/E0)^-2 exp(-(lambda E)^alpha) at 10 TeV = 1e-14 exp(-1)
    assert model(10 * u.TeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(1e-14 * np.exp(-1), rel=1e-6, abs=0)
    # peak of E^2 dnde: ((2 - index) / alpha)^(1/alpha) / lambda
    model = ExpCutoffPowerLawSpectralModel(index=1.5, lambda_="0.1 TeV-1")
    assert model.e_peak.to_value("TeV") == pytest.approx(5.0)


def test_ecpl_closed_form_path_is_used():
    model = ExpCutoffPowerLawSpectralModel(index=0.5, lambda_="0.2 TeV-1")
    assert model._use_closed_form(0.5, 0.2, 1.0, 0)
    assert not model._use_closed_form(2.0, 0.2, 1.0, 0)


def test_dr3_series_matches_exact_near_switch():
    # the series used for |b ln x| < 1e-2 agrees with the exact form just outside it
    model = SuperExpCutoffPowerLaw4FGLDR3SpectralModel(expfactor=0.5, index_1=2.0, index_2=0.005)
    energy = np.array([np.exp(1.99), np.exp(2.01)])  # b ln x = 0.00995, 0.01005
    values = model.dnde_float(energy)
    slope = np.log(values[1] / values[0]) / 0.02
    assert np.isfinite(values).all()
    # local index ~ -(index_1 + d ln x) = -3 at ln x = 2 (d = 0.5); smooth across the switch
    assert slope == pytest.approx(-3.0, rel=1e-2, abs=0)


def test_4fgl_value_at_reference():
    model = SuperExpCutoffPowerLaw4FGLSpectralModel(amplitude="1e-12 cm-2 s-1 TeV-1",
                                                    reference="1 TeV")
    # exponent vanishes at the reference energy
    assert model(1 * u.TeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(1e-12, rel=1e-6, abs=0)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_yaml_round_trip(model):
    new = SpectralModel.from_dict(model.to_dict())
    assert type(new) is type(model)
    assert np.array_equal(new.parameters.values, model.parameters.values)
    assert [p.frozen for p in new.parameters] == [p.frozen for p in model.parameters]
