"""Tests of gammalike.maps.wcs (WcsGeom)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from numpy.testing import assert_allclose
from regions import CircleSkyRegion

from gammalike.maps import MapAxis, WcsGeom


@pytest.fixture
def energy_axis():
    return MapAxis.from_energy_bounds(1, 10, nbin=3, unit="TeV")


def test_create_seed_002(energy_axis):
    # seed 002: npix from width / binsz, AIR projection, skydir SkyCoord
    skydir = SkyCoord(184.467, 30.117, unit="deg")
    geom = WcsGeom.create(skydir=skydir, npix=(100, 100), binsz=0.02, frame="icrs", proj="AIR",
                          axes=[energy_axis])
    assert geom.data_shape == (3, 100, 100)
    assert geom.npix == (100, 100)
    assert geom.projection == "AIR"
    assert geom.frame == "icrs"
    assert geom.center_skydir.separation(skydir).deg < 1e-6
    assert_allclose(geom.width.to_value("deg"), [2, 2])


def test_create_width_frame_tuple():
    geom = WcsGeom.create(skydir=(0, 0), width=(8, 6), binsz=0.02, frame="galactic")
    # seed 004 numbers: 8 x 6 deg at 0.02 deg -> 400 x 300 pixels
    assert geom.npix == (400, 300)
    assert geom.data_shape == (300, 400)
    assert geom.frame == "galactic"
    assert geom.is_image
    # SkyCoord in another frame is converted
    g2 = WcsGeom.create(skydir=SkyCoord(83.63, 22.01, unit="deg").galactic, npix=10, binsz=0.1, frame="icrs")
    assert_allclose(g2.wcs.wcs.crval, [83.63, 22.01], atol=1e-8)


def test_pix_coord_round_trip(energy_axis):
    geom = WcsGeom.create(skydir=(83.63, 22.01), npix=(20, 10), binsz=0.1, proj="TAN", axes=[energy_axis])
    coords = geom.get_coord()
    assert coords.lon.shape == (3, 10, 20)
    assert coords["energy"].shape == (3, 10, 20)
    pix = geom.coord_to_pix(coords)
    idx = geom.get_idx()
    for p, i in zip(pix, idx):
        assert_allclose(p, i, atol=1e-8)
    lon, lat, energy = geom.pix_to_coord((np.array([9.5]), np.array([4.5]), np.array([1.0])))
    # centre pixel of an even image is the reference coordinate
    assert_allclose([lon[0], lat[0]], [83.63, 22.01], atol=1e-8)
    assert_allclose(energy.to_value("TeV"), energy_axis.center[1].value)
    assert np.all(geom.contains(coords))
    far = {"skycoord": SkyCoord(0, 0, unit="deg"), "energy": 2 * u.TeV}
    assert not geom.contains(far)


def test_solid_angle():
    geom = WcsGeom.create(skydir=(0, 0), npix=(20, 20), binsz=0.5, frame="galactic", proj="CAR")
    omega = geom.solid_angle()
    assert omega.shape == (20, 20)
    # CAR band |b| < 5 deg, |l| < 5 deg: exact area = dl * (sin b2 - sin b1)
    expected = np.radians(10) * 2 * np.sin(np.radians(5))
    assert_allclose(omega.sum().to_value("sr"), expected, rtol=1e-4)


def test_region_mask_area():
    geom = WcsGeom.create(skydir=(83.63, 22.01), npix=(150, 150), binsz=0.05, proj="TAN")
    region = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), radius=1 * u.deg)
    mask = geom.region_mask([region])
    assert mask.data.dtype == bool
    # pi r^2 / binsz^2 = 1256.6 pixels; pixel-centre counting within 2 %
    assert_allclose(mask.data.sum(), np.pi / 0.05**2, rtol=0.02)
    outside = geom.region_mask([region], inside=False)
    assert outside.data.sum() == 150 * 150 - mask.data.sum()
    # region given as a DS9 string
    mask_str = geom.region_mask(["icrs;circle(83.63, 22.01, 1)"])
    assert np.array_equal(mask_str.data, mask.data)
    weights = geom.region_weights([region])
    assert_allclose(weights.sum(), np.pi / 0.05**2, rtol=0.005)


def test_separation():
    geom = WcsGeom.create(skydir=(10, 10), npix=(11, 11), binsz=0.1, proj="TAN")
    sep = geom.separation(SkyCoord(10, 10, unit="deg"))
    assert sep.shape == (11, 11)
    assert_allclose(sep[5, 5].deg, 0, atol=1e-8)
    assert_allclose(sep[5, 6].deg, 0.1, rtol=1e-3)


def test_to_image_to_cube(energy_axis):
    geom = WcsGeom.create(npix=(5, 4), binsz=1, axes=[energy_axis])
    image = geom.to_image()
    assert image.data_shape == (4, 5)
    assert image.to_cube([energy_axis]) == geom
    assert geom.squash("energy").data_shape == (1, 4, 5)


def test_cutout_upsample_downsample():
    geom = WcsGeom.create(skydir=(0, 0), npix=(20, 20), binsz=0.1, frame="galactic")
    cut = geom.cutout(SkyCoord(0.3, 0.2, unit="deg", frame="galactic"), width=0.5)
    assert cut.npix == (5, 5)
    assert cut.center_skydir.separation(SkyCoord(0.3, 0.2, unit="deg", frame="galactic")).deg < 0.08
    assert geom.is_aligned(cut)
    down = geom.downsample(2)
    assert down.npix == (10, 10)
    assert down.center_skydir.separation(geom.center_skydir).deg < 1e-8
    up = geom.upsample(2)
    assert up.npix == (40, 40)
    assert up.center_skydir.separation(geom.center_skydir).deg < 1e-8


def test_energy_mask(energy_axis):
    geom = WcsGeom.create(npix=(3, 2), binsz=1, axes=[energy_axis])
    mask = geom.energy_mask(energy_max=5 * u.TeV)
    # edges 1, 2.15, 4.64, 10: first two bins fully below 5 TeV
    assert mask.data.shape == (3, 2, 3)
    assert list(mask.data[:, 0, 0]) == [True, True, False]


def test_str_and_eq(energy_axis):
    geom = WcsGeom.create(npix=(3, 2), binsz=1, axes=[energy_axis])
    assert "projection : CAR" in str(geom)
    assert geom == geom.copy()
    assert geom != WcsGeom.create(npix=(3, 2), binsz=0.5, axes=[energy_axis])


def test_boundary_mask():
    from gammalike.maps import MapAxis, WcsGeom

    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2)
    geom = WcsGeom.create(skydir=(0, 0), npix=(10, 8), binsz=0.1, axes=[axis])
    mask = geom.boundary_mask("0.15 deg")  # rounded up to 2 pixels on each side
    assert mask.data.shape == (2, 8, 10)
    assert mask.data[0].sum() == (10 - 4) * (8 - 4)
    assert not mask.data[:, :2].any() and not mask.data[:, :, -2:].any()
    assert mask.data[:, 2:6, 2:8].all()
    # a pair of widths: (x, y)
    mask = geom.boundary_mask(("0.1 deg", "0.3 deg"))
    assert mask.data[0].sum() == (10 - 2) * (8 - 6)
