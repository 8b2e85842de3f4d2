"""SED plots share unit-aware axes: models and flux points agree on units (issue 7).

Expected numbers are hand computations: a power law of amplitude 1e-12
cm-2 s-1 TeV-1 at 1 TeV has E^2 dN/dE = 1e-12 TeV cm-2 s-1 at 1 TeV, i.e.
1.602176634e-12 erg cm-2 s-1 (1 TeV = 1.602176634 erg, exact SI value).
"""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy import units as u
from matplotlib.container import ErrorbarContainer
from numpy.testing import assert_allclose

from gammalike.estimators import FluxPoints
from gammalike.maps import MapAxis
from gammalike.modeling.models import PowerLawSpectralModel
from gammalike.utils.plot_units import DEFAULT_SED_UNITS, default_sed_unit

TEV_TO_ERG = 1.602176634
ERG_FLUX = u.Unit("erg cm-2 s-1")


def _points():
    # norms 1 on the default reference (power law index 2, 1e-12 at 1 TeV): e2dnde = 1e-12 TeV cm-2 s-1
    axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3)
    return FluxPoints({"norm": np.ones(3), "norm_err": 0.1 * np.ones(3)}, axis)


def _model():
    model = PowerLawSpectralModel(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
    model.covariance = np.diag([0.01, 1e-26, 0])
    return model


def _model_y_at_1tev(ax):
    line = ax.lines[0]
    x, y = line.get_xdata(orig=False), line.get_ydata(orig=False)
    return np.exp(np.interp(0.0, np.log(x), np.log(y)))


def _points_y(ax):
    container = [c for c in ax.containers if isinstance(c, ErrorbarContainer)][0]
    return container.lines[0].get_ydata(orig=False)


def test_default_units_in_one_place():
    # the units gammapy users expect (issue 7 / brief)
    assert DEFAULT_SED_UNITS["dnde"] == u.Unit("cm-2 s-1 TeV-1")
    assert DEFAULT_SED_UNITS["e2dnde"] == ERG_FLUX
    assert DEFAULT_SED_UNITS["flux"] == u.Unit("cm-2 s-1")
    assert DEFAULT_SED_UNITS["eflux"] == ERG_FLUX
    assert default_sed_unit("dnde", energy_power=2) == u.Unit("TeV cm-2 s-1")


@pytest.mark.parametrize("points_first", [False, True])
def test_model_and_points_share_erg_axis_and_accept_quantity_limits(points_first):
    model, fp = _model(), _points()
    fig, ax = plt.subplots()
    bounds = [0.01, 3e3] * u.TeV
    if points_first:
        fp.plot(ax=ax, sed_type="e2dnde")
    model.plot(ax=ax, energy_bounds=bounds, sed_type="e2dnde")
    model.plot_error(ax=ax, energy_bounds=bounds, sed_type="e2dnde")
    if not points_first:
        fp.plot(ax=ax, sed_type="e2dnde")
    assert ax.yaxis.units == ERG_FLUX and ax.xaxis.units == u.TeV
    assert "erg" in ax.get_ylabel() and "TeV" in ax.get_xlabel()
    # model and points drawn in the same unit: both 1e-12 TeV cm-2 s-1 = 1.602e-12 erg cm-2 s-1
    assert _model_y_at_1tev(ax) == pytest.approx(1e-12 * TEV_TO_ERG, rel=1e-3, abs=0)
    assert_allclose(_points_y(ax), 1e-12 * TEV_TO_ERG, rtol=1e-9)
    # seed 000: ax.set_xlim(energy_bounds) with a Quantity
    ax.set_xlim(bounds)
    assert_allclose(ax.get_xlim(), [0.01, 3e3])
    ax.set_xlim([10, 3e6] * u.GeV)
    assert_allclose(ax.get_xlim(), [0.01, 3e3])


def test_yunits_energy_power_and_incompatible_axes():
    model, fp = _model(), _points()
    fig, ax = plt.subplots()
    # seed 003: yunits
    model.plot(ax=ax, energy_bounds=[0.1, 10] * u.TeV, sed_type="e2dnde", yunits="TeV cm-2 s-1")
    assert ax.yaxis.units == u.Unit("TeV cm-2 s-1")
    assert _model_y_at_1tev(ax) == pytest.approx(1e-12, rel=1e-3, abs=0)
    # points follow the axis unit
    fp.plot(ax=ax, sed_type="e2dnde")
    assert_allclose(_points_y(ax), 1e-12, rtol=1e-9)
    # dnde does not convert to an e2dnde axis
    with pytest.raises(u.UnitConversionError, match="axis unit"):
        model.plot(ax=ax, energy_bounds=[0.1, 10] * u.TeV, sed_type="dnde")
    # seed 001: energy_range and energy_power=2 on dnde -> TeV cm-2 s-1
    fig, ax = plt.subplots()
    model.plot(ax=ax, energy_range=[0.01, 120] * u.TeV, energy_power=2)
    fp.plot(ax=ax, energy_power=2)
    assert ax.yaxis.units == u.Unit("TeV cm-2 s-1")
    assert _model_y_at_1tev(ax) == pytest.approx(1e-12, rel=1e-3, abs=0)


def test_plot_error_band_reaching_zero_does_not_stretch_log_axis():
    model = _model()
    # index error 0.6: relative error ln(E/1 TeV) * 0.6 exceeds 1 above ~5 TeV, so the
    # band's lower edge reaches zero there (and is tiny but positive just below)
    model.covariance = np.diag([0.36, 0, 0])
    fig, ax = plt.subplots()
    bounds = [0.1, 100] * u.TeV
    model.plot(ax=ax, energy_bounds=bounds, sed_type="e2dnde")
    model.plot_error(ax=ax, energy_bounds=bounds, sed_type="e2dnde")
    ymin, ymax = ax.get_ylim()
    value = ax.lines[0].get_ydata(orig=False)
    # lower limit within a decade or so of the lowest model value, not at 1e-14 or below
    assert ymin > 0.05 * value.min()
    # the band itself still runs below the axes (it is drawn, only the limits ignore it)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band[np.isfinite(band)].min() < ymin
    assert ymax >= value.max()


def test_norm_model_plots_as_norm():
    from gammalike.modeling.models import PowerLawNormSpectralModel

    fig, ax = plt.subplots()
    # tilt 0.5: norm (E / 1 TeV)^-0.5 = 10^-0.5 at 10 TeV (closed form)
    PowerLawNormSpectralModel(tilt=0.5).plot([1, 10] * u.TeV, ax=ax)
    assert ax.get_ylabel() == "Norm" and ax.yaxis.units == u.dimensionless_unscaled
    assert ax.lines[0].get_ydata(orig=False)[-1] == pytest.approx(10 ** -0.5, rel=1e-2, abs=0)
