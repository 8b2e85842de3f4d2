"""Tests of MapDatasetMaker on synthetic observations (tests/makers/conftest.py) and real data.

Expected values: direct evaluation of the IRFs at the pixel offsets, or closed
forms (constant background rate x energy width x solid angle x time).
"""
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord

from gammalike.datasets import MapDataset
from gammalike.irf import Background3D, EDispKernelMap, EDispMap, FoVAlignment, PSFMap
from gammalike.makers.map import MapDatasetMaker, _fill_missing_along_energy, _lonlat_to_frame
from gammalike.makers.utils import fov_coordinates
from gammalike.maps import MapAxis, WcsGeom

from .conftest import BKG_RATE, LIVETIME, POINTING


@pytest.fixture
def reference():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy")
    energy_true = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=6, name="energy_true")
    geom = WcsGeom.create(skydir=POINTING, width=(2, 2), binsz=0.05, frame="icrs", axes=[energy])
    return MapDataset.create(geom, energy_axis_true=energy_true, binsz_irf=0.5 * u.deg, name="ref")


def _offsets(geom):
    return geom.to_image().separation(POINTING).deg


def test_counts_are_binned_events(observation, reference):
    dataset = MapDatasetMaker(selection=["counts"]).run(reference, observation)
    counts = dataset.counts
    # all 9 synthetic events lie within 0.7 deg of the pointing and in 0.1-100 TeV
    assert counts.data.sum() == 9
    # 4 events 0.5 deg south of the pointing at 0.5, 1.5, 2.5, 5 TeV -> one pixel, bins 0 (x1) and 1 (x3)
    south = POINTING.directional_offset_by(180 * u.deg, 0.5 * u.deg)
    ix, iy = (int(np.floor(v + 0.5)) for v in counts.geom.wcs.world_to_pixel(south))
    assert counts.data[:, iy, ix].tolist() == [1.0, 3.0, 0.0]


def test_counts_galactic_frame_matches_fill_events(observation):
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=2, name="energy")
    geom = WcsGeom.create(skydir=POINTING.galactic, width=(3, 3), binsz=0.02, frame="galactic", axes=[energy])
    made = MapDatasetMaker.make_counts(geom, observation)
    expected = MapDataset.create(geom).counts.copy()
    expected.fill_events(observation.events)
    np.testing.assert_array_equal(made.data, expected.data)


def test_exposure_is_aeff_times_livetime(observation, reference):
    dataset = MapDatasetMaker(selection=["exposure"]).run(reference, observation)
    geom = dataset.exposure.geom
    energy = geom.axes["energy_true"].center
    offset = _offsets(geom)
    expected = observation.aeff.evaluate(energy_true=energy[:, None, None], offset=offset[None] * u.deg)
    expected = (expected * LIVETIME * u.s).to_value("m2 s")
    np.testing.assert_allclose(dataset.exposure.data, expected, rtol=1e-5)
    assert dataset.exposure.unit == u.Unit("m2 s")
    assert dataset.exposure.meta["livetime"] == LIVETIME * u.s


def test_background_constant_rate_closed_form(observation, reference):
    dataset = MapDatasetMaker(selection=["background"]).run(reference, observation)
    geom = dataset.background.geom
    edges_mev = geom.axes["energy"].edges.to_value("MeV")
    solid_angle = geom.to_image().solid_angle().to_value("sr")
    # constant rate: integral over the bin is rate * width; the GTI lasts LIVETIME seconds
    expected = BKG_RATE * np.diff(edges_mev)[:, None, None] * solid_angle[None] * LIVETIME
    np.testing.assert_allclose(dataset.background.data, expected, rtol=1e-5)


