"""Tests of `FluxPoints`: sed-type conversions, quantities, upper limits."""
import numpy as np
import pytest
from astropy import units as u
from numpy.testing import assert_allclose, assert_array_equal

from gammalike.estimators import FluxPoints
from gammalike.estimators.points.core import upper_limit_from_profile
from gammalike.maps import MapAxis

EDGES = [1.0, 2.0, 5.0, 10.0] * u.TeV


def make_likelihood_points(with_scan=False):
    """Three bins with norms relative to the default reference (PL index 2, 1e-12 at 1 TeV)."""
    axis = MapAxis.from_energy_edges(EDGES)
    data = {
        "norm": [1.0, 2.0, 0.5],
        "norm_err": [0.1, 0.2, 0.3],
        "norm_errn": [0.1, 0.15, 0.25],
        "norm_errp": [0.1, 0.25, 0.35],
        "norm_ul": [1.2, 2.4, 1.1],
        "ts": [100.0, 50.0, 1.0],
    }
    if with_scan:
        scan = np.linspace(0.0, 3.0, 31)
        norm = np.array(data["norm"])
        sigma = np.array(data["norm_err"])
        data["norm_scan"] = np.tile(scan, (3, 1))
        # Parabolic profiles: stat = ((x - norm) / sigma)^2
        data["stat_scan"] = ((scan[None, :] - norm[:, None]) / sigma[:, None]) ** 2
    return FluxPoints(data, axis)


def test_conversions_match_power_law_reference():
    fp = make_likelihood_points()
    e_min, e_max = EDGES[:-1].value, EDGES[1:].value
    e_ref = np.sqrt(e_min * e_max)
    norm = np.array([1.0, 2.0, 0.5])
    # Closed forms of the default reference model, 1e-12 (E/TeV)^-2 cm-2 s-1 TeV-1.
    assert_allclose(fp.energy_ref.to_value("TeV"), e_ref, rtol=1e-12)
    assert_allclose(fp.dnde.to_value("cm-2 s-1 TeV-1"), norm * 1e-12 / e_ref ** 2, rtol=1e-12)
    assert_allclose(fp.e2dnde.to_value("TeV cm-2 s-1"), norm * 1e-12, rtol=1e-12)
    assert_allclose(fp.flux.to_value("cm-2 s-1"), norm * 1e-12 * (1 / e_min - 1 / e_max), rtol=1e-12)
    assert_allclose(fp.eflux.to_value("TeV cm-2 s-1"), norm * 1e-12 * np.log(e_max / e_min),
                    rtol=1e-12)
    assert_allclose(fp.dnde_errn.value, np.array([0.1, 0.15, 0.25]) * 1e-12 / e_ref ** 2,
                    rtol=1e-12)
    assert_allclose(fp.flux_ul.value, np.array([1.2, 2.4, 1.1]) * 1e-12 * (1 / e_min - 1 / e_max),
                    rtol=1e-12)
    assert_allclose(fp.norm, norm)
    assert fp.sed_type_init == "likelihood"


def test_flux_to_dnde_uses_reference_model():
    # Flux given: dnde = flux / ref_flux * ref_dnde with the PL index 2 reference.
    axis = MapAxis.from_energy_edges(EDGES)
    e_min, e_max = EDGES[:-1].value, EDGES[1:].value
    e_ref = np.sqrt(e_min * e_max)
    flux = [1e-11, 2e-12, 3e-13] * u.Unit("cm-2 s-1")
    fp = FluxPoints({"flux": flux, "flux_err": 0.1 * flux}, axis, sed_type="flux")
    expected = flux.value / (1 / e_min - 1 / e_max) / e_ref ** 2
    assert_allclose(fp.dnde.to_value("cm-2 s-1 TeV-1"), expected, rtol=1e-12)
    # The base representation comes back untouched.
    assert_array_equal(fp.flux.value, flux.value)


def test_custom_reference_model_power_law_index_3():
    class PL3:
        """dnde = 1e-11 E^-3 (float API only)."""

        def dnde_float(self, e):
            return 1e-11 * np.asarray(e) ** -3

        def integral_float(self, emin, emax):
            return 1e-11 * (emin ** -2 - emax ** -2) / 2

        def energy_flux_float(self, emin, emax):
            return 1e-11 * (1 / emin - 1 / emax)

    axis = MapAxis.from_energy_edges(EDGES)
    fp = FluxPoints({"norm": [1.0, 1.0, 1.0]}, axis, reference_model=PL3())
    e_min, e_max = EDGES[:-1].value, EDGES[1:].value
    assert_allclose(fp.flux.value, 1e-11 * (e_min ** -2 - e_max ** -2) / 2, rtol=1e-12)
    assert_allclose(fp.dnde.value, 1e-11 * fp.energy_ref.value ** -3, rtol=1e-12)


