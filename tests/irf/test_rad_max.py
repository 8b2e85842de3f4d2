"""Tests of RadMax2D."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.effective_area import EffectiveAreaTable2D
from gammalike.irf.rad_max import RadMax2D
from gammalike.maps import MapAxis


@pytest.mark.requires_data
def test_magic_rad_max(data_path):
    filename = data_path / "magic/rad_max/data/20131004_05029747_DL3_CrabNebula-W0.40+035.fits"
    rad_max = RadMax2D.read(filename)
    assert rad_max.axes.names == ["energy", "offset"]
    assert rad_max.data.shape == (20, 1)
    assert not rad_max.is_fixed_rad_max
    # energy-dependent cut, clamped beyond the table
    values = rad_max.evaluate(energy=[0.01, 1, 1000] * u.TeV, offset=0.4 * u.deg)
    assert np.all(values > 0 * u.deg) and np.all(values < 0.5 * u.deg)
    assert_allclose(values[0], rad_max.quantity[0, 0])
    back = RadMax2D.from_table(rad_max.to_table())
    assert np.array_equal(back.data, rad_max.data)


def test_from_irf_header():
    axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy_true")
    aeff = EffectiveAreaTable2D.from_parametrization(axis)
    with pytest.raises(ValueError, match="not a point-like"):
        RadMax2D.from_irf(aeff)
    aeff.is_pointlike = True
    aeff.meta["RAD_MAX"] = 0.1
    rad_max = RadMax2D.from_irf(aeff)
    assert rad_max.is_fixed_rad_max
    assert_allclose(rad_max.evaluate(energy=1 * u.TeV, offset=0.3 * u.deg).to_value("deg"), 0.1)
