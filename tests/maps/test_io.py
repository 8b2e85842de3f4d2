"""Tests of gammalike.maps.io (axis table formats and BANDS tables)."""
import pytest
import astropy.units as u
from astropy.table import Table
from numpy.testing import assert_allclose

from gammalike.maps import MapAxis
from gammalike.maps.io import axes_from_bands_table, axes_to_bands_table


def test_ebounds_hdu_keywords():
    axis = MapAxis.from_energy_bounds(1, 10, 4, unit="TeV")
    hdu = axis.to_table_hdu(format="ogip")
    assert hdu.name == "EBOUNDS"
    assert hdu.header["HDUCLAS2"] == "EBOUNDS"
    assert hdu.header["DETCHANS"] == 4


def test_fermi_template_energies():
    table = Table({"Energy": [50, 100, 200] * u.MeV})
    axis = MapAxis.from_table(table, format="fgst-template")
    assert axis.node_type == "center"
    assert axis.name == "energy_true"
    assert_allclose(axis.center.to_value("MeV"), [50, 100, 200])


def test_bands_without_interp_keyword_is_log_for_energy():
    # old gammapy files (e.g. gll_iem_v06_gc) have AXCOLS1='ENERGY' and no INTERP1
    axis = MapAxis.from_nodes([1, 10, 100], unit="MeV", name="energy", interp="log")
    table = axes_to_bands_table([axis])
    del table.meta["INTERP1"]
    (read,) = axes_from_bands_table(table)
    assert read.interp == "log"
    assert read.node_type == "center"


def test_unknown_format():
    axis = MapAxis.from_energy_bounds(1, 10, 4, unit="TeV")
    with pytest.raises(ValueError, match="unknown format"):
        axis.to_table(format="xyz")
    with pytest.raises(KeyError, match="E_MIN"):
        MapAxis.from_table(Table({"A": [1]}), format="ogip")


@pytest.mark.requires_data
def test_read_dl3_irf_axes(data_path):
    table = Table.read(data_path / "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits",
                       hdu="ENERGY DISPERSION")
    migra = MapAxis.from_table(table, format="gadf-dl3", column_prefix="MIGRA")
    offset = MapAxis.from_table(table, format="gadf-dl3", column_prefix="THETA")
    assert migra.name == "migra" and migra.nbin == 300
    assert offset.name == "offset" and offset.unit == u.deg
