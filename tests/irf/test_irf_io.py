"""Tests of the CALDB-style multi-IRF reader."""
import pytest
import astropy.units as u

from gammalike.irf.background import Background3D
from gammalike.irf.edisp import EnergyDispersion2D
from gammalike.irf.effective_area import EffectiveAreaTable2D
from gammalike.irf.io import load_irf_dict_from_file
from gammalike.irf.psf import EnergyDependentMultiGaussPSF


@pytest.mark.requires_data
@pytest.mark.parametrize("name", [
    "Prod5-North-20deg-AverageAz-4LSTs09MSTs.180000s-v0.1.fits.gz",
    "Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz",
])
def test_prod5(data_path, name):
    irfs = load_irf_dict_from_file(data_path / "cta-caldb" / name)
    assert set(irfs) == {"aeff", "edisp", "psf", "bkg"}
    assert isinstance(irfs["aeff"], EffectiveAreaTable2D)
    assert isinstance(irfs["edisp"], EnergyDispersion2D)
    assert isinstance(irfs["psf"], EnergyDependentMultiGaussPSF)
    assert isinstance(irfs["bkg"], Background3D)
    # Prod5 stores BKG with columns (ENERG, DETX, DETY): read into (energy, lon, lat)
    assert irfs["bkg"].data.shape == (21, 60, 60)
    aeff = irfs["aeff"].evaluate(energy_true=1 * u.TeV, offset=0.5 * u.deg)
    # CTA: 1e5 - 1e7 m2 at 1 TeV
    assert 1e5 < aeff.to_value("m2") < 1e7
    assert irfs["bkg"].evaluate(energy=1 * u.TeV, fov_lon=0.5 * u.deg, fov_lat=0 * u.deg).value > 0
    r68 = irfs["psf"].containment_radius(0.68, 1 * u.TeV, 0.5 * u.deg)
    assert 0.01 < r68.deg < 0.2


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nofile.fits"):
        load_irf_dict_from_file(tmp_path / "nofile.fits")
    bad = tmp_path / "truncated.fits.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(OSError, match="truncated.fits.gz"):
        load_irf_dict_from_file(bad)
