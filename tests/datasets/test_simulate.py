"""Tests of `MapDatasetEventSampler` and of the simulation pull check of issue 6.

The datasets are built by hand from the gammalike CTA-like parametrisation
(`gammalike.irf.parametrisation.make_irfs`): exposure = aeff x livetime at
each pixel's offset, background = rate x bin width x solid angle x livetime,
PSF / energy dispersion maps from the IRFs. The expected numbers are the
dataset's own predicted counts (``npred``); the statistical tolerances are
Poisson (3 sigma, chi2 / KS p-values > 1e-3).
"""
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time
from numpy.testing import assert_allclose
from regions import CircleSkyRegion
from scipy import stats

from gammalike.data import GTI, EventList, Observation
from gammalike.datasets import MapDataset, SpectrumDatasetOnOff
from gammalike.datasets.simulate import MapDatasetEventSampler, _local_index, _sample_powerlaw
from gammalike.irf import EDispMap, PSFMap
from gammalike.irf.parametrisation import make_irfs
from gammalike.maps import Map, MapAxis, RegionGeom, WcsGeom
from gammalike.modeling import Fit
from gammalike.modeling.models import (
    ExpDecayTemporalModel,
    FoVBackgroundModel,
    GaussianSpatialModel,
    Models,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)

POINTING = SkyCoord(83.63, 22.51, unit="deg")
SOURCE = SkyCoord(83.63, 22.01, unit="deg")
LIVETIME = 1 * u.h


def _fill_dataset(dataset, irfs, pointing, livetime):
    """Exposure, background, PSF and edisp maps of ``dataset`` from DL3-like IRFs (by hand)."""
    geom = dataset.counts.geom
    image = geom.to_image()
    energy_axis = geom.axes["energy"]
    energy_axis_true = dataset.exposure.geom.axes["energy_true"]
    t = livetime.to_value("s")
    offset = image.separation(pointing).to_value("deg")
    aeff = irfs["aeff"].evaluate(
        energy_true=energy_axis_true.center[:, None, None], offset=offset[None] * u.deg
    ).to_value("cm2")
    dataset.exposure = Map.from_geom(dataset.exposure.geom, data=aeff * t, unit="cm2 s")
    # the background is radially symmetric: evaluate the 3D rate along fov_lon
    rate = irfs["bkg"].evaluate(
        energy=energy_axis.center[:, None, None], fov_lon=offset[None] * u.deg, fov_lat=0 * u.deg
    ).to_value("s-1 MeV-1 sr-1")
    width = energy_axis.bin_width.to_value("MeV")[:, None, None]
    omega = image.solid_angle().to_value("sr")[None]
    dataset.background = Map.from_geom(geom, data=rate * width * omega * t)
    dataset.psf = PSFMap.from_psf_irf(irfs["psf"], dataset.psf.psf_map.geom, pointing=pointing)
    edisp = EDispMap.from_edisp_irf(irfs["edisp"], dataset.edisp.edisp_map.geom, pointing=pointing)
    dataset.edisp = edisp.to_edisp_kernel_map(energy_axis)
    dataset.mask_safe = Map.from_geom(geom, data=np.ones(geom.data_shape, dtype=bool), dtype=bool)
    return dataset


def make_dataset(spatial="point", name="sim", frame="icrs", amplitude=1e-11):
    irfs = make_irfs("south")
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=4, per_decade=True)
    energy_axis_true = MapAxis.from_energy_bounds(
        "0.05 TeV", "200 TeV", nbin=5, per_decade=True, name="energy_true"
    )
    center = SOURCE if frame == "icrs" else SOURCE.galactic
    geom = WcsGeom.create(skydir=center, binsz=0.04, width=3, frame=frame, axes=[energy_axis])
    migra = MapAxis.from_bounds(0.2, 3, nbin=140, name="migra")
    dataset = MapDataset.create(geom, energy_axis_true=energy_axis_true, migra_axis=migra, name=name)
    _fill_dataset(dataset, irfs, POINTING, LIVETIME)
    spectral = PowerLawSpectralModel(index=2.5, amplitude=f"{amplitude} cm-2 s-1 TeV-1")
    if spatial == "point":
        spatial_model = PointSpatialModel(lon_0=SOURCE.ra, lat_0=SOURCE.dec, frame="icrs")
    else:
        spatial_model = GaussianSpatialModel(lon_0=SOURCE.ra, lat_0=SOURCE.dec, sigma="0.2 deg", frame="icrs")
    model = SkyModel(spectral, spatial_model, name="src")
    dataset.models = Models([model, FoVBackgroundModel(dataset_name=name)])
    observation = Observation.create(POINTING, livetime=LIVETIME, irfs=irfs, obs_id=42)
    return dataset, observation


