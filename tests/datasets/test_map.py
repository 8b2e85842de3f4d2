"""Tests of `MapDataset` on small synthetic inputs (evaluation, statistic, reshaping, I/O)."""
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import Datasets
from gammalike.datasets.map import MapDataset
from gammalike.irf.edisp_map import EDispKernelMap
from gammalike.irf.psf_map import PSFMap
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling.models import (
    FoVBackgroundModel,
    GaussianSpatialModel,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)
from gammalike.stats import cash

CENTER = SkyCoord(0, 0, unit="deg", frame="galactic")


def _geom(nbin=4, width=(4.0, 3.0), binsz=0.1):
    axis = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=nbin)
    return WcsGeom.create(skydir=CENTER, binsz=binsz, width=width, frame="galactic", axes=[axis])


def _dataset(name="test", psf=True, seed=0, background=2.0, exposure=1e10):
    """Dataset with flat background and exposure (m2 s), a Gaussian PSF map and a diagonal edisp."""
    geom = _geom()
    energy_axis = geom.axes["energy"]
    energy_axis_true = energy_axis.copy(name="energy_true")
    geom_true = geom.to_image().to_cube([energy_axis_true])
    rng = np.random.default_rng(seed)
    counts = Map.from_geom(geom, data=rng.poisson(background, geom.data_shape).astype(np.float32))
    kwargs = dict(
        counts=counts,
        exposure=Map.from_geom(geom_true, data=np.full(geom_true.data_shape, exposure), unit="m2 s"),
        background=Map.from_geom(geom, data=np.full(geom.data_shape, background)),
        mask_safe=Map.from_geom(geom, data=np.ones(geom.data_shape, dtype=bool), dtype=bool),
        name=name,
    )
    if psf:
        kwargs["psf"] = PSFMap.from_gauss(energy_axis_true, sigma=0.2 * u.deg)
        geom_irf = WcsGeom.create(skydir=CENTER, binsz=1.0, width=(4, 3), frame="galactic")
        edisp = EDispKernelMap.from_diagonal_response(energy_axis, energy_axis_true, geom=geom_irf)
        kwargs["edisp"] = edisp
    return MapDataset(**kwargs)


def _source(name="src", lon=0.1, lat=-0.1):
    spatial = GaussianSpatialModel(lon_0=f"{lon} deg", lat_0=f"{lat} deg", sigma="0.15 deg", frame="galactic")
    return SkyModel(PowerLawSpectralModel(amplitude="1e-12 cm-2 s-1 TeV-1"), spatial, name=name)


def test_npred_background_norm_and_tilt():
    dataset = _dataset(psf=False)
    bkg = FoVBackgroundModel(dataset_name="test")
    bkg.spectral_model.norm.value = 1.5
    bkg.spectral_model.tilt.value = 0.5
    dataset.models = [bkg]
    assert dataset.background_model is bkg
    # closed form: norm * (E_center / 1 TeV)^-tilt at the (log) bin centres
    energy = dataset.energy_axis.center.to_value("TeV")
    expected = 2.0 * 1.5 * energy ** -0.5
    npred = dataset.npred_background().data
    assert np.allclose(npred[:, 5, 7], expected, rtol=1e-12, atol=0)


def test_npred_signal_totals_and_stat_sum():
    dataset = _dataset()
    model = _source()
    dataset.models = [model, FoVBackgroundModel(dataset_name="test")]
    # closed form: the source is well inside the map, PSF and edisp conserve flux
    edges = dataset.energy_axis_true.edges
    expected = (model.spectral_model.integral(edges[:-1], edges[1:]) * 1e10 * u.Unit("m2 s")).to_value("")
    totals = dataset.npred_signal().data.sum(axis=(1, 2))
    assert np.allclose(totals, expected, rtol=2e-3, atol=0)
    # stat_sum is the cash sum over mask_safe & mask_fit of counts vs npred
    mask_fit = np.ones(dataset.data_shape, dtype=bool)
    mask_fit[:, :5] = False
    dataset.mask_fit = mask_fit
    npred = dataset.npred().data
    mask = dataset.mask.data
    expected_stat = cash(dataset.counts.data[mask], npred[mask]).sum()
    assert np.isclose(dataset.stat_sum(), expected_stat, rtol=1e-12, atol=0)
    assert np.isclose(dataset.stat_array()[mask].sum(), expected_stat, rtol=1e-12, atol=0)


