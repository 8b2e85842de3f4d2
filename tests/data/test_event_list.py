"""Tests of EventList."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Table
from astropy.time import Time
from numpy.testing import assert_allclose
from regions import CircleSkyRegion, RectangleSkyRegion

from gammalike.data import EventList


def _events(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    table = Table()
    table["EVENT_ID"] = np.arange(n)
    table["TIME"] = np.sort(rng.uniform(0, 1000, n)) * u.s
    table["RA"] = rng.uniform(80, 88, n) * u.deg
    table["DEC"] = rng.uniform(18, 26, n) * u.deg
    table["ENERGY"] = 10 ** rng.uniform(-1, 2, n) * u.TeV
    table.meta.update(
        MJDREFI=51910, MJDREFF=0.0, TIMESYS="TT", TSTART=0.0, TSTOP=1000.0, LIVETIME=900.0,
        DEADC=0.9, RA_PNT=84.0, DEC_PNT=22.0, OBS_ID=1,
    )
    return EventList(table)


def test_columns_and_offset():
    events = _events()
    assert len(events) == 1000
    assert events.energy.unit == u.TeV
    offset = events.offset
    expected = events.radec.separation(SkyCoord(84, 22, unit="deg"))
    assert_allclose(offset.deg, expected.deg, atol=1e-10)
    assert events.time[0] == Time(51910, format="mjd", scale="tt") + events.table["TIME"][0] * u.s
    assert_allclose(events.observation_live_time_duration.value, 900)


def test_selections():
    events = _events()
    sel = events.select_energy([1, 10] * u.TeV)
    assert np.all((sel.energy >= 1 * u.TeV) & (sel.energy < 10 * u.TeV))
    n_expected = np.sum((events.energy.value >= 1) & (events.energy.value < 10))
    assert len(sel) == n_expected
    sel = events.select_offset(Angle([0.5, 1.5], "deg"))
    assert np.all((sel.offset.deg >= 0.5) & (sel.offset.deg < 1.5))
    t0 = Time(51910, format="mjd", scale="tt")
    sel = events.select_time(t0 + [100, 200] * u.s)
    assert np.all((sel.table["TIME"] >= 100) & (sel.table["TIME"] < 200))
    sel = events.select_parameter("ENERGY", [2, 3] * u.TeV)
    assert np.all((sel.energy.value >= 2) & (sel.energy.value < 3))
    assert len(events.select_row_subset(slice(0, 10))) == 10


def test_select_region():
    events = _events()
    center = SkyCoord(84, 22, unit="deg")
    circle = CircleSkyRegion(center, 1 * u.deg)
    sel = events.select_region(circle)
    assert np.all(sel.radec.separation(center).deg < 1)
    assert len(sel) == np.sum(events.radec.separation(center).deg < 1)
    box = RectangleSkyRegion(center, width=2 * u.deg, height=2 * u.deg)
    sel_box = events.select_region(box)
    # the box contains the circle
    assert len(sel_box) >= len(sel)
    both = events.select_region([circle, CircleSkyRegion(SkyCoord(82, 20, unit="deg"), 0.5 * u.deg)])
    assert len(both) > len(sel)


def test_stack_and_write(tmp_path):
    a, b = _events(100, 1), _events(50, 2)
    stacked = EventList.from_stack([a, b])
    assert len(stacked) == 150
    a.stack(b)
    assert len(a) == 150
    filename = tmp_path / "events.fits"
    stacked.write(filename)
    back = EventList.read(filename)
    assert len(back) == 150
    assert_allclose(back.energy.value, stacked.energy.value)


@pytest.mark.slow
def test_plots():
    import matplotlib.pyplot as plt

    events = _events()
    events.peek()
    events.plot_time()
    plt.close("all")
    assert "Number of events" in str(events)


@pytest.mark.requires_data
def test_read_hess(data_path):
    events = EventList.read(data_path / "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz")
    assert len(events) == 7613
    assert events.meta["OBS_ID"] == 23523
    assert_allclose(events.pointing_radec.ra.deg, 83.633333, atol=1e-5)
