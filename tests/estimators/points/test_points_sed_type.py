"""Tests of the SED-type helpers: column names, closed-form reference values, UL_CONF."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from gammalike.estimators.points.sed_type import (
    column_name,
    guess_sed_type,
    log_center,
    model_reference_values,
    n_sigma_from_ul_conf,
    norm_quantity_name,
    powerlaw_reference_values,
    ul_conf_from_n_sigma,
)


def test_column_names_round_trip():
    assert column_name("norm_errn", "dnde") == "dnde_errn"
    assert column_name("norm", "e2dnde") == "e2dnde"
    assert column_name("norm_ul", "likelihood") == "norm_ul"
    assert norm_quantity_name("eflux_scan", "eflux") == "norm_scan"
    assert norm_quantity_name("dnde_ref", "dnde") is None  # not a norm quantity
    assert norm_quantity_name("e2dnde", "dnde") is None


def test_guess_sed_type():
    assert guess_sed_type(["e_ref", "norm", "ref_dnde"]) == "likelihood"
    assert guess_sed_type(["e_ref", "e2dnde"]) == "e2dnde"
    assert guess_sed_type(["e_min", "e_max", "flux"]) == "flux"
    assert guess_sed_type(["e_ref", "ts"]) is None


def test_powerlaw_reference_values_closed_form():
    # Index 2, amplitude A at 1 TeV: dnde = A/E^2, flux = A (1/emin - 1/emax),
    # eflux = A ln(emax/emin).
    e_min, e_max = np.array([1.0, 10.0]), np.array([10.0, 100.0])
    e_ref = log_center(e_min, e_max)
    ref = powerlaw_reference_values(e_ref, e_min, e_max, index=2, amplitude=1e-12)
    assert_allclose(ref["dnde"], 1e-12 / e_ref ** 2, rtol=1e-14)
    assert_allclose(ref["e2dnde"], [1e-12, 1e-12], rtol=1e-14)
    assert_allclose(ref["flux"], 1e-12 * (1 / e_min - 1 / e_max), rtol=1e-14)
    assert_allclose(ref["eflux"], 1e-12 * np.log(10), rtol=1e-14)
    # Index 3: flux = A (emin^-2 - emax^-2)/2, eflux = A (1/emin - 1/emax)
    ref = powerlaw_reference_values(e_ref, e_min, e_max, index=3, amplitude=2.0)
    assert_allclose(ref["flux"], 2.0 * (e_min ** -2 - e_max ** -2) / 2, rtol=1e-14)
    assert_allclose(ref["eflux"], 2.0 * (1 / e_min - 1 / e_max), rtol=1e-14)


def test_powerlaw_reference_nodes_only():
    ref = powerlaw_reference_values(np.array([1.0, 2.0]))
    assert np.all(np.isnan(ref["flux"])) and np.all(np.isnan(ref["eflux"]))


class _QuantityOnlyModel:
    """A model with only the Quantity API: dnde = 1e-12 (E/TeV)^-2."""

    def __call__(self, energy):
        import astropy.units as u

        return 1e-12 * (energy.to_value("TeV")) ** -2 * u.Unit("cm-2 s-1 TeV-1")

    def integral(self, emin, emax):
        import astropy.units as u

        return 1e-12 * (1 / emin.to_value("TeV") - 1 / emax.to_value("TeV")) * u.Unit("cm-2 s-1")

    def energy_flux(self, emin, emax):
        import astropy.units as u

        return 1e-12 * np.log(emax / emin).value * u.Unit("erg cm-2 s-1").to("TeV cm-2 s-1") \
            * u.Unit("TeV cm-2 s-1") / u.Unit("erg cm-2 s-1").to("TeV cm-2 s-1")


def test_model_reference_values_quantity_api():
    e_min, e_max = np.array([1.0, 2.0]), np.array([2.0, 4.0])
    e_ref = log_center(e_min, e_max)
    ref = model_reference_values(_QuantityOnlyModel(), e_ref, e_min, e_max)
    expected = powerlaw_reference_values(e_ref, e_min, e_max)
    for key in ("dnde", "e2dnde", "flux", "eflux"):
        assert_allclose(ref[key], expected[key], rtol=1e-12)


@pytest.mark.parametrize("n_sigma, conf", [(1, 0.6826894921), (2, 0.9544997361), (3, 0.9973002039)])
def test_ul_conf(n_sigma, conf):
    # Gaussian two-sided probabilities (standard table values).
    assert_allclose(ul_conf_from_n_sigma(n_sigma), conf, rtol=1e-9)
    assert_allclose(n_sigma_from_ul_conf(conf), n_sigma, rtol=1e-8)