def test_models_for_other_datasets_are_dropped_and_old_background_claimed():
    dataset = _dataset(psf=False)
    other = FoVBackgroundModel(dataset_name="other")
    dataset.models = [_source(), other]
    assert dataset.background_model is None
    legacy = FoVBackgroundModel(name="background")  # old "BackgroundModel": no dataset name
    dataset.models = [_source(), legacy]
    assert dataset.background_model is legacy
    assert legacy.datasets_names == ["test"]


def test_spectral_change_reuses_geometry_and_scales_counts():
    dataset = _dataset()
    model = _source()
    dataset.models = [model]
    first = dataset.npred_signal().data
    evaluator = dataset.evaluators["src"]
    model.spectral_model.amplitude.value *= 3
    assert np.allclose(dataset.npred_signal().data, 3 * first, rtol=1e-12, atol=0)
    assert evaluator is dataset.evaluators["src"]
    assert evaluator.n_evaluations == 2


def test_str_layout():
    dataset = _dataset(psf=False)
    text = str(dataset)
    lines = text.splitlines()
    # layout of seed 004: title, underline, blank, two-space indented "label : value" lines
    assert lines[:4] == ["MapDataset", "----------", "", "  Name                            : test"]
    assert "  Total counts                    : " in text
    assert "  Predicted excess counts         : nan" in text  # no models yet
    assert "  Fit statistic value (-2 log(L)) : nan" in text
    assert "  Number of total bins            : 4800" in text
    assert "  Exposure min                    : 1.00e+10 m2 s" in text
    assert "  Number of free parameters       : 0" in text


def test_info_dict_sums_in_safe_mask():
    dataset = _dataset(psf=False)
    mask = dataset.mask_safe.data.copy()
    mask[0] = False
    dataset.mask_safe = mask
    info = dataset.info_dict()
    assert info["counts"] == pytest.approx(dataset.counts.data[mask].sum())
    assert info["background"] == pytest.approx(2.0 * mask.sum())
    assert info["n_fit_bins"] == mask.sum()


def test_stack_and_stack_reduce():
    d1, d2 = _dataset("d1", seed=1), _dataset("d2", seed=2)
    mask = np.ones(d2.data_shape, dtype=bool)
    mask[0] = False  # first energy bin unsafe in d2
    d2.mask_safe = mask
    stacked = Datasets([d1, d2]).stack_reduce(name="stacked")
    assert stacked.name == "stacked"
    # counts and background outside the safe masks are dropped
    expected = d1.counts.data + d2.counts.data * mask
    assert np.allclose(stacked.counts.data, expected, atol=0)
    assert np.allclose(stacked.background.data, 2.0 + 2.0 * mask, atol=0)
    assert np.allclose(stacked.exposure.data, 2e10, atol=0)
    assert stacked.mask_safe.data.all()
    # the stacked prediction of a source equals the sum of the two
    model = _source()
    stacked.models = [model]
    d1.models = [model]
    assert np.allclose(stacked.npred_signal().data, 2 * d1.npred_signal().data, rtol=1e-6, atol=0)


def _gauss_edisp(energy_axis, energy_axis_true, exposure=1e10):
    """Energy dispersion kernels (20 % resolution, so that bins migrate) with an exposure map."""
    geom_irf = WcsGeom.create(skydir=CENTER, binsz=1.0, width=(4, 3), frame="galactic")
    kernel = EDispKernelMap.from_gauss(energy_axis, energy_axis_true, sigma=0.2, bias=0, geom=geom_irf)
    geom_exposure = kernel.edisp_map.geom.squash("energy")
    exposure_map = Map.from_geom(geom_exposure, data=np.full(geom_exposure.data_shape, exposure), unit="m2 s")
    return EDispKernelMap(kernel.edisp_map, exposure_map)


