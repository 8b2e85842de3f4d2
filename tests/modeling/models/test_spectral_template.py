"""Tests of TemplateSpectralModel and the log-log helpers (expected: closed forms, quad)."""
import numpy as np
import pytest
from astropy import units as u
from scipy.integrate import quad

from gammalike.modeling.models import SpectralModel, TemplateSpectralModel
from gammalike.modeling.models.spectral_template import loglog_integral, loglog_interp


def _template():
    energy = [0.3, 1, 3, 10] * u.TeV
    values = [1e-11, 2e-12, 1e-13, 1e-15] * u.Unit("cm-2 s-1 TeV-1")
    return TemplateSpectralModel(energy=energy, values=values)


def test_template_values_and_interpolation():
    model = _template()
    assert model(1 * u.TeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(2e-12, rel=1e-6, abs=0)
    # log-log midpoint between 1 and 3 TeV: geometric mean of the values
    assert model(np.sqrt(3) * u.TeV).to_value("cm-2 s-1 TeV-1") == pytest.approx(np.sqrt(2e-12 * 1e-13), rel=1e-6, abs=0)
    # extrapolation with the end slope
    slope = np.log(1e-15 / 1e-13) / np.log(10 / 3)
    assert model(20 * u.TeV).value == pytest.approx(1e-15 * 2 ** slope, rel=1e-6, abs=0)


@pytest.mark.parametrize("power", [0, 1])
def test_template_integrals_vs_quad(power):
    model = _template()
    bins = [(0.5, 0.8), (0.1, 100.0), (0.9, 3.5), (1.0, 3.0), (12.0, 15.0)]
    lo = np.array([b[0] for b in bins])
    hi = np.array([b[1] for b in bins])
    values = model.integral_float(lo, hi) if power == 0 else model.energy_flux_float(lo, hi)
    for i, (a, b) in enumerate(bins):
        ref = quad(lambda e: e ** power * float(model.dnde_float(np.array(e))), a, b,
                   epsrel=1e-12, epsabs=0, points=[0.3, 1, 3, 10], limit=200)[0]
        assert values[i] == pytest.approx(ref, rel=1e-9, abs=0)


def test_loglog_integral_reversed_bounds():
    nodes, values = np.array([1.0, 10.0]), np.array([1.0, 0.01])
    forward = loglog_integral(1.0, 5.0, nodes, values)
    assert loglog_integral(5.0, 1.0, nodes, values) == pytest.approx(-forward)
    # power law E^-2: integral from 1 to 5 = 1 - 1/5
    assert forward == pytest.approx(0.8)
    assert loglog_interp(np.array([2.0]), nodes, values)[0] == pytest.approx(0.25)


def test_template_yaml_round_trip():
    model = _template()
    data = model.to_dict()
    assert data["type"] == "TemplateSpectralModel"
    new = SpectralModel.from_dict(data)
    assert np.array_equal(new.energy.value, model.energy.value)
    assert np.array_equal(new.values.value, model.values.value)
    assert new.values.unit == model.values.unit


def test_template_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        TemplateSpectralModel(energy=[1, 2] * u.TeV, values=[1, 2, 3] * u.Unit("cm-2 s-1 TeV-1"))