@pytest.fixture(scope="module")
def point_dataset():
    return make_dataset()


@pytest.fixture(scope="module")
def point_events(point_dataset):
    dataset, observation = point_dataset
    return MapDatasetEventSampler(random_state=0).run(dataset, observation)


def _bin(events, geom):
    counts = Map.from_geom(geom)
    counts.fill_events(events)
    return np.asarray(counts.data, dtype=float)


def _chi2_pvalue(observed, expected, min_expected=5, n_constraints=0):
    """Pearson chi2 p-value over the bins with more than ``min_expected`` expected counts."""
    sel = expected > min_expected
    chi2 = np.sum((observed[sel] - expected[sel]) ** 2 / expected[sel])
    return stats.chi2.sf(chi2, sel.sum() - n_constraints)


# ----------------------------------------------------------------------------- helpers
def test_sample_powerlaw_follows_cdf():
    # closed-form CDF of E^-2.5 on [1, 10]: (1 - E^-1.5) / (1 - 10^-1.5)
    rng = np.random.default_rng(1)
    values = _sample_powerlaw(rng, np.ones(20000), np.full(20000, 10.0), 2.5)
    assert values.min() >= 1 and values.max() <= 10
    cdf = lambda e: (1 - e ** -1.5) / (1 - 10 ** -1.5)  # noqa: E731
    assert stats.kstest(values, cdf).pvalue > 1e-3
    # index 1 is log-uniform
    values = _sample_powerlaw(rng, np.ones(20000), np.full(20000, 10.0), 1.0)
    assert stats.kstest(np.log10(values), "uniform").pvalue > 1e-3


def test_local_index_of_power_law():
    # counts per bin of E^-2 on log bins: the local index is 2 everywhere
    edges = np.geomspace(1, 100, 9)
    counts = 1 / edges[:-1] - 1 / edges[1:]
    assert_allclose(_local_index(counts, edges), 2, rtol=1e-6)


# ----------------------------------------------------------------------------- event list
def test_event_list_columns_and_header(point_dataset, point_events):
    dataset, observation = point_dataset
    events = point_events
    table = events.table
    for name in ("EVENT_ID", "TIME", "RA", "DEC", "ENERGY", "MC_ID", "RA_TRUE", "DEC_TRUE", "ENERGY_TRUE"):
        assert name in table.colnames
    assert table["RA"].unit == u.deg and table["ENERGY"].unit == u.TeV and table["TIME"].unit == u.s
    assert set(np.unique(table["MC_ID"])) == {0, 1}
    meta = table.meta
    assert meta["OBS_ID"] == 42
    assert_allclose([meta["RA_PNT"], meta["DEC_PNT"]], [83.63, 22.51])
    assert_allclose([meta["TSTART"], meta["TSTOP"], meta["LIVETIME"]], [0, 3600, 3600])
    assert meta["MJDREFI"] == 51544 and meta["HDUCLAS1"] == "EVENTS"
    assert meta["MID00001"] == "src"
    time = np.asarray(table["TIME"])
    assert np.all(np.diff(time) >= 0) and time.min() >= 0 and time.max() <= 3600
    assert_allclose(table["EVENT_ID"], np.arange(1, len(table) + 1))
    # every event is inside the dataset's reco energy range
    energy = np.asarray(table["ENERGY"])
    assert energy.min() >= 0.1 and energy.max() <= 100 * (1 + 1e-9)
    # high-level accessors of EventList work on the simulated list
    assert_allclose(events.pointing_radec.ra.deg, 83.63)
    assert events.observation_live_time_duration == 3600 * u.s