def test_stack_masks_edisp_in_reco_energy():
    """With different energy thresholds the stacked prediction is the sum of the masked
    predictions: a dataset's migrations into its unsafe reco bins are not stacked."""
    d1, d2 = _dataset("d1", seed=1), _dataset("d2", seed=2)
    energy_axis = d1.counts.geom.axes["energy"]
    for dataset in (d1, d2):
        dataset.edisp = _gauss_edisp(energy_axis, energy_axis.copy(name="energy_true"))
    mask = np.ones(d2.data_shape, dtype=bool)
    mask[0] = False  # below d2's threshold
    d2.mask_safe = mask
    model = _source()
    d1.models = [model]
    expected = np.array(d1.npred_signal().data, dtype=float)
    d2.models = [model]
    expected += np.array(d2.npred_signal().data, dtype=float) * mask
    assert expected[0].sum() > 0 and expected[1].sum() > 0
    for stacked in (Datasets([d1, d2]).stack_reduce(name="stacked"), _stack_in_place(d1, d2)):
        stacked.models = [model]
        np.testing.assert_allclose(stacked.npred_signal().data, expected, rtol=1e-5, atol=0)


def _stack_in_place(*datasets):
    stacked = datasets[0].copy(name="stacked")
    stacked.models = None
    for dataset in datasets[1:]:
        stacked.stack(dataset)
    return stacked


def test_stack_applies_background_models():
    # Each dataset's fitted FoV norm is part of what it contributes (2 * 2 + 3 * 2);
    # the stacked dataset keeps no background model, its sky models stay.
    d1, d2 = _dataset("d1", seed=1), _dataset("d2", seed=2)
    for dataset, norm in ((d1, 2.0), (d2, 3.0)):
        bkg = FoVBackgroundModel(dataset_name=dataset.name)
        bkg.spectral_model.norm.value = norm
        dataset.models = [bkg, _source()]
    stacked = Datasets([d1, d2]).stack_reduce(name="stacked")
    assert np.allclose(stacked.background.data, 2.0 * 2 + 3.0 * 2, atol=0)
    d1.stack(d2)
    assert np.allclose(d1.background.data, 2.0 * 2 + 3.0 * 2, atol=0)
    assert d1.background_model is None
    assert d1.models.names == ["src"]


def test_cutout_and_slice_and_downsample():
    dataset = _dataset()
    cut = dataset.cutout(CENTER, width=1 * u.deg, name="cut")
    assert cut.counts.geom.data_shape == (4, 10, 10)
    assert cut.exposure.geom.data_shape == (4, 10, 10)
    sliced = dataset.slice_by_idx({"energy": slice(1, 3)}, name="sliced")
    assert sliced.counts.data.shape[0] == 2
    assert np.array_equal(sliced.counts.data, dataset.counts.data[1:3])
    small = dataset.downsample(2, name="small")
    assert small.counts.geom.data_shape == (4, 15, 20)
    assert np.isclose(small.counts.data.sum(), dataset.counts.data.sum(), atol=0)
    assert np.allclose(small.exposure.data, 1e10, atol=0)


def test_to_image_and_resample_energy_axis():
    dataset = _dataset()
    mask = dataset.mask_safe.data.copy()
    mask[-1] = False
    dataset.mask_safe = mask
    image = dataset.to_image(name="image")
    assert image.counts.geom.data_shape == (1, 30, 40)
    # only safe bins are summed
    assert np.allclose(image.counts.data[0], dataset.counts.data[:-1].sum(axis=0), atol=0)
    edisp = image.edisp.get_edisp_kernel(position=CENTER, energy_axis=image.energy_axis)
    # the last true bin migrates only into the unsafe reco bin: it contributes nothing
    assert np.allclose(edisp.pdf_matrix[:, 0], [1, 1, 1, 0], atol=0)
    axis = MapAxis.from_energy_edges(dataset.energy_axis.edges[::2])
    resampled = dataset.resample_energy_axis(axis)
    assert resampled.counts.data.shape[0] == 2