def test_background_oversampling_power_law():
    """A power-law rate in energy is integrated exactly with or without oversampling."""
    from gammalike.data import Observation

    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=12, name="energy")
    lon = MapAxis.from_edges(np.linspace(-3, 3, 7), unit="deg", name="fov_lon")
    lat = MapAxis.from_edges(np.linspace(-3, 3, 7), unit="deg", name="fov_lat")
    e = energy_axis.center.to_value("TeV")
    data = np.broadcast_to((1e-6 * e ** -2.7)[:, None, None], (12, 6, 6)).copy()
    bkg = Background3D(axes=[energy_axis, lon, lat], data=data, unit="s-1 MeV-1 sr-1")
    obs = Observation.create(POINTING, livetime=100 * u.s, irfs={"bkg": bkg})
    energy = MapAxis.from_energy_bounds("0.2 TeV", "50 TeV", nbin=2, name="energy")
    geom = WcsGeom.create(skydir=POINTING, width=1, binsz=0.5, axes=[energy])
    values = [MapDatasetMaker(background_oversampling=f).make_background(geom, obs).data for f in (None, 4)]
    edges = energy.edges.to_value("MeV")
    integral = 1e-6 * 1e6 ** 2.7 * (edges[:-1] ** -1.7 - edges[1:] ** -1.7) / 1.7  # closed form, MeV units
    expected = integral[:, None, None] * geom.to_image().solid_angle().to_value("sr") * 100
    for v in values:
        np.testing.assert_allclose(v, expected, rtol=1e-5)


def _asymmetric_bkg(alignment):
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy")
    lon = MapAxis.from_edges(np.linspace(-3, 3, 13), unit="deg", name="fov_lon")
    lat = MapAxis.from_edges(np.linspace(-3, 3, 13), unit="deg", name="fov_lat")
    gradient = np.exp(0.3 * lon.center.value)[:, None] * np.ones(12)[None, :]
    data = np.broadcast_to(gradient, (3, 12, 12)) * 1e-6
    return Background3D(axes=[energy_axis, lon, lat], data=data, unit="s-1 MeV-1 sr-1", fov_alignment=alignment)


@pytest.mark.parametrize("alignment", [FoVAlignment.RADEC, FoVAlignment.REVERSE_LON_RADEC])
def test_background3d_radec_alignments_mirror(alignment):
    from gammalike.data import Observation

    obs = Observation.create(POINTING, livetime=100 * u.s, irfs={"bkg": _asymmetric_bkg(alignment)})
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=1, name="energy")
    geom = WcsGeom.create(skydir=POINTING, width=(4, 2), binsz=0.1, axes=[energy])
    data = MapDatasetMaker().make_background(geom, obs).data[0]
    # the rate grows along fov_lon: towards +RA (left in the image, cdelt1 < 0) for RADEC
    left, right = data[:, :20].sum(), data[:, 20:].sum()
    assert (left > right) == (alignment == FoVAlignment.RADEC)
    # same values as the background helper of the 1D makers (SkyOffsetFrame transforms)
    from gammalike.makers.utils import make_map_background_irf

    expected = make_map_background_irf(obs.get_pointing_icrs(), 100 * u.s, obs.bkg, geom)
    np.testing.assert_allclose(data, expected.data[0], rtol=1e-4)


def test_altaz_rotation_matches_full_transform():
    """Rotating the RA/Dec offsets reproduces the full AltAz transform of every pixel."""
    from astropy.coordinates import EarthLocation
    from astropy.time import Time

    from gammalike.data import Observation

    location = EarthLocation(lon=16.5 * u.deg, lat=-23.27 * u.deg, height=1800 * u.m)
    obs = Observation.create(POINTING, location=location, livetime=60 * u.s,
                             tstart=Time("2021-01-01T22:00:00", scale="utc"),
                             irfs={"bkg": _asymmetric_bkg(FoVAlignment.ALTAZ)})
    maker = MapDatasetMaker()
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=1, name="energy")
    geom = WcsGeom.create(skydir=POINTING, width=2, binsz=0.25, axes=[energy])
    coords, weights = maker._fov_lonlat(geom, obs, obs.bkg)
    assert len(coords) == 1  # one minute: no time slicing
    skycoord = geom.to_image().get_coord().skycoord.icrs
    expected = fov_coordinates(FoVAlignment.ALTAZ, POINTING, skycoord.ra.deg.ravel(), skycoord.dec.deg.ravel(),
                               pointing_altaz=obs.get_pointing_altaz(), obstime=obs.tmid, location=location)
    np.testing.assert_allclose(coords[0][0].ravel(), expected[0], atol=2e-4)
    np.testing.assert_allclose(coords[0][1].ravel(), expected[1], atol=2e-4)


