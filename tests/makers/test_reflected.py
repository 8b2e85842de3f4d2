"""Tests of the reflected / wobble regions finders and `ReflectedRegionsBackgroundMaker`."""
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import SpectrumDatasetOnOff
from gammalike.makers import (
    ReflectedRegionsBackgroundMaker,
    ReflectedRegionsFinder,
    SpectrumDatasetMaker,
    WobbleRegionsFinder,
)
from gammalike.maps import WcsGeom

from .conftest import POINTING, TARGET

RADIUS = 0.1  # deg
OFFSET = 0.5  # deg


def _expected_number(width, min_distance_input=0.1):
    """Regions placed every ``width`` rad from ``width + d`` while ``angle < 2 pi - width - d``."""
    k = np.arange(1000)
    angles = width + min_distance_input + k * width
    return int(np.sum(angles < 2 * np.pi - width - min_distance_input))


@pytest.fixture
def exclusion_mask():
    geom = WcsGeom.create(npix=(100, 100), binsz=0.02, skydir=POINTING, proj="TAN", frame="icrs")
    # excluded circle of 0.15 deg on the ring, 0.5 deg east of the pointing
    excluded = CircleSkyRegion(POINTING.directional_offset_by(90 * u.deg, OFFSET * u.deg), 0.15 * u.deg)
    return ~geom.region_mask([excluded])


def test_reflected_regions_geometry(on_region):
    regions, wcs = ReflectedRegionsFinder().run(on_region, POINTING)
    # the region subtends 2 arcsin(r / offset) = 0.4027 rad at the pointing
    # (the finder uses its 0.01 deg pixels inside the region: ~1 % less, same count)
    assert len(regions) == _expected_number(2 * np.arcsin(RADIUS / OFFSET)) == 14
    centers = SkyCoord([r.center for r in regions])
    # rotated about the pointing: same offset, same size
    assert np.allclose(centers.separation(POINTING).deg, OFFSET, atol=1e-4)
    assert np.allclose([r.radius.to_value("deg") for r in regions], RADIUS, rtol=1e-3, atol=0)
    # no overlap with the ON region (plus the 0.1 rad margin) nor with each other
    assert np.all(centers.separation(TARGET).deg > 2 * RADIUS)
    sep = centers[:, None].separation(centers[None, :]).deg
    assert np.all(sep[~np.eye(len(regions), dtype=bool)] >= 2 * RADIUS * 0.98)


def test_reflected_regions_exclusion(on_region, exclusion_mask):
    regions, _ = ReflectedRegionsFinder().run(on_region, POINTING, exclusion_mask=exclusion_mask)
    free, _ = ReflectedRegionsFinder().run(on_region, POINTING)
    assert 0 < len(regions) < len(free)
    excluded_center = POINTING.directional_offset_by(90 * u.deg, OFFSET * u.deg)
    centers = SkyCoord([r.center for r in regions])
    # no region touches the excluded circle (0.15 deg, coarse 0.02 deg mask pixels)
    assert np.all(centers.separation(excluded_center).deg > RADIUS + 0.15 - 0.02)


def test_reflected_regions_options(on_region):
    regions, _ = ReflectedRegionsFinder(max_region_number=3).run(on_region, POINTING)
    assert len(regions) == 3
    # more space between regions -> fewer regions
    spaced, _ = ReflectedRegionsFinder(min_distance="0.2 rad").run(on_region, POINTING)
    assert len(spaced) < 14
    with pytest.raises(ValueError, match="angle_increment"):
        ReflectedRegionsFinder(angle_increment="0 rad")
    with pytest.raises(ValueError, match="angle"):
        ReflectedRegionsFinder(min_distance="foo")


def test_pointing_inside_region():
    region = CircleSkyRegion(POINTING, 0.2 * u.deg)
    regions, _ = ReflectedRegionsFinder().run(region, POINTING)
    assert regions == []


