import numpy as np
import pytest
from astropy import units as u
from numpy.testing import assert_allclose

from gammalike.datasets import SpectrumDataset
from gammalike.irf import EDispKernel
from gammalike.maps import MapAxis, RegionGeom, RegionNDMap
from gammalike.modeling.models import (
    FoVBackgroundModel,
    Models,
    PowerLawNormSpectralModel,
    PowerLawSpectralModel,
    SkyModel,
)
from gammalike.stats import cash

AEFF_LIVETIME = 1e9 * 1000.0  # cm2 s, see conftest


def pwl_model(name="source", amplitude=1e-12, index=2, **kwargs):
    spectral = PowerLawSpectralModel(
        index=index, amplitude=amplitude * u.Unit("cm-2 s-1 TeV-1"), reference=1 * u.TeV
    )
    return SkyModel(spectral_model=spectral, name=name, **kwargs)


def expected_pwl_npred(dataset, amplitude=1e-12):
    # closed form: integral of A (E / 1 TeV)^-2 over [e1, e2] is A (1/e1 - 1/e2) TeV
    edges = dataset.counts.geom.axes["energy"].edges.to_value("TeV")
    return amplitude * (1 / edges[:-1] - 1 / edges[1:]) * AEFF_LIVETIME


def test_npred_signal_closed_form(make_spectrum_dataset):
    dataset = make_spectrum_dataset()
    dataset.models = pwl_model()
    npred = dataset.npred_signal()
    assert isinstance(npred, RegionNDMap)
    assert_allclose(npred.data.ravel(), expected_pwl_npred(dataset), rtol=1e-9)
    # npred = signal + background (5 per bin)
    assert_allclose(dataset.npred().data.ravel(), expected_pwl_npred(dataset) + 5, rtol=1e-9)
    assert_allclose(dataset.npred_background().data.ravel(), 5)


def test_exposure_unit_converted(make_spectrum_dataset):
    dataset = make_spectrum_dataset()
    dataset.models = pwl_model()
    expected = dataset.npred_signal().data.ravel()
    # same exposure given in m2 s: same prediction
    exposure = dataset.exposure
    dataset.exposure = RegionNDMap.from_geom(exposure.geom, data=exposure.data / 1e4, unit="m2 s")
    assert_allclose(dataset.npred_signal().data.ravel(), expected, rtol=1e-12)


def test_cash_stat_and_mask(make_spectrum_dataset):
    dataset = make_spectrum_dataset()
    dataset.models = pwl_model()
    counts = dataset.counts.data.ravel()
    npred = expected_pwl_npred(dataset) + 5
    assert_allclose(dataset.stat_array(), cash(counts, npred))
    assert_allclose(dataset.stat_sum(), cash(counts, npred).sum())
    mask = np.array([False, True, True, True, True, False])
    dataset.mask_safe = mask.reshape(-1, 1, 1)
    assert_allclose(dataset.stat_sum(), cash(counts[mask], npred[mask]).sum())
    dataset.mask_fit = RegionNDMap.from_geom(dataset.counts.geom, data=np.array([1, 1, 1, 0, 0, 0], bool))
    both = mask & np.array([1, 1, 1, 0, 0, 0], bool)
    assert_allclose(dataset.mask.data.ravel(), both)
    assert_allclose(dataset.stat_sum(), cash(counts[both], npred[both]).sum())


def test_npred_cache_follows_parameters(make_spectrum_dataset):
    dataset = make_spectrum_dataset()
    model = pwl_model()
    dataset.models = model
    first = dataset.npred_signal().data.ravel().copy()
    model.spectral_model.amplitude.value = 2e-12
    assert_allclose(dataset.npred_signal().data.ravel(), 2 * first, rtol=1e-12)
    # replacing the exposure invalidates the prepared arrays
    exposure = dataset.exposure.copy()
    exposure.data = exposure.data * 3
    dataset.exposure = exposure
    assert_allclose(dataset.npred_signal().data.ravel(), 6 * first, rtol=1e-12)