def test_write_read_roundtrip(point_events, tmp_path):
    filename = tmp_path / "events.fits.gz"
    point_events.write(filename)
    events = EventList.read(filename)
    assert len(events) == len(point_events)
    assert_allclose(events.table["RA"], point_events.table["RA"])
    assert_allclose(events.table["ENERGY"], point_events.table["ENERGY"])
    assert_allclose(events.table["MC_ID"], point_events.table["MC_ID"])
    assert events.table.meta["OBS_ID"] == 42
    gti = GTI.read(filename)
    assert_allclose(gti.time_sum.to_value("s"), 3600)
    with pytest.raises(OSError):
        point_events.write(filename)


def test_reproducible(point_dataset):
    dataset, observation = point_dataset
    a = MapDatasetEventSampler(random_state=3).run(dataset, observation)
    b = MapDatasetEventSampler(random_state=3).run(dataset, observation)
    c = MapDatasetEventSampler(random_state=4).run(dataset, observation)
    assert len(a) == len(b)
    assert_allclose(a.table["RA"], b.table["RA"])
    assert len(a) != len(c) or not np.allclose(a.table["RA"], c.table["RA"], atol=0)


def test_counts_poisson_consistent_with_npred(point_dataset):
    # mean number of (binned) events over 5 seeds within 3 sigma of npred, for the
    # source and for the background separately
    dataset, observation = point_dataset
    geom = dataset.counts.geom
    npred_signal = dataset.npred_signal().data.sum()
    npred_background = dataset.npred_background().data.sum()
    n_signal, n_background = [], []
    for seed in range(5):
        events = MapDatasetEventSampler(random_state=seed).run(dataset, observation)
        mc_id = np.asarray(events.table["MC_ID"])
        n_signal.append(_bin(events.select_row_subset(mc_id == 1), geom).sum())
        n_background.append(_bin(events.select_row_subset(mc_id == 0), geom).sum())
    for n, mu in ((n_signal, npred_signal), (n_background, npred_background)):
        assert abs(np.mean(n) - mu) < 3 * np.sqrt(mu / len(n))
    assert npred_signal > 1000  # the test has power


def test_binned_events_reproduce_npred(point_dataset, point_events):
    dataset, _ = point_dataset
    geom = dataset.counts.geom
    mc_id = np.asarray(point_events.table["MC_ID"])
    signal = _bin(point_events.select_row_subset(mc_id == 1), geom)
    background = _bin(point_events.select_row_subset(mc_id == 0), geom)
    npred_signal = dataset.npred_signal().data
    npred_background = dataset.npred_background().data
    # per energy bin
    assert _chi2_pvalue(signal.sum(axis=(1, 2)), npred_signal.sum(axis=(1, 2))) > 1e-3
    assert _chi2_pvalue(background.sum(axis=(1, 2)), npred_background.sum(axis=(1, 2))) > 1e-3
    # per (energy, spatial 5 x 5 block) bin
    def blocks(a):
        n = a.shape[-1] // 5
        return a[:, :5 * n, :5 * n].reshape(a.shape[0], n, 5, n, 5).sum(axis=(2, 4))

    assert _chi2_pvalue(blocks(background), blocks(npred_background)) > 1e-3
    assert _chi2_pvalue(blocks(signal), blocks(npred_signal)) > 1e-3
    # a wrong prediction is rejected: npred with a 30 % brighter source
    assert _chi2_pvalue(signal.sum(axis=(1, 2)), 1.3 * npred_signal.sum(axis=(1, 2))) < 1e-3


