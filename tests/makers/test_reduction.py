"""Tests of DatasetsMaker, and the issue-4 checks of the 3D reduction on CTA 1DC data (seeds 004 and 002).

Expected numbers: issue 4 ("figures from the reference implementation on the
same files") and the seed 004 printout; synthetic tests use closed forms.
"""
import warnings

import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import MapDataset
from gammalike.makers import SafeMaskMaker
from gammalike.makers.background.fov import FoVBackgroundMaker
from gammalike.makers.map import MapDatasetMaker
from gammalike.makers.reduction import DatasetsMaker
from gammalike.maps import MapAxis, WcsGeom

from .conftest import POINTING

GC_RUNS = [110380, 111140, 111159]


# ----------------------------------------------------------------------------- synthetic
@pytest.fixture
def reference():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy")
    geom = WcsGeom.create(skydir=POINTING, width=(3, 3), binsz=0.05, axes=[energy])
    return MapDataset.create(geom, binsz_irf=0.5, name="stacked")


def test_serial_stack_equals_sum(observation, reference):
    obs2 = observation.copy(in_memory=True, obs_id=2)
    makers = [MapDatasetMaker(selection=["counts", "exposure", "background"]),
              SafeMaskMaker(methods=["offset-max"], offset_max="1 deg")]
    single = DatasetsMaker(makers, stack_datasets=False).run(reference, [observation, obs2])
    assert single.names == ["1", "2"]
    # cut-outs of 2 x offset_max = 2 deg around the pointing (40 pixels of 0.05 deg)
    assert single[0].counts.data.shape[-2:] == (40, 40)
    stacked = DatasetsMaker(makers).run(reference, [observation, obs2])[0]
    assert stacked.name == "stacked"
    # every event lies within 1 deg of the pointing: twice the 9 events
    assert stacked.counts.data.sum() == 18


def test_parallel_identical_synthetic(observation, reference):
    obs2 = observation.copy(in_memory=True, obs_id=2)
    makers = [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max="1 deg")]
    serial = DatasetsMaker(makers, n_jobs=1).run(reference, [observation, obs2])[0]
    pooled = DatasetsMaker(makers, n_jobs=2).run(reference, [observation, obs2])[0]
    for key in ("counts", "exposure", "background", "mask_safe"):
        assert np.array_equal(getattr(serial, key).data, getattr(pooled, key).data)
    assert np.array_equal(serial.psf.psf_map.data, pooled.psf.psf_map.data)


def test_invalid_options():
    with pytest.raises(TypeError, match="not a maker"):
        DatasetsMaker([object()])
    with pytest.raises(ValueError, match="cutout_mode"):
        DatasetsMaker([MapDatasetMaker()], cutout_mode="banana")


# ----------------------------------------------------------------------------- CTA 1DC
def _observations(data_path):
    from gammalike.data import DataStore

    store = DataStore.from_dir(data_path / "cta-1dc" / "index" / "gps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Invalid unit found in background table" (1DC), tested in irf
        observations = store.get_observations(GC_RUNS)
        for obs in observations:
            obs.bkg  # load now: the warning is expected
    return observations


def _seed004_reference():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "10 TeV", nbin=1, name="energy")
    energy_true = MapAxis.from_energy_bounds("0.5 TeV", "20 TeV", nbin=16, name="energy_true")
    geom = WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), width=(8, 6), binsz=0.02,
                          frame="galactic", proj="CAR", axes=[energy])
    return MapDataset.create(geom, energy_axis_true=energy_true, binsz_irf=0.2 * u.deg, name="stacked")


def _seed004_stacked(data_path, n_jobs=1):
    makers = [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg),
              FoVBackgroundMaker()]  # the seed's config "fov_background": default method "scale"
    return DatasetsMaker(makers, n_jobs=n_jobs).run(_seed004_reference(), _observations(data_path))[0]


@pytest.fixture(scope="module")
def seed004_stacked():
    from tests.conftest import DATA, HAS_DATA

    if not HAS_DATA:
        pytest.skip("data folder not found")
    return _seed004_stacked(DATA)


