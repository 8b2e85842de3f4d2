"""Tests of gammalike.maps.axes (MapAxis, LabelMapAxis)."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.maps import LabelMapAxis, MapAxis


def test_from_energy_bounds_strings_seed_000():
    # seed 000: MapAxis.from_energy_bounds("10 GeV", "2 TeV", nbin=5).edges
    axis = MapAxis.from_energy_bounds("10 GeV", "2 TeV", nbin=5)
    assert axis.name == "energy"
    assert axis.unit == u.GeV
    assert axis.nbin == 5
    assert axis.interp == "log"
    # log-spaced: constant ratio (2000 / 10) ** (1 / 5)
    assert_allclose(axis.edges.to_value("TeV"), np.geomspace(0.01, 2, 6))
    assert_allclose(axis.center.value, np.sqrt(axis.edges.value[:-1] * axis.edges.value[1:]))


def test_from_energy_bounds_per_decade_seed_003():
    # seed 003: from_energy_bounds(0.1, 40, nbin=10, per_decade=True, unit="TeV")
    # -> ceil(10 * log10(400)) = ceil(26.02) = 27 bins between the exact bounds
    axis = MapAxis.from_energy_bounds(0.1, 40, nbin=10, per_decade=True, unit="TeV", name="energy")
    assert axis.nbin == 27
    assert_allclose(axis.edges[[0, -1]].to_value("TeV"), [0.1, 40])
    ratios = axis.edges.value[1:] / axis.edges.value[:-1]
    assert_allclose(ratios, ratios[0])
    true = MapAxis.from_energy_bounds(0.05, 100, nbin=20, per_decade=True, unit="TeV", name="energy_true")
    assert true.nbin == int(np.ceil(20 * np.log10(2000)))
    assert true.name == "energy_true"
    assert true.is_energy_axis


def test_from_energy_bounds_quantity_unit():
    # seed 002: Quantity bounds with unit="GeV"
    axis = MapAxis.from_energy_bounds(10 * u.GeV, 1e5 * u.GeV, 20, unit="GeV", name="energy")
    assert axis.unit == u.GeV
    assert_allclose(axis.edges.value[[0, -1]], [10, 1e5])
    with pytest.raises(u.UnitConversionError):
        MapAxis.from_energy_bounds(1 * u.deg, 2 * u.deg, 3)


def test_from_bounds_log_seed():
    # seed 000: MapAxis.from_bounds(1, 15, nbin=6, interp="log", unit="TeV").edges
    axis = MapAxis.from_bounds(1, 15, nbin=6, interp="log", unit="TeV")
    assert_allclose(axis.edges.value, np.geomspace(1, 15, 7))
    assert axis.edges.unit == u.TeV


def test_str_matches_seed_layout():
    # seed 001 shows this exact layout
    axis = MapAxis.from_energy_bounds("10 GeV", "2 TeV", nbin=5, unit="TeV")
    text = str(axis)
    assert "\tname       : energy" in text
    assert "\tunit       : 'TeV'" in text
    assert "\tnbins      : 5" in text
    assert "\tnode type  : edges" in text
    assert "\tedges min  : 1.0e-02 TeV" in text
    assert "\tedges max  : 2.0e+00 TeV" in text
    assert "\tinterp     : log" in text


@pytest.mark.parametrize("interp", ["lin", "log", "sqrt"])
def test_pix_coord_round_trip(interp):
    axis = MapAxis.from_bounds(1, 100, nbin=7, interp=interp, unit="TeV", name="x")
    pix = np.linspace(-0.5, 6.5, 29)
    coord = axis.pix_to_coord(pix)
    assert_allclose(axis.coord_to_pix(coord), pix, atol=1e-12)
    # edges sit at half-integer pixels
    assert_allclose(axis.coord_to_pix(axis.edges), np.arange(8) - 0.5, atol=1e-12)
    assert_allclose(axis.coord_to_pix(axis.center), np.arange(7), atol=1e-12)


def test_center_by_interp():
    lin = MapAxis.from_edges([1, 4, 9], interp="lin")
    log = MapAxis.from_edges([1, 4, 9], interp="log")
    sqrt = MapAxis.from_edges([1, 4, 9], interp="sqrt")
    assert_allclose(lin.center.value, [2.5, 6.5])
    assert_allclose(log.center.value, [2, 6])
    assert_allclose(sqrt.center.value, [2.25, 6.25])  # ((1+2)/2)^2, ((2+3)/2)^2


def test_coord_to_idx():
    axis = MapAxis.from_edges([1, 2, 3, 4], unit="TeV", name="energy")
    idx = axis.coord_to_idx([0.5, 1, 1.5, 2, 3.999, 4, 5] * u.TeV)
    # last edge belongs to the last bin, outside -> -1
    assert list(idx) == [-1, 0, 0, 1, 2, 2, -1]
    assert list(axis.coord_to_idx([0.5, 5], clip=True)) == [0, 2]
    # floats are in the axis unit, other units are converted
    assert axis.coord_to_idx(1500 * u.GeV) == 0
    assert list(axis.pix_to_idx([-0.6, -0.4, 2.49, 2.6])) == [-1, 0, 2, -1]


def test_center_node_axis():
    axis = MapAxis.from_nodes([0, 1, 2, 3], unit="deg", name="rad")
    assert axis.node_type == "center"
    assert axis.nbin == 4
    assert_allclose(axis.edges.value, [-0.5, 0.5, 1.5, 2.5, 3.5])
    assert_allclose(axis.coord_to_pix([0, 1.5] * u.deg), [0, 1.5])
    assert "center min" in str(axis)


def test_slice_squash_upsample_downsample():
    axis = MapAxis.from_energy_bounds(1, 100, nbin=8, unit="TeV")
    sub = axis.slice(slice(2, 5))
    assert sub.nbin == 3
    assert_allclose(sub.edges.value, axis.edges.value[2:6])
    assert axis.slice(3).nbin == 1
    squashed = axis.squash()
    assert squashed.nbin == 1
    assert_allclose(squashed.edges.value, [1, 100])
    up = axis.upsample(2)
    assert up.nbin == 16
    assert_allclose(up.edges.value[::2], axis.edges.value)  # old edges kept
    down = axis.downsample(2)
    assert down.nbin == 4
    assert_allclose(down.edges.value, axis.edges.value[::2])
    # non-divisible: the last edge is kept
    down3 = axis.downsample(3)
    assert_allclose(down3.edges.value, axis.edges.value[[0, 3, 6, 8]])


def test_group_table_known_case():
    # 5 log bins between 10 GeV and 2 TeV; edges 30 GeV / 1 TeV snap to edge 1 and 4
    axis = MapAxis.from_energy_bounds("10 GeV", "2 TeV", nbin=5)
    table = axis.group_table([0.03, 1] * u.TeV)
    assert list(table["idx_min"]) == [0, 1, 4]
    assert list(table["idx_max"]) == [0, 3, 4]
    assert [b.strip() for b in table["bin_type"]] == ["underflow", "normal", "overflow"]
    assert_allclose(table["energy_min"].quantity.to_value("GeV"), axis.edges.value[[0, 1, 4]])
    assert_allclose(table["energy_max"].quantity.to_value("GeV"), axis.edges.value[[1, 4, 5]])
    full = axis.group_table(axis.edges)
    assert len(full) == 5 and np.all(full["bin_type"] == "normal   ")


def test_equality_and_allclose():
    a = MapAxis.from_energy_bounds(1, 10, 3, unit="TeV")
    b = MapAxis.from_energy_bounds(1000, 10000, 3, unit="GeV")
    assert a == b  # unit-converted nodes agree
    assert a != a.rename("energy_true")
    assert not a.is_allclose(MapAxis.from_energy_bounds(1, 10, 4, unit="TeV"))
    assert a.upsample(2).is_aligned(a)
    assert not a.is_aligned(a.upsample(2))


def test_copy_rename_iter():
    axis = MapAxis.from_energy_bounds(1, 10, 3, unit="TeV")
    assert axis.copy(name="energy_true").name == "energy_true"
    pairs = list(axis.iter_by_edges())
    assert len(pairs) == 3
    assert_allclose(pairs[0][1].value, axis.edges.value[1])
    assert len(axis.as_plot_labels) == 3


def test_table_formats_round_trip():
    axis = MapAxis.from_energy_bounds(0.1, 100, 6, unit="TeV")
    ogip = axis.to_table(format="ogip")
    assert ogip["E_MIN"].unit == u.keV
    assert MapAxis.from_table(ogip, format="ogip") == axis
    arf = axis.rename("energy_true").to_table(format="ogip-arf")
    assert MapAxis.from_table(arf, format="ogip-arf") == axis.rename("energy_true")
    dl3 = axis.rename("energy_true").to_table(format="gadf-dl3")
    assert dl3["ENERG_LO"].shape == (1, 6)
    read = MapAxis.from_table(dl3, format="gadf-dl3", column_prefix="ENERG")
    assert read == axis.rename("energy_true")
    offset = MapAxis.from_edges([0, 1, 2], unit="deg", name="offset")
    assert MapAxis.from_table(offset.to_table(format="gadf-dl3"), format="gadf-dl3",
                              column_prefix="THETA") == offset


@pytest.mark.requires_data
def test_from_ogip_ebounds_file(data_path):
    from astropy.table import Table

    table = Table.read(data_path / "joint-crab/spectra/hess/pha_obs23523.fits", hdu="EBOUNDS")
    axis = MapAxis.from_table(table, format="ogip")
    assert axis.nbin == 80
    # file: first E_MIN = 1e7 keV = 0.01 TeV
    assert_allclose(axis.edges[0].to_value("TeV"), 0.01)
    assert axis.unit == u.TeV
    assert axis.name == "energy"


def test_invalid_inputs():
    with pytest.raises(ValueError, match="interp"):
        MapAxis([1, 2], interp="cubic")
    with pytest.raises(ValueError, match="monotonic"):
        MapAxis([1, 3, 2])
    with pytest.raises(ValueError, match="positive"):
        MapAxis([0, 1], interp="log")


def test_label_axis():
    axis = LabelMapAxis(["a", "b", "c"], name="dataset")
    assert axis.nbin == 3
    assert list(axis.coord_to_idx(["c", "a"])) == [2, 0]
    with pytest.raises(ValueError):
        axis.coord_to_idx(["x"])
