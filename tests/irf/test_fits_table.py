"""Tests of the fast in-memory FITS table reader against astropy."""
import io

import numpy as np
import pytest
import astropy.units as u
from astropy.io import fits
from astropy.table import Table

from gammalike.irf.fits_table import FitsFile


def _file_bytes(table, **hdu_kwargs):
    hdu = fits.BinTableHDU(table, name="DATA", **hdu_kwargs)
    hdu.header["LONGSTR"] = "it's quoted"
    hdu.header["FLAG"] = True
    hdu.header["NUM"] = 1.5e-3
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
    return buffer.getvalue()


def _table():
    table = Table()
    table["ID"] = np.arange(5, dtype=np.int64)
    table["X"] = np.linspace(0, 1, 5) * u.deg
    table["NAME"] = ["a", "bb", "ccc", "", "eeeee"]
    table["OK"] = [True, False, True, True, False]
    table["CUBE"] = np.arange(5 * 6, dtype=np.float32).reshape(5, 2, 3) * u.m ** 2
    table["SHORT"] = np.arange(5, dtype=np.int16)
    return table


def test_matches_astropy():
    raw = _file_bytes(_table())
    ff = FitsFile(raw, path="mem.fits")
    assert ff.names == ["PRIMARY", "DATA"]
    table = ff.table("data")
    expected = Table.read(io.BytesIO(raw), hdu="DATA")
    # astropy masks the empty string of a byte column; compare the text directly
    assert list(table["NAME"]) == ["a", "bb", "ccc", "", "eeeee"]
    for name in expected.colnames:
        if name == "NAME":
            continue
        assert np.array_equal(np.asarray(table[name]), np.asarray(expected[name])), name
        assert table[name].unit == expected[name].unit, name
        assert table[name].shape == expected[name].shape, name
    header = ff.header(1)
    assert header["LONGSTR"] == "it's quoted"
    assert header["FLAG"] is True
    assert header["NUM"] == pytest.approx(1.5e-3)
    assert ff.colnames(1) == expected.colnames


def test_scaled_column_falls_back_to_astropy():
    table = Table({"V": np.arange(4, dtype=np.uint16)})  # written with TZERO = 32768
    raw = _file_bytes(table)
    result = FitsFile(raw).table(1)
    assert np.array_equal(np.asarray(result["V"]), np.arange(4))


def test_errors():
    raw = _file_bytes(_table())
    with pytest.raises(KeyError, match="NOPE"):
        FitsFile(raw, path="mem.fits").index("NOPE")
    with pytest.raises(OSError, match="truncated"):
        FitsFile(raw[:-3000], path="mem.fits")
    with pytest.raises(OSError, match="not a FITS file"):
        FitsFile(b"hello", path="mem.fits")