def test_psf_radial_profile(point_dataset, point_events):
    # the PSF containment at each event's distance from the true position is uniform (KS)
    dataset, _ = point_dataset
    table = point_events.table[np.asarray(point_events.table["MC_ID"]) == 1]
    true = SkyCoord(table["RA_TRUE"], table["DEC_TRUE"])
    assert_allclose(true.separation(SOURCE).deg, 0, atol=1e-8)
    rad = SkyCoord(table["RA"], table["DEC"]).separation(true)
    energy_true = u.Quantity(table["ENERGY_TRUE"])
    fraction = dataset.psf.containment(rad, energy_true, position=SOURCE).value
    assert stats.kstest(fraction, "uniform").pvalue > 1e-3
    # the check has power: the same radii under a 20 % narrower PSF are rejected
    fraction_wrong = dataset.psf.containment(rad * 1.2, energy_true, position=SOURCE).value
    assert stats.kstest(fraction_wrong, "uniform").pvalue < 1e-3


def test_reco_energy_follows_edisp(point_dataset, point_events):
    # for each true-energy bin the reco-bin histogram follows the kernel row
    dataset, _ = point_dataset
    table = point_events.table[np.asarray(point_events.table["MC_ID"]) == 1]
    energy_axis = dataset.counts.geom.axes["energy"]
    energy_axis_true = dataset.exposure.geom.axes["energy_true"]
    true_bin = energy_axis_true.coord_to_idx(u.Quantity(table["ENERGY_TRUE"]))
    reco_bin = energy_axis.coord_to_idx(u.Quantity(table["ENERGY"]))
    pdf = dataset.edisp.get_edisp_kernel(position=SOURCE).pdf_matrix
    observed = np.zeros(pdf.shape)
    np.add.at(observed, (true_bin, reco_bin), 1)
    # the events that stayed in the reco range are distributed as the kernel rows
    # renormalised over the reco axis
    n_true = observed.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = n_true * pdf / pdf.sum(axis=1, keepdims=True)
    expected = np.nan_to_num(expected)
    # one constraint per row (its total is taken from the data)
    rows = int(np.sum(np.any(expected > 5, axis=1)))
    assert _chi2_pvalue(observed, expected, n_constraints=rows) > 1e-3
    # the migration log(E_reco / E_true) of events around 1 TeV: mean near the bias
    # (-1.5 %), width near the 9 % resolution of the parametrisation
    sel = (np.asarray(table["ENERGY_TRUE"]) > 0.7) & (np.asarray(table["ENERGY_TRUE"]) < 1.5)
    migra = np.asarray(table["ENERGY"])[sel] / np.asarray(table["ENERGY_TRUE"])[sel]
    assert abs(np.median(migra) - 1) < 0.06
    assert 0.04 < np.std(migra) < 0.25


def test_true_energy_follows_spectrum_with_flat_exposure():
    # flat exposure, no PSF / edisp: the true energies follow the power law exactly
    energy_axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=3)
    geom = WcsGeom.create(skydir=SOURCE, binsz=0.1, width=1, axes=[energy_axis])
    dataset = MapDataset.create(geom, name="flat")
    dataset.exposure = Map.from_geom(dataset.exposure.geom, data=np.full(dataset.exposure.data.shape, 1e12),
                                     unit="cm2 s")
    dataset.psf = None
    dataset.edisp = None
    model = SkyModel(PowerLawSpectralModel(index=2.5, amplitude="1e-11 cm-2 s-1 TeV-1"),
                     PointSpatialModel(lon_0=SOURCE.ra, lat_0=SOURCE.dec, frame="icrs"), name="pl")
    dataset.models = [model]
    dataset.gti = GTI.create(0 * u.s, 100 * u.s)
    events = MapDatasetEventSampler(random_state=2).run(dataset)
    energy = np.asarray(events.table["ENERGY_TRUE"])
    assert_allclose(events.table["ENERGY"], energy)  # no energy dispersion
    assert_allclose(events.table["RA"], SOURCE.ra.deg)  # no PSF
    cdf = lambda e: (1 - e ** -1.5) / (1 - 10 ** -1.5)  # noqa: E731
    assert stats.kstest(energy, cdf).pvalue > 1e-3
    # times uniform in the dataset's GTI
    assert stats.kstest(np.asarray(events.table["TIME"]) / 100, "uniform").pvalue > 1e-3


