"""Tests of `PSFKernel` and `convolve_cube` (expected values: closed-form Gaussians)."""
import numpy as np
import pytest
import astropy.units as u
from scipy import signal

from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.irf.psf_kernel import PSFKernel, convolve_cube

SIGMA = np.array([0.05, 0.1, 0.15])


@pytest.fixture
def geom():
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=3, name="energy_true")
    return WcsGeom.create(npix=101, binsz=0.01, axes=[axis], skydir=(0, 0), frame="galactic")


@pytest.fixture
def kernel(geom):
    return PSFKernel.from_gauss(geom, SIGMA * u.deg, max_radius=0.6 * u.deg)


def test_from_gauss_normalised_odd_centred(kernel):
    data = kernel.data
    # 0.6 deg / 0.01 deg = 60 pixels on each side of the centre pixel
    assert data.shape == (3, 121, 121)
    assert np.allclose(data.sum(axis=(1, 2)), 1, atol=1e-12)
    centre = np.unravel_index(np.argmax(data[0]), data[0].shape)
    assert centre == (60, 60)
    # radially symmetric: mirror images equal
    assert np.allclose(data, data[:, ::-1, :], atol=1e-12 * data.max())
    assert np.allclose(data, data[:, :, ::-1], atol=1e-12 * data.max())
    assert np.allclose(data, np.swapaxes(data, 1, 2), atol=1e-12 * data.max())


def test_from_gauss_default_radius(geom):
    # containment 0.99 of a 2D Gaussian: r = sigma sqrt(-2 ln 0.01) = 3.035 sigma
    kernel = PSFKernel.from_gauss(geom, 0.1 * u.deg)
    half = kernel.data.shape[-1] // 2
    assert half == int(np.ceil(0.1 * np.sqrt(-2 * np.log(0.01)) / 0.01))


def test_from_gauss_containment_matches_analytic(kernel):
    # 2D Gaussian containment 1 - exp(-r^2 / 2 sigma^2); pixel-centre selection
    # of a 5-15 pixel wide Gaussian is good to ~1e-2
    rad = np.array([0.05, 0.1, 0.2, 0.3])
    expected = 1 - np.exp(-rad[None] ** 2 / 2 / SIGMA[:, None] ** 2)
    assert np.allclose(kernel.containment(rad * u.deg), expected, atol=0.012)


def test_point_source_convolved_matches_analytic(kernel):
    # a point source convolved with a Gaussian PSF: the pixel values are
    # binsz^2 / (2 pi sigma^2) exp(-r^2 / 2 sigma^2) (issue 3 check)
    image = np.zeros((3, 101, 101))
    image[:, 50, 50] = 1.0
    result = convolve_cube(image, kernel.data)
    y, x = np.mgrid[:101, :101]
    r = np.hypot(x - 50, y - 50) * 0.01
    s = SIGMA[:, None, None]
    expected = 0.01**2 / (2 * np.pi * s**2) * np.exp(-(r**2) / 2 / s**2)
    assert result.shape == image.shape
    assert np.allclose(result, expected, atol=0.01 * expected.max())
    # flux conserved up to the kernel part falling outside the 101 x 101 image
    inside = kernel.data[:, 10:111, 10:111].sum(axis=(1, 2))
    assert np.allclose(result.sum(axis=(1, 2)), inside, rtol=1e-9, atol=0)
    assert result.min() >= 0


def test_convolve_cube_equals_per_plane_convolution(kernel):
    rng = np.random.default_rng(1)
    data = rng.uniform(size=(3, 40, 50))
    result = convolve_cube(data, kernel.data)
    for i in range(3):
        expected = signal.convolve2d(data[i], kernel.data[i], mode="same")
        assert np.allclose(result[i], expected, atol=1e-10)
    # a 2D kernel is applied to every plane
    result_2d = convolve_cube(data, kernel.data[1])
    assert np.allclose(result_2d[2], signal.convolve2d(data[2], kernel.data[1], mode="same"), atol=0)
    # small kernel on a large image (overlap-add path)
    small = PSFKernel.from_gauss(kernel.psf_kernel_map.geom, 0.01 * u.deg).data
    big = rng.uniform(size=(3, 120, 130))
    res = convolve_cube(big, small)
    assert np.allclose(res[0], signal.convolve2d(big[0], small[0], mode="same"), atol=1e-10)


def test_convolve_cube_shape_mismatch(kernel):
    with pytest.raises(ValueError, match="leading shape"):
        convolve_cube(np.zeros((4, 10, 10)), kernel.data)