def test_wobble_regions(on_region):
    regions, _ = WobbleRegionsFinder(n_off_regions=3).run(on_region, POINTING)
    centers = SkyCoord([r.center for r in regions])
    # rotations by 90, 180 and 270 deg about the pointing: the target is 0.5 deg north
    expected = POINTING.directional_offset_by([270, 180, 90] * u.deg, OFFSET * u.deg)
    assert len(regions) == 3
    sep = centers[:, None].separation(expected[None, :]).deg
    assert np.all(sep.min(axis=1) < 1e-3)


def test_wobble_regions_exclusion(on_region, exclusion_mask):
    regions, _ = WobbleRegionsFinder(n_off_regions=3).run(on_region, POINTING, exclusion_mask=exclusion_mask)
    # the 90 deg east position is excluded
    assert len(regions) == 2


def test_background_maker_counts_off(dataset_empty, observation):
    dataset = SpectrumDatasetMaker(selection=["counts"]).run(dataset_empty.copy(name="1"), observation)
    maker = ReflectedRegionsBackgroundMaker(region_finder=WobbleRegionsFinder(n_off_regions=3))
    on_off = maker.run(dataset, observation)
    assert isinstance(on_off, SpectrumDatasetOnOff)
    # 4 events at the 180 deg position (0.5, 1.5, 2.5, 5 TeV); the other OFF regions are empty
    assert on_off.counts_off.data.ravel().tolist() == [0, 1, 2, 1, 0, 0]
    assert np.all(on_off.acceptance.data == 1)
    assert np.all(on_off.acceptance_off.data == 3)
    assert np.allclose(on_off.alpha.data, 1 / 3, atol=0)
    # the OFF regions are kept in the OFF counts geometry
    assert on_off.counts_off.geom.region is not None
    assert on_off.counts.data.ravel().tolist() == dataset.counts.data.ravel().tolist()


def test_background_maker_default_finder(dataset_empty, observation):
    dataset = SpectrumDatasetMaker(selection=["counts"]).run(dataset_empty.copy(name="1"), observation)
    on_off = ReflectedRegionsBackgroundMaker(max_region_number=5).run(dataset, observation)
    assert np.all(on_off.acceptance_off.data == 5)


def test_background_maker_no_region(dataset_empty, observation):
    dataset = SpectrumDatasetMaker(selection=["counts"]).run(dataset_empty.copy(name="1"), observation)
    geom = WcsGeom.create(npix=(100, 100), binsz=0.02, skydir=POINTING, proj="TAN", frame="icrs")
    everything_excluded = geom.region_mask([CircleSkyRegion(POINTING, 3 * u.deg)], inside=False)
    maker = ReflectedRegionsBackgroundMaker(exclusion_mask=everything_excluded)
    with pytest.warns(UserWarning, match="no OFF region"):
        on_off = maker.run(dataset, observation)
    assert on_off.counts_off.data.sum() == 0
    assert np.all(on_off.alpha.data == 0)


def test_background_maker_validation():
    geom = WcsGeom.create(npix=(10, 10), binsz=0.1, skydir=POINTING)
    with pytest.raises(TypeError, match="boolean"):
        ReflectedRegionsBackgroundMaker(exclusion_mask=geom.region_mask([]) * 1.0)
    with pytest.raises(TypeError, match="only apply"):
        ReflectedRegionsBackgroundMaker(region_finder=WobbleRegionsFinder(2), max_region_number=3)


def test_background_maker_custom_finder(dataset_empty, observation):
    from gammalike.makers import RegionsFinder

    class FixedFinder(RegionsFinder):
        """One OFF region at the reflected position (0.5 deg south of the pointing)."""

        def run(self, region, center, exclusion_mask=None):
            off = CircleSkyRegion(center.directional_offset_by(180 * u.deg, OFFSET * u.deg), RADIUS * u.deg)
            return [off], WcsGeom.create(npix=(10, 10), binsz=0.1, skydir=center, proj="TAN").wcs

    dataset = SpectrumDatasetMaker(selection=["counts"]).run(dataset_empty.copy(name="1"), observation)
    on_off = ReflectedRegionsBackgroundMaker(region_finder=FixedFinder()).run(dataset, observation)
    # the 4 events at the reflected position
    assert on_off.counts_off.data.sum() == 4
    assert np.all(on_off.acceptance_off.data == 1)