def test_shared_energy_grid_between_datasets(make_spectrum_dataset):
    # two datasets with the same true-energy binning and one model: same flux, different exposure
    d1 = make_spectrum_dataset(name="d1")
    d2 = make_spectrum_dataset(name="d2")
    d2.exposure = d2.exposure * 2
    model = pwl_model()
    d1.models = model
    d2.models = model
    assert_allclose(d2.npred_signal().data, 2 * d1.npred_signal().data, rtol=1e-12)
    model.spectral_model.index.value = 2.5
    assert_allclose(d2.npred_signal().data, 2 * d1.npred_signal().data, rtol=1e-12)


def test_edisp_applied(make_spectrum_dataset):
    dataset = make_spectrum_dataset()
    dataset.models = pwl_model()
    npred_true = dataset.npred_signal().data.ravel()
    # a matrix moving everything one reco bin up
    axes = [dataset.edisp.energy_axis_true, dataset.edisp.energy_axis]
    shifted = np.roll(dataset.edisp.pdf_matrix, 1, axis=1)
    shifted[:, 0] = 0
    dataset.edisp = EDispKernel(axes=axes, data=shifted)
    npred = dataset.npred_signal().data.ravel()
    assert_allclose(npred[1:], npred_true[:-1], rtol=1e-12)
    assert npred[0] == 0


def test_no_edisp_same_binning():
    energy_axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=3)
    geom = RegionGeom.create(None, axes=[energy_axis])
    geom_true = geom.to_image().to_cube([energy_axis.copy(name="energy_true")])
    exposure = RegionNDMap.from_geom(geom_true, unit="cm2 s", data=np.ones(geom_true.data_shape))
    counts = RegionNDMap.from_geom(geom)
    dataset = SpectrumDataset(counts=counts, exposure=exposure)
    dataset.models = pwl_model()
    edges = energy_axis.edges.to_value("TeV")
    assert_allclose(dataset.npred_signal().data.ravel(), 1e-12 * (1 / edges[:-1] - 1 / edges[1:]))