@pytest.mark.requires_data
def test_seed004_reduction(seed004_stacked):
    info = seed004_stacked.info_dict()
    # seed 004 printout: counts 85625, background 85624.99 (scaled per observation), 96602 fit bins,
    # exposure 8.46e+08 - 2.14e+10 m2 s
    assert info["counts"] == 85625
    assert np.isclose(info["background"], 85625, rtol=1e-6, atol=0)
    assert info["n_fit_bins"] == 96602
    assert np.isclose(info["exposure_min"].to_value("m2 s"), 8.46e8, rtol=5e-3, atol=0)
    assert np.isclose(info["exposure_max"].to_value("m2 s"), 2.14e10, rtol=5e-3, atol=0)


def _seed004_fit(dataset):
    from gammalike.modeling import Fit
    from gammalike.modeling.models import (
        FoVBackgroundModel, Models, PointSpatialModel, PowerLaw2SpectralModel, SkyModel,
    )

    spectral = PowerLaw2SpectralModel(amplitude=1e-12 * u.Unit("cm-2 s-1"), index=2, emin=0.1 * u.TeV,
                                      emax=10 * u.TeV)
    for name in ("index", "emin", "emax"):
        spectral.parameters[name].frozen = True
    spatial = PointSpatialModel(lon_0=0.02 * u.deg, lat_0=0.01 * u.deg, frame="galactic")
    bkg = FoVBackgroundModel(dataset_name=dataset.name)
    bkg.spectral_model.tilt.frozen = True
    dataset.models = Models([SkyModel(spectral, spatial, name="GC-1"), bkg])
    result = Fit().run([dataset])
    return result, dataset.models


# The seed-004 likelihood has several local minima around the pixel centre
# (-0.05, -0.05): a point source is split bilinearly over four pixels, which
# smears it by fx (1 - fx) px^2, so the statistic peaks (by 3-5) exactly on
# the pixel centre.  The two reference releases sit on two of them:
# - the seed printout (older release): (-0.05477, -0.05362), stat 170089.04,
#   amplitude 4.1789e-11.  We reproduce this one completely (stat to 0.03,
#   amplitude to 1e-4, errors): test_seed004_fit_seed_printout_minimum.  It
#   needs the PSF profile interpolated bilinearly between the IRF map's bin
#   centres (with the nearest bin the stat was 0.3 off).
# - the numbers (current release): (-0.04761, -0.05357), stat 170094.2.
#   Values and errors agree (test_seed004_fit_reference_minimum) but our stat
#   there is 170093.5, 0.7 below, beyond the 0.5 (strict xfail below).
#   The statistic is very sensitive to the PSF width here (a 3 % wider PSF
#   lowers it by 16): 0.7 corresponds to a 0.2 % difference in PSF variance,
#   e.g. how the current release integrates the kernel over pixels.  We keep
#   the PSF linear between rad nodes because that reproduces the seed-000
#   Fermi-LAT statistic to 0.02 (log-PSF interpolation moves it by 0.1-0.25).
# Which minimum MIGRAD reaches from the seed's start (0.02, 0.01) depends on
# its first steps: with iminuit's default initial step (1 % of each value,
# our default when no error is known) it is the seed printout's; with 10 %
# it was a third one, (-0.0546, -0.0463), stat 170088.95.
def _seed004_fit_from(dataset, lon_0, lat_0):
    from gammalike.modeling import Fit

    _, models = _seed004_fit(dataset)
    spatial = models["GC-1"].spatial_model
    spatial.lon_0.value, spatial.lat_0.value = lon_0, lat_0
    return Fit().run([dataset]), models


