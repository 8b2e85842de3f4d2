"""Tests of gammalike.maps.core (Map base and dispatch)."""
import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.maps import Map, MapAxis, RegionGeom, RegionNDMap, WcsGeom, WcsNDMap


def test_from_geom_dispatch():
    axis = MapAxis.from_energy_bounds(1, 10, 2, unit="TeV")
    assert isinstance(Map.from_geom(WcsGeom.create(npix=3, axes=[axis])), WcsNDMap)
    region_map = Map.from_geom(RegionGeom.create("icrs;circle(0,0,1)", axes=[axis]), unit="s")
    assert isinstance(region_map, RegionNDMap)
    assert region_map.unit == u.s
    with pytest.raises(ValueError, match="map_type"):
        Map.create(map_type="hpx")


def test_data_shape_check():
    geom = WcsGeom.create(npix=(3, 2))
    with pytest.raises(ValueError, match="data_shape"):
        Map.from_geom(geom, data=np.zeros((3, 3)))
    m = Map.from_geom(geom, data=np.ones((2, 3)) * u.cm**2)
    assert m.unit == u.cm**2
    m.quantity = np.ones((2, 3)) * u.m**2
    assert m.unit == u.m**2
    assert_allclose(m.to_unit("cm2").data, 1e4)


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        Map.read(tmp_path / "missing.fits")


def test_read_missing_hdu(tmp_path):
    m = WcsNDMap.create(npix=3)
    m.write(tmp_path / "m.fits")
    with pytest.raises(KeyError, match="COUNTS"):
        Map.read(tmp_path / "m.fits", hdu="COUNTS")


def test_is_allclose_and_copy():
    m = WcsNDMap.create(npix=3, unit="cm2")
    other = m.copy()
    assert m.is_allclose(other)
    other.data += 1
    assert not m.is_allclose(other)
    assert not m.is_allclose(WcsNDMap.create(npix=4, unit="cm2"))
    assert not m.is_allclose(WcsNDMap.create(npix=3, unit="s"))


def test_numpy_ufuncs_return_maps():
    m = WcsNDMap.create(npix=3, unit="cm2")
    m.data += 4
    # Quantity * map and ndarray * map stay maps, with units
    scaled = 2 * u.s * m
    assert isinstance(scaled, WcsNDMap) and scaled.unit == u.Unit("cm2 s")
    assert_allclose(scaled.data, 8)
    root = np.sqrt(m)
    assert root.unit == u.cm and np.allclose(root.data, 2, atol=0)
    # reductions give plain numbers
    assert_allclose(np.sum(m), 36)
    mask = m > 1 * u.cm**2
    both = np.logical_and(mask, mask)
    assert isinstance(both, WcsNDMap) and both.data.dtype == bool
