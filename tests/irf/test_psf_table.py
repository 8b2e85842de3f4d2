"""Tests of PSF3D (tabulated PSF)."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.psf import PSF3D
from gammalike.maps import MapAxis


@pytest.fixture
def psf_gauss():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=5, name="energy_true")
    offset = MapAxis.from_edges([0, 1, 2], unit="deg", name="offset")
    rad = MapAxis.from_bounds(0, 1, nbin=400, name="rad", unit="deg")
    return PSF3D.from_gauss(energy, offset, rad, sigma=0.1 * u.deg)


def test_gauss_containment(psf_gauss):
    # Gaussian: containment(r) = 1 - exp(-r^2 / 2 sigma^2), r68 = sigma sqrt(-2 ln 0.32)
    rad = [0.05, 0.1, 0.2] * u.deg
    cont = psf_gauss.containment(rad, 1 * u.TeV, 0.5 * u.deg)
    assert_allclose(cont, 1 - np.exp(-0.5 * (rad.value / 0.1) ** 2), rtol=2e-3)
    r68 = psf_gauss.containment_radius(0.68, 1 * u.TeV, 0.5 * u.deg)
    assert_allclose(r68.deg, 0.1 * np.sqrt(-2 * np.log(0.32)), rtol=2e-3)
    # unreachable fraction -> NaN
    assert np.isnan(psf_gauss.containment_radius(1.0 + 1e-3, 1 * u.TeV).deg)


def test_evaluate_peak(psf_gauss):
    value = psf_gauss.evaluate(rad=0 * u.deg, energy_true=1 * u.TeV, offset=0.5 * u.deg)
    sigma_sr = (0.1 * u.deg).to_value("rad") ** 2
    # the first rad node is at 1/800 deg: peak value 1 / (2 pi sigma^2) to 1e-4
    assert_allclose(value.to_value("sr-1"), 1 / (2 * np.pi * sigma_sr), rtol=1e-3)


@pytest.fixture
def psf_hess(data_path):
    return PSF3D.read(data_path / "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz", hdu="PSF")


@pytest.mark.requires_data
def test_hess_psf(psf_hess):
    assert psf_hess.axes.names == ["energy_true", "offset", "rad"]
    value = psf_hess.evaluate(rad=0.05 * u.deg, energy_true=1 * u.TeV, offset=0.5 * u.deg)
    assert value.unit == u.sr ** -1 and value.value > 0
    # the table integrates to ~1 over its rad range
    total = psf_hess.containment(psf_hess.axes["rad"].edges[-1], [1, 10] * u.TeV, 0.5 * u.deg)
    assert_allclose(total, 1, atol=0.02)
    fractions = np.array([0.5, 0.68, 0.8, 0.95])
    radius = psf_hess.containment_radius(fractions, 1 * u.TeV, 0.5 * u.deg).deg
    assert np.all(np.diff(radius) > 0)
    # containment at the containment radius gives back the fraction
    assert_allclose(psf_hess.containment(radius * u.deg, 1 * u.TeV, 0.5 * u.deg), fractions, atol=1e-6)
    # H.E.S.S. r68 at 1 TeV is ~0.1 deg
    assert 0.05 < radius[1] < 0.25


@pytest.mark.requires_data
def test_hess_psf_round_trip(psf_hess):
    back = PSF3D.from_table(psf_hess.to_table())
    assert back.axes == psf_hess.axes
    assert np.array_equal(back.data, psf_hess.data)


@pytest.mark.slow
@pytest.mark.requires_data
def test_hess_psf_plots(psf_hess):
    import matplotlib.pyplot as plt

    psf_hess.peek()
    plt.close("all")