@pytest.mark.requires_data
@pytest.mark.slow
def test_seed004_fit_reference_minimum(seed004_stacked):
    # Started inside the current release's minimum: its values and errors.
    dataset = seed004_stacked.copy(name="stacked")
    result, models = _seed004_fit_from(dataset, -0.047, -0.054)
    assert result.success
    pars = models.parameters
    assert np.isclose(pars["amplitude"].value, 4.147e-11, rtol=5e-3, atol=0)
    assert np.isclose(pars["amplitude"].error, 2.22e-12, rtol=5e-2, atol=0)
    assert np.isclose(pars["lon_0"].value, -0.04761, rtol=5e-3, atol=0)
    assert np.isclose(pars["lat_0"].value, -0.05357, rtol=5e-3, atol=0)
    assert np.isclose(pars["lon_0"].error, 0.0020, rtol=5e-2, atol=0)
    assert np.isclose(pars["lat_0"].error, 0.0020, rtol=5e-2, atol=0)
    assert np.isclose(pars["norm"].value, 0.99445, rtol=5e-3, atol=0)
    assert np.isclose(pars["norm"].error, 0.0034, rtol=5e-2, atol=0)


@pytest.mark.requires_data
@pytest.mark.slow
def test_seed004_fit_seed_printout_minimum(seed004_stacked):
    # From the seed's start: the seed printout's numbers (older release).
    dataset = seed004_stacked.copy(name="stacked")
    result, models = _seed004_fit(dataset)
    assert result.success
    assert abs(dataset.stat_sum() - 170089.04) < 0.1
    pars = models.parameters
    expected = {"amplitude": (4.1789e-11, 2.230e-12), "lon_0": (-5.4771e-02, 1.992e-03),
                "lat_0": (-5.3617e-02, 1.982e-03), "norm": (9.9439e-01, 3.411e-03)}
    for name, (value, error) in expected.items():
        assert np.isclose(pars[name].value, value, rtol=5e-3, atol=0), name
        assert np.isclose(pars[name].error, error, rtol=5e-2, atol=0), name


@pytest.mark.requires_data
@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="total stat 0.7 below the reference's 170094.2 in the same minimum "
                                       "(see the comment above _seed004_fit_from)")
def test_seed004_fit_reference_statistic(seed004_stacked):
    dataset = seed004_stacked.copy(name="stacked")
    _seed004_fit_from(dataset, -0.047, -0.054)
    assert abs(dataset.stat_sum() - 170094.2) < 0.5


@pytest.mark.requires_data
def test_gc_example_reduction_matches_reference_file(data_path):
    """Maps of tests/models/gc_example_data_gc.fits (written by the reference implementation from the
    same three runs): counts exact, background to 1e-5, exposure to 1e-6 (float32).  The exposure
    within 0.5 deg of a pointing (below the first offset node of the effective area) needs the
    line through the first two nodes continued to offset 0: clamping was up to 0.35 % low."""
    reference = MapDataset.read(data_path / "tests" / "models" / "gc_example_data_gc.fits")
    geom = reference.counts.geom
    empty = MapDataset.create(geom, energy_axis_true=reference.exposure.geom.axes["energy_true"],
                              binsz_irf=0.2, rad_axis=reference.psf.psf_map.geom.axes["rad"])
    maker = MapDatasetMaker(selection=["counts", "exposure", "background"])
    total = {key: 0.0 for key in ("counts", "exposure", "background")}
    for obs in _observations(data_path):
        dataset = maker.run(empty, obs)
        for key in total:
            total[key] = total[key] + np.asarray(getattr(dataset, key).data, dtype=float)
    np.testing.assert_array_equal(total["counts"], reference.counts.data)
    np.testing.assert_allclose(total["background"], reference.background.data, rtol=1e-5)
    np.testing.assert_allclose(total["exposure"], reference.exposure.data, rtol=1e-6, atol=0)