def test_temporal_model_shapes_times(point_dataset):
    dataset, observation = point_dataset
    dataset = dataset.copy(name="decay")
    t_ref = Time(51544, format="mjd", scale="tt").utc.mjd
    tau = 0.25 / 24  # 15 min in days
    model = SkyModel(
        PowerLawSpectralModel(index=2.5, amplitude="1e-11 cm-2 s-1 TeV-1"),
        PointSpatialModel(lon_0=SOURCE.ra, lat_0=SOURCE.dec, frame="icrs"),
        ExpDecayTemporalModel(t0=f"{tau} d", t_ref=t_ref), name="flare",
    )
    dataset.models = [model]
    events = MapDatasetEventSampler(random_state=5).run(dataset, observation)
    time = np.asarray(events.table["TIME"])[np.asarray(events.table["MC_ID"]) == 1]
    tau_s = tau * 86400
    # closed-form CDF of an exponential decay truncated to [0, 3600 s]
    cdf = lambda t: -np.expm1(-t / tau_s) / -np.expm1(-3600 / tau_s)  # noqa: E731
    assert stats.kstest(time, cdf).pvalue > 1e-3
    assert stats.kstest(time / 3600, "uniform").pvalue < 1e-3


def test_extended_source(tmp_path):
    dataset, observation = make_dataset(spatial="gauss", name="ext", frame="galactic")
    events = MapDatasetEventSampler(random_state=7).run(dataset, observation)
    table = events.table[np.asarray(events.table["MC_ID"]) == 1]
    # true positions spread as the 0.2 deg Gaussian (per-axis std 0.2 deg)
    true = SkyCoord(table["RA_TRUE"], table["DEC_TRUE"])
    lon, lat = SOURCE.spherical_offsets_to(true)
    assert_allclose([np.mean(lon.deg), np.mean(lat.deg)], 0, atol=0.02)
    assert_allclose([np.std(lon.deg), np.std(lat.deg)], 0.2, rtol=0.08)
    # binned (galactic geometry) counts per energy bin follow npred
    signal = _bin(events.select_row_subset(np.asarray(events.table["MC_ID"]) == 1), dataset.counts.geom)
    npred = dataset.npred_signal().data
    assert _chi2_pvalue(signal.sum(axis=(1, 2)), npred.sum(axis=(1, 2))) > 1e-3


def test_sample_time_several_intervals():
    # uniform in the union of [0, 100] and [200, 400] s: 1/3 and 2/3 of the events
    gti = GTI.create([0, 200] * u.s, [100, 400] * u.s)
    sampler = MapDatasetEventSampler(random_state=0)
    time = sampler.sample_time(30000, gti)
    assert np.all(((time >= 0) & (time <= 100)) | ((time >= 200) & (time <= 400)))
    assert_allclose(np.mean(time < 150), 1 / 3, atol=0.01)  # binomial sigma 0.003
    # a temporal model: a linear ramp t / 400 gives P(t < 100) = 100^2 / (100^2 + 400^2 - 200^2)
    from gammalike.modeling.models import LinearTemporalModel

    t_ref = Time(51544, format="mjd", scale="tt").utc.mjd
    model = LinearTemporalModel(alpha=0, beta=f"{86400 / 400} d-1", t_ref=t_ref)
    time = sampler.sample_time(30000, gti, temporal_model=model)
    assert np.all(((time >= 0) & (time <= 100)) | ((time >= 200) & (time <= 400)))
    assert_allclose(np.mean(time < 150), 1e4 / (1e4 + 16e4 - 4e4), atol=0.01)


def test_invalid_options():
    with pytest.raises(ValueError, match="oversample_energy_factor"):
        MapDatasetEventSampler(oversample_energy_factor=0)
    with pytest.raises(ValueError, match="t_delta"):
        MapDatasetEventSampler(t_delta=-1 * u.s)