@pytest.fixture(scope="module")
def magic_point_like():
    """The two public MAGIC Crab runs (point-like IRFs, energy-dependent RAD_MAX), ON = the Crab position."""
    from regions import PointSkyRegion

    from gammalike.data import DataStore
    from gammalike.datasets import SpectrumDataset
    from gammalike.maps import MapAxis, RegionGeom
    from tests.conftest import DATA, HAS_DATA

    if not HAS_DATA:
        pytest.skip("data folder not found")
    observations = DataStore.from_dir(DATA / "magic" / "rad_max" / "data").get_observations(
        required_irf="point-like")
    target = SkyCoord(83.63, 22.01, unit="deg", frame="icrs")
    energy = MapAxis.from_energy_bounds(0.05, 100, nbin=5, per_decade=True, unit="TeV", name="energy")
    energy_true = MapAxis.from_energy_bounds(0.01, 100, nbin=10, per_decade=True, unit="TeV", name="energy_true")
    geom = RegionGeom.create(region=PointSkyRegion(target), axes=[energy])
    empty = SpectrumDataset.create(geom=geom, energy_axis_true=energy_true)
    return observations, empty, target


@pytest.mark.requires_data
def test_point_like_wobble_off_counts(magic_point_like):
    """Point ON region: OFF positions rotated about the pointing, OFF counts within the same
    energy-dependent RAD_MAX; checked against a brute-force count with SkyCoord and RadMax2D."""
    observations, empty, target = magic_point_like
    maker = SpectrumDatasetMaker(containment_correction=False, selection=["counts", "exposure", "edisp"])
    bkg = ReflectedRegionsBackgroundMaker(region_finder=WobbleRegionsFinder(n_off_regions=3))
    for obs in observations:
        dataset = bkg.run(maker.run(empty.copy(name=str(obs.obs_id)), obs), obs)
        assert isinstance(dataset, SpectrumDatasetOnOff)
        np.testing.assert_allclose(dataset.alpha.data, 1 / 3, rtol=1e-12)
        pointing = obs.get_pointing_icrs()
        # the three OFF positions: the ON position (wobble offset) rotated by 90, 180, 270 deg
        on_offset = target.separation(pointing).deg
        events = obs.events
        radec, energy = events.radec, events.energy
        cut = obs.rad_max.evaluate(energy=energy, offset=np.full(len(energy), on_offset) * u.deg)
        inside = np.zeros(len(radec), dtype=bool)
        for k in (1, 2, 3):
            center = pointing.directional_offset_by(pointing.position_angle(target) + k * 90 * u.deg,
                                                    on_offset * u.deg)
            inside |= radec.separation(center) < cut
        edges = empty.counts.geom.axes["energy"].edges.to_value("TeV")
        expected = np.histogram(energy.to_value("TeV")[inside], bins=edges)[0]
        np.testing.assert_array_equal(dataset.counts_off.data.ravel(), expected)
        assert expected.sum() > 50


@pytest.mark.requires_data
def test_point_like_needs_rad_max(magic_point_like):
    observations, empty, _ = magic_point_like
    obs = observations[0]
    dataset = SpectrumDatasetMaker(containment_correction=False, selection=["counts", "exposure", "edisp"]).run(
        empty.copy(name="x"), obs)
    obs = obs.copy()  # the fixture's observation keeps its RAD_MAX
    obs.rad_max = None
    with pytest.raises(ValueError, match="point ON region .* needs the RAD_MAX"):
        ReflectedRegionsBackgroundMaker(region_finder=WobbleRegionsFinder(n_off_regions=3)).run(dataset, obs)
