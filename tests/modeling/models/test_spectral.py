"""Tests of the power-law family, log-parabola, constant and Gaussian models.

Reference integrals come from scipy.integrate.quad on the model's own dnde;
closed-form checks state their formula.
"""
import numpy as np
import pytest
from astropy import units as u
from scipy.integrate import quad

from gammalike.modeling.models import (
    BrokenPowerLawSpectralModel,
    ConstantSpectralModel,
    GaussianSpectralModel,
    LogParabolaSpectralModel,
    PowerLaw2SpectralModel,
    PowerLawSpectralModel,
    SmoothBrokenPowerLawSpectralModel,
    SpectralModel,
)
from gammalike.modeling.models.spectral import power_law_integral

# (model, relative tolerance): 1e-6 for closed forms, 1e-5 for quadrature
MODELS = [
    (ConstantSpectralModel(const="2e-12 cm-2 s-1 TeV-1"), 1e-6),
    (PowerLawSpectralModel(index=2.3, amplitude="3e-12 cm-2 s-1 TeV-1"), 1e-6),
    (PowerLawSpectralModel(index=1.0), 1e-6),
    (PowerLawSpectralModel(index=2.0), 1e-6),
    (PowerLaw2SpectralModel(index=2.5, amplitude="1e-11 cm-2 s-1"), 1e-6),
    (PowerLaw2SpectralModel(index=1.0), 1e-6),
    (BrokenPowerLawSpectralModel(index1=1.8, index2=3.1, ebreak="3 TeV"), 1e-6),
    (SmoothBrokenPowerLawSpectralModel(index1=1.7, index2=2.9, ebreak="2 TeV", beta=0.5), 1e-5),
    (LogParabolaSpectralModel(alpha=2.3, beta=0.2, reference="1 TeV"), 1e-5),
    (LogParabolaSpectralModel(alpha=1.6, beta=0.04, reference="5e-5 TeV"), 1e-5),
    (GaussianSpectralModel(mean="3 TeV", sigma="0.5 TeV"), 1e-6),
]
BINS = [(0.5, 0.8), (0.1, 100.0), (1.7, 2.2), (2.9, 3.2), (5.0, 40.0)]


def _quad(func, lo, hi):
    # break points at the features of the test models (breaks, Gaussian mean)
    points = [p for p in (2.0, 3.0) if lo < p < hi]
    return quad(func, lo, hi, epsrel=1e-12, epsabs=0, limit=500, points=points or None)[0]


@pytest.mark.parametrize("model,rtol", MODELS, ids=lambda x: type(x).__name__ if isinstance(x, SpectralModel) else "")
def test_integral_and_energy_flux_vs_quad(model, rtol):
    emin = np.array([b[0] for b in BINS])
    emax = np.array([b[1] for b in BINS])
    flux = model.integral_float(emin, emax)
    eflux = model.energy_flux_float(emin, emax)
    for i, (lo, hi) in enumerate(BINS):
        ref = _quad(lambda e: float(model.dnde_float(np.array(e))), lo, hi)
        ref_e = _quad(lambda e: e * float(model.dnde_float(np.array(e))), lo, hi)
        assert flux[i] == pytest.approx(ref, rel=rtol, abs=0), (lo, hi)
        assert eflux[i] == pytest.approx(ref_e, rel=rtol, abs=0), (lo, hi)


