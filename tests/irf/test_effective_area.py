"""Tests of EffectiveAreaTable2D."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.effective_area import EffectiveAreaTable2D
from gammalike.maps import MapAxis


@pytest.fixture
def aeff_hess(data_path):
    return EffectiveAreaTable2D.read(
        data_path / "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz", hdu="AEFF"
    )


@pytest.mark.requires_data
def test_read_and_evaluate(aeff_hess):
    assert aeff_hess.axes.names == ["energy_true", "offset"]
    assert aeff_hess.data.shape == (96, 6)
    assert aeff_hess.unit == u.m ** 2
    value = aeff_hess.evaluate(energy_true=1 * u.TeV, offset=0.5 * u.deg)
    assert value.unit == u.m ** 2
    # H.E.S.S. Crab run at 48.6 deg zenith: O(1e5) m2 at 1 TeV
    assert 1e4 < value.to_value("m2") < 1e6
    # vectorized / broadcast evaluation
    values = aeff_hess.evaluate(energy_true=[1, 10] * u.TeV, offset=[[0.5], [1.0], [1.5]] * u.deg)
    assert values.shape == (3, 2)
    assert np.all(np.isfinite(values))


@pytest.mark.requires_data
def test_round_trip(aeff_hess, tmp_path):
    back = EffectiveAreaTable2D.from_table(aeff_hess.to_table())
    assert back.axes == aeff_hess.axes
    assert np.array_equal(back.data, aeff_hess.data)
    assert back.unit == aeff_hess.unit
    filename = tmp_path / "aeff.fits"
    aeff_hess.write(filename)
    with pytest.raises(FileExistsError):
        aeff_hess.write(filename)
    read = EffectiveAreaTable2D.read(filename)
    assert np.array_equal(read.data, aeff_hess.data)
    assert read.meta["OBS_ID"] == 23523


def test_from_parametrization():
    axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=20, name="energy_true")
    aeff = EffectiveAreaTable2D.from_parametrization(axis, instrument="HESS")
    values = aeff.evaluate(energy_true=[0.1, 1, 10, 100] * u.TeV, offset=0.5 * u.deg).to_value("m2")
    # increasing to the 1e5 m2 plateau (formula in the docstring)
    assert np.all(np.diff(values) > 0)
    assert_allclose(values[-1], 1e5 * np.exp(-(0.3 / 100) ** 1.5), rtol=0.02)
    with pytest.raises(ValueError, match="unknown instrument"):
        EffectiveAreaTable2D.from_parametrization(axis, instrument="FOO")


@pytest.mark.slow
@pytest.mark.requires_data
def test_plots(aeff_hess):
    import matplotlib.pyplot as plt

    aeff_hess.peek()
    plt.close("all")


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.fits"):
        EffectiveAreaTable2D.read(tmp_path / "missing.fits")
    axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy_true")
    aeff = EffectiveAreaTable2D.from_parametrization(axis)
    filename = tmp_path / "aeff.fits"
    aeff.write(filename)
    with pytest.raises(KeyError, match="NOPE"):
        EffectiveAreaTable2D.read(filename, hdu="NOPE")