def test_background_only_and_missing_gti(point_dataset):
    dataset, observation = point_dataset
    bkg_only = dataset.copy(name="bkg-only")
    bkg_only.models = [FoVBackgroundModel(dataset_name="bkg-only")]
    bkg_only.models[0].spectral_model.norm.value = 1.5
    events = MapDatasetEventSampler(random_state=1).run(bkg_only, observation)
    assert np.all(np.asarray(events.table["MC_ID"]) == 0)
    mu = 1.5 * dataset.background.data.sum()  # the background norm scales the draw
    assert abs(len(events) - mu) < 4 * np.sqrt(mu)
    # without an observation the dataset's GTI is needed: MapDataset.create leaves it empty
    with pytest.raises(ValueError, match="no good time interval"):
        MapDatasetEventSampler().run(bkg_only)


def test_with_map_dataset_maker():
    # the simulated observation of the parametrised IRFs through MapDatasetMaker
    makers = pytest.importorskip("gammalike.makers")
    if "MapDatasetMaker" not in makers.__all__:
        pytest.skip("MapDatasetMaker not available")
    irfs = make_irfs("south")
    observation = Observation.create(POINTING, livetime=0.5 * u.h, irfs=irfs, obs_id=7)
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=4, per_decade=True)
    energy_axis_true = MapAxis.from_energy_bounds("0.05 TeV", "200 TeV", nbin=5, per_decade=True,
                                                  name="energy_true")
    geom = WcsGeom.create(skydir=SOURCE, binsz=0.05, width=3, frame="icrs", axes=[energy_axis])
    empty = MapDataset.create(geom, energy_axis_true=energy_axis_true, name="maker")
    maker = makers.MapDatasetMaker(selection=["exposure", "background", "psf", "edisp"])
    dataset = maker.run(empty, observation)
    model = SkyModel(PowerLawSpectralModel(index=2.5, amplitude="1e-11 cm-2 s-1 TeV-1"),
                     PointSpatialModel(lon_0=SOURCE.ra, lat_0=SOURCE.dec, frame="icrs"), name="src")
    dataset.models = [model, FoVBackgroundModel(dataset_name="maker")]
    events = MapDatasetEventSampler(random_state=11).run(dataset, observation)
    observation.events = events
    counts_maker = makers.MapDatasetMaker(selection=["counts"])
    counts = counts_maker.run(empty.copy(name="maker-counts"), observation).counts.data
    npred = dataset.npred().data
    assert abs(counts.sum() - npred.sum()) < 4 * np.sqrt(npred.sum())
    assert _chi2_pvalue(counts.sum(axis=(1, 2)), npred.sum(axis=(1, 2))) > 1e-3


# ----------------------------------------------------------------------------- issue 6 pull check
def make_spectrum_dataset(livetime=0.5 * u.h, offset=0.5 * u.deg):
    """CTA-like ON/OFF dataset: exposure = aeff(0.5 deg) x livetime, edisp kernel of the
    parametrised EnergyDispersion2D, background rate x ON solid angle x livetime."""
    irfs = make_irfs("south")
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "50 TeV", nbin=5, per_decade=True)
    energy_axis_true = MapAxis.from_energy_bounds("0.03 TeV", "150 TeV", nbin=10, per_decade=True,
                                                  name="energy_true")
    radius = 0.1 * u.deg
    geom = RegionGeom.create(region=CircleSkyRegion(SOURCE, radius=radius), axes=[energy_axis])
    dataset = SpectrumDatasetOnOff.create(geom=geom, energy_axis_true=energy_axis_true, name="pull")
    aeff = irfs["aeff"].evaluate(energy_true=energy_axis_true.center, offset=offset)
    dataset.exposure = dataset.exposure.copy(data=(aeff * livetime).to_value("m2 s").reshape(-1, 1, 1))
    dataset.edisp = irfs["edisp"].to_edisp_kernel(offset, energy_axis_true=energy_axis_true,
                                                  energy_axis=energy_axis)
    dataset.mask_safe = np.ones(geom.data_shape, dtype=bool)
    dataset.acceptance = 1
    dataset.acceptance_off = 5
    rate = irfs["bkg"].evaluate(energy=energy_axis.center, fov_lon=offset, fov_lat=0 * u.deg)
    omega = 2 * np.pi * (1 - np.cos(radius.to_value("rad"))) * u.sr
    npred_background = (rate * energy_axis.bin_width * omega * livetime).to_value("")
    return dataset, npred_background


