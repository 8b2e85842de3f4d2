"""Tests of `FluxPointsDataset`: chi2 statistic, masks, I/O, fits and plots."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table
from numpy.testing import assert_allclose, assert_array_equal

from gammalike.datasets import Datasets, FluxPointsDataset
from gammalike.estimators import FluxPoints
from gammalike.maps import MapAxis
from gammalike.modeling import Fit
from gammalike.modeling.models import (
    LogParabolaSpectralModel,
    PowerLawSpectralModel,
    SkyModel,
)

DNDE = u.Unit("cm-2 s-1 TeV-1")


def powerlaw_dnde(energy, amplitude=1e-12, index=2.5):
    """dN/dE of the test power law (reference 1 TeV), energy in TeV."""
    return amplitude * energy ** (-index)


def make_dataset(asymmetric=False, **kwargs):
    """Five points on a power law (index 2.5, 1e-12 at 1 TeV) with known offsets.

    Point i lies at model * (1 + 0.1 * offsets[i]) with a 10% error, so its chi2
    contribution is offsets[i]**2 (to first order: exactly, see below).
    """
    axis = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=5)
    e_ref = axis.center.to_value("TeV")
    model = powerlaw_dnde(e_ref)
    offsets = np.array([0.0, 1.0, -2.0, 0.5, 0.0])
    dnde = model * (1 + 0.1 * offsets)
    data = {"dnde": dnde * DNDE}
    if asymmetric:
        data["dnde_errn"] = 0.1 * model * DNDE
        data["dnde_errp"] = 0.2 * model * DNDE
    else:
        data["dnde_err"] = 0.1 * model * DNDE
    data["is_ul"] = np.array([False, False, False, False, True])
    fp = FluxPoints(data, axis, sed_type="dnde")
    sky = SkyModel(PowerLawSpectralModel(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1",
                                         reference="1 TeV"), name="source")
    return FluxPointsDataset(sky, fp, name="test", **kwargs)


def test_chi2_symmetric_errors():
    dataset = make_dataset()
    # chi2 = ((data - model) / (0.1 model))^2 = offsets^2; the last point is an upper limit.
    assert_allclose(dataset.stat_array(), [0.0, 1.0, 4.0, 0.25, 0.0], atol=1e-12)
    assert_allclose(dataset.stat_sum(), 5.25, rtol=1e-12)


def test_chi2_asymmetric_errors_default_uses_mean_error():
    # Default "chi2" (reference behaviour, see the module docstring): the
    # symmetric error is (errn + errp) / 2 = 0.15 model -> (offset / 1.5)^2.
    dataset = make_dataset(asymmetric=True)
    assert_allclose(dataset.stat_array()[:4], [0.0, 1 / 2.25, 4 / 2.25, 0.25 / 2.25], atol=1e-12)


def test_chi2_asymmetric_errors():
    dataset = make_dataset(asymmetric=True, stat_type="chi2-asymmetric")
    # Model below the data (offset > 0): errn = 0.1 model -> offset^2;
    # model above the data (offset < 0): errp = 0.2 model -> (offset / 2)^2.
    assert_allclose(dataset.stat_array()[:4], [0.0, 1.0, 1.0, 0.25], atol=1e-12)
    assert_allclose(dataset.stat_sum(), 2.25, rtol=1e-12)


def test_masks_and_upper_limits():
    dataset = make_dataset(mask_fit=[True, False, True, True, True])
    assert_allclose(dataset.stat_sum(), 4.25, rtol=1e-12)
    dataset.mask_safe = np.array([True, True, False, True, True])
    assert_allclose(dataset.stat_sum(), 0.25, rtol=1e-12)
    assert_array_equal(dataset.mask, [True, False, False, True, True])
    assert dataset.data_shape == (5,)
    with pytest.raises(ValueError, match="mask_fit has 2 entries"):
        make_dataset(mask_fit=[True, False])


def test_is_ul_change_is_seen():
    dataset = make_dataset()
    assert_allclose(dataset.stat_sum(), 5.25, rtol=1e-12)
    # Declaring point 2 (chi2 = 4) an upper limit drops it from the statistic.
    dataset.data.is_ul = [False, False, True, False, True]
    assert_allclose(dataset.stat_sum(), 1.25, rtol=1e-12)


def test_model_changes_are_seen():
    dataset = make_dataset()
    model = dataset.models["source"].spectral_model
    model.amplitude.value = 2e-12
    e_ref = dataset.data.energy_ref.to_value("TeV")[:4]
    data = dataset.data.dnde.value[:4]
    err = 0.1 * powerlaw_dnde(e_ref)
    expected = np.sum(((data - 2 * powerlaw_dnde(e_ref)) / err) ** 2)
    assert_allclose(dataset.stat_sum(), expected, rtol=1e-12)


def test_models_select_by_dataset_name():
    dataset = make_dataset()
    other = SkyModel(PowerLawSpectralModel(), name="other", datasets_names=["another"])
    dataset.models = [dataset.models["source"], other]
    assert dataset.models.names == ["source"]
    dataset.models = None
    assert dataset.models is None


def test_residuals():
    dataset = make_dataset()
    model = powerlaw_dnde(dataset.data.energy_ref.to_value("TeV"))
    diff = dataset.residuals("diff")
    assert diff.unit == DNDE
    assert_allclose(diff.value[:4], model[:4] * 0.1 * np.array([0.0, 1.0, -2.0, 0.5]),
                    atol=1e-30)
    assert_allclose(dataset.residuals("diff/model")[:4], [0.0, 0.1, -0.2, 0.05], atol=1e-12)
    with pytest.raises(ValueError, match="unknown method"):
        dataset.residuals("ratio")


def test_str_info_and_copy():
    dataset = make_dataset()
    text = str(dataset)
    assert "FluxPointsDataset" in text
    assert "Number of total flux points" in text and ": 5" in text
    assert "Number of fit bins" in text and ": 4" in text
    assert "Fit statistic type" in text and "chi2" in text
    assert "5.25" in text
    info = dataset.info_dict()
    assert info["n_fit_bins"] == 4 and info["n_free_parameters"] == 2
    new = dataset.copy(name="copy")
    assert new.name == "copy"
    assert_allclose(new.data.dnde.value, dataset.data.dnde.value)


def test_write_read_round_trip(tmp_path):
    dataset = make_dataset(mask_fit=[True, False, True, True, True])
    filename = tmp_path / "fp_dataset.fits"
    dataset.write(filename)
    with pytest.raises(FileExistsError):
        dataset.write(filename)
    new = FluxPointsDataset.read(filename, name="again")
    assert new.name == "again"
    assert_array_equal(new.mask_fit, dataset.mask_fit)
    assert_array_equal(new.mask_safe, [True] * 5)
    assert_array_equal(new.data.dnde.value, dataset.data.dnde.value)
    assert_array_equal(new.data.dnde_err.value, dataset.data.dnde_err.value)
    new.models = dataset.models
    assert new.stat_sum() == dataset.stat_sum()
    # The written table is exactly what is read back.
    assert_array_equal(Table.read(filename)["mask_fit"], dataset.mask_fit)


def test_datasets_yaml_round_trip(tmp_path):
    dataset = make_dataset()
    Datasets([dataset]).write(tmp_path / "datasets.yaml")
    datasets = Datasets.read(tmp_path / "datasets.yaml")
    assert isinstance(datasets["test"], FluxPointsDataset)
    assert_array_equal(datasets["test"].data.dnde.value, dataset.data.dnde.value)


def test_fit_power_law_recovers_truth():
    # Points exactly on the power law (offsets 0): the fit recovers it, chi2 = 0.
    axis = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=6)
    e_ref = axis.center.to_value("TeV")
    dnde = powerlaw_dnde(e_ref, 3e-12, 2.3)
    fp = FluxPoints({"dnde": dnde * DNDE, "dnde_err": 0.05 * dnde * DNDE}, axis, sed_type="dnde")
    model = SkyModel(PowerLawSpectralModel(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1"), name="pl")
    dataset = FluxPointsDataset(model, fp)
    result = Fit().run([dataset])
    assert result.success
    pars = model.spectral_model.parameters
    assert_allclose(pars["index"].value, 2.3, rtol=1e-4)
    assert_allclose(pars["amplitude"].quantity.to_value(DNDE), 3e-12, rtol=1e-4)
    assert dataset.stat_sum() < 1e-6


def test_plots():
    dataset = make_dataset()
    ax_spectrum, ax_residuals = dataset.plot_fit()
    assert len(ax_spectrum.lines) > 0 and len(ax_residuals.lines) > 0
    assert ax_spectrum.get_xscale() == "log"
    plt.close("all")
    fig, ax = plt.subplots()
    dataset.plot_residuals(ax=ax, method="diff/model")
    # residual markers of the 4 fitted points
    assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.1, -0.2, 0.05], atol=1e-12)
    plt.close(fig)
    fig, ax = plt.subplots()
    dataset.plot_spectrum(ax=ax, kwargs_fp={"sed_type": "dnde"})
    assert len(ax.lines) >= 2
    plt.close(fig)


def test_requires_flux_points():
    with pytest.raises(TypeError, match="FluxPoints"):
        FluxPointsDataset(data=None)


# ---------------------------------------------------------------------------- real data
@pytest.mark.requires_data
def test_hawc_logparabola_fit(data_path):
    # THE ISSUE'S CHECK: HAWC 2019 Crab flux points fitted with a log-parabola
    # (reference 7 TeV). Start values (amplitude 1e-13, alpha 2.5, beta 0.1) are ours;
    # expected numbers (within 0.5%, errors within 5%) are from the issue.
    fp = FluxPoints.read(data_path / "hawc/crab_flux/HAWC19_flux_points.fits")
    spectral = LogParabolaSpectralModel(
        amplitude="1e-13 cm-2 s-1 TeV-1", reference="7 TeV", alpha=2.5, beta=0.1
    )
    dataset = FluxPointsDataset(SkyModel(spectral, name="crab"), fp, name="HAWC")
    result = Fit().run([dataset])
    assert result.success
    assert_allclose(dataset.stat_sum(), 4.0547, rtol=5e-3)
    pars = spectral.parameters
    assert_allclose(pars["amplitude"].quantity.to_value(DNDE), 2.3406e-13, rtol=5e-3)
    assert_allclose(pars["alpha"].value, 2.7295, rtol=5e-3)
    assert_allclose(pars["beta"].value, 0.061447, rtol=5e-3)
    amplitude_error = u.Quantity(pars["amplitude"].error, pars["amplitude"].unit).to_value(DNDE)
    assert_allclose(amplitude_error, 3.44e-15, rtol=5e-2)
    assert_allclose(pars["alpha"].error, 0.0138, rtol=5e-2)
    assert_allclose(pars["beta"].error, 0.0111, rtol=5e-2)


@pytest.mark.requires_data
def test_hawc_chi2_matches_numpy(data_path):
    # The statistic by hand for a fixed log-parabola on the 9 non-UL HAWC points.
    fp = FluxPoints.read(data_path / "hawc/crab_flux/HAWC19_flux_points.fits")
    spectral = LogParabolaSpectralModel(
        amplitude="2.3e-13 cm-2 s-1 TeV-1", reference="7 TeV", alpha=2.7, beta=0.06
    )
    dataset = FluxPointsDataset(SkyModel(spectral, name="crab"), fp, name="HAWC")
    table = Table.read(data_path / "hawc/crab_flux/HAWC19_flux_points.fits")
    e = np.asarray(table["e_ref"])[:9]
    x = e / 7.0
    model = 2.3e-13 * x ** (-2.7 - 0.06 * np.log(x))
    expected = np.sum(((np.asarray(table["dnde"])[:9] - model) / np.asarray(table["dnde_err"])[:9]) ** 2)
    assert_allclose(dataset.stat_sum(), expected, rtol=1e-10)


@pytest.mark.requires_data
@pytest.mark.parametrize("filename, nbin, n_fit", [("HAWC.fits", 10, 9), ("LHAASO.fits", 12, 11)])
def test_read_crab_3datasets_masks(data_path, tmp_path, filename, nbin, n_fit):
    # The masks are read as written: the last point is excluded in both files.
    path = data_path / "crab-3datasets" / filename
    dataset = FluxPointsDataset.read(path, name=filename.split(".")[0])
    table = Table.read(path)
    assert_array_equal(dataset.mask_fit, np.asarray(table["mask_fit"]))
    assert_array_equal(dataset.mask_safe, np.asarray(table["mask_safe"]))
    assert not dataset.mask[-1] and dataset.mask[:-1].all()
    assert dataset.data.nbin == nbin
    assert "mask_fit" not in dataset.data.available_quantities
    crab = SkyModel(LogParabolaSpectralModel(amplitude="3.5e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                             alpha=2.5, beta=0.1), name="crab")
    dataset.models = crab
    assert dataset.info_dict()["n_fit_bins"] == n_fit
    assert np.isfinite(dataset.stat_sum())
    # write -> read gives the identical table (values, units, masks)
    dataset.write(tmp_path / filename)
    written = Table.read(tmp_path / filename)
    for name in table.colnames:
        assert_array_equal(np.asarray(written[name]), np.asarray(table[name]), err_msg=name)
        assert (written[name].unit or u.one) == (table[name].unit or u.one), name
    again = FluxPointsDataset.read(tmp_path / filename)
    again.models = crab
    assert again.stat_sum() == dataset.stat_sum()
