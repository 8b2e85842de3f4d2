"""Tests of FixedPointingInfo / PointingInfo."""
import pytest
import astropy.units as u
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.table import Table
from astropy.time import Time
from numpy.testing import assert_allclose

from gammalike.data import FixedPointingInfo, PointingInfo, PointingMode

HESS = dict(GEOLON=16.5002222222222, GEOLAT=-23.2717777777778, ALTITUDE=1835.0)


def test_fixed_radec():
    header = dict(RA_PNT=83.63, DEC_PNT=22.01, OBS_MODE="WOBBLE", MJDREFI=51910, MJDREFF=0.0,
                  TIMESYS="TT", TSTART=123890826.0, TSTOP=123892513.0, **HESS)
    pointing = FixedPointingInfo.from_fits_header(header)
    assert pointing.mode == PointingMode.POINTING
    assert_allclose(pointing.get_icrs().ra.deg, 83.63)
    altaz = pointing.get_altaz()
    # round trip through AltAz
    back = SkyCoord(altaz.az, altaz.alt, frame=altaz.frame).icrs
    assert back.separation(pointing.fixed_icrs).deg < 1e-6


def test_drift_matches_astropy():
    location = EarthLocation(lon=HESS["GEOLON"] * u.deg, lat=HESS["GEOLAT"] * u.deg, height=1835 * u.m)
    time = Time("2004-12-04T22:20:00", scale="tt")
    fixed = SkyCoord(alt=60 * u.deg, az=30 * u.deg, frame=AltAz(location=location))
    pointing = FixedPointingInfo(fixed_altaz=fixed, location=location)
    assert pointing.mode == PointingMode.DRIFT
    icrs = pointing.get_icrs(time)
    expected = SkyCoord(alt=60 * u.deg, az=30 * u.deg, frame=AltAz(obstime=time, location=location)).icrs
    assert icrs.separation(expected).deg < 1e-8


def test_pointing_table_interpolation():
    table = Table({"TIME": [0.0, 100.0], "RA_PNT": [359.0, 1.0], "DEC_PNT": [0.0, 0.0],
                   "ALT_PNT": [50.0, 51.0], "AZ_PNT": [10.0, 11.0]})
    table.meta.update(MJDREFI=51910, MJDREFF=0.0, TIMESYS="TT", **HESS)
    info = PointingInfo(table)
    mid = info.time_ref + 50 * u.s
    # interpolated across RA = 0
    coord = info.get_icrs(mid)
    assert_allclose(coord.ra.wrap_at(180 * u.deg).deg, 0.0, atol=1e-9)
    assert len(info.time) == 2


def test_missing_pointing():
    with pytest.raises(KeyError, match="pointing"):
        FixedPointingInfo.from_fits_header({})
