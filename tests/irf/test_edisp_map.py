"""Tests of `EDispKernelMap` and `EDispMap` (expected values: Gaussian migration in
closed form with the normal CDF; Fermi-LAT files of seeds 000 / 001)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from scipy.special import ndtr
from scipy.stats import norm

from gammalike.maps import Map, MapAxis, MapCoord, WcsGeom
from gammalike.irf import EDispKernel
from gammalike.irf.edisp_map import EDispKernelMap, EDispMap, read_edisp_map_from_hdulist

CRAB = SkyCoord(184.55, -5.78, unit="deg", frame="galactic")
FERMI_FILES = [
    "crab-3datasets/Fermi-LAT.fits",
    "fermi-3fhl-crab/Fermi-LAT-3FHL_data_Fermi-LAT.fits",
]


@pytest.fixture
def axes():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "10 TeV", nbin=8)
    energy_true = MapAxis.from_energy_bounds("0.05 TeV", "20 TeV", nbin=12, name="energy_true")
    return energy, energy_true


def _gauss_kernel_map(axes, sigma=0.2, bias=0.05, exposure=None, geom=None):
    energy, energy_true = axes
    kmap = EDispKernelMap.from_gauss(energy, energy_true, sigma=sigma, bias=bias, geom=geom)
    if exposure is not None:
        eg = kmap.edisp_map.geom.squash("energy")
        data = np.broadcast_to(np.asarray(exposure, float), eg.data_shape)
        kmap = EDispKernelMap(kmap.edisp_map, Map.from_geom(eg, data=data, unit="m2 s", dtype=float))
    return kmap


# ----------------------------------------------------------------------------- kernel map
def test_from_gauss_matches_kernel(axes):
    energy, energy_true = axes
    kmap = _gauss_kernel_map(axes)
    kernel = kmap.get_edisp_kernel(SkyCoord(10, 10, unit="deg"))
    expected = EDispKernel.from_gauss(energy_true, energy, sigma=0.2, bias=0.05)
    assert isinstance(kernel, EDispKernel)
    assert np.allclose(kernel.pdf_matrix, expected.pdf_matrix, atol=0)
    assert kernel.energy_axis == energy


def test_from_diagonal_response(axes):
    energy, _ = axes
    kmap = EDispKernelMap.from_diagonal_response(energy)
    assert kmap.edisp_map.geom.axes.names == ["energy", "energy_true"]
    assert np.allclose(kmap.get_edisp_kernel().pdf_matrix, np.eye(energy.nbin), atol=0)


def test_get_edisp_kernel_resampled(axes):
    energy, energy_true = axes
    kmap = _gauss_kernel_map(axes)
    coarse = MapAxis.from_energy_edges(energy.edges[::2])
    kernel = kmap.get_edisp_kernel(energy_axis=coarse)
    full = kmap.get_edisp_kernel().pdf_matrix
    # reco bins are summed pairwise
    assert np.allclose(kernel.pdf_matrix, full[:, 0::2] + full[:, 1::2], atol=0)
    bad = MapAxis.from_energy_bounds("0.13 TeV", "10 TeV", nbin=3)
    with pytest.raises(ValueError, match="subset"):
        kmap.get_edisp_kernel(energy_axis=bad)


def test_get_edisp_kernel_cached_copy(axes):
    kmap = _gauss_kernel_map(axes)
    k1 = kmap.get_edisp_kernel()
    k1.data[:] = 0
    k2 = kmap.get_edisp_kernel()
    assert k2.pdf_matrix.sum() > 0


def test_resample_energy_axis_and_to_image(axes):
    energy, _ = axes
    kmap = _gauss_kernel_map(axes, exposure=2.0)
    coarse = MapAxis.from_energy_edges(energy.edges[::4])
    resampled = kmap.resample_energy_axis(coarse)
    data = kmap.edisp_map.data
    expected = np.stack([data[:, 0:4].sum(axis=1), data[:, 4:8].sum(axis=1)], axis=1)
    assert np.allclose(resampled.edisp_map.data, expected, atol=0)
    assert resampled.exposure_map.geom.axes["energy"].nbin == 1
    image = kmap.to_image()
    assert image.edisp_map.data.shape[1] == 1
    assert np.allclose(image.edisp_map.data[:, 0], data.sum(axis=1), atol=0)
    # weights: a mask on the reco bins
    weights = np.zeros(energy.nbin)
    weights[2:5] = 1
    image = kmap.to_image(weights=weights.reshape(1, -1, 1, 1))
    assert np.allclose(image.edisp_map.data[:, 0], data[:, 2:5].sum(axis=1), atol=0)


def test_stack_exposure_weighted(axes):
    k1 = _gauss_kernel_map(axes, sigma=0.1, exposure=1.0)
    k2 = _gauss_kernel_map(axes, sigma=0.3, exposure=3.0)
    expected = (k1.edisp_map.data * 1 + k2.edisp_map.data * 3) / 4
    k1.stack(k2)
    assert np.allclose(k1.edisp_map.data, expected, atol=0)
    assert np.allclose(k1.exposure_map.data, 4.0, atol=0)
    # the stacked kernel is the exposure-weighted mean of the kernels
    kernel = k1.get_edisp_kernel()
    assert np.allclose(kernel.pdf_matrix, expected[:, :, 0, 0], atol=0)


def test_stack_units_and_weights(axes):
    k1 = _gauss_kernel_map(axes, sigma=0.1, exposure=1.0)  # m2 s
    k2 = _gauss_kernel_map(axes, sigma=0.3, exposure=3.0)
    k2.exposure_map = k2.exposure_map.to_unit("cm2 s")  # same exposure, other unit
    # weights as a map with a reco-energy axis on another grid: reduced over energy
    geom = WcsGeom.create(npix=(4, 2), binsz=90, proj="CAR", axes=[axes[0]])
    mask = Map.from_geom(geom, dtype=bool)
    # x pixels 2, 3 of the mask: longitudes 180-360 deg (CAR x grows to lower
    # longitude), i.e. pixel x = 1 of the 2 x 1 IRF grid
    mask.data[:, :, 2:] = True
    expected = k1.edisp_map.data.copy()
    expected[..., 0, 1] = (k1.edisp_map.data[..., 0, 1] + 3 * k2.edisp_map.data[..., 0, 1]) / 4
    k1.stack(k2, weights=mask)
    assert np.allclose(k1.edisp_map.data, expected, atol=0)
    assert np.allclose(k1.exposure_map.data[..., 0, 1], 4.0, atol=0)
    assert np.allclose(k1.exposure_map.data[..., 0, 0], 1.0, atol=0)


def test_write_read_round_trip(axes, tmp_path):
    kmap = _gauss_kernel_map(axes, exposure=2.5)
    path = tmp_path / "edisp.fits"
    kmap.write(path)
    read = EDispKernelMap.read(path)
    assert np.array_equal(read.edisp_map.data, kmap.edisp_map.data)
    assert np.array_equal(read.exposure_map.data, kmap.exposure_map.data)
    assert read.edisp_map.geom.axes == kmap.edisp_map.geom.axes
    with fits.open(path) as hdulist:
        assert [h.name for h in hdulist] == [
            "PRIMARY", "EDISP", "EDISP_BANDS", "EDISP_EXPOSURE", "EDISP_EXPOSURE_BANDS",
        ]
        assert isinstance(read_edisp_map_from_hdulist(hdulist), EDispKernelMap)
    with pytest.raises(OSError):
        kmap.write(path)


def test_peek(axes):
    import matplotlib.pyplot as plt

    axs = _gauss_kernel_map(axes, exposure=1.0).peek()
    assert len(axs) == 3
    plt.close("all")


# ----------------------------------------------------------------------------- migra map
def _gauss_migra_map(energy_true, sigma=0.2, bias=0.05, geom=None, exposure=None):
    migra = MapAxis.from_bounds(0.01, 3, nbin=600, name="migra")
    edisp = EDispMap.from_diagonal_response(energy_true, migra_axis=migra, geom=geom)
    edges = migra.edges.value
    # exact bin averages of the normal density
    density = np.diff(norm.cdf(edges, loc=1 + bias, scale=sigma)) / np.diff(edges)
    data = np.broadcast_to(density[None, :, None, None], edisp.edisp_map.geom.data_shape).copy()
    exp_map = None
    if exposure is not None:
        eg = edisp.edisp_map.geom.squash("migra")
        exp_map = Map.from_geom(eg, data=np.full(eg.data_shape, float(exposure)), unit="m2 s")
    return EDispMap(edisp.edisp_map._init_copy(data=data), exp_map)


def test_edisp_map_kernel_matches_gauss(axes):
    energy, energy_true = axes
    edisp = _gauss_migra_map(energy_true)
    kernel = edisp.get_edisp_kernel(energy_axis=energy)
    # P(reco bin | E_true) = Phi((E_hi / E_true - 1 - bias) / sigma) - Phi(...E_lo...)
    e_true = energy_true.center.to_value("TeV")[:, None]
    edges = energy.edges.to_value("TeV")[None, :]
    expected = np.diff(ndtr((edges / e_true - 1.05) / 0.2), axis=1)
    assert np.allclose(kernel.pdf_matrix, expected, atol=2e-4)
    # default reco axis: the true axis
    assert edisp.get_edisp_kernel().energy_axis.nbin == energy_true.nbin


def test_edisp_map_diagonal(axes):
    _, energy_true = axes
    edisp = EDispMap.from_diagonal_response(energy_true)
    kernel = edisp.get_edisp_kernel()
    assert np.allclose(kernel.pdf_matrix, np.eye(energy_true.nbin), atol=1e-9)


def test_to_edisp_kernel_map(axes):
    energy, energy_true = axes
    geom = WcsGeom.create(npix=(3, 2), binsz=1, frame="galactic")
    edisp = _gauss_migra_map(energy_true, geom=geom, exposure=4.0)
    kmap = edisp.to_edisp_kernel_map(energy)
    assert isinstance(kmap, EDispKernelMap)
    assert kmap.edisp_map.geom.axes.names == ["energy", "energy_true"]
    assert kmap.exposure_map.geom.axes["energy"].nbin == 1
    pos = SkyCoord(0.5, 0.5, unit="deg", frame="galactic")
    assert np.allclose(
        kmap.get_edisp_kernel(pos).pdf_matrix, edisp.get_edisp_kernel(pos, energy_axis=energy).pdf_matrix, atol=0)


def test_edisp_map_stack_and_round_trip(axes, tmp_path):
    _, energy_true = axes
    e1 = _gauss_migra_map(energy_true, sigma=0.1, exposure=1.0)
    e2 = _gauss_migra_map(energy_true, sigma=0.3, exposure=3.0)
    expected = (e1.edisp_map.data + 3 * e2.edisp_map.data) / 4
    e1.stack(e2)
    assert np.allclose(e1.edisp_map.data, expected, atol=0)
    path = tmp_path / "edisp_migra.fits"
    e1.write(path)
    read = EDispMap.read(path)
    assert np.array_equal(read.edisp_map.data, e1.edisp_map.data)
    assert np.array_equal(read.exposure_map.data, e1.exposure_map.data)
    assert read.edisp_map.geom.axes.names == ["migra", "energy_true"]
    with fits.open(path) as hdulist:
        assert isinstance(read_edisp_map_from_hdulist(hdulist), EDispMap)


def test_edisp_map_sample_coord(axes):
    _, energy_true = axes
    edisp = _gauss_migra_map(energy_true, sigma=0.1, bias=0.05)
    n = 20000
    coords = MapCoord.create({
        "skycoord": SkyCoord(np.zeros(n), np.zeros(n), unit="deg"),
        "energy_true": np.full(n, 1.0) * u.TeV,
    })
    sampled = edisp.sample_coord(coords, random_state=0)
    migra = sampled["energy"].to_value("TeV")
    # E_reco / E_true ~ N(1.05, 0.1): mean error 0.1 / sqrt(n) = 7e-4
    assert migra.mean() == pytest.approx(1.05, abs=3e-3)
    assert migra.std() == pytest.approx(0.1, rel=0.03, abs=0)


def test_edisp_map_missing_axis(axes):
    energy, _ = axes
    geom = WcsGeom.create(npix=2, binsz=1, axes=[energy])
    with pytest.raises(ValueError, match="migra"):
        EDispMap(Map.from_geom(geom))


# ----------------------------------------------------------------------------- data
@pytest.mark.requires_data
@pytest.mark.parametrize("filename", FERMI_FILES)
def test_read_fermi(data_path, filename):
    kmap = EDispKernelMap.read(data_path / filename)
    assert kmap.edisp_map.geom.axes.names == ["energy", "energy_true"]
    assert kmap.edisp_map.data.shape == (5, 5, 20, 25)
    assert kmap.exposure_map.unit == u.Unit("m2 s")
    kernel = kmap.get_edisp_kernel(position=CRAB)
    rows = kernel.pdf_matrix.sum(axis=1)
    assert np.all(rows <= 1 + 1e-6)
    assert np.allclose(rows[1:-1], 1, atol=1e-3)
    # the Fermi-LAT datasets were made without energy dispersion: identity matrix
    assert np.allclose(kernel.pdf_matrix, np.eye(5), atol=1e-6)
    with fits.open(data_path / filename) as hdulist:
        assert isinstance(read_edisp_map_from_hdulist(hdulist), EDispKernelMap)


@pytest.mark.requires_data
@pytest.mark.parametrize("filename", FERMI_FILES)
def test_fermi_round_trip(data_path, filename, tmp_path):
    kmap = EDispKernelMap.read(data_path / filename)
    kmap.write(tmp_path / "edisp.fits")
    read = EDispKernelMap.read(tmp_path / "edisp.fits")
    assert np.array_equal(read.edisp_map.data, kmap.edisp_map.data)
    assert np.array_equal(read.exposure_map.data, kmap.exposure_map.data)
    assert read.edisp_map.geom.axes == kmap.edisp_map.geom.axes
    assert read.get_edisp_kernel(CRAB) == kmap.get_edisp_kernel(CRAB)


def test_from_edisp_irf(axes):
    from gammalike.irf import EnergyDispersion2D

    energy, energy_true = axes
    migra = MapAxis.from_bounds(0.01, 3, nbin=600, name="migra")
    offset = MapAxis.from_bounds(0, 3, nbin=6, unit="deg", name="offset")
    edisp2d = EnergyDispersion2D.from_gauss(energy_true, migra, offset, bias=0.05, sigma=0.2)
    geom = WcsGeom.create(npix=(4, 3), binsz=0.5, axes=[migra, energy_true])
    edisp = EDispMap.from_edisp_irf(edisp2d, geom, pointing=SkyCoord(0, 0, unit="deg"))
    kernel = edisp.get_edisp_kernel(energy_axis=energy)
    # same closed form as test_edisp_map_kernel_matches_gauss
    e_true = energy_true.center.to_value("TeV")[:, None]
    edges = energy.edges.to_value("TeV")[None, :]
    expected = np.diff(ndtr((edges / e_true - 1.05) / 0.2), axis=1)
    assert np.allclose(kernel.pdf_matrix, expected, atol=2e-4)
