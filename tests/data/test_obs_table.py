"""Tests of ObservationTable selections on the H.E.S.S. DR1 index."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from gammalike.data import ObservationTable


@pytest.fixture
def obs_table(data_path):
    return ObservationTable.read(data_path / "hess-dl3-dr1/obs-index.fits.gz")


@pytest.mark.requires_data
def test_selections(obs_table):
    assert len(obs_table) == 105
    sel = obs_table.select_obs_id([23592, 23523])
    assert list(sel["OBS_ID"]) == [23592, 23523]
    with pytest.raises(ValueError, match="12345"):
        obs_table.select_obs_id(12345)
    crab = SkyCoord(83.633, 22.014, unit="deg")
    sel = obs_table.select_sky_circle(crab, 3 * u.deg)
    assert np.all(sel.pointing_radec.separation(crab).deg < 3)
    assert len(sel) + len(obs_table.select_sky_circle(crab, 3 * u.deg, inverted=True)) == 105
    sel = obs_table.select_range("ZEN_PNT", [0, 30] * u.deg)
    assert np.all(sel["ZEN_PNT"] < 30)
    t0 = Time("2004-12-04T00:00:00", scale="tt")
    sel = obs_table.select_time_range(Time([t0, t0 + 1 * u.d]))
    assert 23523 in sel["OBS_ID"]
    assert np.all(sel.time_start >= t0)
    assert "Number of observations: 105" in obs_table.summary()