@pytest.mark.requires_data
@pytest.mark.parametrize("name", ["gc", "g09"])
def test_gc_example_edisp_matches_reference_file(data_path, name):
    """EDISP kernel maps of tests/models/gc_example_data_{gc,g09}.fits (reference implementation,
    same three runs, 0.2 deg IRF pixels, reco and true energy 0.1-10 TeV in 3 bins).

    The CTA 1DC migration densities integrate to ~100-1000, so the convention matters: the
    reference kernel has rows summing to 1 - 1e-5..4e-5 in the lowest true bin, which rules
    out clipping (rows of exactly 1) and renormalising rows over the reco axis (also 1).  The
    pdf interpolated at each pixel's offset, normalised over the migration table, with the
    probability below 0.1 TeV lost, reproduces every element to 2e-7 (float32) and that lost
    probability to 1 % + 2e-7 (interpolating normalised kernels between the IRF offset nodes was 20 %
    off).  Stacked weighted by the EDISP exposure, as the file's EDISP_EXPOSURE HDU holds.
    """
    reference = MapDataset.read(data_path / "tests" / "models" / f"gc_example_data_{name}.fits")
    empty = MapDataset.create(reference.counts.geom, energy_axis_true=reference.exposure.geom.axes["energy_true"],
                              binsz_irf=0.2)
    geom = empty.edisp.edisp_map.geom
    assert geom == reference.edisp.edisp_map.geom
    maker = MapDatasetMaker(selection=["edisp"])
    weighted, exposure = 0.0, 0.0
    for obs in _observations(data_path):
        kernel_map = maker.make_edisp_kernel(geom, obs)
        weight = kernel_map.exposure_map.data.astype(float)
        weighted = weighted + kernel_map.edisp_map.data * weight
        exposure = exposure + weight
    ours = weighted / exposure
    ref = reference.edisp.edisp_map.data.astype(float)
    np.testing.assert_allclose(exposure, reference.edisp.exposure_map.quantity.to_value("m2 s"), rtol=5e-3)
    np.testing.assert_allclose(ours, ref, atol=3e-7)
    lost, lost_ref = 1 - ours[0].sum(axis=0), 1 - ref[0].sum(axis=0)
    assert lost_ref.min() > 1e-5
    # 1 - (sum of float32 values near 1) carries ~1e-7 of rounding in the reference
    np.testing.assert_allclose(lost, lost_ref, rtol=0.01, atol=2e-7)


def _seed002_datasets(data_path):
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=20, name="energy")
    energy_true = MapAxis.from_energy_bounds("0.05 TeV", "200 TeV", nbin=28, name="energy_true")
    geom = WcsGeom.create(skydir=SkyCoord(0.4, 0, unit="deg", frame="galactic"), npix=(200, 150), binsz=0.02,
                          frame="galactic", proj="CAR", axes=[energy])
    empty = MapDataset.create(geom, energy_axis_true=energy_true, binsz_irf=0.2 * u.deg)
    circles = [CircleSkyRegion(SkyCoord(l, b, unit="deg", frame="galactic"), 0.3 * u.deg)
               for l, b in ((359.944, -0.044), (0.872, 0.076))]
    exclusion = ~geom.to_image().region_mask(circles)
    makers = [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg),
              FoVBackgroundMaker(method="fit", exclusion_mask=exclusion)]
    # the seed's loop: every observation on the full geometry (DatasetsMaker would cut out 5 deg boxes)
    from gammalike.datasets import Datasets

    datasets = Datasets()
    for obs in _observations(data_path):
        dataset = empty.copy(name=str(obs.obs_id))
        for maker in makers:
            dataset = maker.run(dataset, obs)
        datasets.append(dataset)
    return datasets, empty


@pytest.fixture(scope="module")
def seed002():
    from tests.conftest import DATA, HAS_DATA

    if not HAS_DATA:
        pytest.skip("data folder not found")
    datasets, empty = _seed002_datasets(DATA)
    from gammalike.datasets import Datasets

    # as seed 002: stack_reduce keeps each observation's fitted background norm
    stacked = Datasets(datasets).stack_reduce(name="stacked")
    return datasets, stacked


@pytest.mark.requires_data
def test_seed002_counterpart_reduction(seed002):
    datasets, stacked = seed002
    norms = [d.background_model.spectral_model.norm.value for d in datasets]
    # issue 4: background norms 1.2391, 1.2493, 1.1999 (+- 0.002); stacked counts 41489 (exact).
    # The exact count needs the events converted to galactic as the reference does (astropy on the
    # float32 columns): one event of run 110380 lies 3e-8 deg from a pixel edge.
    np.testing.assert_allclose(norms, [1.2391, 1.2493, 1.1999], atol=2e-3)
    assert stacked.counts.data[stacked.mask_safe.data].sum() == 41489


