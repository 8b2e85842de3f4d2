"""Tests of `PSFMap` (expected values: closed-form Gaussian PSF; Fermi-LAT files of
the seeds 000 / 001)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion, PointSkyRegion

from gammalike.maps import Map, MapAxis, MapCoord, WcsGeom
from gammalike.irf.psf_kernel import PSFKernel
from gammalike.irf.psf_map import PSFMap

SIGMA = np.array([0.05, 0.1, 0.15])
CRAB = SkyCoord(184.55, -5.78, unit="deg", frame="galactic")
FERMI_FILES = [
    "crab-3datasets/Fermi-LAT.fits",
    "fermi-3fhl-crab/Fermi-LAT-3FHL_data_Fermi-LAT.fits",
]


@pytest.fixture
def energy_axis():
    return MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=3, name="energy_true")


@pytest.fixture
def psf_gauss(energy_axis):
    return PSFMap.from_gauss(energy_axis, sigma=SIGMA * u.deg)


def _with_exposure(psf, value):
    geom = psf.psf_map.geom.squash("rad")
    data = np.broadcast_to(np.asarray(value, dtype=float), geom.data_shape)
    return PSFMap(psf.psf_map, Map.from_geom(geom, data=data, unit="cm2 s", dtype=float))


def test_gauss_containment(psf_gauss, energy_axis):
    # 2D Gaussian containment 1 - exp(-r^2 / 2 sigma^2); linear rad interpolation
    # on 300 nodes is good to ~1e-3
    rad = np.array([0.05, 0.1, 0.2, 0.3])
    values = psf_gauss.containment(rad[:, None] * u.deg, energy_axis.center[None, :])
    expected = 1 - np.exp(-rad[:, None] ** 2 / 2 / SIGMA[None, :] ** 2)
    assert values.shape == (4, 3)
    assert np.allclose(values.value, expected, atol=2e-3)


def test_gauss_containment_radius(psf_gauss, energy_axis):
    # r_f = sigma sqrt(-2 ln(1 - f))
    for f in (0.39, 0.68, 0.95):
        radius = psf_gauss.containment_radius(f, energy_axis.center)
        assert np.allclose(radius.deg, SIGMA * np.sqrt(-2 * np.log(1 - f)), rtol=2e-3, atol=0)
    fractions = np.array([0.5, 0.68, 0.8, 0.95])
    radius = psf_gauss.containment_radius(fractions[:, None], energy_axis.center[None, :])
    assert radius.shape == (4, 3)
    assert np.all(np.diff(radius.deg, axis=0) > 0)


def test_energy_interpolation_log(psf_gauss, energy_axis):
    # between two energy nodes the profile is interpolated linearly in log energy
    e0, e1 = energy_axis.center[:2]
    e_mid = np.sqrt(e0 * e1)
    c = psf_gauss.containment(0.1 * u.deg, u.Quantity([e0, e_mid, e1]))
    assert np.isclose(c[1], 0.5 * (c[0] + c[2]), rtol=1e-6, atol=0)


def test_get_psf_kernel_matches_gauss_kernel(psf_gauss, energy_axis):
    geom = WcsGeom.create(npix=101, binsz=0.01, axes=[energy_axis], skydir=(0, 0), frame="galactic")
    kernel = psf_gauss.get_psf_kernel(geom, max_radius=0.6 * u.deg)
    expected = PSFKernel.from_gauss(geom, SIGMA * u.deg, max_radius=0.6 * u.deg)
    assert isinstance(kernel, PSFKernel)
    assert kernel.data.shape == expected.data.shape == (3, 121, 121)
    assert np.allclose(kernel.data.sum(axis=(1, 2)), 1, atol=0)
    # sub-pixel (factor 4) integration vs exact Gaussian pixel integrals
    assert np.allclose(kernel.data, expected.data, atol=0.01 * expected.data.max())


def test_get_psf_kernel_default_radius(psf_gauss, energy_axis):
    geom = WcsGeom.create(npix=50, binsz=0.02, axes=[energy_axis], frame="galactic")
    kernel = psf_gauss.get_psf_kernel(geom, containment=0.95)
    # half-width: 95 % radius of the widest Gaussian, 0.15 * 2.4477 = 0.367 deg -> 19 pixels
    assert kernel.data.shape[-1] == 2 * int(np.ceil(0.15 * np.sqrt(-2 * np.log(0.05)) / 0.02)) + 1


def test_get_psf_kernel_high_latitude_car(psf_gauss, energy_axis):
    # a CAR grid with reference at the equator: at latitude 60 deg a pixel spans
    # cos(60) * binsz on the sky in longitude, so the kernel is twice as wide in x
    geom = WcsGeom.create(npix=(400, 100), binsz=0.02, axes=[energy_axis], skydir=(0, 0), frame="icrs")
    position = SkyCoord(0, 0.9, unit="deg")
    kernel_eq = psf_gauss.get_psf_kernel(geom, position=position, max_radius=0.4 * u.deg)
    geom_hi = WcsGeom.create(npix=(400, 100), binsz=0.02, axes=[energy_axis], skydir=(0, 0),
                             frame="icrs", refpix=(200.5, -2950.5))
    pos_hi = SkyCoord(0, 60, unit="deg")
    kernel_hi = psf_gauss.get_psf_kernel(geom_hi, position=pos_hi, max_radius=0.4 * u.deg)
    ny_eq, nx_eq = kernel_eq.data.shape[-2:]
    ny_hi, nx_hi = kernel_hi.data.shape[-2:]
    assert nx_eq == ny_eq
    assert ny_hi == ny_eq
    assert nx_hi == pytest.approx(2 * nx_eq, abs=2)


def test_get_psf_kernel_cached(psf_gauss, energy_axis):
    geom = WcsGeom.create(npix=50, binsz=0.02, axes=[energy_axis], frame="galactic")
    pos = SkyCoord(0.1, 0.1, unit="deg", frame="galactic")
    k1 = psf_gauss.get_psf_kernel(geom, position=pos)
    k2 = psf_gauss.get_psf_kernel(geom, position=SkyCoord(0.1 + 1e-9, 0.1, unit="deg", frame="galactic"))
    assert k1 is k2
    # a cutout of the same grid reuses the kernel of the same IRF bin and pixel scale
    k3 = psf_gauss.get_psf_kernel(geom.cutout(pos, 0.5 * u.deg), position=pos)
    assert k3 is k1
    # stacking invalidates the cache
    psf = _with_exposure(psf_gauss, 1.0)
    k4 = psf.get_psf_kernel(geom, position=pos)
    psf.stack(_with_exposure(psf_gauss, 1.0))
    assert psf.get_psf_kernel(geom, position=pos) is not k4


def test_stack_exposure_weighted(energy_axis):
    psf1 = _with_exposure(PSFMap.from_gauss(energy_axis, sigma=0.1 * u.deg,
                                            rad_axis=MapAxis.from_nodes(np.linspace(0, 1, 50), unit="deg", name="rad")), [1.0, 2.0, 3.0][0])
    rad_axis = psf1.rad_axis
    psf2 = _with_exposure(PSFMap.from_gauss(energy_axis, rad_axis=rad_axis, sigma=0.2 * u.deg), 3.0)
    expected = (psf1.psf_map.data * 1.0 + psf2.psf_map.data * 3.0) / 4.0
    stacked = psf1.copy()
    stacked.stack(psf2)
    assert np.allclose(stacked.psf_map.data, expected, atol=0)
    assert np.allclose(stacked.exposure_map.data, 4.0, atol=0)
    # weights: masked pixels of the second map do not contribute
    weights = np.zeros(psf2.psf_map.geom.data_shape[-2:])
    weights[0, 0] = 1.0
    stacked = psf1.copy()
    stacked.stack(psf2, weights=weights)
    assert np.allclose(stacked.psf_map.data[..., 0, 0], expected[..., 0, 0], atol=0)
    assert np.allclose(stacked.psf_map.data[..., 0, 1], psf1.psf_map.data[..., 0, 1], atol=0)
    assert np.allclose(stacked.exposure_map.data[..., 0, 1], 1.0, atol=0)


def test_stack_needs_exposure(psf_gauss):
    with pytest.raises(ValueError, match="exposure"):
        psf_gauss.copy().stack(psf_gauss)


def test_write_read_round_trip(psf_gauss, tmp_path):
    psf = _with_exposure(psf_gauss, 5.0)
    path = tmp_path / "psf.fits"
    psf.write(path)
    read = PSFMap.read(path)
    assert np.array_equal(read.psf_map.data, psf.psf_map.data)
    assert np.array_equal(read.exposure_map.data, psf.exposure_map.data)
    assert read.psf_map.geom.axes == psf.psf_map.geom.axes
    assert read.is_allclose(psf)
    from astropy.io import fits

    with fits.open(path) as hdulist:
        assert [h.name for h in hdulist] == [
            "PRIMARY", "PSF", "PSF_BANDS", "PSF_EXPOSURE", "PSF_EXPOSURE_BANDS",
        ]


def test_to_region_nd_map(psf_gauss, energy_axis):
    psf = _with_exposure(psf_gauss, 2.0)
    region_psf = psf.to_region_nd_map(PointSkyRegion(SkyCoord(10, 20, unit="deg")))
    assert region_psf.psf_map.geom.is_region
    assert region_psf.has_single_spatial_bin
    assert np.allclose(region_psf.containment_radius(0.68, energy_axis.center).deg,
                       psf.containment_radius(0.68, energy_axis.center).deg, atol=0)
    region_psf2 = psf.to_region_nd_map(CircleSkyRegion(SkyCoord(10, 20, unit="deg"), 1 * u.deg))
    assert np.allclose(region_psf2.exposure_map.data, 2.0, atol=0)


def test_sample_coord(psf_gauss):
    n = 20000
    energy = np.full(n, 1.4678) * u.TeV  # first bin centre of the 1-10 TeV axis, sigma = 0.05 deg
    centre = SkyCoord(np.full(n, 83.6), np.full(n, 22.0), unit="deg")
    coords = MapCoord.create({"skycoord": centre, "energy_true": energy})
    sampled = psf_gauss.sample_coord(coords, random_state=1)
    sep = centre.separation(sampled.skycoord).deg
    # 68 % of a 2D Gaussian within 1.5096 sigma (binomial error 0.0033)
    assert np.mean(sep < 0.05 * 1.5096) == pytest.approx(0.68, abs=0.015)
    assert np.allclose(sampled["energy_true"], energy, atol=0)


def test_missing_axis_error():
    geom = WcsGeom.create(npix=2, binsz=1, axes=[MapAxis.from_energy_bounds(1, 10, 2, unit="TeV", name="energy_true")])
    with pytest.raises(ValueError, match="rad"):
        PSFMap(Map.from_geom(geom))


def test_plots(psf_gauss):
    import matplotlib.pyplot as plt

    psf_gauss.plot_containment_radius_vs_energy()
    psf_gauss.plot_psf_vs_rad()
    axes = _with_exposure(psf_gauss, 1.0).peek()
    assert axes.shape == (2, 2)
    plt.close("all")


# ----------------------------------------------------------------------------- data
@pytest.mark.requires_data
@pytest.mark.parametrize("filename", FERMI_FILES)
def test_read_fermi(data_path, filename):
    psf = PSFMap.read(data_path / filename, format="gadf")
    assert psf.psf_map.geom.axes.names == ["rad", "energy_true"]
    assert psf.rad_axis.unit == u.deg
    assert psf.psf_map.data.shape == (17, 300, 1, 2)
    assert psf.exposure_map.unit == u.Unit("cm2 s")
    energy = psf.energy_axis_true.center
    # containment radius grows with the fraction, shrinks with energy
    fractions = np.array([0.39, 0.68, 0.95, 0.99])
    radius = psf.containment_radius(fractions[:, None], energy[None, :], position=CRAB).deg
    assert np.all(np.diff(radius, axis=0) > 0)
    # decreasing with energy on a coarse grid (the 68 % radius has a ~1e-3 deg
    # bump near 100 GeV in the tables themselves)
    coarse = [10, 30, 100, 300, 1000] * u.GeV
    for f in (0.68, 0.95):
        r = psf.containment_radius(f, coarse, position=CRAB).deg
        assert np.all(np.diff(r) < 0)
    r68 = radius[1]
    assert r68[0] > 2 * r68[-1]
    # Fermi-LAT (3FHL event selection) 68 % radius at 10 GeV: ~0.15 deg
    assert 0.1 < r68[0] < 0.2
    # the PSF tables are normalised to 1 within the sampling of the rad nodes
    # (the linear interpolation between nodes adds 0.25-0.45 %)
    assert np.allclose(psf.containment(10 * u.deg, energy, position=CRAB), 1, atol=5e-3)


@pytest.mark.requires_data
def test_fermi_files_agree(data_path):
    # the two files hold the same PSF, written with different axis names (rad / theta)
    psf1 = PSFMap.read(data_path / FERMI_FILES[0])
    psf2 = PSFMap.read(data_path / FERMI_FILES[1])
    energy = [20, 200] * u.GeV
    assert np.allclose(psf1.containment_radius(0.68, energy).deg,
                       psf2.containment_radius(0.68, energy).deg, rtol=1e-5, atol=0)


@pytest.mark.requires_data
@pytest.mark.parametrize("filename", FERMI_FILES)
def test_fermi_kernel_at_crab(data_path, filename):
    path = data_path / filename
    psf = PSFMap.read(path)
    geom = Map.read(path, hdu="EXPOSURE").geom
    kernel = psf.get_psf_kernel(geom, position=CRAB)
    assert kernel.data.shape[0] == geom.axes["energy_true"].nbin
    ny, nx = kernel.data.shape[-2:]
    assert ny % 2 == 1 and nx % 2 == 1
    assert np.allclose(kernel.data.sum(axis=(1, 2)), 1, atol=1e-10)
    # kernel extends to the largest 99.9 % containment radius over the kernel energies
    r999 = psf.containment_radius(0.999, geom.axes["energy_true"].center, position=CRAB).deg.max()
    assert nx == 2 * int(np.ceil(r999 / 0.1 * (1 - 1e-3))) + 1
    # the high-energy kernel is more compact than the low-energy one
    centre = kernel.data[:, ny // 2, nx // 2]
    assert centre[-1] > centre[0]
    assert psf.get_psf_kernel(geom, position=CRAB) is kernel


@pytest.mark.requires_data
def test_fermi_round_trip(data_path, tmp_path):
    psf = PSFMap.read(data_path / FERMI_FILES[1])
    psf.write(tmp_path / "psf.fits")
    read = PSFMap.read(tmp_path / "psf.fits")
    assert np.array_equal(read.psf_map.data, psf.psf_map.data)
    assert np.array_equal(read.exposure_map.data, psf.exposure_map.data)
    assert read.psf_map.geom.axes == psf.psf_map.geom.axes


def test_from_psf_irf(energy_axis):
    from gammalike.irf import PSF3D

    offset = MapAxis.from_bounds(0, 3, nbin=6, unit="deg", name="offset")
    psf3d = PSF3D.from_gauss(energy_axis, offset, sigma=0.1 * u.deg)
    rad = MapAxis.from_nodes(np.linspace(0, 0.6, 100), unit="deg", name="rad")
    geom = WcsGeom.create(npix=(4, 3), binsz=0.5, axes=[rad, energy_axis])
    psf = PSFMap.from_psf_irf(psf3d, geom, pointing=SkyCoord(0, 0, unit="deg"))
    assert psf.psf_map.data.shape == (3, 100, 3, 4)
    # 68 % radius of a 0.1 deg Gaussian: 0.1 * sqrt(-2 ln 0.32)
    assert np.allclose(psf.containment_radius(0.68, energy_axis.center).deg, 0.15096, rtol=2e-3, atol=0)


def test_psf_map_unit_deg2(psf_gauss, energy_axis):
    # a PSF map in deg-2 is converted to sr-1
    m = psf_gauss.psf_map.to_unit("deg-2")
    psf = PSFMap(m)
    assert psf.psf_map.unit == u.Unit("sr-1")
    assert np.allclose(psf.containment(0.1 * u.deg, energy_axis.center),
                       psf_gauss.containment(0.1 * u.deg, energy_axis.center), atol=0)


def _two_bin_psf(energy_axis, exposure=(1.0, 1.0)):
    """PSF map on two spatial bins (centres lon = +-0.5 deg) with Gaussian widths 0.1 / 0.2 deg."""
    rad_axis = MapAxis.from_nodes(np.linspace(0, 1, 101), unit="deg", name="rad")
    geom = WcsGeom.create(skydir=(0, 0), npix=(2, 1), binsz=1.0, frame="galactic", axes=[rad_axis, energy_axis])
    rad = rad_axis.center.to_value("rad")
    sigmas = np.radians([0.1, 0.2])
    values = np.exp(-0.5 * (rad[:, None] / sigmas) ** 2) / (2 * np.pi * sigmas ** 2)
    data = np.broadcast_to(values[None, :, None, :], geom.data_shape)
    exposure_geom = geom.squash("rad")
    exposure_data = np.broadcast_to(np.asarray(exposure, dtype=float), exposure_geom.data_shape)
    return PSFMap(Map.from_geom(geom, data=np.array(data), unit="sr-1"),
                  Map.from_geom(exposure_geom, data=np.array(exposure_data), unit="cm2 s"))


@pytest.mark.parametrize("lon, weight_right", [(0.5, 0.0), (-0.5, 1.0), (0.25, 0.25), (0.0, 0.5), (2.0, 0.0)])
def test_profile_interpolated_between_bin_centres(energy_axis, lon, weight_right):
    # Profiles are bilinear in position between the bin centres (clamped outside), so a
    # source moving across a bin edge sees a continuous PSF.  (lon increases to the left.)
    psf = _two_bin_psf(energy_axis)
    left = psf.psf_map.data[0, :, 0, 0]
    right = psf.psf_map.data[0, :, 0, 1]
    _, values = psf._profiles(np.array([1.0]), SkyCoord(lon, 0, unit="deg", frame="galactic"))
    np.testing.assert_allclose(values[0], (1 - weight_right) * left + weight_right * right, rtol=1e-12)


def test_profile_skips_bins_without_exposure(energy_axis):
    psf = _two_bin_psf(energy_axis, exposure=(0.0, 1.0))  # bin 0 (lon +0.5) has no exposure
    _, values = psf._profiles(np.array([1.0]), SkyCoord(0, 0, unit="deg", frame="galactic"))
    np.testing.assert_allclose(values[0], psf.psf_map.data[0, :, 0, 1], rtol=1e-12)


def test_kernel_continuous_across_bin_edge(energy_axis):
    psf = _two_bin_psf(energy_axis)
    geom = WcsGeom.create(skydir=(0, 0), npix=(41, 41), binsz=0.02, frame="galactic")
    kernels = [psf.get_psf_kernel(geom, position=SkyCoord(lon, 0, unit="deg", frame="galactic"),
                                  max_radius=0.4 * u.deg).psf_kernel_map.data
               for lon in (-1e-4, 1e-4)]
    assert np.max(np.abs(kernels[0] - kernels[1])) < 1e-3 * kernels[0].max()
