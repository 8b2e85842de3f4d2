"""Tests of the CTA-like IRF parametrisation (`gammalike.irf.parametrisation`).

Expected values come from the closed-form formulas of the module docstring
(`CTA_PARAMETRISATIONS`); the comparison with the Prod5 files checks that the
parametrisation is "CTA-like" (within a factor 2 where the files are well
determined).
"""
import numpy as np
import pytest
from astropy import units as u
from numpy.testing import assert_allclose

from gammalike.irf import (
    PSF3D,
    Background2D,
    Background3D,
    EffectiveAreaTable2D,
    EnergyDependentMultiGaussPSF,
    EnergyDispersion2D,
    load_irf_dict_from_file,
)
from gammalike.irf.parametrisation import (
    CTA_PARAMETRISATIONS,
    find_cta_irf_file,
    load_cta_irfs,
    make_background,
    make_edisp,
    make_irfs,
    write_irf_dict,
)
from gammalike.maps import MapAxis

SITES = ["south", "north"]
ENERGY = [0.05, 0.1, 0.3, 1, 3, 10, 30, 100] * u.TeV
OFFSET = [0, 0.5, 1.5, 2.5, 4] * u.deg


@pytest.mark.parametrize("site", SITES)
def test_make_irfs_types_and_meta(site):
    irfs = make_irfs(site)
    assert sorted(irfs) == ["aeff", "bkg", "edisp", "psf"]
    assert isinstance(irfs["aeff"], EffectiveAreaTable2D)
    assert isinstance(irfs["psf"], EnergyDependentMultiGaussPSF)
    assert isinstance(irfs["edisp"], EnergyDispersion2D)
    assert isinstance(irfs["bkg"], Background3D)
    assert irfs["bkg"].fov_alignment.value == "RADEC"
    assert irfs["aeff"].meta["TELESCOP"] == "CTA"
    other = make_irfs(site, psf_type="table", bkg_type="2d")
    assert isinstance(other["psf"], PSF3D)
    assert isinstance(other["bkg"], Background2D)


@pytest.mark.parametrize("site", SITES)
def test_values_finite_positive(site):
    irfs = make_irfs(site)
    e, o = ENERGY[:, None], OFFSET[None, :]
    aeff = irfs["aeff"].evaluate(energy_true=e, offset=o).to_value("m2")
    assert np.all(np.isfinite(aeff)) and np.all(aeff > 0)
    psf = irfs["psf"].evaluate(rad=0.05 * u.deg, energy_true=e, offset=o).to_value("sr-1")
    assert np.all(np.isfinite(psf)) and np.all(psf > 0)
    r68 = irfs["psf"].containment_radius(0.68, e, o).deg
    assert np.all(np.isfinite(r68)) and np.all(r68 > 0)
    # the PSF gets sharper with energy and wider with offset
    assert np.all(np.diff(r68, axis=0) < 0) and np.all(np.diff(r68, axis=1) >= 0)
    res = irfs["edisp"].get_resolution(ENERGY, 1 * u.deg).value
    assert np.all(np.isfinite(res)) and np.all(res > 0)
    bkg = irfs["bkg"].evaluate(energy=e, fov_lon=o, fov_lat=0.3 * u.deg).to_value("s-1 MeV-1 sr-1")
    assert np.all(np.isfinite(bkg)) and np.all(bkg > 0)
    # falling with energy above the threshold and slowly with offset
    assert np.all(np.diff(bkg[1:], axis=0) < 0)
    assert np.all(np.diff(bkg, axis=1) < 0) and np.all(bkg[:, 2] > 0.8 * bkg[:, 0])


def test_formulas_at_bin_centres():
    # closed form of the module docstring, South parameters, at axis nodes
    pars = CTA_PARAMETRISATIONS["south"]
    energy_axis_true = MapAxis.from_energy_bounds("0.5 TeV", "2 TeV", nbin=1, name="energy_true")
    offset_axis = MapAxis.from_edges([0, 1, 2], unit="deg", name="offset")
    irfs = make_irfs("south", energy_axis_true=energy_axis_true, offset_axis=offset_axis)
    e, theta = 1.0, 1.5  # TeV (log centre of 0.5 - 2), deg
    x = (e / pars["aeff_e0"]) ** pars["aeff_s"]
    area = pars["aeff_max"] * x / (1 + x) * np.exp(-((pars["aeff_eth"] / e) ** pars["aeff_k"]))
    area *= np.exp(-((theta / pars["aeff_theta"]) ** pars["aeff_p"]))
    assert_allclose(irfs["aeff"].evaluate(energy_true=e * u.TeV, offset=theta * u.deg).to_value("m2"), area,
                    rtol=1e-10)
    # Gaussian PSF: the 68 % radius is the parametrised r68 times the offset factor
    r68 = np.hypot(pars["psf_a"] * e ** -pars["psf_b"], pars["psf_rmin"]) * (1 + pars["psf_offset"] * theta ** 2)
    assert_allclose(irfs["psf"].containment_radius(0.68, e * u.TeV, theta * u.deg).deg, r68, rtol=1e-6)
    # energy dispersion: moments of the binned Gaussian (0.01 wide migra bins, sigma ~ 0.09)
    res = np.hypot(pars["res_0"], pars["res_1"] * e ** -pars["res_g"]) * (1 + pars["res_offset"] * theta ** 2)
    bias = pars["bias_0"] + (pars["bias_eb"] / e) ** 2
    assert_allclose(irfs["edisp"].get_resolution(e * u.TeV, theta * u.deg).value, res, rtol=0.01)
    assert_allclose(irfs["edisp"].get_bias(e * u.TeV, theta * u.deg).value, bias, atol=1e-3)


