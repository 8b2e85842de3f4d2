"""Tests of gammalike.maps.coord (MapCoord)."""
import numpy as np
import pytest
import astropy.units as u
from astropy.coordinates import SkyCoord
from numpy.testing import assert_allclose

from gammalike.maps import MapCoord


def test_create_from_skycoord_dict():
    skycoord = SkyCoord([10, 20], [1, 2], unit="deg", frame="icrs")
    coords = MapCoord.create({"skycoord": skycoord, "energy": [1, 2] * u.TeV})
    assert coords.frame == "icrs"
    assert_allclose(coords.lon, [10, 20])
    assert coords["energy"].unit == u.TeV
    assert coords.axis_names == ["lon", "lat", "energy"]
    assert coords.skycoord.separation(skycoord).max().deg < 1e-10


def test_frame_transform():
    coords = MapCoord.create({"skycoord": SkyCoord(0, 0, unit="deg", frame="galactic")}, frame="icrs")
    expected = SkyCoord(0, 0, unit="deg", frame="galactic").icrs
    assert_allclose([coords.lon[()], coords.lat[()]], [expected.ra.deg, expected.dec.deg])
    back = coords.to_frame("galactic")
    # longitude wraps: compare on the circle
    assert_allclose(np.cos(np.radians(back.lon[()])), 1, atol=1e-12)
    assert_allclose(back.lat[()], 0, atol=1e-8)


def test_tuple_broadcast_mask():
    coords = MapCoord.create((np.array([1.0, 2.0]), 0.0, np.array([[1.0], [2.0]])), axis_names=["x"])
    assert coords.shape == (2, 2)
    full = coords.broadcasted
    assert full.lon.shape == (2, 2)
    masked = coords.apply_mask(np.array([[True, False], [False, True]]))
    assert_allclose(masked["x"], [1, 2])


def test_requires_lon_lat():
    with pytest.raises(ValueError):
        MapCoord({"energy": [1]})