def _index_pulls(n, seed, index=2.5):
    dataset, npred_background = make_spectrum_dataset()
    truth = SkyModel(PowerLawSpectralModel(index=index, amplitude="5e-12 cm-2 s-1 TeV-1"), name="truth")
    rng = np.random.default_rng(seed)
    pulls = []
    for _ in range(n):
        dataset.models = truth
        dataset.fake(npred_background=npred_background, random_state=rng)
        model = SkyModel(PowerLawSpectralModel(index=index, amplitude="5e-12 cm-2 s-1 TeV-1"), name="fit")
        dataset.models = model
        result = Fit().run(datasets=[dataset])
        assert result.success
        par = model.spectral_model.index
        pulls.append((par.value - index) / par.error)
    return np.array(pulls)


def test_fake_spectrum_index_pulls():
    # issue 6: over 200 fake realisations the pull distribution of the fitted index
    # has mean within 0.1 and width within 10 % of 1. The mean of 200 unit-variance
    # pulls itself scatters by 1 / sqrt(200) = 0.07, so the criterion holds for
    # most (not all) seeds; the seed is fixed, `test_fake_spectrum_index_pulls_many`
    # checks the same with 1000 realisations, where it holds for any seed.
    pulls = _index_pulls(200, seed=1)
    assert abs(np.mean(pulls)) < 0.1
    assert abs(np.std(pulls, ddof=1) - 1) < 0.1


@pytest.mark.slow
def test_fake_spectrum_index_pulls_many():
    # 1000 realisations: mean known to +-0.032 and width to +-0.022 (1 sigma), so the
    # issue's tolerances are 3 and 4.5 sigma
    pulls = _index_pulls(1000, seed=123)
    assert abs(np.mean(pulls)) < 0.1
    assert abs(np.std(pulls, ddof=1) - 1) < 0.1


def test_diffuse_template_of_differential_flux():
    """A 3D template in cm-2 s-1 MeV-1 sr-1 (normalize=False) with a PowerLawNorm: the number
    of sampled signal events follows its npred (it was 1e6 too low when the MeV-1 was dropped)."""
    from gammalike.modeling.models import PowerLawNormSpectralModel, TemplateSpatialModel

    dataset, observation = make_dataset(name="diffuse")
    tgeom = WcsGeom.create(skydir=SOURCE, binsz=0.1, width=4, frame="icrs",
                           axes=[MapAxis.from_energy_bounds("0.03 TeV", "300 TeV", nbin=20, name="energy")])
    energy_mev = tgeom.axes["energy"].center.to_value("MeV")[:, None, None]
    values = np.broadcast_to(1e-14 * (energy_mev / 1e6) ** -2.5, tgeom.data_shape)  # at 1 TeV: 1e-14
    template = Map.from_geom(tgeom, data=np.array(values), unit="cm-2 s-1 MeV-1 sr-1")
    model = SkyModel(PowerLawNormSpectralModel(), TemplateSpatialModel(template, normalize=False), name="diffuse")
    dataset.models = Models([model])
    npred = dataset.npred_signal().data.sum()
    events = MapDatasetEventSampler(random_state=3).run(dataset, observation)
    signal = _bin(events.select_row_subset(np.asarray(events.table["MC_ID"]) == 1), dataset.counts.geom).sum()
    assert 1000 < npred < 1e5
    assert abs(signal - npred) < 4 * np.sqrt(npred)
    # a normalisation mistake (1e5 times too bright here) is an error, not an out-of-memory
    model.spectral_model.norm.value = 1e10
    with pytest.raises(ValueError, match=r"model 'diffuse' predicts .* events \(at most 1e\+08\)"):
        MapDatasetEventSampler(random_state=3).run(dataset, observation)