def _seed002_models(dataset):
    from gammalike.modeling.models import (
        FoVBackgroundModel, Models, PiecewiseNormSpectralModel, PointSpatialModel, PowerLawSpectralModel,
        SkyModel,
    )

    def source(name, lon, lat):
        spatial = PointSpatialModel(lon_0=lon * u.deg, lat_0=lat * u.deg, frame="galactic")
        spatial.lon_0.frozen = spatial.lat_0.frozen = True
        spectral = PowerLawSpectralModel(index=2.5, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
        return SkyModel(spectral, spatial, name=name)

    center = dataset.counts.geom.axes["energy"].center
    bkg = FoVBackgroundModel(dataset_name=dataset.name,
                             spectral_model=PiecewiseNormSpectralModel(energy=center, norms=np.ones(center.size)))
    # As the seed: all 20 norms free, though 6 bins lie outside the fit mask; Fit leaves those out
    return Models([source("src1", 359.944, -0.044), source("src2", 0.872, 0.076), bkg])


def _seed002_fit_dataset(stacked):
    dataset = stacked.copy(name="stacked")
    dataset.mask_fit = dataset.counts.geom.energy_mask(energy_min=0.2 * u.TeV, energy_max=50 * u.TeV)
    dataset.models = _seed002_models(dataset)
    return dataset


@pytest.fixture(scope="module")
def seed002_fit(seed002):
    from gammalike.modeling import Fit

    dataset = _seed002_fit_dataset(seed002[1])
    result = Fit(optimize_opts={"tol": 0.01, "strategy": 2, "print_level": 0}).run([dataset])
    return result, dataset


@pytest.mark.requires_data
@pytest.mark.slow
def test_seed002_counterpart_fit(seed002_fit):
    result, dataset = seed002_fit
    assert result.success
    p1, p2 = dataset.models["src1"].spectral_model, dataset.models["src2"].spectral_model
    assert np.isclose(p1.index.value, 2.4901, rtol=5e-3, atol=0)
    assert np.isclose(p1.amplitude.value, 2.5417e-12, rtol=5e-3, atol=0)
    assert np.isclose(p2.index.value, 2.3203, rtol=5e-3, atol=0)
    assert np.isclose(p2.amplitude.value, 9.1347e-13, rtol=5e-3, atol=0)
    assert np.isclose(p1.index.error, 0.056, rtol=5e-2, atol=0)
    assert np.isclose(p2.index.error, 0.109, rtol=5e-2, atol=0)
    assert np.isclose(p2.amplitude.error, 1.11e-13, rtol=5e-2, atol=0)
    # the 6 norms of bins outside the fit mask: not moved, error undefined
    norms = dataset.models["stacked-bkg"].spectral_model.parameters
    outside = [0, 1, 2, 17, 18, 19]
    assert all(norms[i].value == 1 and np.isnan(norms[i].error) for i in outside)
    assert all(np.isfinite(p.error) and p.error > 0 for i, p in enumerate(norms) if i not in outside)


# The src1 amplitude error, 8.3e-14, is not the likelihood's: fixing the
# amplitude at best +- 1.44e-13 (our error) and refitting the rest raises the
# statistic by 1.03 / 0.98, at +- 8.3e-14 by only 0.34 / 0.33; MINOS gives
# -1.41e-13 / +1.46e-13; the problem is well conditioned (condition number 1.6),
# HESSE at every strategy and a finite-difference Hessian all give 1.44e-13.
# What the quoted errors are is shown by the next test: MIGRAD's variable-metric
# estimate of the covariance, not HESSE's.  Strict xfail: we report the Hessian.
@pytest.mark.requires_data
@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="src1 amplitude error 1.44e-13 (profile likelihood agrees) vs 8.3e-14 quoted")
def test_seed002_counterpart_src1_amplitude_error(seed002_fit):
    _, dataset = seed002_fit
    error = dataset.models["src1"].spectral_model.amplitude.error
    assert np.isclose(error, 8.3e-14, rtol=5e-2, atol=0)


