"""Tests of the IRF base: grid interpolation, power-law integration, GADF cell ordering."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.core import GridInterpolator, integrate_log_log
from gammalike.irf.effective_area import EffectiveAreaTable2D
from gammalike.maps import MapAxis


def _axes():
    energy = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=2, name="energy_true")
    offset = MapAxis.from_edges([0, 1, 2], unit="deg", name="offset")
    return energy, offset


def test_grid_interpolator_log_energy_lin_offset():
    energy, offset = _axes()
    # values linear in log(E) and in offset -> interpolation is exact
    loge = np.log(energy.center.value)[:, None]
    values = 2.0 * loge + 3.0 * offset.center.value[None, :]
    interp = GridInterpolator([energy, offset], values)
    e, o = 5.0, 1.2
    assert_allclose(interp([e, o]), 2 * np.log(e) + 3 * o)


def test_grid_interpolator_extrapolates_inside_edges_and_fills_outside():
    energy, offset = _axes()
    # linear in log(E) and in offset: continued exactly from the outer nodes up to the edges
    loge = np.log(energy.center.value)[:, None]
    values = 2.0 * loge + 3.0 * offset.center.value[None, :] + 10
    interp = GridInterpolator([energy, offset], values)
    # offset 0.1 deg and energy 1.2 TeV lie between the first centres (0.5 deg, 3.16 TeV) and the edges
    assert_allclose(interp([1.2, 0.1]), 2 * np.log(1.2) + 0.3 + 10)
    assert_allclose(interp([100.0, 2.0]), 2 * np.log(100.0) + 6 + 10)
    # outside the axis edges -> fill value 0
    assert_allclose(interp([200.0, 0.5]), 0.0)
    assert_allclose(interp([10.0, 3.0]), 0.0)
    # a steep fall continued to the edge stops at zero (an effective area is never negative)
    falling = GridInterpolator([offset], np.array([1.0, 0.2]))
    assert_allclose(falling([np.array([1.5, 1.75, 2.0])]), [0.2, 0.0, 0.0], atol=1e-12)
    # fill_value=None: clamped to the outer nodes everywhere
    clamped = GridInterpolator([energy, offset], values, fill_value=None)
    assert_allclose(clamped([energy.center[0].value, 0.1]), values[0, 0])
    assert_allclose(clamped([1000.0, 5.0]), values[1, 1])


def test_grid_interpolator_log_values():
    energy, offset = _axes()
    values = np.array([[1.0, 1.0], [100.0, 100.0]])
    interp = GridInterpolator([energy, offset], values, value_scale="log")
    # geometric mean halfway (in log E) between the two energy nodes
    e_mid = np.sqrt(energy.center[0].value * energy.center[1].value)
    assert_allclose(interp([e_mid, 1.0]), 10.0)


def test_integrate_log_log_power_law_exact():
    # integral of x^-2 from 1 to 2 = 1/2 (closed form)
    assert_allclose(integrate_log_log(1.0, 2.0, 1.0, 0.25), 0.5)
    # index -1: ln(2)
    assert_allclose(integrate_log_log(1.0, 2.0, 1.0, 0.5), np.log(2))
    # zero at one end: trapezoid
    assert_allclose(integrate_log_log(1.0, 2.0, 0.0, 2.0), 1.0)


def test_cell_order_follows_column_order():
    # GADF cells are stored in reversed column order: columns (ENERG, THETA) -> cell (theta, energy)
    energy, offset = _axes()
    data = np.array([[1.0, 2.0], [3.0, 4.0]])  # (energy, offset)
    aeff = EffectiveAreaTable2D(axes=[energy, offset], data=data, unit="m2")
    table = aeff.to_table()
    assert table["EFFAREA"].shape == (1, 2, 2)
    assert_allclose(table["EFFAREA"][0], data.T)
    # a table with the THETA columns first stores the cell as (energy, theta)
    from astropy.table import Table

    swapped = Table()
    for name in ("THETA_LO", "THETA_HI", "ENERG_LO", "ENERG_HI"):
        swapped[name] = table[name]
    swapped["EFFAREA"] = u.Quantity(data[np.newaxis], "m2")
    back = EffectiveAreaTable2D.from_table(swapped)
    assert_allclose(back.data, data)


def test_irf_wrong_axes_and_shape():
    energy, offset = _axes()
    with pytest.raises(ValueError, match="expected"):
        EffectiveAreaTable2D(axes=[offset, energy], data=1)
    with pytest.raises(ValueError, match="shape"):
        EffectiveAreaTable2D(axes=[energy, offset], data=np.ones((3, 2)))


def test_integrate_log_log_method():
    energy, offset = _axes()
    # A(E) = E^-1 m2 tabulated at the two nodes; integrating between the nodes
    # (a factor 10 apart) with a power law gives ln(10) m2 TeV exactly
    centers = energy.center.value
    aeff = EffectiveAreaTable2D(axes=[energy, offset], data=np.repeat((1 / centers)[:, None], 2, axis=1), unit="m2")
    edges = energy.center
    result = aeff.integrate_log_log("energy_true", energy_true=edges, offset=0.5 * u.deg)
    assert result.unit == u.Unit("m2 TeV")
    assert_allclose(result.value, np.log(10), rtol=1e-6)