def test_to_spectrum_dataset():
    dataset = _dataset()
    region = CircleSkyRegion(CENTER, radius=0.5 * u.deg)
    spectrum = dataset.to_spectrum_dataset(region, name="spec")
    inside = dataset.counts.geom.region_mask([region]).data[0]
    assert np.allclose(spectrum.counts.data.ravel(), dataset.counts.data[:, inside].sum(axis=1), atol=0)
    assert np.allclose(spectrum.exposure.quantity.to_value("m2 s").ravel(), 1e10, atol=0)
    corrected = dataset.to_spectrum_dataset(region, containment_correction=True)
    # Gaussian PSF sigma 0.2 deg: containment within 0.5 deg is 1 - exp(-0.5 (0.5/0.2)^2)
    expected = 1 - np.exp(-0.5 * (0.5 / 0.2) ** 2)
    assert np.allclose(corrected.exposure.quantity.to_value("m2 s").ravel(), 1e10 * expected, rtol=1e-2, atol=0)


@pytest.mark.parametrize("method", ["diff", "diff/model", "diff/sqrt(model)"])
def test_residuals(method):
    dataset = _dataset(psf=False)
    dataset.models = [FoVBackgroundModel(dataset_name="test")]
    residuals = dataset.residuals(method=method).data
    counts = dataset.counts.data
    expected = {"diff": counts - 2.0, "diff/model": (counts - 2.0) / 2.0,
                "diff/sqrt(model)": (counts - 2.0) / np.sqrt(2.0)}[method]
    assert np.allclose(residuals, expected, atol=0)
    with pytest.raises(ValueError, match="residuals method"):
        dataset.residuals(method="ratio")


def test_write_read_roundtrip(tmp_path):
    dataset = _dataset()
    mask_fit = np.ones(dataset.data_shape, dtype=bool)
    mask_fit[:, :3] = False
    dataset.mask_fit = mask_fit
    filename = tmp_path / "dataset.fits"
    dataset.write(filename)
    with pytest.raises(FileExistsError):
        dataset.write(filename)
    new = MapDataset.read(filename)
    assert new.name == "test"
    for key in ("counts", "exposure", "background", "mask_safe", "mask_fit"):
        a, b = getattr(dataset, key), getattr(new, key)
        assert np.array_equal(a.data, b.data), key
        assert a.data.dtype == b.data.dtype, key
        assert a.unit == b.unit, key
    assert np.array_equal(dataset.psf.psf_map.data, new.psf.psf_map.data)
    assert np.array_equal(dataset.edisp.edisp_map.data, new.edisp.edisp_map.data)
    model = _source()
    dataset.models = [model]
    new.models = [model]
    assert new.stat_sum() == pytest.approx(dataset.stat_sum(), rel=1e-12, abs=0)


def test_create_empty_dataset():
    geom = _geom()
    dataset = MapDataset.create(geom, binsz_irf=0.5 * u.deg, name="empty")
    assert dataset.counts.data.sum() == 0
    assert not dataset.mask_safe.data.any()
    assert dataset.exposure.geom.axes.names == ["energy_true"]
    assert dataset.psf.psf_map.geom.axes.names == ["rad", "energy_true"]
    assert np.allclose(np.abs(dataset.psf.psf_map.geom.wcs.wcs.cdelt), 0.5, atol=0)
    assert "energy" in dataset.edisp.edisp_map.geom.axes.names
    migra = MapAxis.from_bounds(0.2, 5, nbin=10, name="migra")
    assert "migra" in MapDataset.create(geom, migra_axis=migra).edisp.edisp_map.geom.axes.names


def test_fake_and_plots():
    import matplotlib.pyplot as plt

    dataset = _dataset()
    dataset.models = [_source(), FoVBackgroundModel(dataset_name="test")]
    dataset.fake(random_state=0)
    assert dataset.counts.data.sum() > 0
    region = CircleSkyRegion(CENTER, radius=0.5 * u.deg)
    ax_spatial, ax_spectral = dataset.plot_residuals(
        kwargs_spatial=dict(method="diff/sqrt(model)", vmin=-2, vmax=2),
        kwargs_spectral=dict(method="diff/sqrt(model)", region=region),
    )
    assert ax_spectral.get_xscale() == "log"
    dataset.peek()
    plt.close("all")
