"""Plots of spectral models run and produce log-log axes with units in the labels."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy import units as u  # noqa: E402

from gammalike.modeling.models import PowerLawSpectralModel, create_crab_spectral_model  # noqa: E402


@pytest.mark.parametrize("sed_type", ["dnde", "e2dnde", "flux", "eflux"])
def test_plot_and_plot_error(sed_type):
    model = PowerLawSpectralModel(index=2.5)
    model.covariance = np.diag([0.01, 1e-26, 0])
    fig, ax = plt.subplots()
    out = model.plot([0.1, 100] * u.TeV, ax=ax, sed_type=sed_type, label="model")
    out = model.plot_error([0.1, 100] * u.TeV, ax=ax, sed_type=sed_type)
    assert out is ax
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "TeV" in ax.get_xlabel()
    assert len(ax.lines) == 1 and len(ax.collections) == 1
    plt.close(fig)


def test_plot_yunits_energy_power_and_old_keyword():
    # seed 003 keywords: energy_bounds, sed_type, yunits
    fig, ax = plt.subplots()
    model = create_crab_spectral_model("hess_ecpl")
    model.plot(energy_bounds=[0.1, 30] * u.TeV, sed_type="e2dnde", yunits=u.Unit("erg cm-2 s-1"), ax=ax)
    ydata = ax.lines[0].get_ydata(orig=False)
    e2dnde_1tev = (model(1 * u.TeV) * (1 * u.TeV) ** 2).to_value("erg cm-2 s-1")
    xdata = ax.lines[0].get_xdata(orig=False)
    assert np.interp(0.0, np.log(xdata), ydata) == pytest.approx(e2dnde_1tev, rel=1e-2, abs=0)
    assert "erg" in ax.get_ylabel()
    # seed 001: energy_range and energy_power
    ax2 = model.plot(energy_range=[0.01, 120] * u.TeV, energy_power=2, ax=plt.figure().gca())
    y = ax2.lines[0].get_ydata(orig=False)
    assert np.all(np.isfinite(y)) and ax2.get_yscale() == "log"
    plt.close("all")


def test_plot_needs_energy_bounds():
    with pytest.raises(TypeError, match="energy_bounds"):
        PowerLawSpectralModel().plot()
