"""Tests of the SpectralModel base: quadrature, error propagation, arithmetic."""
import operator

import numpy as np
import pytest
from astropy import units as u

from gammalike.modeling.models import (
    CompoundSpectralModel,
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    PowerLawNormSpectralModel,
    PowerLawSpectralModel,
    ScaleSpectralModel,
    SpectralModel,
    integrate_log,
)


def test_integrate_log_exact_for_power_laws():
    # integral of E^-2.5 from 1 to 10 = (1 - 10^-1.5) / 1.5
    value = integrate_log(lambda e: e ** -2.5, np.array([1.0]), np.array([10.0]))
    assert value[0] == pytest.approx((1 - 10 ** -1.5) / 1.5, rel=1e-12, abs=0)
    # vectorized, with power=1: integral of E * E^-2.5
    lo, hi = np.array([1.0, 2.0]), np.array([3.0, 50.0])
    value = integrate_log(lambda e: e ** -2.5, lo, hi, power=1)
    expected = (lo ** -0.5 - hi ** -0.5) / 0.5
    assert np.allclose(value, expected, rtol=1e-12, atol=0)


def test_evaluate_error_power_law_analytic():
    model = PowerLawSpectralModel(index=2.5, amplitude="2e-12 cm-2 s-1 TeV-1")
    var_i, var_a, cov_ia = 0.01, 1e-26, 5e-15
    model.covariance = [[var_i, cov_ia, 0], [cov_ia, var_a, 0], [0, 0, 0]]
    energy = np.array([0.5, 1.0, 4.0])
    dnde, err = model.evaluate_error(energy * u.TeV)
    f = 2e-12 * energy ** -2.5
    # analytic propagation: df/dA = f / A, df/dindex = -f ln(E / E0)
    d_a = f / 2e-12
    d_i = -f * np.log(energy)
    expected = np.sqrt(d_a ** 2 * var_a + d_i ** 2 * var_i + 2 * d_a * d_i * cov_ia)
    assert np.allclose(dnde.to_value("cm-2 s-1 TeV-1"), f, atol=0)
    assert np.allclose(err.to_value("cm-2 s-1 TeV-1"), expected, rtol=1e-6, atol=0)
    # errors are set from the covariance diagonal
    assert model.index.error == pytest.approx(0.1)


def test_integral_error_linear_in_amplitude():
    model = PowerLawSpectralModel(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1")
    model.amplitude.error = 1e-13
    model._covariance = None  # rebuild from errors
    flux, err = model.integral_error(1 * u.TeV, 10 * u.TeV)
    # only the amplitude varies: relative error equals 10 %
    assert err.value / flux.value == pytest.approx(0.1, rel=1e-6, abs=0)
    eflux, eerr = model.energy_flux_error(1 * u.TeV, 10 * u.TeV)
    assert eerr.value / eflux.value == pytest.approx(0.1, rel=1e-6, abs=0)


def test_no_covariance_gives_zero_error():
    model = LogParabolaSpectralModel()
    _, err = model.evaluate_error([1, 2] * u.TeV)
    assert np.all(err.value == 0)


def test_compound_arithmetic():
    pl = PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1")
    ecpl = ExpCutoffPowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1",
                                          lambda_="0.1 TeV-1")
    norm = PowerLawNormSpectralModel(norm=2, tilt=0.5)
    energy = np.array([0.5, 2.0, 7.0])
    f1, f2, n = pl.dnde_float(energy), ecpl.dnde_float(energy), norm.dnde_float(energy)
    assert np.allclose((pl + ecpl).dnde_float(energy), f1 + f2, atol=0)
    assert np.allclose((pl - ecpl).dnde_float(energy), f1 - f2, atol=0)
    assert np.allclose((pl * norm).dnde_float(energy), f1 * n, atol=0)
    assert np.allclose((pl / norm).dnde_float(energy), f1 / n, atol=0)
    compound = pl * norm
    assert isinstance(compound, CompoundSpectralModel)
    assert compound.dnde_unit == u.Unit("cm-2 s-1 TeV-1")
    # parameters are shared with the operands
    assert compound.parameters[0] is pl.index
    assert len(compound.parameters) == 6
    # sum integral is exact: sum of the two integrals
    lo, hi = np.array([1.0]), np.array([10.0])
    assert np.allclose((pl + ecpl).integral_float(lo, hi),
                       pl.integral_float(lo, hi) + ecpl.integral_float(lo, hi), atol=0)


def test_compound_yaml_round_trip():
    model = PowerLawSpectralModel(index=2.2) * PowerLawNormSpectralModel(norm=0.5)
    data = model.to_dict()
    assert data["type"] == "CompoundSpectralModel"
    assert data["operator"] == "mul"
    assert set(data) == {"type", "model1", "model2", "operator"}
    new = SpectralModel.from_dict(data)
    assert isinstance(new, CompoundSpectralModel)
    assert new.operator is operator.mul
    assert np.allclose(new.dnde_float(np.array([3.0])), model.dnde_float(np.array([3.0])), atol=0)


def test_compound_unknown_operator():
    with pytest.raises(ValueError, match="pow"):
        CompoundSpectralModel(PowerLawSpectralModel(), PowerLawSpectralModel(), "pow")


def test_scale_model():
    pl = PowerLawSpectralModel()
    scaled = ScaleSpectralModel(pl, norm=3)
    assert scaled.dnde_float(np.array([1.0]))[0] == pytest.approx(3e-12, rel=1e-6, abs=0)
    assert (2 * pl).dnde_float(np.array([1.0]))[0] == pytest.approx(2e-12, rel=1e-6, abs=0)
    new = SpectralModel.from_dict(scaled.to_dict())
    assert isinstance(new, ScaleSpectralModel)
    assert new.norm.value == 3
    assert new.parameters.names == ["norm", "index", "amplitude", "reference"]


def test_reference_fluxes():
    model = PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1")
    ref = model.reference_fluxes([1, 2] * u.TeV, [2, 4] * u.TeV)
    assert set(ref) == {"e_ref", "ref_flux", "ref_dnde", "ref_eflux", "ref_e2dnde"}
    assert np.allclose(ref["e_ref"].to_value("TeV"), np.sqrt([2, 8]), atol=0)
    # index 2: E^2 dnde = A E0^2 everywhere, flux = A E0^2 (1/emin - 1/emax)
    assert np.allclose(ref["ref_e2dnde"].to_value("TeV cm-2 s-1"), 1e-12, atol=0)
    assert np.allclose(ref["ref_flux"].to_value("cm-2 s-1"), [0.5e-12, 0.25e-12], atol=0)
    assert np.allclose(ref["ref_eflux"].to_value("TeV cm-2 s-1"), 1e-12 * np.log(2), atol=0)


def test_copy_is_independent():
    model = PowerLawSpectralModel()
    new = model.copy(index=3)
    assert new.index.value == 3 and model.index.value == 2
    assert new.index is not model.index


def test_evaluate_error_shared_parameter_counted_once():
    pl1 = PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1")
    pl2 = PowerLawSpectralModel(index=3, amplitude="1e-12 cm-2 s-1 TeV-1")
    pl2.amplitude = pl1.amplitude
    pl1.amplitude.error = 1e-13
    model = pl1 + pl2
    dnde, err = model.evaluate_error(2 * u.TeV)
    # f = A (E^-2 + E^-3) is linear in the single shared amplitude: 10 % error
    assert err.value / dnde.value == pytest.approx(0.1, rel=1e-6, abs=0)