def test_default_reference_is_power_law_index_2():
    # The closed-form default equals PowerLawSpectralModel(index=2) (1e-12 at 1 TeV).
    from gammalike.modeling.models import PowerLawSpectralModel

    fp = make_likelihood_points()
    model = PowerLawSpectralModel(index=2, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
    fp_model = FluxPoints({"norm": [1.0, 2.0, 0.5]}, fp.energy_axis, reference_model=model)
    for name in ("dnde", "e2dnde", "flux", "eflux"):
        assert_allclose(getattr(fp_model, name).value, getattr(fp, name).value, rtol=1e-10)
    assert isinstance(fp.reference_model, PowerLawSpectralModel)
    assert fp.reference_model.index.value == 2


def test_likelihood_reference_from_ref_dnde_only():
    # Without ref_flux the flux comes from a template of ref_dnde (log-log
    # interpolation: exact for a power law inside the nodes).
    from astropy.table import Table

    from gammalike.modeling.models import TemplateSpectralModel

    e_min, e_max = np.array([1.0, 2.0, 4.0]), np.array([2.0, 4.0, 8.0])
    e_ref = np.sqrt(e_min * e_max)
    table = Table({
        "e_ref": e_ref * u.TeV, "e_min": e_min * u.TeV, "e_max": e_max * u.TeV,
        "ref_dnde": 1e-12 * e_ref ** -2 * u.Unit("cm-2 s-1 TeV-1"), "norm": [1.0, 1.0, 1.0],
    })
    table.meta["SED_TYPE"] = "likelihood"
    fp = FluxPoints.from_table(table)
    assert isinstance(fp.reference_model, TemplateSpectralModel)
    assert_allclose(fp.flux[1].value, 1e-12 * (1 / 2 - 1 / 4), rtol=1e-6)


def test_dnde_e2dnde_independent_of_reference():
    axis = MapAxis.from_nodes([1.0, 3.0, 10.0] * u.TeV, interp="log", name="energy")
    e2dnde = [1e-11, 2e-11, 3e-12] * u.Unit("erg cm-2 s-1")
    fp = FluxPoints({"e2dnde": e2dnde}, axis, sed_type="e2dnde")
    expected = e2dnde.to_value("TeV cm-2 s-1") / np.array([1.0, 3.0, 10.0]) ** 2
    assert_allclose(fp.dnde.value, expected, rtol=1e-12)
    assert not fp.has_energy_bounds
    assert fp.energy_axis.node_type == "center"


def test_unit_conversion_of_base():
    # 1 erg = 0.624150907 TeV: dnde in "cm-2 erg s-1 TeV-2" converts properly.
    axis = MapAxis.from_energy_edges(EDGES)
    value = [1.0, 2.0, 3.0] * u.Unit("cm-2 erg s-1 TeV-2")
    fp = FluxPoints({"dnde": value}, axis, sed_type="dnde")
    assert_allclose(fp.dnde.to_value("cm-2 s-1 TeV-1"), value.value / 1.602176634, rtol=1e-9)


def test_missing_quantity_message():
    fp = make_likelihood_points()
    with pytest.raises(AttributeError, match="norm_sensitivity|dnde_sensitivity|not available"):
        fp.dnde_sensitivity
    assert not hasattr(fp, "stat_scan")


def test_is_ul_and_sqrt_ts():
    fp = make_likelihood_points()
    # Default: ts < sqrt_ts_threshold_ul**2 = 4
    assert_array_equal(fp.is_ul, [False, False, True])
    assert_allclose(fp.sqrt_ts, [10.0, np.sqrt(50.0), 1.0])
    fp.is_ul = [True, False, False]
    assert_array_equal(fp.is_ul, [True, False, False])
    with pytest.raises(ValueError):
        fp.is_ul = [True, False]


def test_recompute_ul_parabola():
    # Parabolic profile ((x - n)/s)^2: the 2 sigma limit is n + 2 s, the 3 sigma n + 3 s
    # (profile sampled every 0.1: linear interpolation of a parabola is within 0.01).
    fp = make_likelihood_points(with_scan=True)
    new = fp.recompute_ul(n_sigma_ul=2)
    assert_allclose(new.norm_ul, [1.2, 2.4, 1.1], atol=0.01)
    assert new.n_sigma_ul == 2
    new = fp.recompute_ul(n_sigma_ul=3)
    assert_allclose(new.norm_ul, [1.3, 2.6, 1.4], atol=0.01)
    # The original is untouched
    assert_allclose(fp.norm_ul, [1.2, 2.4, 1.1])


def test_upper_limit_from_profile_never_crossing():
    scan = np.linspace(0, 1, 5)[None, :]
    stat = np.zeros((1, 5))
    assert np.isnan(upper_limit_from_profile(scan, stat, 4.0)[0])


def test_recompute_ul_needs_profiles():
    with pytest.raises(ValueError, match="stat_scan"):
        make_likelihood_points().recompute_ul(2)


def test_str_and_copy():
    fp = make_likelihood_points()
    text = str(fp)
    assert "FluxPoints" in text and "likelihood" in text and "norm_ul" in text
    new = fp.copy()
    new.is_ul = [False, False, False]
    assert fp.is_ul[2]


def test_shape_check():
    axis = MapAxis.from_energy_edges(EDGES)
    with pytest.raises(ValueError, match="3 energy bins"):
        FluxPoints({"norm": [1.0, 2.0]}, axis)
