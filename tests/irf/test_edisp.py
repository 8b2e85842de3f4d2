"""Tests of EnergyDispersion2D."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.edisp import EnergyDispersion2D
from gammalike.maps import MapAxis


@pytest.fixture
def edisp_gauss():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=30, name="energy_true")
    migra = MapAxis.from_bounds(0.2, 5, nbin=480, name="migra")
    offset = MapAxis.from_edges([0, 1, 2], unit="deg", name="offset")
    return EnergyDispersion2D.from_gauss(energy, migra, offset, bias=0.05, sigma=0.1, pdf_threshold=0)


def test_gauss_bias_resolution(edisp_gauss):
    # mean of the migration = 1 + bias, std = sigma (the from_gauss inputs)
    energy = [1, 10] * u.TeV
    assert_allclose(edisp_gauss.get_bias(energy, 0.5 * u.deg).value, 0.05, atol=2e-3)
    assert_allclose(edisp_gauss.get_resolution(energy, 0.5 * u.deg).value, 0.1, rtol=0.02)


def test_to_edisp_kernel_rows_sum_to_one(edisp_gauss):
    energy_true = MapAxis.from_energy_bounds("0.5 TeV", "20 TeV", nbin=10, name="energy_true")
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=20, name="energy")
    kernel = edisp_gauss.to_edisp_kernel(0.5 * u.deg, energy_axis_true=energy_true, energy_axis=energy)
    assert kernel.data.shape == (10, 20)
    # all migration inside the wide reco range: each row integrates to 1
    assert_allclose(kernel.data.sum(axis=1), 1, rtol=1e-6)
    # the probability follows the Gaussian CDF of mu between the bin edges
    from scipy.special import ndtr

    e_t = np.sqrt(energy_true.edges[:-1] * energy_true.edges[1:]).to_value("TeV")[0]
    edges = energy.edges.to_value("TeV")
    expected = np.diff(ndtr((edges / e_t - 1.05) / 0.1))
    assert_allclose(kernel.data[0], expected, atol=2e-3)


def test_normalize(edisp_gauss):
    edisp = edisp_gauss.copy(data=edisp_gauss.data * 2)
    edisp.normalize()
    width = np.diff(edisp.axes["migra"].edges.value)
    assert_allclose(np.sum(edisp.data * width[None, :, None], axis=1), 1, rtol=1e-10)


@pytest.mark.requires_data
def test_hess_edisp(data_path):
    edisp = EnergyDispersion2D.read(
        data_path / "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz", hdu="EDISP"
    )
    assert edisp.data.shape == (96, 160, 6)
    value = edisp.evaluate(energy_true=1 * u.TeV, migra=1.0, offset=0.5 * u.deg)
    assert np.isfinite(value) and value > 0
    kernel = edisp.to_edisp_kernel(0.5 * u.deg)
    rows = kernel.data.sum(axis=1)
    assert np.all(rows <= 1 + 1e-4)  # float32 file: normalized to ~1e-6
    # the pdf of this file is normalized above threshold: full rows at 1-10 TeV
    e = kernel.axes["energy_true"].center.to_value("TeV")
    assert_allclose(rows[(e > 1) & (e < 10)], 1, atol=1e-3)
    back = EnergyDispersion2D.from_table(edisp.to_table())
    assert back.axes == edisp.axes
    assert np.array_equal(back.data, edisp.data)


def test_kernel_matrix_normalises_the_density(edisp_gauss):
    # a density scaled by 300 (like the CTA 1DC files, whose pdf integrates to ~100-1000)
    # gives the same kernel: the pdf is normalised over the migration table, not clipped
    scaled = edisp_gauss.copy(data=300 * edisp_gauss.data)
    true_edges = np.geomspace(0.5, 20, 11)
    reco_edges = np.geomspace(0.1, 100, 21)
    expected = edisp_gauss.get_edisp_kernel_matrix(0.5, true_edges, reco_edges)
    assert_allclose(scaled.get_edisp_kernel_matrix(0.5, true_edges, reco_edges), expected, rtol=1e-12, atol=1e-15)
    assert_allclose(expected.sum(axis=1), 1, rtol=1e-9)
    # probabilities outside the reco axis are lost, not renormalised into it: reco edges
    # [E_true, 100 TeV] keep P(mu > 1) of a Gaussian of mean 1.05 and width 0.1 = Phi(0.5)
    from scipy.special import ndtr

    e_true = np.sqrt(true_edges[:-1] * true_edges[1:])
    row = scaled.get_edisp_kernel_matrix(0.5, true_edges[4:6], np.array([e_true[4], 100.0]))
    assert_allclose(row[0, 0], ndtr(0.5), rtol=1e-3)


@pytest.mark.requires_data
@pytest.mark.filterwarnings("ignore:Invalid unit found in background table")
def test_kernel_matrix_cta_1dc(data_path):
    # CTA 1DC: the MATRIX column integrates to ~350 over migra (0-3) at 1 TeV, 1 deg
    filename = data_path / "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits"
    edisp = EnergyDispersion2D.read(filename, hdu="ENERGY DISPERSION")
    total = edisp._cdf_at_edges(np.array([1.0]), np.array([1.0]))[0, -1]
    assert 100 < total < 1000
    true_edges = np.geomspace(0.3, 30, 9)
    # reco axis covering migra 0.01-3.3 for every true bin: each row sums to 1
    matrix = edisp.get_edisp_kernel_matrix(1.0, true_edges, np.geomspace(0.003, 100, 40))
    assert_allclose(matrix.sum(axis=1), 1, rtol=1e-9)
    # the previous clipping gave rows of ones (sums up to ~10 here)
    assert matrix.max() < 0.9
    kernel = edisp.to_edisp_kernel(1 * u.deg, energy_axis_true=MapAxis.from_edges(true_edges, unit="TeV",
                                                                                   name="energy_true"))
    assert np.all(kernel.data.sum(axis=1) <= 1 + 1e-9)
    assert abs(kernel.get_bias(1 * u.TeV)) < 0.3