def test_quantity_api_units():
    model = PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1")
    # 1e-12 (E/TeV)^-2 at 1000 GeV
    assert model(1000 * u.GeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(1e-12, rel=1e-6, abs=0)
    # closed form: A E0 (1/emin - 1/emax) = 1e-12 * (1 - 0.1)
    flux = model.integral(1 * u.TeV, 10 * u.TeV)
    assert flux.unit.is_equivalent("cm-2 s-1")
    assert flux.to_value("cm-2 s-1") == pytest.approx(9e-13, rel=1e-6, abs=0)
    # energy flux for index 2: A E0^2 ln(emax / emin)
    eflux = model.energy_flux(1 * u.TeV, 10 * u.TeV)
    assert eflux.to_value("TeV cm-2 s-1") == pytest.approx(1e-12 * np.log(10), rel=1e-6, abs=0)


def test_amplitude_in_other_units():
    # seed 002 gives the amplitude in keV-1: 1e-22 keV-1 = 1e-13 TeV-1 ... times 1e9
    model = PowerLawSpectralModel(amplitude="1e-22 cm-2 s-1 keV-1", index=2)
    assert model.amplitude.unit == u.Unit("cm-2 s-1 keV-1")
    assert model.dnde_float(np.array([1.0]))[0] == pytest.approx(1e-13, rel=1e-6, abs=0)


def test_power_law_integral_smooth_through_index_one():
    # exprel form: continuous in the index, equal to ln(emax/emin) at index 1
    lo, hi = 1.0, 10.0
    assert power_law_integral(lo, hi, 1.0) == pytest.approx(np.log(10))
    assert power_law_integral(lo, hi, 1.0 + 1e-9) == pytest.approx(np.log(10), rel=1e-8, abs=0)


def test_power_law_inverse_and_spectral_index():
    model = PowerLawSpectralModel(index=2.7, amplitude="2e-12 cm-2 s-1 TeV-1")
    energy = model.inverse(model(3 * u.TeV))
    assert energy.to_value("TeV") == pytest.approx(3)
    assert model.spectral_index(5 * u.TeV) == pytest.approx(2.7, rel=1e-6, abs=0)
    lp = LogParabolaSpectralModel(alpha=2.0, beta=0.5, reference="1 TeV")
    # generic root search: dnde(E) = dnde(2 TeV)
    assert lp.inverse(lp(2 * u.TeV), 1 * u.TeV, 10 * u.TeV).to_value("TeV") == pytest.approx(2, rel=1e-8, abs=0)
    # local index of the log parabola: alpha + 2 beta ln(E/E0)
    assert lp.spectral_index(np.e * u.TeV) == pytest.approx(2.0 + 2 * 0.5, rel=1e-6, abs=0)


def test_power_law2_amplitude_is_integral_flux():
    model = PowerLaw2SpectralModel(amplitude="1e-12 cm-2 s-1", index=2.0, emin="0.1 TeV", emax="10 TeV")
    # by construction the integral over [emin, emax] is the amplitude
    assert model.integral(0.1 * u.TeV, 10 * u.TeV).to_value("cm-2 s-1") == pytest.approx(1e-12, rel=1e-6, abs=0)


def test_broken_power_law_continuous():
    model = BrokenPowerLawSpectralModel(index1=1.5, index2=3.0, ebreak="2 TeV",
                                        amplitude="1e-12 cm-2 s-1 TeV-1")
    below = model.dnde_float(np.array([2 * (1 - 1e-12)]))[0]
    above = model.dnde_float(np.array([2.0]))[0]
    assert below == pytest.approx(above, rel=1e-9, abs=0)
    assert above == pytest.approx(1e-12, rel=1e-6, abs=0)


def test_log_parabola_natural_log_convention_and_from_log10():
    model = LogParabolaSpectralModel(amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV",
                                     alpha=2, beta=0.3)
    # dnde(10 TeV) = A 10^(-alpha - beta ln 10)
    expected = 1e-12 * 10 ** (-2 - 0.3 * np.log(10))
    assert model(10 * u.TeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(expected, rel=1e-6, abs=0)
    log10 = LogParabolaSpectralModel.from_log10(amplitude="1e-12 cm-2 s-1 TeV-1",
                                                reference="1 TeV", alpha=2, beta=0.3)
    assert log10.beta.value == pytest.approx(0.3 / np.log(10))
    # E^2 dnde peaks at reference * exp((2 - alpha) / (2 beta)) = 1 TeV for alpha = 2
    assert model.e_peak.to_value("TeV") == pytest.approx(1.0)


def test_gaussian_total_flux():
    model = GaussianSpectralModel(amplitude="1e-12 cm-2 s-1", mean="5 TeV", sigma="0.5 TeV")
    # all of the line is inside [1, 20] TeV (8 sigma)
    assert model.integral(1 * u.TeV, 20 * u.TeV).to_value("cm-2 s-1") == pytest.approx(1e-12, rel=1e-6, abs=0)
    # energy flux of a symmetric line = mean * flux
    assert model.energy_flux(1 * u.TeV, 20 * u.TeV).to_value("TeV cm-2 s-1") == pytest.approx(5e-12, rel=1e-6, abs=0)


@pytest.mark.parametrize("model,rtol", MODELS, ids=lambda x: type(x).__name__ if isinstance(x, SpectralModel) else "")
def test_yaml_round_trip(model, rtol):
    model = model.copy()
    model.parameters[0].error = 0.1 * abs(model.parameters[0].value)
    model.parameters[0].min = -1e3
    data = model.to_dict()
    new = SpectralModel.from_dict(data)
    assert type(new) is type(model)
    assert new.parameters.names == model.parameters.names
    for p_new, p_old in zip(new.parameters, model.parameters):
        assert p_new.value == p_old.value
        assert p_new.unit == p_old.unit
        assert p_new.frozen == p_old.frozen
        assert p_new.error == p_old.error
        assert p_new.min == p_old.min or (np.isnan(p_new.min) and np.isnan(p_old.min))
    energy = np.array([0.3, 3.0])
    assert np.allclose(new.dnde_float(energy), model.dnde_float(energy), rtol=1e-15, atol=0)


def test_pivot_energy_power_law():
    model = PowerLawSpectralModel(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1")
    # cov(index, amplitude) = 1e-14, var(index) = 0.01: E0 exp(1e-14 / (1e-12 * 0.01)) = e
    model.covariance = [[0.01, 1e-14, 0], [1e-14, 1e-26, 0], [0, 0, 0]]
    assert model.pivot_energy.to_value("TeV") == pytest.approx(np.e)
