"""Tests of the flux points plots (Agg backend, set in tests/conftest.py)."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy import units as u
from astropy.visualization import quantity_support
from matplotlib.container import ErrorbarContainer
from numpy.testing import assert_allclose

from gammalike.estimators import FluxPoints
from gammalike.maps import MapAxis


def make_points():
    axis = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=4)
    norm = np.array([1.0, 1.2, 0.8, 0.5])
    scan = np.tile(np.linspace(0.0, 4.0, 21), (4, 1))
    data = {
        "norm": norm, "norm_errn": 0.1 * norm, "norm_errp": 0.2 * norm,
        "norm_ul": norm + 0.5, "ts": np.array([50.0, 30.0, 10.0, 1.0]),
        "norm_scan": scan, "stat_scan": (scan - norm[:, None]) ** 2 / 0.04,
    }
    return FluxPoints(data, axis)


def _errorbar(ax):
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(containers) == 1
    return containers[0]


def test_plot_e2dnde_values_and_upper_limit():
    fp = make_points()
    fig, ax = plt.subplots()
    fp.plot(ax=ax, sed_type="e2dnde", label="points")
    line = _errorbar(ax).lines[0]
    # drawn in the default e2dnde unit erg cm-2 s-1 (utils.plot_units; 1 TeV = 1.602177 erg)
    assert ax.yaxis.units == u.Unit("erg cm-2 s-1")
    y = line.get_ydata(orig=False)
    # e2dnde = norm * 1e-12 TeV cm-2 s-1 with the default reference (PL index 2, 1e-12 at 1 TeV);
    # the last bin (TS=1 < 4) is drawn at its upper limit.
    tev_to_erg = 1.602176634
    assert_allclose(y[:3], np.array([1.0, 1.2, 0.8]) * 1e-12 * tev_to_erg, rtol=1e-9)
    assert_allclose(y[3], 1.0e-12 * tev_to_erg, rtol=1e-9)
    assert_allclose(line.get_xdata(orig=False), fp.energy_ref.to_value("TeV"))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "Energy" in ax.get_xlabel() and "TeV" in ax.get_xlabel()
    plt.close(fig)


def test_plot_energy_power_old_usage():
    # plot(energy_power=2) on dnde draws E^2 dN/dE, equal to e2dnde.
    fp = make_points()
    fig, ax = plt.subplots()
    fp.plot(ax=ax, energy_power=2, sed_type="dnde")
    # default unit: dnde unit times TeV^2 = TeV cm-2 s-1, the unit of fp.e2dnde
    assert ax.yaxis.units == u.Unit("TeV cm-2 s-1")
    y = _errorbar(ax).lines[0].get_ydata(orig=False)
    assert_allclose(y[:3], fp.e2dnde.to_value("TeV cm-2 s-1")[:3], rtol=1e-12)
    plt.close(fig)


def test_plot_keeps_axis_units():
    # An axis made under quantity_support in erg keeps its unit: values are converted.
    fp = make_points()
    fig, ax = plt.subplots()
    with quantity_support():
        ax.plot([1, 100] * u.TeV, [1e-12, 1e-12] * u.Unit("erg cm-2 s-1"))
        fp.plot(ax=ax, sed_type="e2dnde")
    y = _errorbar(ax).lines[0].get_ydata(orig=False)
    assert_allclose(y[0], fp.e2dnde[0].to_value("erg cm-2 s-1"), rtol=1e-12)
    plt.close(fig)


def test_plot_ts_profiles():
    fp = make_points()
    fig, ax = plt.subplots()
    ax = fp.plot(ax=ax, sed_type="e2dnde")
    fp.plot_ts_profiles(ax=ax, sed_type="e2dnde")
    meshes = ax.collections
    mesh = [c for c in meshes if hasattr(c, "get_array") and c.get_array() is not None
            and c.get_array().ndim >= 1 and c.get_array().size > 100][0]
    values = np.asarray(mesh.get_array())
    # delta stat is >= 0 and 0 at the best fit of each bin.
    assert np.nanmin(values) >= 0
    assert np.nanmin(values) < 1
    assert len(fig.axes) == 2  # colour bar added
    plt.close(fig)


def test_plot_ts_profiles_needs_scan():
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=1)
    fp = FluxPoints({"norm": [1.0], "norm_err": [0.1]}, axis)
    with pytest.raises(ValueError, match="stat_scan"):
        fp.plot_ts_profiles()
