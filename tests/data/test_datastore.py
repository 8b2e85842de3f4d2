"""Tests of DataStore on the public DL3 data and on small broken stores."""
import logging
import warnings

import pytest
import astropy.units as u
from astropy.table import Table

from gammalike.data import DataStore, MissingHDUError, Observations


def _hess(data_path):
    return DataStore.from_dir(data_path / "hess-dl3-dr1")


@pytest.mark.requires_data
def test_hess_dr1_store(data_path):
    store = _hess(data_path)
    # H.E.S.S. DL3 DR1 has 105 observations (arXiv:1810.04516)
    assert len(store.obs_table) == 105
    assert len(store.obs_ids) == 105
    assert "105" in str(store)
    location = store.hdu_table.hdu_location(23523, "aeff")
    assert location.path().name == "hess_dl3_dr1_obs_id_023523.fits.gz"
    assert location.hdu_name == "aeff"
    assert location.hdu_class == "aeff_2d"
    assert list(store.check(["obs_table", "hdu_table"])) == []


@pytest.mark.requires_data
def test_from_dir_with_variable(data_path):
    store = DataStore.from_dir("$GAMMAPY_DATA/hess-dl3-dr1/")
    assert len(store.obs_ids) == 105


@pytest.mark.requires_data
def test_get_observations_lazy(data_path):
    store = _hess(data_path)
    observations = store.get_observations([23523, 23526, 23559, 23592])
    assert isinstance(observations, Observations)
    assert observations.ids == ["23523", "23526", "23559", "23592"]
    obs = observations["23526"]
    assert obs.obs_id == 23526
    # nothing loaded until used
    assert all(type(v).__name__ in ("LazyLoader", "NoneType") for v in obs._values.values())
    assert obs.available_irfs == ["aeff", "edisp", "psf", "bkg"]


@pytest.mark.requires_data
def test_cta_1dc_store_and_warning_once(data_path):
    store = DataStore.from_dir(data_path / "cta-1dc/index/gps")
    observations = store.get_observations()
    assert observations.ids == ["110380", "111140", "111159", "111630"]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        backgrounds = [obs.bkg for obs in observations]
    messages = [str(w.message) for w in record if "Invalid unit" in str(w.message)]
    # the four runs share one CALDB background: read (and warned about) once
    assert len(messages) == 1
    assert all(bkg is backgrounds[0] for bkg in backgrounds)
    obs = observations[0]
    assert type(obs.psf).__name__ == "EnergyDependentMultiGaussPSF"
    assert len(obs.events.table) == 106217
    assert obs.observation_live_time_duration.to_value("s") == pytest.approx(1764.0)


@pytest.mark.requires_data
def test_magic_point_like_store(data_path):
    store = DataStore.from_dir(data_path / "magic/rad_max/data")
    with pytest.raises(MissingHDUError, match="psf"):
        store.get_observations(required_irf="full-enclosure")
    observations = store.get_observations(required_irf="point-like")
    assert len(observations) == 2
    obs = observations[0]
    assert obs.aeff.is_pointlike
    rad_max = obs.rad_max
    assert rad_max.evaluate(energy=1 * u.TeV, offset=0.4 * u.deg).to_value("deg") < 0.3
    assert obs.available_irfs == ["aeff", "edisp", "rad_max"]
    assert store.get_observations(required_irf=["aeff", "rad_max"]).ids == observations.ids


@pytest.mark.requires_data
def test_unknown_obs_id(data_path):
    store = _hess(data_path)
    with pytest.raises(ValueError, match="obs_id 12345"):
        store.get_observations([23523, 12345])
    observations = store.get_observations([23523, 12345], skip_missing=True)
    assert observations.ids == ["23523"]
    with pytest.raises(ValueError, match="required_irf"):
        store.get_observations([23523], required_irf="nonsense")


# ----------------------------------------------------------------------------- broken stores
def _write_index(path, rows, base_dir=None):
    table = Table(rows=rows, names=["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME"],
                  dtype=[int, str, str, str, str, str])
    if base_dir is not None:
        table.meta["BASE_DIR"] = str(base_dir)
    table.meta["EXTNAME"] = "HDU_INDEX"
    table.write(path / "hdu-index.fits.gz")


def _rows(obs_id, file_dir, file_name, types=("events", "gti", "aeff", "edisp", "psf", "bkg")):
    classes = dict(events="events", gti="gti", aeff="aeff_2d", edisp="edisp_2d", psf="psf_table", bkg="bkg_3d")
    return [(obs_id, t, classes[t], file_dir, file_name, t) for t in types]


@pytest.fixture
def broken_store(tmp_path, data_path):
    hess = data_path / "hess-dl3-dr1" / "data"
    good = "hess_dl3_dr1_obs_id_023523.fits.gz"
    (tmp_path / "data").mkdir()
    raw = (hess / good).read_bytes()
    (tmp_path / "data" / "truncated.fits.gz").write_bytes(raw[: len(raw) // 3])
    rows = _rows(23523, str(hess), good)
    rows += _rows(1, str(hess), good, types=("events", "gti", "aeff", "edisp"))  # no psf, bkg
    rows += _rows(2, "data", "does_not_exist.fits.gz")
    rows += _rows(3, "data", "truncated.fits.gz")
    _write_index(tmp_path, rows)
    return DataStore.from_dir(tmp_path)


@pytest.mark.requires_data
def test_missing_irf_hdu(broken_store, caplog):
    with pytest.raises(MissingHDUError, match=r"obs_id 1: required HDU\(s\) \['psf', 'bkg'\]"):
        broken_store.get_observations([23523, 1])
    with caplog.at_level(logging.WARNING):
        observations = broken_store.get_observations([23523, 1], skip_missing=True)
    assert observations.ids == ["23523"]
    assert "Skipping observation 1" in caplog.text
    # point-like requirements are met by obs 1
    assert broken_store.get_observations([1], required_irf="point-like").ids == ["1"]


@pytest.mark.requires_data
def test_missing_file(broken_store):
    with pytest.raises(FileNotFoundError, match="does_not_exist.fits.gz"):
        broken_store.get_observations([2])
    obs = broken_store.obs(2, required_irf="all-optional", require_events=False)
    with pytest.raises(FileNotFoundError, match="does_not_exist.fits.gz"):
        obs.aeff
    problems = list(broken_store.check(["hdu_table"]))
    assert any("does_not_exist.fits.gz" in p["msg"] for p in problems)


@pytest.mark.requires_data
def test_truncated_file(broken_store):
    obs = broken_store.get_observations([3])[0]
    with pytest.raises(OSError, match="truncated.fits.gz"):
        obs.bkg


def test_missing_index(tmp_path):
    with pytest.raises(FileNotFoundError, match="hdu-index.fits.gz"):
        DataStore.from_dir(tmp_path)


@pytest.mark.requires_data
def test_observations_pickle(data_path):
    # observations travel to worker processes: lazy loaders must pickle
    import pickle

    obs = _hess(data_path).get_observations([23523])[0]
    copy = pickle.loads(pickle.dumps(obs))
    assert len(copy.events.table) == 7613
    assert copy.aeff.data.shape == (96, 6)
