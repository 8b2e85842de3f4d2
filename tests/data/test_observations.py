"""Tests of Observation / Observations."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time
from numpy.testing import assert_allclose

from gammalike.data import DataStore, Observation, Observations
from gammalike.irf.effective_area import EffectiveAreaTable2D


@pytest.fixture
def obs_23523(data_path):
    return DataStore.from_dir(data_path / "hess-dl3-dr1").obs(23523)


@pytest.mark.requires_data
def test_hess_23523(obs_23523):
    obs = obs_23523
    # numbers from the EVENTS header of hess_dl3_dr1_obs_id_023523.fits.gz
    assert len(obs.events.table) == 7613
    assert_allclose(obs.observation_live_time_duration.to_value("s"), 1581.73681640625)
    assert_allclose(obs.observation_time_duration.to_value("s"), 1687.0)
    assert_allclose(obs.observation_dead_time_fraction, 1 - 0.937603298574686)
    pointing = obs.get_pointing_icrs()
    assert_allclose([pointing.ra.deg, pointing.dec.deg], [83.633333, 21.514444], atol=1e-5)
    assert_allclose(obs.target_radec.dec.deg, 22.014444, atol=1e-5)
    # TSTART = 123890826 s after MJDREF 51910.00074287 (TT) = 2004-12-04T22:08:10.184
    assert obs.tstart.tt.isot == "2004-12-04T22:08:10.184"
    assert obs.tstop.tt.isot == "2004-12-04T22:36:17.184"
    assert obs.gti.time_sum.to_value("s") == pytest.approx(1687.0)
    assert "23523" in str(obs)
    altaz = obs.get_pointing_altaz()
    # header ALT_PNT = 41.39 deg is the run mean altitude
    assert abs(altaz.alt.deg - 41.39) < 2


@pytest.mark.requires_data
def test_irfs_23523(obs_23523):
    obs = obs_23523
    e, off = 1 * u.TeV, 0.5 * u.deg
    assert obs.aeff.evaluate(energy_true=e, offset=off).value > 0
    assert obs.edisp.evaluate(energy_true=e, migra=1.0, offset=off).value > 0
    assert obs.psf.evaluate(rad=0.05 * u.deg, energy_true=e, offset=off).value > 0
    assert obs.bkg.evaluate(energy=e, fov_lon=off, fov_lat=0 * u.deg).value > 0
    for value in (obs.aeff, obs.edisp, obs.psf, obs.bkg):
        assert np.all(np.isfinite(value.data))
    assert obs.rad_max is None


@pytest.mark.requires_data
def test_select_time(obs_23523):
    obs = obs_23523
    t0 = obs.tstart
    interval = Time([t0 + 100 * u.s, t0 + 700 * u.s])
    sub = obs.select_time(interval)
    assert sub.gti.time_sum.to_value("s") == pytest.approx(600)
    times = sub.events.time
    assert np.all((times >= interval[0]) & (times < interval[1]))
    assert 0 < len(sub.events.table) < len(obs.events.table)
    assert_allclose(sub.observation_live_time_duration.to_value("s"), 600 * 0.937603298574686)
    assert sub.aeff is obs.aeff
    observations = Observations([obs]).select_time(interval)
    assert len(observations) == 1


@pytest.mark.slow
@pytest.mark.requires_data
def test_peek(obs_23523):
    import matplotlib.pyplot as plt

    obs_23523.peek()
    plt.close("all")


def test_create_and_container():
    pointing = SkyCoord(83.63, 22.01, unit="deg")
    aeff = EffectiveAreaTable2D.from_parametrization()
    obs = Observation.create(pointing, obs_id=5, livetime=1 * u.h, irfs={"aeff": aeff}, deadtime_fraction=0.1)
    assert_allclose(obs.observation_live_time_duration.to_value("h"), 1)
    assert_allclose(obs.observation_time_duration.to_value("h"), 1 / 0.9)
    assert obs.available_irfs == ["aeff"]
    assert obs.events is None
    assert_allclose(obs.get_pointing_icrs().ra.deg, 83.63)
    observations = Observations([obs, Observation.create(pointing, obs_id=7, livetime=10 * u.min)])
    assert observations.ids == ["5", "7"]
    assert observations["7"].obs_id == 7
    assert observations[0] is obs
    assert len(observations[:1]) == 1
    with pytest.raises(KeyError, match="99"):
        observations["99"]


def test_drift_pointing_from_header():
    # a drift-scan header: fixed Alt/Az, converted to the sky with the observatory location
    location = EarthLocation(lon=16.5 * u.deg, lat=-23.27 * u.deg, height=1835 * u.m)
    header = dict(
        OBS_MODE="DRIFT", ALT_PNT=90.0, AZ_PNT=0.0, GEOLON=16.5, GEOLAT=-23.27, ALTITUDE=1835.0,
        MJDREFI=51910, MJDREFF=0.0, TIMESYS="TT", TSTART=0.0, TSTOP=600.0,
    )
    obs = Observation(obs_id=1, meta=header)
    radec = obs.get_pointing_icrs(Time("2001-01-01T00:00:00", scale="tt"))
    # pointing at the zenith: declination = latitude (to the precession since J2000)
    assert_allclose(radec.dec.deg, -23.27, atol=0.1)
    assert obs.observatory_earth_location.lat.deg == pytest.approx(location.lat.deg)


@pytest.mark.requires_data
def test_tstart_tstop_from_gti_hess(data_path, obs_23523):
    # expected: the GTI table of the run file read directly with astropy
    # (first START / last STOP, seconds since MJDREFI + MJDREFF of the GTI header)
    from astropy.io import fits

    filename = data_path / "hess-dl3-dr1" / "data" / "hess_dl3_dr1_obs_id_023523.fits.gz"
    with fits.open(filename) as hdul:
        header, data = hdul["GTI"].header, hdul["GTI"].data
        ref = Time(header["MJDREFI"], header["MJDREFF"], format="mjd", scale=header["TIMESYS"].lower())
        start = ref + float(data["START"][0]) * u.s
        stop = ref + float(data["STOP"][-1]) * u.s
    obs = obs_23523
    assert abs((obs.tstart - start).to_value("s")) < 1e-6
    assert abs((obs.tstop - stop).to_value("s")) < 1e-6
    assert_allclose(obs.observation_time_duration.to_value("s"), (stop - start).to_value("s"), rtol=1e-12)


@pytest.mark.requires_data
def test_tstart_tstop_from_gti_not_header(data_path):
    # CTA 1DC run 110380: GTI 664502400 - 664504200 s (1800 s, the ONTIME keyword) but the
    # EVENTS header has TSTOP = 664504192 (float32 rounding): the GTI wins.
    obs = DataStore.from_dir(data_path / "cta-1dc" / "index" / "gps").obs(110380)
    assert obs.meta["TSTOP"] == 664504192.0
    ref = Time(51544, 0.5, format="mjd", scale="tt")
    assert abs((obs.tstart - (ref + 664502400.0 * u.s)).to_value("s")) < 1e-6
    assert abs((obs.tstop - (ref + 664504200.0 * u.s)).to_value("s")) < 1e-6
    assert_allclose(obs.observation_time_duration.to_value("s"), 1800.0)


def test_tstart_tstop_several_gtis_and_header_fallback():
    from gammalike.data import GTI

    ref = Time("2010-01-01T00:00:00", scale="tt")
    # two GTIs inside a header interval that is wider: first start / last stop of the GTIs
    gti = GTI.create([100.0, 500.0] * u.s, [300.0, 900.0] * u.s, reference_time=ref)
    meta = dict(MJDREFI=55197, MJDREFF=0.0, TIMESYS="TT", TSTART=0.0, TSTOP=2000.0)
    obs = Observation(obs_id=1, meta=meta, gti=gti)
    assert_allclose((obs.tstart - ref).to_value("s"), 100.0, atol=1e-6)
    assert_allclose((obs.tstop - ref).to_value("s"), 900.0, atol=1e-6)
    assert_allclose(obs.observation_time_duration.to_value("s"), 800.0)
    # no GTI: the header keywords
    obs = Observation(obs_id=1, meta=meta)
    assert_allclose(obs.observation_time_duration.to_value("s"), 2000.0)
    assert_allclose(obs.tstart.mjd, 55197.0)
