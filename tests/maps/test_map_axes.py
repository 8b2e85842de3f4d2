"""Tests of gammalike.maps.map_axes (MapAxes)."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.maps import MapAxes, MapAxis


@pytest.fixture
def axes():
    energy = MapAxis.from_energy_bounds(1, 10, nbin=3, unit="TeV")
    rad = MapAxis.from_edges([0, 0.1, 0.2, 0.3, 0.4], unit="deg", name="rad")
    return MapAxes([energy, rad])


def test_lookup_and_shape(axes):
    assert axes.names == ["energy", "rad"]
    assert axes.shape == (3, 4)
    assert axes.data_shape == (4, 3)
    assert axes["rad"] is axes[1]
    # data are stored in reverse order: rad is the first data axis
    assert axes.index_data("rad") == 0
    assert axes.index_data("energy") == 1
    with pytest.raises(KeyError, match="no axis named"):
        axes["time"]
    with pytest.raises(ValueError, match="unique"):
        MapAxes([axes[0], axes[0]])


def test_replace_drop_squash(axes):
    coarse = axes["energy"].squash()
    replaced = axes.replace(coarse)
    assert replaced.shape == (1, 4)
    assert axes.drop("energy").names == ["rad"]
    assert axes.squash().shape == (1, 1)
    assert not axes.is_unidimensional
    assert axes.drop("rad").is_unidimensional
    # energy is preferred as primary axis when several axes have bins
    assert axes.primary_axis.name == "energy"
    assert axes.drop("energy").primary_axis.name == "rad"


def test_get_coord_and_bin_volume(axes):
    coords = axes.get_coord()
    assert coords["energy"].shape == (1, 3)
    assert coords["rad"].shape == (4, 1)
    volume = axes.bin_volume()
    assert volume.shape == (4, 3)
    expected = axes["rad"].bin_width[:, None] * axes["energy"].bin_width[None, :]
    assert_allclose(volume.to_value("deg TeV"), expected.to_value("deg TeV"))


def test_bands_table_round_trip(axes):
    table = axes.to_table(format="gadf")
    # one row per bin combination, first axis fastest
    assert len(table) == 12
    assert_allclose(table["ENERGY"].quantity[:3].value, axes["energy"].center.value)
    assert table.meta["AXCOLS1"] == "E_MIN,E_MAX"
    assert table.meta["AXCOLS2"] == "RAD_MIN,RAD_MAX"
    assert MapAxes.from_table(table) == axes


def test_slice_by_idx(axes):
    sliced = axes.slice_by_idx({"energy": slice(0, 2), "rad": 1})
    assert sliced.names == ["energy"]
    assert sliced.shape == (2,)


def test_coord_to_idx(axes):
    idx = axes.coord_to_idx({"energy": [1.5, 9] * u.TeV, "rad": [0.05, 0.35] * u.deg})
    assert list(idx[0]) == [0, 2]
    assert list(idx[1]) == [0, 3]