def test_edisp_normalised():
    edisp = make_edisp("north")
    width = np.diff(edisp.axes["migra"].edges.value)
    total = np.sum(edisp.data * width[None, :, None], axis=1)
    assert_allclose(total, 1, rtol=1e-10)


def test_psf_table_matches_gauss():
    gauss = make_irfs("south")["psf"]
    table = make_irfs("south", psf_type="table")["psf"]
    r_gauss = gauss.containment_radius(0.68, ENERGY, 1 * u.deg).deg
    r_table = table.containment_radius(0.68, ENERGY, 1 * u.deg).deg
    # 0.005 deg rad bins: within a few % (the smallest 68 % radius is ~ 0.025 deg)
    assert_allclose(r_table, r_gauss, rtol=0.05)
    assert_allclose(table.containment(1.5 * u.deg, ENERGY, 1 * u.deg).value, 1, rtol=1e-6)


@pytest.mark.parametrize("psf_type", ["gauss", "table"])
@pytest.mark.parametrize("bkg_type", ["3d", "2d"])
def test_gadf_round_trip(tmp_path, psf_type, bkg_type):
    irfs = make_irfs("north", psf_type=psf_type, bkg_type=bkg_type)
    for key, irf in irfs.items():
        filename = tmp_path / f"{key}.fits"
        irf.write(filename)
        back = type(irf).read(filename)
        assert irf.is_allclose(back, rtol=1e-6), key
    filename = tmp_path / "irfs.fits"
    write_irf_dict(irfs, filename)
    back = load_irf_dict_from_file(filename)
    assert sorted(back) == sorted(irfs)
    for key in irfs:
        assert type(back[key]) is type(irfs[key])
        assert irfs[key].is_allclose(back[key], rtol=1e-6), key
    with pytest.raises(OSError):
        write_irf_dict(irfs, filename)
    write_irf_dict(irfs, filename, overwrite=True)


def test_errors():
    with pytest.raises(ValueError, match="unknown site 'east'"):
        make_irfs("east")
    with pytest.raises(ValueError, match="psf_type"):
        make_irfs(psf_type="king")
    with pytest.raises(ValueError, match="bkg_type"):
        make_background(bkg_type="1d")
    with pytest.raises(ValueError, match="unknown IRF keys"):
        write_irf_dict({"aeff": make_irfs()["aeff"], "foo": None}, "unused.fits")


def test_load_cta_irfs_without_data(monkeypatch, tmp_path):
    monkeypatch.delenv("GAMMALIKE_DATA", raising=False)
    monkeypatch.delenv("GAMMAPY_DATA", raising=False)
    assert find_cta_irf_file("south") is None
    irfs = load_cta_irfs(site="north")
    assert irfs["aeff"].meta["INSTRUME"].startswith("North")
    with pytest.raises(FileNotFoundError, match="no Prod5 south IRF file"):
        load_cta_irfs(fallback=False)
    # an explicit file is read as is
    write_irf_dict(irfs, tmp_path / "irfs.fits")
    back = load_cta_irfs(tmp_path / "irfs.fits")
    assert back["psf"].is_allclose(irfs["psf"])
    # a folder with a Prod5-like file name is found
    (tmp_path / "cta-caldb").mkdir()
    write_irf_dict(irfs, tmp_path / "cta-caldb" / "Prod5-North-test.fits.gz")
    assert find_cta_irf_file("north", folder=tmp_path / "cta-caldb").name == "Prod5-North-test.fits.gz"
    monkeypatch.setenv("GAMMALIKE_DATA", str(tmp_path))
    assert load_cta_irfs(site="north")["bkg"].is_allclose(irfs["bkg"])


@pytest.mark.requires_data
@pytest.mark.parametrize("site", SITES)
def test_close_to_prod5(site, data_path):
    filename = find_cta_irf_file(site, folder=data_path / "cta-caldb")
    assert filename is not None
    prod5 = load_cta_irfs(filename)
    assert prod5["aeff"].meta["TELESCOP"] == "CTA"
    ours = make_irfs(site)
    energy = [0.1, 0.3, 1, 3, 10, 30] * u.TeV
    for offset in [0.5, 1.5, 2.5] * u.deg:
        ratio = (ours["aeff"].evaluate(energy_true=energy, offset=offset)
                 / prod5["aeff"].evaluate(energy_true=energy, offset=offset)).to_value("")
        assert np.all((ratio > 0.5) & (ratio < 2)), ratio
        ratio = (ours["psf"].containment_radius(0.68, energy, offset)
                 / prod5["psf"].containment_radius(0.68, energy, offset)).to_value("")
        assert np.all((ratio > 0.5) & (ratio < 2)), ratio
        ratio = (ours["edisp"].get_resolution(energy, offset) / prod5["edisp"].get_resolution(energy, offset)).value
        assert np.all((ratio > 0.5) & (ratio < 2)), ratio
    # background within a factor 2 from 0.3 to 10 TeV near the centre
    energy = [0.3, 1, 3] * u.TeV
    ratio = (ours["bkg"].evaluate(energy=energy, fov_lon=0.5 * u.deg, fov_lat=0 * u.deg)
             / prod5["bkg"].evaluate(energy=energy, fov_lon=0.5 * u.deg, fov_lat=0 * u.deg)).to_value("")
    assert np.all((ratio > 0.5) & (ratio < 2)), ratio
