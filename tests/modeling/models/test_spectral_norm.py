"""Tests of the norm spectral models (expected values from their definitions)."""
import numpy as np
import pytest
from astropy import units as u
from scipy.integrate import quad

from gammalike.modeling.models import (
    LogParabolaNormSpectralModel,
    PiecewiseNormSpectralModel,
    PowerLawNormSpectralModel,
    PowerLawSpectralModel,
    SpectralModel,
)


def _check_integrals(model, bins, rtol):
    emin = np.array([b[0] for b in bins])
    emax = np.array([b[1] for b in bins])
    flux = model.integral_float(emin, emax)
    eflux = model.energy_flux_float(emin, emax)
    for i, (lo, hi) in enumerate(bins):
        ref = quad(lambda e: float(model.dnde_float(np.array(e))), lo, hi, epsrel=1e-12, epsabs=0,
                   limit=200, points=[1.0, 3.0])[0]
        ref_e = quad(lambda e: e * float(model.dnde_float(np.array(e))), lo, hi, epsrel=1e-12, epsabs=0,
                     limit=200, points=[1.0, 3.0])[0]
        assert flux[i] == pytest.approx(ref, rel=rtol, abs=0)
        assert eflux[i] == pytest.approx(ref_e, rel=rtol, abs=0)


BINS = [(0.5, 0.8), (0.1, 100.0), (0.2, 0.25), (5.0, 40.0), (0.9, 3.5)]


def test_power_law_norm():
    model = PowerLawNormSpectralModel(norm=1.5, tilt=0.3)
    assert model.dnde_unit == u.dimensionless_unscaled
    assert model.is_norm_spectral_model
    # norm (E / 1 TeV)^-tilt
    assert model(2 * u.TeV).value == pytest.approx(1.5 * 2 ** -0.3)
    # integral of a norm model is in TeV
    assert model.integral(1 * u.TeV, 2 * u.TeV).unit == u.TeV
    _check_integrals(model, BINS, 1e-6)
    # defaults as in seed 004: norm 1, tilt frozen 0, reference frozen 1 TeV
    default = PowerLawNormSpectralModel()
    assert default.parameters.names == ["norm", "tilt", "reference"]
    assert [p.frozen for p in default.parameters] == [False, True, True]


def test_log_parabola_norm():
    model = LogParabolaNormSpectralModel(norm=2, alpha=0.5, beta=0.1, reference="1 TeV")
    x = 3.0
    assert model(x * u.TeV).value == pytest.approx(2 * x ** (-0.5 - 0.1 * np.log(x)))
    _check_integrals(model, BINS, 1e-5)


def test_piecewise_norm_parameters_and_values():
    energy = [0.3, 1, 3, 10] * u.TeV
    model = PiecewiseNormSpectralModel(energy=energy, norms=[1.2, 0.8, 1.1, 0.5])
    assert model.parameters.names == ["norm_0", "norm_1", "norm_2", "norm_3"]
    assert all(p.is_norm for p in model.parameters)
    # node values are reproduced, log-log interpolation between nodes
    assert np.allclose(model(energy).value, [1.2, 0.8, 1.1, 0.5], atol=0)
    mid = np.sqrt(1 * 3)
    assert model(mid * u.TeV).value == pytest.approx(np.sqrt(0.8 * 1.1))
    # exact piecewise power-law integrals
    _check_integrals(model, BINS, 1e-9)
    # parameters are per instance
    other = PiecewiseNormSpectralModel(energy=[1, 2] * u.TeV)
    assert other.parameters.names == ["norm_0", "norm_1"]
    model.norm_1.value = 2.0
    assert model(1 * u.TeV).value == pytest.approx(2.0)


def test_piecewise_norm_negative_falls_back_to_linear():
    model = PiecewiseNormSpectralModel(energy=[1, 10] * u.TeV, norms=[1.0, -1.0])
    # linear in ln E: zero crossing at sqrt(10) TeV
    assert model(np.sqrt(10) * u.TeV).value == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(model.integral_float(np.array([1.0]), np.array([10.0]))).all()


def test_piecewise_norm_yaml_round_trip():
    model = PiecewiseNormSpectralModel(energy=[0.3, 1, 3] * u.TeV, norms=[1.2, 0.8, 1.1])
    model.norm_1.frozen = True
    data = model.to_dict()
    assert data["energy"]["unit"] == "TeV"
    new = SpectralModel.from_dict(data)
    assert isinstance(new, PiecewiseNormSpectralModel)
    assert np.array_equal(new.energy.value, [0.3, 1, 3])
    assert np.array_equal(new.parameters.values, [1.2, 0.8, 1.1])
    assert new.norm_1.frozen
    new.unfreeze()
    assert not new.norm_1.frozen


def test_norm_times_spectrum():
    pl = PowerLawSpectralModel(index=2)
    model = pl * PowerLawNormSpectralModel(norm=2, tilt=1)
    # product is a power law of index 3 and amplitude 2e-12
    ref = PowerLawSpectralModel(index=3, amplitude="2e-12 cm-2 s-1 TeV-1")
    lo, hi = np.array([0.5, 2.0]), np.array([1.0, 30.0])
    assert np.allclose(model.integral_float(lo, hi), ref.integral_float(lo, hi), rtol=1e-10, atol=0)


@pytest.mark.parametrize("cls", [PowerLawNormSpectralModel, LogParabolaNormSpectralModel])
def test_yaml_round_trip(cls):
    model = cls(norm=1.3)
    new = SpectralModel.from_dict(model.to_dict())
    assert type(new) is cls
    assert np.array_equal(new.parameters.values, model.parameters.values)