def test_kernel_convolve_map(kernel, geom):
    m = Map.from_geom(geom, dtype=float)
    m.data[:, 50, 50] = 2.0
    result = kernel.convolve(m)
    assert isinstance(result, Map)
    assert np.allclose(result.data.sum(axis=(1, 2)), 2 * kernel.data[:, 10:111, 10:111].sum(axis=(1, 2)), atol=0)


def test_odd_npix_required(geom):
    m = Map.from_geom(WcsGeom.create(npix=10, binsz=0.1))
    with pytest.raises(ValueError, match="odd"):
        PSFKernel(m)


def test_to_image_default_weights(kernel):
    # default spectrum: power law index 2, bin weights 1/E_lo - 1/E_hi
    edges = kernel.energy_axis.edges.to_value("TeV")
    w = 1 / edges[:-1] - 1 / edges[1:]
    w = w / w.sum()
    image = kernel.to_image()
    assert image.data.shape == (1, 121, 121)
    assert np.allclose(image.data[0], np.tensordot(w, kernel.data, axes=(0, 0)), atol=0)
    flat = kernel.to_image(keepdims=False, exposure=[1, 0, 0])
    assert flat.data.shape == (121, 121)
    assert np.allclose(flat.data, kernel.data[0], atol=0)


def test_to_image_with_spectrum(kernel):
    class Flat:
        # constant dnde: bin integrals are the bin widths
        def integral(self, energy_min, energy_max):
            return (energy_max - energy_min).to_value("TeV") * u.Unit("cm-2 s-1")

    edges = kernel.energy_axis.edges.to_value("TeV")
    w = np.diff(edges) / np.diff(edges).sum()
    image = kernel.to_image(spectrum=Flat())
    assert np.allclose(image.data[0], np.tensordot(w, kernel.data, axes=(0, 0)), atol=0)


def test_slice_by_idx(kernel):
    sub = kernel.slice_by_idx({"energy_true": slice(1, 3)})
    assert sub.data.shape == (2, 121, 121)
    assert np.allclose(sub.data, kernel.data[1:], atol=0)


def test_write_read_round_trip(kernel, tmp_path):
    path = tmp_path / "kernel.fits"
    kernel.write(path)
    read = PSFKernel.read(path)
    assert np.array_equal(read.data, kernel.data)
    assert read.energy_axis == kernel.energy_axis
    with pytest.raises(OSError):
        kernel.write(path)
    kernel.write(path, overwrite=True)


class _GaussModel:
    """Duck-typed Gaussian spatial model (values in sr-1)."""

    def __init__(self, position, sigma):
        self.position = position
        self.sigma = sigma

    def evaluate_geom(self, geom):
        sep = geom.separation(self.position).to_value("rad")
        s = np.radians(self.sigma)
        return np.exp(-0.5 * (sep / s) ** 2) / (2 * np.pi * s**2) * u.Unit("sr-1")


def test_from_spatial_model_matches_from_gauss(geom):
    model = _GaussModel(geom.center_skydir, 0.1)
    kernel = PSFKernel.from_spatial_model(model, geom, max_radius=0.5 * u.deg, factor=4)
    expected = PSFKernel.from_gauss(geom, 0.1 * u.deg, max_radius=0.5 * u.deg)
    assert kernel.data.shape == expected.data.shape == (3, 101, 101)
    assert np.allclose(kernel.data, expected.data, atol=2e-3 * expected.data.max())


def test_plots(kernel):
    import matplotlib.pyplot as plt

    ax = kernel.plot_kernel(energy=2 * u.TeV, add_cbar=True)
    assert ax.get_title().startswith("energy_true")
    axes = kernel.peek()
    assert len(axes) == 3
    plt.close("all")
    assert "PSFKernel" in str(kernel)


def test_kernel_convolve_cached_fft_matches_direct(kernel):
    # cached-FFT path of PSFKernel.convolve == direct 2D convolution per plane
    rng = np.random.default_rng(3)
    data = rng.uniform(size=(3, 30, 45))
    first = kernel.convolve(data)
    second = kernel.convolve(data * 2)
    for i in range(3):
        expected = signal.convolve2d(data[i], kernel.data[i], mode="same")
        assert np.allclose(first[i], expected, atol=1e-12)
        assert np.allclose(second[i], 2 * expected, atol=1e-12)
    # extra leading dimensions broadcast over the energy planes
    stacked = kernel.convolve(np.stack([data, data]))
    assert np.allclose(stacked[1], first, atol=0)
