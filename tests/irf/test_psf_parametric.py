"""Tests of the parametric PSFs (triple Gauss, King)."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.psf import EnergyDependentMultiGaussPSF, PSFKing
from gammalike.irf.io import load_irf_dict_from_file
from gammalike.maps import MapAxis


def _axes():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy_true")
    offset = MapAxis.from_edges([0, 1, 2], unit="deg", name="offset")
    return [energy, offset]


def test_multi_gauss_closed_form():
    shape = (3, 2)
    pars = dict(scale=np.ones(shape), sigma_1=0.05, ampl_2=0.5, sigma_2=0.1, ampl_3=0.0, sigma_3=0.2)
    psf = EnergyDependentMultiGaussPSF(axes=_axes(), data=pars)
    # weights A_i sigma_i^2: 0.0025 and 0.005 -> fractions 1/3, 2/3
    r = 0.1
    expected = 1 / 3 * (1 - np.exp(-0.5 * (r / 0.05) ** 2)) + 2 / 3 * (1 - np.exp(-0.5)) 
    assert_allclose(psf.containment(r * u.deg, 1 * u.TeV, 0.5 * u.deg), expected, rtol=1e-10)
    radius = psf.containment_radius([0.5, 0.68, 0.95], 1 * u.TeV, 0.5 * u.deg)
    assert_allclose(psf.containment(radius, 1 * u.TeV, 0.5 * u.deg), [0.5, 0.68, 0.95], rtol=1e-6)
    # the pdf integrates to 1: numeric integral over 2 pi r dr
    rad = np.linspace(0, 2, 20001) * u.deg
    pdf = psf.evaluate(rad=rad, energy_true=1 * u.TeV, offset=0.5 * u.deg).to_value("sr-1")
    r_rad = rad.to_value("rad")
    assert_allclose(np.trapezoid(2 * np.pi * r_rad * pdf, r_rad), 1, rtol=1e-4)


def test_king_closed_form():
    pars = dict(gamma=np.full((3, 2), 2.0), sigma=np.full((3, 2), 0.1))
    psf = PSFKing(axes=_axes(), data=pars)
    r = 0.2
    expected = 1 - (1 + r ** 2 / (2 * 2.0 * 0.1 ** 2)) ** (1 - 2.0)
    assert_allclose(psf.containment(r * u.deg, 1 * u.TeV), expected)
    radius = psf.containment_radius(0.68, 1 * u.TeV)
    assert_allclose(psf.containment(radius, 1 * u.TeV), 0.68)
    rad = np.linspace(0, 20, 200001) * u.deg
    pdf = psf.evaluate(rad=rad, energy_true=1 * u.TeV, offset=0 * u.deg).to_value("sr-1")
    r_rad = rad.to_value("rad")
    # gamma = 2 has a heavy tail: containment(20 deg) = 1 - 1/(1 + 10000) from the formula
    assert_allclose(np.trapezoid(2 * np.pi * r_rad * pdf, r_rad), 1 - 1 / (1 + 20 ** 2 / 0.04), rtol=1e-4)


@pytest.mark.requires_data
@pytest.mark.filterwarnings("ignore:Invalid unit found in background table")
def test_cta_1dc_psf(data_path):
    irfs = load_irf_dict_from_file(data_path / "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits")
    psf = irfs["psf"]
    assert isinstance(psf, EnergyDependentMultiGaussPSF)
    radius = psf.containment_radius([0.5, 0.68, 0.95], 1 * u.TeV, 0.5 * u.deg).deg
    assert np.all(np.diff(radius) > 0)
    # CTA r68 at 1 TeV is a few arcmin
    assert 0.01 < radius[1] < 0.2
    back = EnergyDependentMultiGaussPSF.from_table(psf.to_table())
    assert back.axes == psf.axes
    for name in psf.par_names:
        assert np.array_equal(back.data[name], psf.data[name])


@pytest.mark.requires_data
def test_hess_king(data_path):
    psf = PSFKing.read(data_path / "tests/hess_psf_king_023523.fits.gz", hdu="PSF_2D_KING")
    radius = psf.containment_radius([0.68, 0.95], 1 * u.TeV, 0.5 * u.deg).deg
    assert 0.03 < radius[0] < radius[1] < 1
    back = PSFKing.from_table(psf.to_table())
    assert np.array_equal(back.data["gamma"], psf.data["gamma"])
    assert np.array_equal(back.data["sigma"], psf.data["sigma"])
