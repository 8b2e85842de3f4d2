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


# Values of the previous implementation (parameters interpolated at every
# (rad, energy, offset) point), CTA 1DC South_z20_50h, at rad = 0, 0.0251256, 0.1256281 deg,
# energy = 0.0894022, 2.3660774, 62.619518 TeV, offset = 0, 2, 4 deg.
_CTA_1DC_RAD = np.linspace(0, 0.5, 200)[[0, 10, 50]]
_CTA_1DC_ENERGY = np.geomspace(0.03, 150, 40)[[5, 20, 35]]
_CTA_1DC_OFFSET = np.array([0.0, 2.0, 4.0])
_CTA_1DC_VALUES = [
    [[59295.84150265006, 52453.381313797756, 133670.96282991263],
     [490683.02953384124, 417503.2127432763, 271304.3069539413],
     [1059909.2495706927, 637368.9320379632, 372981.95903573715]],
    [[57209.279569323095, 50817.234084819946, 123300.58334633394],
     [364802.64812643285, 324427.25708415656, 230288.98609000514],
     [558695.0012834682, 433671.70983503445, 297732.7517290516]],
    [[24214.766566873022, 23752.637189940146, 17751.638756405828],
     [296.6365381505625, 762.2503740789878, 4506.804034992268],
     [0.11828271118448623, 42.038376765270954, 1334.0050268356051]],
]
_CTA_1DC_CONTAINMENT_R3 = [  # containment at rad = 0.1256281 deg
    [0.5916279126287327, 0.5471667108009286, 0.8671989908609127],
    [0.9993954619982836, 0.9981742646503952, 0.9833883800607803],
    [0.9999998884029824, 0.9999340438878456, 0.9964234060267033],
]
_CTA_1DC_R68 = [
    [0.14170338306604727, 0.150662646720218, 0.09437865830552017],
    [0.04925970631152741, 0.05340260299964149, 0.06624666092242956],
    [0.03351644872030185, 0.04322120711656488, 0.05649999695046527],
]


@pytest.fixture
def cta_1dc_psf(data_path):
    filename = data_path / "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits"
    return EnergyDependentMultiGaussPSF.read(filename, hdu="POINT SPREAD FUNCTION")


@pytest.mark.requires_data
def test_cta_1dc_psf_broadcast_over_rad(cta_1dc_psf):
    psf = cta_1dc_psf
    rad = _CTA_1DC_RAD[:, None, None]
    energy = _CTA_1DC_ENERGY[None, :, None]
    offset = _CTA_1DC_OFFSET[None, None, :]
    # the parameters are interpolated once per (energy, offset), not per rad value
    sizes = []
    original = psf.evaluate_parameters

    def counting(e, o):
        sizes.append(np.size(e))
        return original(e, o)

    psf.evaluate_parameters = counting
    try:
        values = psf._evaluate_float(rad, energy, offset)
        pre_broadcast = psf._evaluate_float(*np.broadcast_arrays(rad, energy, offset))
    finally:
        del psf.evaluate_parameters
    assert sizes == [9, 9]
    assert values.shape == (3, 3, 3)
    # identical to the previous per-point implementation
    assert_allclose(values, _CTA_1DC_VALUES, rtol=1e-13)
    assert np.array_equal(pre_broadcast, values)
    containment = psf._containment_float(rad, energy, offset)
    assert_allclose(containment[0], 0, atol=0)
    assert_allclose(containment[2], _CTA_1DC_CONTAINMENT_R3, rtol=1e-13)
    r68 = psf.containment_radius(0.68, _CTA_1DC_ENERGY[:, None] * u.TeV, _CTA_1DC_OFFSET * u.deg).deg
    assert_allclose(r68, _CTA_1DC_R68, rtol=1e-13)
    # Quantity API agrees with point-by-point scalar calls
    for i, j, k in [(0, 0, 0), (1, 2, 1), (2, 1, 2)]:
        single = psf.evaluate(rad=_CTA_1DC_RAD[i] * u.deg, energy_true=_CTA_1DC_ENERGY[j] * u.TeV,
                              offset=_CTA_1DC_OFFSET[k] * u.deg)
        assert single.to_value("sr-1") == values[i, j, k]


@pytest.mark.requires_data
def test_hess_king_broadcast_over_rad(data_path):
    psf = PSFKing.read(data_path / "tests/hess_psf_king_023523.fits.gz", hdu="PSF_2D_KING")
    rad = np.linspace(0, 0.3, 4)[:, None, None]
    energy = np.array([0.5, 2.0, 10.0])[None, :, None]
    offset = np.array([0.25, 1.0])
    values = psf._evaluate_float(rad, energy, offset)
    containment = psf._containment_float(rad, energy, offset)
    assert values.shape == containment.shape == (4, 3, 2)
    # point-by-point scalar calls (numpy's vectorized power may differ in the last bit)
    for idx in np.ndindex(values.shape):
        i, j, k = idx
        assert_allclose(values[idx], psf._evaluate_float(rad[i, 0, 0], energy[0, j, 0], offset[k]), rtol=1e-14)
        assert_allclose(containment[idx], psf._containment_float(rad[i, 0, 0], energy[0, j, 0], offset[k]),
                        rtol=1e-14)
