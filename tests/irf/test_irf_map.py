"""Tests of the `IRFMap` base class (through `PSFMap` / `EDispKernelMap`)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.irf.edisp_map import EDispKernelMap
from gammalike.irf.psf_map import PSFMap


@pytest.fixture
def energy_true():
    return MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2, name="energy_true")


@pytest.fixture
def psf_grid(energy_true):
    """Gaussian PSF on a 10 x 8 grid of 0.5 deg with exposure = 1 + x pixel index."""
    geom = WcsGeom.create(npix=(10, 8), binsz=0.5, skydir=(0, 0), frame="galactic")
    psf = PSFMap.from_gauss(energy_true, sigma=0.1 * u.deg, geom=geom)
    eg = psf.psf_map.geom.squash("rad")
    exposure = np.broadcast_to(1.0 + np.arange(10), eg.data_shape).copy()
    return PSFMap(psf.psf_map, Map.from_geom(eg, data=exposure, unit="cm2 s"))


def test_old_axis_names_renamed(energy_true):
    # old files: "theta" (in rad) and "energy" instead of "rad" (deg) and "energy_true"
    theta = MapAxis.from_nodes(np.radians([0, 0.1, 0.2]), unit="rad", name="theta")
    energy = energy_true.copy(name="energy")
    geom = WcsGeom.create(npix=(2, 1), binsz=180, axes=[theta, energy])
    psf = PSFMap(Map.from_geom(geom, data=np.ones(geom.data_shape), unit="sr-1"))
    assert psf.psf_map.geom.axes.names == ["rad", "energy_true"]
    assert psf.rad_axis.unit == u.deg
    assert np.allclose(psf.rad_axis.center.value, [0, 0.1, 0.2], atol=0)


def test_hdu_names_and_custom_hdu(psf_grid, tmp_path):
    hdulist = psf_grid.to_hdulist(hdu="psf_other")
    assert [h.name for h in hdulist] == [
        "PRIMARY", "PSF_OTHER", "PSF_OTHER_BANDS", "PSF_OTHER_EXPOSURE", "PSF_OTHER_EXPOSURE_BANDS",
    ]
    read = PSFMap.from_hdulist(hdulist, hdu="PSF_OTHER")
    assert read.is_allclose(psf_grid)
    with pytest.raises(KeyError, match="'PSF' not found"):
        PSFMap.from_hdulist(hdulist)


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.fits"):
        PSFMap.read(tmp_path / "missing.fits")
    path = tmp_path / "empty.fits"
    fits.HDUList([fits.PrimaryHDU()]).writeto(path)
    with pytest.raises(KeyError, match="empty.fits"):
        EDispKernelMap.read(path)


def test_without_exposure_round_trip(energy_true, tmp_path):
    psf = PSFMap.from_gauss(energy_true, sigma=0.2 * u.deg)
    psf.write(tmp_path / "psf.fits")
    read = PSFMap.read(tmp_path / "psf.fits")
    assert read.exposure_map is None
    assert np.array_equal(read.psf_map.data, psf.psf_map.data)


def test_cutout(psf_grid):
    cut = psf_grid.cutout(SkyCoord(0, 0, unit="deg", frame="galactic"), 2 * u.deg)
    assert cut.psf_map.data.shape[-2:] == (4, 4)
    assert cut.exposure_map.data.shape[-2:] == (4, 4)
    # the cutout is the pixel block around the centre (x pixels 3..6)
    assert np.allclose(cut.exposure_map.data[0, 0, 0], 1.0 + np.arange(3, 7), atol=0)


def test_slice_and_downsample(psf_grid):
    sliced = psf_grid.slice_by_idx({"energy_true": slice(1, 2)})
    assert sliced.psf_map.data.shape[0] == 1
    assert sliced.exposure_map.data.shape[0] == 1
    down = psf_grid.downsample(2)
    assert down.psf_map.data.shape[-2:] == (4, 5)
    # mean exposure of the blocks of x pixels (0, 1), (2, 3), ...
    assert np.allclose(down.exposure_map.data[0, 0, 0], [1.5, 3.5, 5.5, 7.5, 9.5], atol=0)
    assert np.allclose(down.psf_map.data, psf_grid.psf_map.data[..., :4, :5], atol=0)


def test_mask_safe_and_nearest_valid_bin(psf_grid):
    psf = psf_grid.copy()
    exposure = psf.exposure_map.data.copy()
    exposure[..., :, :5] = 0  # no exposure at the five largest longitudes
    data = psf.psf_map.data.copy()
    data[..., :, 5:] *= 2  # distinguishable PSF values where there is exposure
    psf = PSFMap(psf.psf_map._init_copy(data=data), psf.exposure_map._init_copy(data=exposure))
    mask = psf.mask_safe_image
    assert mask.data.shape == (8, 10)
    assert not mask.data[:, :5].any() and mask.data[:, 5:].all()
    # the nearest bin of a position at x pixel 2 has no exposure: the nearest valid
    # bin (x = 5) is used
    position = psf.psf_map.geom.to_image().pix_to_coord((2, 3))
    iy, ix = psf._spatial_index(SkyCoord(position[0], position[1], unit="deg", frame="galactic"))
    assert (iy, ix) == (3, 5)


def test_stack_cutout(psf_grid):
    # stacking a pixel-aligned cutout only changes the covered pixels
    position = SkyCoord(0, 0, unit="deg", frame="galactic")
    other = psf_grid.cutout(position, 2 * u.deg)
    other = PSFMap(other.psf_map * 3, other.exposure_map)
    stacked = psf_grid.copy()
    stacked.stack(other)
    # pixels 3..6 in x and 2..5 in y: equal exposures, psf (1 + 3) / 2 = 2 x the original
    data = stacked.psf_map.data
    original = psf_grid.psf_map.data
    assert np.allclose(data[..., 2:6, 3:7], 2 * original[..., 2:6, 3:7], atol=0)
    assert np.allclose(data[..., :, :3], original[..., :, :3], atol=0)
    assert np.allclose(stacked.exposure_map.data[..., 2:6, 3:7], 2 * psf_grid.exposure_map.data[..., 2:6, 3:7], atol=0)


def test_is_allclose_and_str(psf_grid):
    assert psf_grid.is_allclose(psf_grid.copy())
    other = psf_grid.copy()
    other.exposure_map = other.exposure_map * 2
    assert not psf_grid.is_allclose(other)
    assert "PSFMap" in str(psf_grid)
    assert "exposure map" in str(psf_grid)
