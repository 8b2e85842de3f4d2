"""Tests of EBL absorption on the tables of the data folder."""
import numpy as np
import pytest
from astropy import units as u
from scipy.integrate import quad

from gammalike.modeling.models import (
    EBL_DATA_BUILTIN,
    EBLAbsorptionNormSpectralModel,
    PowerLawSpectralModel,
    SpectralModel,
)


@pytest.mark.requires_data
@pytest.mark.parametrize("reference", sorted(EBL_DATA_BUILTIN))
def test_ebl_builtin_behaviour(data_path, reference):
    model = EBLAbsorptionNormSpectralModel.read_builtin(reference, redshift=0.2)
    assert model.redshift.frozen and model.alpha_norm.frozen
    energy = np.geomspace(0.1, 20, 30)
    absorption = model.dnde_float(energy)
    # exp(-tau) in (0, 1]; tau grows with energy (no absorption below ~50 GeV at z = 0.2)
    assert np.all(absorption > 0) and np.all(absorption <= 1)
    tau = -np.log(absorption)
    assert np.all(np.diff(tau) >= -1e-6)
    assert tau[-1] > 1
    # tau grows with redshift
    far = model.copy()
    far.redshift.value = 0.5
    assert np.all(far.dnde_float(energy[5:]) < absorption[5:])
    # alpha_norm scales the optical depth
    model.alpha_norm.value = 2
    assert np.allclose(-np.log(model.dnde_float(energy)), 2 * tau, rtol=1e-10, atol=0)


@pytest.mark.requires_data
def test_ebl_table_value(data_path):
    # table row at z = 0.3 of the Dominguez file: the model reproduces it at a node
    from astropy.table import Table

    path = data_path / "ebl" / "ebl_dominguez11.fits.gz"
    energies = Table.read(path, hdu="ENERGIES")
    spectra = Table.read(path, hdu="SPECTRA")
    row = int(np.argmin(np.abs(np.asarray(spectra["PARAMVAL"]).ravel() - 0.3)))
    z = float(np.asarray(spectra["PARAMVAL"]).ravel()[row])
    k = 300
    energy_kev = np.sqrt(energies["ENERG_LO"][k] * energies["ENERG_HI"][k])
    model = EBLAbsorptionNormSpectralModel.read(path, redshift=z)
    value = model(energy_kev * u.keV).value
    assert value == pytest.approx(float(spectra["INTPSPEC"][row][k]), rel=1e-5, abs=0)


@pytest.mark.requires_data
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_absorbed_power_law_integral_vs_quad(data_path):
    model = PowerLawSpectralModel(index=2) * EBLAbsorptionNormSpectralModel.read_builtin(
        "dominguez", redshift=0.3)
    for lo, hi in [(0.1, 0.12), (0.5, 0.8), (1.7, 2.2), (0.1, 10.0)]:
        ref = quad(lambda e: float(model.dnde_float(np.array(e))), lo, hi, epsrel=1e-10, epsabs=0, limit=2000)[0]
        value = model.integral_float(np.array([lo]), np.array([hi]))[0]
        assert value == pytest.approx(ref, rel=1e-5, abs=0)


@pytest.mark.requires_data
def test_ebl_yaml_round_trip(data_path):
    model = EBLAbsorptionNormSpectralModel.read_builtin("franceschini", redshift=0.12)
    data = model.to_dict()
    assert data["filename"].endswith("ebl_franceschini.fits.gz")
    new = SpectralModel.from_dict(data)
    assert new.redshift.value == 0.12
    energy = np.array([0.5, 2.0])
    assert np.array_equal(new.dnde_float(energy), model.dnde_float(energy))


def test_ebl_from_arrays_and_unknown_reference():
    energy = [0.1, 1, 10] * u.TeV
    param = [0.1, 0.2]
    data = np.exp(-np.array([[0.0, 0.5, 2.0], [0.0, 1.0, 4.0]]))
    model = EBLAbsorptionNormSpectralModel(energy, param, data, redshift=0.15)
    # linear in redshift, at a node in energy: tau = (0.5 + 1.0) / 2
    assert model(1 * u.TeV).value == pytest.approx(np.exp(-0.75))
    # below the first tabulated redshift tau -> 0 linearly (z = 0 row added)
    model.redshift.value = 0.05
    assert model(1 * u.TeV).value == pytest.approx(np.exp(-0.25))
    with pytest.raises(KeyError, match="dominguez"):
        EBLAbsorptionNormSpectralModel.read_builtin("nonexistent")
