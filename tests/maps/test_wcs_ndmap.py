"""Tests of gammalike.maps.wcs_ndmap (WcsNDMap)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from numpy.testing import assert_allclose
from regions import CircleSkyRegion, PointSkyRegion

from gammalike.maps import Map, MapAxis, RegionNDMap, WcsGeom, WcsNDMap


@pytest.fixture
def energy_axis():
    return MapAxis.from_energy_bounds(1, 10, nbin=3, unit="TeV")


@pytest.fixture
def cube(energy_axis):
    m = Map.create(skydir=(83.63, 22.01), npix=(20, 10), binsz=0.1, proj="TAN", axes=[energy_axis], unit="cm-2")
    m.data = np.arange(m.data.size, dtype=float).reshape(m.data.shape)
    return m


def test_create_dispatch(cube, energy_axis):
    assert isinstance(cube, WcsNDMap)
    assert cube.data.shape == (3, 10, 20)
    assert cube.unit == u.Unit("cm-2")
    region_map = Map.create(map_type="region", region="icrs;circle(0, 0, 1)", axes=[energy_axis])
    assert isinstance(region_map, RegionNDMap)
    assert "WcsNDMap" in str(cube) and "['lon', 'lat', 'energy']" in str(cube)


def test_fits_round_trip(cube, tmp_path):
    for hdu in (None, "COUNTS"):
        path = tmp_path / f"map_{hdu}.fits"
        cube.write(path, hdu=hdu)
        read = Map.read(path, hdu=hdu)
        assert isinstance(read, WcsNDMap)
        assert read.geom == cube.geom
        assert read.unit == cube.unit
        assert_allclose(read.data, cube.data)
    with pytest.raises(FileExistsError):
        cube.write(tmp_path / "map_None.fits")


def test_bool_mask_round_trip(cube, tmp_path):
    mask = cube > 100 * u.Unit("cm-2")
    path = tmp_path / "mask.fits"
    mask.write(path)
    read = Map.read(path)
    assert read.data.dtype == bool
    assert np.array_equal(read.data, mask.data)


def test_sum_reduce_images(cube):
    summed = cube.sum_over_axes()
    assert summed.data.shape == (1, 10, 20)
    reduced = cube.reduce_over_axes()
    assert reduced.data.shape == (10, 20)
    assert_allclose(reduced.data, cube.data.sum(axis=0))
    image = cube.get_image_by_idx((1,))
    assert image.data.shape == (10, 20)
    assert_allclose(image.data, cube.data[1])
    assert len(list(cube.iter_by_image())) == 3


def test_interp_and_get_by_coord(cube, energy_axis):
    geom = cube.geom
    coords = geom.get_coord()
    assert_allclose(cube.get_by_coord(coords), cube.data)
    assert_allclose(cube.interp_by_coord(coords), cube.data, rtol=1e-6, atol=1e-9)
    nearest = cube.interp_by_coord(coords, method="nearest")
    assert_allclose(nearest, cube.data)
    # linear data in x: halfway between pixel centres gives the mean
    lon, lat, _ = geom.pix_to_coord((np.array([2.5]), np.array([3.0]), np.array([0.0])))
    point = {"lon": lon, "lat": lat, "energy": energy_axis.center[0]}
    assert_allclose(cube.interp_by_coord(point), 0.5 * (cube.data[0, 3, 2] + cube.data[0, 3, 3]), rtol=1e-6)
    outside = {"skycoord": SkyCoord(0, 0, unit="deg"), "energy": 2 * u.TeV}
    assert np.isnan(cube.get_by_coord(outside))
    assert np.isnan(cube.interp_by_coord(outside, fill_value=np.nan))


def test_fill_by_coord(energy_axis):
    m = WcsNDMap.create(skydir=(0, 0), npix=(10, 10), binsz=0.1, frame="galactic", axes=[energy_axis])
    positions = SkyCoord([0, 0, 0, 5], [0, 0, 0, 5], unit="deg", frame="galactic")
    m.fill_by_coord({"skycoord": positions, "energy": [2, 2, 8, 2] * u.TeV})
    # the event at (5, 5) is outside; 2 TeV -> bin 0, 8 TeV -> bin 2
    assert m.data.sum() == 3
    assert m.data[0].sum() == 2 and m.data[2].sum() == 1


def test_invert_and_region_mask_seed_003():
    # seed 003: exclusion_mask = ~geom.region_mask([exclusion_region]); exclusion_mask.plot()
    import matplotlib.pyplot as plt

    target = SkyCoord(83.633, 22.014, unit="deg")
    region = CircleSkyRegion(SkyCoord(183.604, -8.708, unit="deg", frame="galactic"), radius=0.5 * u.deg)
    geom = WcsGeom.create(npix=(150, 150), binsz=0.05, skydir=target.galactic, proj="TAN", frame="icrs")
    mask = ~geom.region_mask([region])
    assert mask.data.dtype == bool
    # ~ pi 0.5^2 / 0.05^2 = 314 excluded pixels
    assert_allclose((~mask.data).sum(), np.pi * 0.25 / 0.0025, rtol=0.03)
    ax = mask.plot()
    assert ax.wcs is not None
    plt.close("all")


def test_plot_add_cbar(cube):
    import matplotlib.pyplot as plt

    ax = cube.sum_over_axes().plot(add_cbar=True, stretch="sqrt", vmax=5)
    assert len(ax.figure.axes) == 2  # image + colorbar
    with pytest.raises(ValueError):
        cube.plot()
    axs = cube.plot_grid(ncols=2)
    assert axs.shape == (2, 2)
    plt.close("all")


def test_to_region_nd_map(cube, energy_axis):
    region = CircleSkyRegion(cube.geom.center_skydir, radius=0.25 * u.deg)
    spectrum = cube.to_region_nd_map(region)
    mask = cube.geom.region_mask([region]).data[0]
    assert_allclose(spectrum.data[:, 0, 0], cube.data[:, mask].sum(axis=1))
    assert spectrum.geom.axes == cube.geom.axes
    point = cube.to_region_nd_map(PointSkyRegion(cube.geom.center_skydir), method="linear")
    # centre of the even image is between 4 pixels: linear mean of them
    assert_allclose(point.data[0, 0, 0], cube.data[0, 4:6, 9:11].mean(), rtol=1e-6)


def test_cutout_and_stack(cube):
    position = cube.geom.pix_to_coord((np.array([5.0]), np.array([5.0])))
    skydir = SkyCoord(position[0][0], position[1][0], unit="deg")
    cut = cube.cutout(skydir, width=0.3)
    assert cut.data.shape == (3, 3, 3)
    assert_allclose(cut.data, cube.data[:, 4:7, 4:7])
    total = Map.from_geom(cube.geom, unit="cm-2")
    total.stack(cut)
    assert_allclose(total.data.sum(), cut.data.sum())
    assert_allclose(total.data[:, 4:7, 4:7], cut.data)


def test_smooth_preserves_sum():
    m = WcsNDMap.create(npix=(41, 41), binsz=0.02, skydir=(0, 0))
    m.data[20, 20] = 1.0
    for kernel in ("gauss", "disk", "box"):
        smoothed = m.smooth("0.06 deg", kernel=kernel)
        assert_allclose(smoothed.data.sum(), 1.0, rtol=1e-4)
        assert smoothed.data[20, 20] < 1


def test_downsample_upsample_spatial(cube):
    down = cube.downsample(2)
    assert down.data.shape == (3, 5, 10)
    assert_allclose(down.data.sum(), cube.data.sum())
    up = cube.upsample(2)
    assert_allclose(up.data.sum(), cube.data.sum())


@pytest.mark.requires_data
def test_read_exclusion_mask_crab(data_path):
    m = Map.read(data_path / "joint-crab/exclusion/exclusion_mask_crab.fits.gz")
    assert m.data.shape == (250, 250)
    assert m.geom.frame == "icrs"
    assert m.geom.projection == "TAN"
    # header: CRVAL = (83.633, 22.014), 0.02 deg pixels
    assert_allclose(m.geom.center_skydir.ra.deg, 83.633, atol=0.02)
    assert_allclose(m.geom.pixel_scales.deg, [0.02, 0.02])
    inverted = ~m
    assert inverted.data.dtype == bool
    assert inverted.data.sum() == 250 * 250 - np.count_nonzero(m.data)


@pytest.mark.requires_data
def test_read_fermi_counts_cube(data_path):
    m = Map.read(data_path / "fermi-3fhl-gc/fermi-3fhl-gc-counts-cube.fits.gz")
    # EBOUNDS: 11 log bins from 10 GeV (E_MIN = 1e7 keV)
    assert m.data.shape == (11, 200, 400)
    axis = m.geom.axes["energy"]
    assert axis.nbin == 11
    assert_allclose(axis.edges[0].to_value("GeV"), 10, rtol=1e-6)
    assert m.geom.frame == "galactic"


@pytest.mark.requires_data
def test_read_gammapy_dataset_hdus(data_path):
    path = data_path / "crab-3datasets/Fermi-LAT.fits"
    exposure = Map.read(path, hdu="EXPOSURE")
    assert exposure.geom.axes.names == ["energy_true"]
    assert exposure.unit == u.Unit("cm2 s")
    edisp = Map.read(path, hdu="EDISP")
    assert edisp.geom.axes.names == ["energy", "energy_true"]
    psf = Map.read(path, hdu="PSF")
    assert psf.geom.axes.names == ["rad", "energy_true"]
    assert psf.geom.axes["rad"].node_type == "center"
    assert psf.data.shape == (17, 300, 1, 2)