def test_models_setter_filters_datasets_names(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1")
    mine = pwl_model("mine", datasets_names=["d1"])
    other = pwl_model("other", datasets_names=["d2"])
    everyone = pwl_model("everyone")
    dataset.models = Models([mine, other, everyone])
    assert dataset.models.names == ["mine", "everyone"]
    # same objects, not copies: parameters are shared
    assert dataset.models["mine"] is mine
    dataset.models = everyone
    assert dataset.models.names == ["everyone"]
    dataset.models = None
    assert dataset.models is None
    assert_allclose(dataset.npred_signal().data, 0)


def test_fov_background_model(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1")
    bkg_model = FoVBackgroundModel(dataset_name="d1", spectral_model=PowerLawNormSpectralModel(norm=2))
    dataset.models = [pwl_model(), bkg_model]
    # norm 2, tilt 0: twice the background of 5
    assert_allclose(dataset.npred_background().data, 10)
    assert_allclose(dataset.npred().data.ravel(), expected_pwl_npred(dataset) + 10, rtol=1e-9)


def test_copy_gets_new_name_and_no_models(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1")
    dataset.models = pwl_model()
    copy = dataset.copy(name="d2")
    assert copy.name == "d2"
    assert copy.models is None
    assert copy.counts is not dataset.counts
    assert_allclose(copy.counts.data, dataset.counts.data)
    assert len(dataset.copy().name) == 8  # random name


def test_excess_residuals(make_spectrum_dataset):
    dataset = make_spectrum_dataset()
    dataset.models = pwl_model()
    counts = dataset.counts.data.ravel()
    npred = expected_pwl_npred(dataset) + 5
    assert_allclose(dataset.excess.data.ravel(), counts - 5)
    assert_allclose(dataset.residuals().data.ravel(), counts - npred, rtol=1e-9)
    assert_allclose(dataset.residuals("diff/model").data.ravel(), (counts - npred) / npred, rtol=1e-9)
    assert_allclose(
        dataset.residuals("diff/sqrt(model)").data.ravel(), (counts - npred) / np.sqrt(npred), rtol=1e-9
    )
    with pytest.raises(ValueError, match="diff"):
        dataset.residuals("ratio")


def test_create():
    energy_axis = MapAxis.from_energy_bounds(0.1, 40, nbin=10, per_decade=True, unit="TeV")
    energy_axis_true = MapAxis.from_energy_bounds(
        0.05, 100, nbin=20, per_decade=True, unit="TeV", name="energy_true"
    )
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    dataset = SpectrumDataset.create(geom=geom, energy_axis_true=energy_axis_true, name="empty")
    assert dataset.name == "empty"
    assert dataset.counts.data.shape == (energy_axis.nbin, 1, 1)
    assert dataset.exposure.geom.axes["energy_true"] == energy_axis_true
    assert dataset.edisp.pdf_matrix.shape == (energy_axis_true.nbin, energy_axis.nbin)
    # nothing is safe in an empty dataset (makers fill it)
    assert not dataset.mask_safe.data.any()
    assert dataset.stat_sum() == 0
    assert dataset.copy(name="23523").name == "23523"


def test_stack(make_spectrum_dataset):
    d1 = make_spectrum_dataset(name="d1", seed=1)
    d2 = make_spectrum_dataset(name="d2", seed=2)
    m1 = np.array([0, 1, 1, 1, 1, 1], bool)
    m2 = np.array([0, 0, 1, 1, 1, 0], bool)
    d1.mask_safe = m1
    d2.mask_safe = m2
    model = pwl_model()
    d1.models = model
    d2.models = model
    npred_sum = d1.npred_signal().data.ravel() * m1 + d2.npred_signal().data.ravel() * m2
    counts_sum = d1.counts.data.ravel() * m1 + d2.counts.data.ravel() * m2

    stacked = d1.to_masked(name="stacked")
    stacked.stack(d2)
    assert stacked.name == "stacked"
    assert_allclose(stacked.counts.data.ravel(), counts_sum)
    assert_allclose(stacked.background.data.ravel(), 5 * m1 + 5 * m2)
    assert_allclose(stacked.mask_safe.data.ravel(), m1 | m2)
    assert_allclose(stacked.exposure.data, d1.exposure.data + d2.exposure.data)
    assert_allclose(stacked.livetime.to_value("s"), 2000)
    # the stacked prediction is the sum of the masked predictions
    stacked.models = model
    assert_allclose(stacked.npred_signal().data.ravel(), npred_sum, rtol=1e-9)


def test_stack_skips_exposure_without_safe_bins(make_spectrum_dataset):
    d1 = make_spectrum_dataset(name="d1")
    d2 = make_spectrum_dataset(name="d2")
    d2.mask_safe = np.zeros(6, bool)
    d1.stack(d2)
    # d2 has no safe bin: it adds neither counts nor exposure, but its livetime
    assert_allclose(d1.exposure.data, d2.exposure.data)
    assert_allclose(d1.livetime.to_value("s"), 2000)


def test_stack_incompatible(make_spectrum_dataset):
    d1 = make_spectrum_dataset(name="d1")
    d2 = make_spectrum_dataset(name="d2", n_reco=5)
    with pytest.raises(ValueError, match="reco energy"):
        d1.stack(d2)


def test_info_dict(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1")
    mask = np.array([0, 1, 1, 1, 1, 1], bool)
    dataset.mask_safe = mask
    dataset.models = pwl_model()
    info = dataset.info_dict()
    counts = dataset.counts.data.ravel()[mask].sum()
    assert info["name"] == "d1"
    assert info["counts"] == counts
    assert info["background"] == 25
    assert info["excess"] == counts - 25
    assert_allclose(info["npred_signal"], expected_pwl_npred(dataset)[mask].sum(), rtol=1e-9)
    assert_allclose(info["npred"], info["npred_signal"] + 25, rtol=1e-12)
    assert info["n_bins"] == 5
    assert info["n_fit_bins"] == 5
    assert info["stat_type"] == "cash"
    assert_allclose(info["stat_sum"], dataset.stat_sum())
    assert_allclose(info["livetime"].to_value("s"), 1000)
    assert_allclose(info["counts_rate"].to_value("s-1"), counts / 1000)
    assert_allclose(info["exposure_max"].to_value("cm2 s"), AEFF_LIVETIME)
    # Li & Ma / cash significance of counts over a known background is positive here
    assert info["sqrt_ts"] > 0


def test_str(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1")
    dataset.models = pwl_model()
    text = str(dataset)
    assert text.startswith("SpectrumDataset\n---------------")
    for label in ("Name", "Total counts", "Total background counts", "Predicted counts",
                  "Fit statistic type", "Number of models", "Number of free parameters"):
        assert label in text
    assert "Number of free parameters       : 2" in text
    assert "source" in text


def test_plots(make_spectrum_dataset):
    import matplotlib.pyplot as plt

    dataset = make_spectrum_dataset(name="d1")
    dataset.mask_safe = np.array([0, 1, 1, 1, 1, 1], bool)
    dataset.models = pwl_model()
    ax_spectrum, ax_residuals = dataset.plot_fit()
    assert ax_spectrum.get_xscale() == "log"
    assert "Residuals" in ax_residuals.get_ylabel()
    dataset.plot_masks(ax=ax_spectrum)
    dataset.plot_counts()
    dataset.plot_excess()
    for method in ("diff", "diff/model", "diff/sqrt(model)"):
        dataset.plot_residuals_spectral(method=method)
    axes = dataset.peek()
    assert len(axes) == 3
    plt.close("all")


def test_write_read_gadf(make_spectrum_dataset, tmp_path):
    dataset = make_spectrum_dataset(name="d1")
    dataset.mask_safe = np.array([0, 1, 1, 1, 1, 1], bool)
    dataset.mask_fit = np.array([1, 1, 1, 1, 0, 0], bool)
    filename = tmp_path / "d1.fits"
    dataset.write(filename)
    with pytest.raises(FileExistsError):
        dataset.write(filename)
    read = SpectrumDataset.read(filename)
    assert read.name == "d1"
    for name in ("counts", "background", "exposure", "mask_safe", "mask_fit"):
        assert_allclose(getattr(read, name).data, getattr(dataset, name).data, err_msg=name)
    assert read.mask_safe.data.dtype == bool
    assert_allclose(read.edisp.pdf_matrix, dataset.edisp.pdf_matrix)
    assert_allclose(read.livetime.to_value("s"), 1000)
    model = pwl_model()
    dataset.models = model
    read.models = model
    assert_allclose(read.stat_sum(), dataset.stat_sum(), rtol=1e-12)
    assert SpectrumDataset.read(filename, name="other").name == "other"


def test_slice_by_energy(make_spectrum_dataset):
    dataset = make_spectrum_dataset(name="d1")
    dataset.models = pwl_model()
    edges = dataset.energy_axis.edges
    sliced = dataset.slice_by_energy(edges[1], edges[4], name="sliced")
    assert sliced.name == "sliced"
    assert sliced.counts.data.shape == (3, 1, 1)
    assert_allclose(sliced.counts.data.ravel(), dataset.counts.data.ravel()[1:4])
    assert sliced.edisp.pdf_matrix.shape == (12, 3)
    sliced.models = dataset.models
    # same model prediction in the kept bins
    assert_allclose(sliced.npred().data.ravel(), dataset.npred().data.ravel()[1:4], rtol=1e-12)
    with pytest.raises(ValueError, match="no reco-energy bin"):
        dataset.slice_by_energy(1.1 * u.TeV, 1.2 * u.TeV)
