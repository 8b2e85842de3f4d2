"""Tests of gammalike.maps.region (RegionGeom)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from numpy.testing import assert_allclose
from regions import CircleSkyRegion, PointSkyRegion

from gammalike.maps import MapAxis, RegionGeom, WcsGeom


@pytest.fixture
def energy_axis():
    return MapAxis.from_energy_bounds(0.1, 10, nbin=4, unit="TeV")


def test_create_from_string(energy_axis):
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    assert isinstance(geom.region, CircleSkyRegion)
    assert geom.data_shape == (4, 1, 1)
    assert geom.frame == "icrs"
    assert_allclose(geom.center_skydir.ra.deg, 83.63)
    assert geom.axes_names == ["lon", "lat", "energy"]
    # width of a circle = diameter
    assert_allclose(geom.width.to_value("deg"), [0.22, 0.22])


def test_solid_angle_circle(energy_axis):
    # spherical cap 2 pi (1 - cos r)
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.5)", axes=[energy_axis])
    expected = 2 * np.pi * (1 - np.cos(np.radians(0.5)))
    assert_allclose(geom.solid_angle().to_value("sr"), expected)
    volume = geom.bin_volume()
    assert volume.shape == (4, 1, 1)
    assert_allclose(volume.to_value("sr TeV")[:, 0, 0], expected * energy_axis.bin_width.value)


def test_solid_angle_box_and_compound():
    box = RegionGeom.create("galactic;box(0, 0, 1, 2, 30)")
    # flat 1 x 2 deg box at the equator ~ 2 deg2
    assert_allclose(box.solid_angle().to_value("deg2"), 2, rtol=1e-3)
    two = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11);circle(83.63, 23.01, 0.11)")
    single = 2 * np.pi * (1 - np.cos(np.radians(0.11))) * u.sr
    # union of two disjoint circles, sub-pixel sampled: within 1 %
    assert_allclose(two.solid_angle().to_value("sr"), 2 * single.value, rtol=1e-2)


def test_region_none(energy_axis):
    geom = RegionGeom(None, axes=[energy_axis])
    assert geom.center_skydir is None
    assert geom.data_shape == (4, 1, 1)
    assert np.isnan(geom.solid_angle().value)
    # positions are ignored without a region
    idx = geom.coord_to_idx({"energy": [0.2, 5] * u.TeV})
    assert list(idx[2]) == [0, 3]


def test_contains_and_coord_to_idx(energy_axis):
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.5)", axes=[energy_axis])
    inside = SkyCoord([83.63, 83.63], [22.01, 23.01], unit="deg")
    assert list(geom.contains(inside)) == [True, False]
    idx = geom.coord_to_idx({"skycoord": inside, "energy": [1, 1] * u.TeV})
    assert list(idx[0]) == [0, -1]
    assert list(idx[2]) == [2, 2]


def test_point_region():
    geom = RegionGeom.create(PointSkyRegion(SkyCoord(1, 2, unit="deg", frame="galactic")))
    assert geom.is_all_point_sky_regions
    assert geom.frame == "galactic"
    assert geom.solid_angle().value == 0


def test_get_coord(energy_axis):
    geom = RegionGeom.create("galactic;circle(10, 1, 0.2)", axes=[energy_axis])
    coords = geom.get_coord()
    assert coords["energy"].shape == (4, 1, 1)
    assert_allclose(coords["energy"][:, 0, 0].value, energy_axis.center.value)
    assert_allclose(coords.lon, 10)
    icrs = geom.get_coord(frame="icrs")
    expected = SkyCoord(10, 1, unit="deg", frame="galactic").icrs
    assert_allclose(icrs.lon[0, 0, 0], expected.ra.deg)


def test_to_image_to_cube_squash(energy_axis):
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    image = geom.to_image()
    assert image.data_shape == (1, 1)
    assert image.is_image
    cube = image.to_cube([energy_axis])
    assert cube == geom
    squashed = geom.squash("energy")
    assert squashed.data_shape == (1, 1, 1)
    assert_allclose(squashed.axes["energy"].edges.value, [0.1, 10])


def test_to_wcs_geom(energy_axis):
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.5)", axes=[energy_axis])
    wcs_geom = geom.to_wcs_geom()
    assert isinstance(wcs_geom, WcsGeom)
    assert wcs_geom.center_skydir.separation(geom.center_skydir).deg < 0.05
    # region (1 deg wide) must fit inside the WCS geometry
    assert np.all(wcs_geom.width.to_value("deg") >= 1.0)
    assert wcs_geom.axes == geom.axes
    bigger = geom.to_wcs_geom(width_min="3 deg")
    assert np.all(bigger.width.to_value("deg") >= 3.0)


def test_energy_mask(energy_axis):
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    mask = geom.energy_mask(energy_min=0.3 * u.TeV, energy_max=10 * u.TeV)
    # edges 0.1, 0.316, 1, 3.16, 10: bin 0 (0.1-0.316) is not fully inside
    assert list(mask.data[:, 0, 0]) == [False, True, True, True]
    rounded = geom.energy_mask(energy_min=0.3 * u.TeV, round_to_edge=True)
    assert list(rounded.data[:, 0, 0]) == [False, True, True, True]


def test_plot_region(energy_axis):
    import matplotlib.pyplot as plt

    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    ax = geom.plot_region()
    assert len(ax.patches) + len(ax.artists) >= 1
    plt.close("all")


def test_hdulist_round_trip(energy_axis):
    geom = RegionGeom.create("icrs;circle(83.63, 22.01, 0.11)", axes=[energy_axis])
    hdulist = geom.to_hdulist(format="ogip")
    assert [h.name for h in hdulist] == ["EBOUNDS", "REGION"]
    read = RegionGeom.from_hdulist(hdulist, format="ogip")
    assert read == geom