@pytest.mark.requires_data
@pytest.mark.slow
def test_seed002_reference_errors_are_migrad_estimates(seed002, seed002_fit):
    """The four quoted errors are MIGRAD's variable-metric covariance (no HESSE).

    In the seed's setup the 6 background norms of bins outside the fit mask are
    free and do not change the statistic: HESSE fails on their zero second
    derivatives (iminuit 2.30-2.33 then return no covariance at all), so the
    quoted errors are not a Hessian's.  MIGRAD's own
    covariance (strategy 0: no HESSE at its end) from the seed's start gives
    src1 index 0.0563, src2 index 0.1087, src2 amplitude 1.108e-13 (quoted
    0.056, 0.109, 1.11e-13: within 0.5 %) and src1 amplitude 8.83e-14 (quoted
    8.3e-14).  That estimate is built from the gradients along MIGRAD's path;
    src1's amplitude is the only quoted parameter that starts far from its best
    fit (1e-12 vs 2.54e-12), and the curvature of the statistic at 1.4e-12 (the
    rest at the start) gives 8.2e-14.  Path-dependent, so only near the quoted
    value (10 %); the Hessian at the minimum is 1.6x larger, as the profile
    likelihood confirms.
    """
    from gammalike.modeling import Fit

    dataset = _seed002_fit_dataset(seed002[1])
    optimize = Fit(optimize_opts={"tol": 0.01, "strategy": 0, "print_level": 0}).optimize([dataset])
    minuit = optimize.minuit
    assert minuit.fmin.is_valid and not minuit.fmin.has_accurate_covar  # no HESSE ran
    src1, src2 = dataset.models["src1"].spectral_model, dataset.models["src2"].spectral_model
    migrad_errors = {
        key: minuit.errors[name] * par.scale
        for key, name, par in (("src1 index", "index", src1.index), ("src1 amplitude", "amplitude", src1.amplitude),
                               ("src2 index", "index_1", src2.index), ("src2 amplitude", "amplitude_1", src2.amplitude))
    }
    assert np.isclose(migrad_errors["src1 index"], 0.056, rtol=1e-2, atol=0)
    assert np.isclose(migrad_errors["src2 index"], 0.109, rtol=1e-2, atol=0)
    assert np.isclose(migrad_errors["src2 amplitude"], 1.11e-13, rtol=1e-2, atol=0)
    assert np.isclose(migrad_errors["src1 amplitude"], 8.3e-14, rtol=0.1, atol=0)
    hessian_error = seed002_fit[1].models["src1"].spectral_model.amplitude.error
    assert hessian_error / migrad_errors["src1 amplitude"] > 1.5


def _small_gc_reduction(data_path):
    """Blank 4 x 3 deg reference (2 energy bins), the 3D makers and the three CTA 1DC GC runs."""
    energy = MapAxis.from_energy_bounds("0.1 TeV", "10 TeV", nbin=2, name="energy")
    geom = WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), width=(4, 3), binsz=0.04,
                          frame="galactic", axes=[energy])
    reference = MapDataset.create(geom, binsz_irf=0.2, name="stacked")
    makers = [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg),
              FoVBackgroundMaker(method="fit")]
    return reference, makers, _observations(data_path)


def _assert_same_stack(pooled, serial):
    """Stacks of the same runs in other partial orders: exact counts and masks, float maps
    equal to rounding (rtol 1e-6), GTIs and runs in order."""
    assert pooled.name == "stacked"
    assert pooled.counts.data.sum() > 1000
    np.testing.assert_array_equal(serial.counts.data, pooled.counts.data)
    np.testing.assert_array_equal(serial.mask_safe.data, pooled.mask_safe.data)
    for key in ("exposure", "background"):
        np.testing.assert_allclose(getattr(pooled, key).data, getattr(serial, key).data, rtol=1e-6, atol=0)
    np.testing.assert_allclose(pooled.psf.psf_map.data, serial.psf.psf_map.data, rtol=1e-6, atol=0)
    np.testing.assert_allclose(pooled.psf.exposure_map.data, serial.psf.exposure_map.data, rtol=1e-6, atol=0)
    np.testing.assert_allclose(pooled.edisp.edisp_map.data, serial.edisp.edisp_map.data, rtol=1e-6, atol=1e-12)
    assert [str(t) for t in pooled.gti.time_start] == [str(t) for t in serial.gti.time_start]
    assert list(pooled.meta_table["OBS_ID"]) == list(serial.meta_table["OBS_ID"]) == GC_RUNS