def test_altaz_long_observation_is_time_sliced():
    from astropy.coordinates import EarthLocation
    from astropy.time import Time

    from gammalike.data import Observation

    location = EarthLocation(lon=16.5 * u.deg, lat=-23.27 * u.deg, height=1800 * u.m)
    obs = Observation.create(POINTING, location=location, livetime=3 * 3600 * u.s,
                             tstart=Time("2021-01-01T20:00:00", scale="utc"),
                             irfs={"bkg": _asymmetric_bkg(FoVAlignment.ALTAZ)})
    angles, weights = MapDatasetMaker(fov_rotation_error_limit="1 deg")._fov_rotation_angles(obs, obs.bkg)
    assert len(angles) > 1
    assert np.isclose(weights.sum(), 1, atol=0)
    assert np.all(np.abs(np.diff(np.unwrap(np.radians(angles)))) <= np.radians(1.0) + 1e-9)


def test_psf_and_edisp_kernel_maps(observation, reference):
    dataset = MapDatasetMaker(selection=["psf", "edisp", "exposure"]).run(reference, observation)
    assert isinstance(dataset.psf, PSFMap) and isinstance(dataset.edisp, EDispKernelMap)
    geom = dataset.psf.psf_map.geom
    offset = _offsets(geom)
    rad = geom.axes["rad"].center
    energy = geom.axes["energy_true"].center
    expected = observation.psf.evaluate(rad=rad[None, :, None, None], energy_true=energy[:, None, None, None],
                                        offset=offset[None, None] * u.deg).to_value("sr-1")
    np.testing.assert_allclose(dataset.psf.psf_map.data, expected, rtol=1e-6, atol=1e-12 * expected.max())
    # energy dispersion: the matrix of the IRF at each pixel's offset
    egeom = dataset.edisp.edisp_map.geom
    eoffset = _offsets(egeom)
    iy, ix = 1, 2
    matrix = observation.edisp.get_edisp_kernel_matrix(
        eoffset[iy, ix], egeom.axes["energy_true"].edges.to_value("TeV"), egeom.axes["energy"].edges.to_value("TeV"))
    np.testing.assert_allclose(dataset.edisp.edisp_map.data[:, :, iy, ix], matrix, atol=1e-9)
    # exposure maps of the IRF maps: aeff * livetime on the coarse grid
    psf_exposure = dataset.psf.exposure_map.data[:, 0]
    expected = (observation.aeff.evaluate(energy_true=energy[:, None, None], offset=offset[None] * u.deg)
                * LIVETIME * u.s).to_value("m2 s")
    np.testing.assert_allclose(psf_exposure, expected, rtol=1e-6)


def test_edisp_map_when_reference_has_migra(observation):
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy")
    geom = WcsGeom.create(skydir=POINTING, width=1, binsz=0.1, axes=[energy])
    migra = MapAxis.from_bounds(0.2, 5, nbin=20, name="migra")
    reference = MapDataset.create(geom, migra_axis=migra, binsz_irf=0.5)
    dataset = MapDatasetMaker(selection=["edisp"]).run(reference, observation)
    assert isinstance(dataset.edisp, EDispMap)
    assert dataset.edisp.exposure_map is not None


def test_fill_missing_along_energy():
    data = np.array([[0.0, 4.0], [1.0, 0.0], [0.0, 0.0], [4.0, 0.0], [0.0, 1.0]])
    filled = _fill_missing_along_energy(data)
    # column 0: ends take the nearest valid value, the gap is log-linear (geometric mean 2)
    np.testing.assert_allclose(filled[:, 0], [1.0, 1.0, 2.0, 4.0, 4.0])
    # column 1: log-linear from 4 to 1 over 4 steps
    np.testing.assert_allclose(filled[:, 1], 4.0 * 0.25 ** (np.arange(5) / 4))


def test_lonlat_to_frame_matches_astropy():
    rng = np.random.default_rng(0)
    ra, dec = rng.uniform(0, 360, 100), rng.uniform(-80, 80, 100)
    lon, lat = _lonlat_to_frame(ra, dec, "icrs", "galactic")
    expected = SkyCoord(ra, dec, unit="deg").galactic
    np.testing.assert_allclose(lon, expected.l.deg, atol=1e-9)
    np.testing.assert_allclose(lat, expected.b.deg, atol=1e-9)


def test_invalid_options():
    with pytest.raises(ValueError, match="unknown selection"):
        MapDatasetMaker(selection=["counts", "banana"])
    with pytest.raises(ValueError, match="background_oversampling"):
        MapDatasetMaker(background_oversampling=0)


def test_missing_irf_is_named(observation, reference):
    observation.bkg = None
    with pytest.raises(ValueError, match="no background IRF"):
        MapDatasetMaker(selection=["background"]).run(reference, observation)
