"""``gammalike check DATASTORE``: one line per problem, exit status 1 if there is any."""
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from click.testing import CliRunner

from gammalike.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def make_datastore(folder, energy_unit="TeV", missing_file=True):
    """A one-observation data store: an EVENTS file (with ``energy_unit``) and, optionally,
    an effective-area entry pointing to a file that does not exist."""
    folder.mkdir(parents=True, exist_ok=True)
    events = fits.BinTableHDU.from_columns([
        fits.Column("EVENT_ID", "K", array=np.arange(3)),
        fits.Column("TIME", "D", unit="s", array=[1.0, 2.0, 3.0]),
        fits.Column("RA", "E", unit="deg", array=[83.6, 83.7, 83.5]),
        fits.Column("DEC", "E", unit="deg", array=[22.0, 22.1, 21.9]),
        fits.Column("ENERGY", "E", unit=energy_unit, array=[1.0, 2.0, 3.0]),
    ], name="EVENTS")
    events.header.update(OBS_ID=1, HDUCLASS="GADF", HDUCLAS1="EVENTS", MJDREFI=51910, MJDREFF=0.0,
                         TIMESYS="TT", TIMEREF="LOCAL", TSTART=0.0, TSTOP=10.0, LIVETIME=9.0, DEADC=0.9,
                         RA_PNT=83.6, DEC_PNT=22.5)
    gti = fits.BinTableHDU.from_columns([fits.Column("START", "D", unit="s", array=[0.0]),
                                         fits.Column("STOP", "D", unit="s", array=[10.0])], name="GTI")
    gti.header.update(MJDREFI=51910, MJDREFF=0.0, TIMESYS="TT")
    fits.HDUList([fits.PrimaryHDU(), events, gti]).writeto(folder / "run1.fits")
    rows = [(1, "events", "events", ".", "run1.fits", "EVENTS"),
            (1, "gti", "gti", ".", "run1.fits", "GTI")]
    if missing_file:
        rows.append((1, "aeff", "aeff_2d", ".", "missing_aeff.fits", "EFFECTIVE AREA"))
    names = ("OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME")
    Table(rows=rows, names=names).write(folder / "hdu-index.fits.gz")
    obs = Table({"OBS_ID": [1], "RA_PNT": [83.6], "DEC_PNT": [22.5], "TSTART": [0.0], "TSTOP": [10.0]})
    obs["RA_PNT"].unit = obs["DEC_PNT"].unit = "deg"
    obs["TSTART"].unit = obs["TSTOP"].unit = "s"
    obs.write(folder / "obs-index.fits.gz")
    return folder


def test_check_missing_path(tmp_path):
    result = invoke("check", tmp_path / "no-such-store")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ") and "no-such-store: data store not found" in lines[0]


def test_check_folder_without_index(tmp_path):
    result = invoke("check", tmp_path)
    assert result.exit_code == 1
    assert "hdu-index.fits.gz: HDU index table not found" in result.output


def test_check_reports_problems(tmp_path):
    store = make_datastore(tmp_path / "store", energy_unit="m")
    result = invoke("check", store, "--checks", "obs_table,hdu_table,units")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert any("missing_aeff.fits: file not found" in line and line.startswith("ERROR") for line in lines)
    assert any("column ENERGY: unit 'm' does not convert to TeV" in line for line in lines)
    assert "1 observations checked; 2 errors" in result.output


def test_check_clean_store(tmp_path):
    store = make_datastore(tmp_path / "store", missing_file=False)
    result = invoke("check", store, "--checks", "obs_table,hdu_table,units")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("1 observations checked; 0 errors, 0 warnings")


def test_check_unknown_check(tmp_path):
    store = make_datastore(tmp_path / "store", missing_file=False)
    result = invoke("check", store, "--checks", "colour")
    assert result.exit_code == 1
    assert "unknown checks ['colour']" in result.output


@pytest.mark.requires_data
def test_check_cta_1dc(data_path):
    # the CTA 1DC background tables carry a non-standard unit; their GTI columns none
    result = invoke("check", data_path / "cta-1dc" / "index" / "gps", "--checks", "hdu_table,units")
    assert result.exit_code == 1
    assert "BGD: invalid unit '1/s/MeV/sr'" in result.stdout
    assert "[GTI] column START: no unit, expected s" in result.stdout


@pytest.mark.requires_data
@pytest.mark.slow
def test_check_hess_dr1(data_path):
    result = invoke("check", data_path / "hess-dl3-dr1")
    assert result.exit_code == 0, result.output
    assert "105 observations checked; 0 errors, 0 warnings" in result.stdout