@pytest.mark.requires_data
def test_parallel_reduction_identical(data_path, parallel_backend):
    reference, makers, observations = _small_gc_reduction(data_path)
    serial = DatasetsMaker(makers, stack_datasets=False, n_jobs=1).run(reference, observations)
    pooled = DatasetsMaker(makers, stack_datasets=False, n_jobs=2, parallel_backend=parallel_backend).run(
        reference, observations)
    # one dataset per observation: computed the same way, bit-identical
    for a, b in zip(serial, pooled):
        for key in ("counts", "exposure", "background", "mask_safe"):
            assert np.array_equal(getattr(a, key).data, getattr(b, key).data)
        assert np.array_equal(a.psf.psf_map.data, b.psf.psf_map.data)
        assert np.array_equal(a.edisp.edisp_map.data, b.edisp.edisp_map.data)
        assert a.background_model.spectral_model.norm.value == b.background_model.spectral_model.norm.value


@pytest.mark.requires_data
def test_parallel_stacking_in_workers(data_path, monkeypatch):
    """n_jobs=2 with stacking: each worker returns one partial stack (2 for 3 observations, not 3
    datasets), stacked in order."""
    from gammalike.utils import parallel

    reference, makers, observations = _small_gc_reduction(data_path)
    calls = []
    run_in_chunks = parallel.run_in_chunks

    def recording(func, inputs, **kwargs):
        results = run_in_chunks(func, inputs, **kwargs)
        calls.append((len(inputs), [type(r).__name__ for r in results]))
        return results

    monkeypatch.setattr(parallel, "run_in_chunks", recording)
    serial = DatasetsMaker(makers, n_jobs=1).run(reference, observations)[0]
    assert calls == []
    pooled = DatasetsMaker(makers, n_jobs=2).run(reference, observations)[0]
    assert calls == [(3, ["MapDataset", "MapDataset"])]
    _assert_same_stack(pooled, serial)


@pytest.mark.requires_data
def test_stacking_on_a_dask_cluster(data_path):
    """Reduction and stacking on the workers of a dask.distributed cluster (here two local
    worker processes; a cluster of machines is used the same way): as the serial run."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    reference, makers, observations = _small_gc_reduction(data_path)
    serial = DatasetsMaker(makers, n_jobs=1).run(reference, observations)[0]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster):
            # n_jobs=-1: as many chunks as the cluster has worker threads
            pooled = DatasetsMaker(makers, n_jobs=-1, parallel_backend="dask").run(reference, observations)[0]
    _assert_same_stack(pooled, serial)


def test_parallel_stacking_not_blank_reference(observation, reference):
    # a reference with safe content would be counted once per worker: the per-observation path is used
    from gammalike.makers.reduction import _is_blank

    assert _is_blank(reference)
    filled = reference.copy()
    filled.mask_safe = np.ones(filled.counts.data.shape, dtype=bool)
    filled.counts = filled.counts.copy(data=np.ones(filled.counts.data.shape, dtype=np.float32))
    assert not _is_blank(filled)
    obs2 = observation.copy(in_memory=True, obs_id=2)
    makers = [MapDatasetMaker(selection=["counts"])]
    serial = DatasetsMaker(makers, n_jobs=1).run(filled, [observation, obs2])[0]
    pooled = DatasetsMaker(makers, n_jobs=2).run(filled, [observation, obs2])[0]
    # the reference's ones once, plus twice the 9 events of the synthetic observation
    assert serial.counts.data.sum() == filled.counts.data.size + 18
    np.testing.assert_array_equal(serial.counts.data, pooled.counts.data)
