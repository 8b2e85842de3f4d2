"""Tests of `MapEvaluator`: counts of one model, PSF / edisp application and caching."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.datasets.evaluator import MapEvaluator
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling.models import (
    GaussianSpatialModel,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)


def _exposure(nbin=3, value=1e10, width=(3.0, 2.0), binsz=0.1):
    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=nbin, name="energy_true")
    geom = WcsGeom.create(skydir=(0, 0), binsz=binsz, width=width, frame="galactic", axes=[axis])
    return Map.from_geom(geom, data=np.full(geom.data_shape, value), unit="m2 s")


def _energy_axis(nbin=3):
    return MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=nbin)


def _point_model(lon=0.0, lat=0.0):
    spatial = PointSpatialModel(lon_0=f"{lon} deg", lat_0=f"{lat} deg", frame="galactic")
    return SkyModel(PowerLawSpectralModel(), spatial, name="point")


def _expected_totals(model, exposure):
    """Flux per true-energy bin x exposure (cm2 s): the total counts of a source inside the map."""
    edges = exposure.geom.axes["energy_true"].edges
    flux = model.spectral_model.integral(edges[:-1], edges[1:]).to_value("cm-2 s-1")
    return flux * u.Quantity(exposure.data[:, 0, 0], exposure.unit).to_value("cm2 s")


class _GaussKernelPSF:
    """Duck-typed PSF map: a normalised Gaussian kernel of ``sigma_pix`` pixels, counting calls."""

    def __init__(self, sigma_pix=1.5, half=6):
        self.sigma_pix = sigma_pix
        self.half = half
        self.calls = 0

    def get_psf_kernel(self, geom, position=None, max_radius=None):
        self.calls += 1
        n_true = geom.axes["energy_true"].nbin
        y, x = np.mgrid[-self.half:self.half + 1, -self.half:self.half + 1]
        image = np.exp(-0.5 * (x**2 + y**2) / self.sigma_pix**2)
        data = np.repeat((image / image.sum())[None], n_true, axis=0)

        class Kernel:
            psf_kernel_map = data

        return Kernel()


class _MatrixEDisp:
    """Duck-typed energy dispersion with a fixed migration matrix."""

    def __init__(self, pdf):
        self.pdf = np.asarray(pdf)

    def get_edisp_kernel(self, position=None, energy_axis=None):
        class Kernel:
            pdf_matrix = self.pdf

        return Kernel()


def test_point_source_total_counts():
    # closed form: a point source well inside the map puts flux x exposure counts in the map
    exposure = _exposure()
    model = _point_model(0.03, -0.02)
    evaluator = MapEvaluator(model, exposure, energy_axis=_energy_axis())
    (ys, xs), npred = evaluator.compute_npred()
    assert npred.shape[0] == 3
    assert np.allclose(npred.sum(axis=(1, 2)), _expected_totals(model, exposure), rtol=1e-10, atol=0)
    # without PSF the point source covers at most the 4 pixels of its bilinear weights
    assert np.count_nonzero(npred[0]) <= 4


def test_gaussian_source_cutout_is_small():
    exposure = _exposure(width=(6.0, 6.0))
    spatial = GaussianSpatialModel(lon_0="0.5 deg", lat_0="0.5 deg", sigma="0.1 deg", frame="galactic")
    model = SkyModel(PowerLawSpectralModel(), spatial, name="gauss")
    evaluator = MapEvaluator(model, exposure, energy_axis=_energy_axis())
    (ys, xs), npred = evaluator.compute_npred()
    ny, nx = exposure.geom.data_shape[-2:]
    assert (ys.stop - ys.start) < ny and (xs.stop - xs.start) < nx
    # the cut-out holds (almost) all the flux: evaluation radius covers the Gaussian
    assert np.allclose(npred.sum(axis=(1, 2)), _expected_totals(model, exposure), rtol=2e-3, atol=0)


def test_psf_convolution_profile_and_normalisation():
    # a point source at a pixel centre convolved with a normalised kernel gives the kernel itself
    exposure = _exposure()
    geom = exposure.geom
    lon, lat = geom.wcs.wcs_pix2world(15, 10, 0)
    model = _point_model(float(lon), float(lat))
    psf = _GaussKernelPSF()
    evaluator = MapEvaluator(model, exposure, psf=psf, energy_axis=_energy_axis())
    (ys, xs), npred = evaluator.compute_npred()
    full = np.zeros(geom.data_shape)
    full[:, ys, xs] = npred
    totals = _expected_totals(model, exposure)
    assert np.allclose(full.sum(axis=(1, 2)), totals, rtol=1e-10, atol=0)
    y, x = np.mgrid[-6:7, -6:7]
    kernel = np.exp(-0.5 * (x**2 + y**2) / 1.5**2)
    kernel /= kernel.sum()
    assert np.allclose(full[0, 10 - 6:10 + 7, 15 - 6:15 + 7], kernel * totals[0], rtol=1e-8, atol=1e-12 * totals[0])


def test_edisp_matrix_is_applied_along_energy():
    exposure = _exposure(nbin=3)
    pdf = np.array([[0.8, 0.2], [0.1, 0.9], [0.0, 1.0]])  # (n_true, n_reco)
    model = _point_model()
    evaluator = MapEvaluator(model, exposure, edisp=_MatrixEDisp(pdf),
                             energy_axis=_energy_axis(nbin=2))
    _, npred = evaluator.compute_npred()
    assert np.allclose(npred.sum(axis=(1, 2)), _expected_totals(model, exposure) @ pdf, rtol=1e-10, atol=0)


def test_caching_levels():
    exposure = _exposure()
    model = _point_model()
    psf = _GaussKernelPSF()
    evaluator = MapEvaluator(model, exposure, psf=psf, energy_axis=_energy_axis())
    calls = {"n": 0}
    integrate = model.spatial_model.integrate_geom

    def counting(geom, *args, **kwargs):
        calls["n"] += 1
        return integrate(geom, *args, **kwargs)

    model.spatial_model.integrate_geom = counting
    _, first = evaluator.compute_npred()
    _, again = evaluator.compute_npred()
    assert again is first and evaluator.n_evaluations == 1  # nothing changed: cached array
    model.spectral_model.amplitude.value *= 2
    _, doubled = evaluator.compute_npred()
    assert np.allclose(doubled, 2 * first, atol=0)
    assert evaluator.n_evaluations == 2 and calls["n"] == 1 and psf.calls == 1  # spectral change only
    # a sub-pixel move re-integrates the source but keeps the kernel and cut-out
    model.spatial_model.lon_0.value += 0.01
    evaluator.compute_npred()
    assert calls["n"] == 2 and psf.calls == 1
    # a move of several pixels prepares a new geometry (new PSF kernel)
    model.spatial_model.lon_0.value += 0.5
    evaluator.compute_npred()
    assert psf.calls == 2


def test_source_outside_map_gives_nothing():
    exposure = _exposure()
    model = _point_model(20.0, 0.0)
    evaluator = MapEvaluator(model, exposure, energy_axis=_energy_axis())
    _, npred = evaluator.compute_npred()
    assert npred is None


def test_edisp_true_reco_mismatch_raises():
    exposure = _exposure(nbin=3)
    evaluator = MapEvaluator(_point_model(), exposure, edisp=_MatrixEDisp(np.eye(2)),
                             energy_axis=_energy_axis(nbin=2))
    with pytest.raises(ValueError, match="true-energy"):
        evaluator.compute_npred()


def test_diffuse_template_of_differential_flux():
    """A 3D template in cm-2 s-1 MeV-1 sr-1 (normalize=False, as a Fermi-LAT diffuse model) with a
    PowerLawNorm: npred = value x solid angle x exposure x integral of the norm over each bin."""
    from gammalike.modeling.models import PowerLawNormSpectralModel, TemplateSpatialModel

    exposure = _exposure(nbin=3, value=1e10)  # m2 s
    energy = MapAxis.from_energy_bounds("0.5 TeV", "20 TeV", nbin=6, name="energy")
    geom = exposure.geom.to_image().to_cube([energy])
    value = 1e-13  # cm-2 s-1 MeV-1 sr-1, the same everywhere
    template = Map.from_geom(geom, data=np.full(geom.data_shape, value), unit="cm-2 s-1 MeV-1 sr-1")
    model = SkyModel(PowerLawNormSpectralModel(), TemplateSpatialModel(template, normalize=False), name="diffuse")
    evaluator = MapEvaluator(model, exposure, energy_axis=_energy_axis())
    _, npred = evaluator.compute_npred()
    edges = exposure.geom.axes["energy_true"].edges.to_value("TeV")
    solid_angle = exposure.geom.to_image().solid_angle().to_value("sr").sum()
    expected = value * 1e6 * np.diff(edges) * solid_angle * 1e10 * 1e4  # MeV-1 -> TeV-1, m2 -> cm2
    np.testing.assert_allclose(npred.sum(axis=(1, 2)), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("kernel_shape", [(3, 11, 9), (3, 61, 41)])
def test_sparse_convolution_equals_fft(monkeypatch, kernel_shape):
    """A point source's few pixels: kernels added at each pixel equal the FFT convolution
    (kernels smaller and larger than the image, sources on the edges)."""
    from gammalike.datasets import evaluator

    rng = np.random.default_rng(3)
    data = np.zeros((3, 30, 40))
    for y, x in ((0, 0), (29, 39), (12, 7), (13, 7), (12, 8), (13, 8)):
        data[:, y, x] = rng.uniform(0.1, 1, size=3)
    kernel = rng.uniform(size=kernel_shape)
    sparse = evaluator._convolve_planes(data, kernel)
    monkeypatch.setattr(evaluator, "_SPARSE_PIXELS", 0)
    fft = evaluator._convolve_planes(data, kernel)
    np.testing.assert_allclose(sparse, fft, rtol=0, atol=1e-12)
    assert sparse.sum() > 1
