"""Tests of gammalike.maps.geom (Geom base behaviour shared by WcsGeom / RegionGeom)."""
import numpy as np
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.maps import MapAxis, RegionGeom, WcsGeom


def test_bin_volume_wcs():
    axis = MapAxis.from_edges([1, 2, 4], unit="TeV", name="energy", interp="log")
    geom = WcsGeom.create(npix=(4, 3), binsz=0.1, axes=[axis])
    volume = geom.bin_volume()
    assert volume.shape == (2, 3, 4)
    # bin widths 1 and 2 TeV times the pixel solid angle
    ratio = (volume[1] / volume[0]).to_value("")
    assert_allclose(ratio, 2)


def test_get_idx_order():
    axis = MapAxis.from_edges([1, 2, 4], unit="TeV", name="energy")
    geom = WcsGeom.create(npix=(4, 3), axes=[axis])
    ix, iy, ie = geom.get_idx()
    assert ix.shape == (2, 3, 4)
    assert ix[0, 0, 3] == 3 and iy[0, 2, 0] == 2 and ie[1, 0, 0] == 1


def test_rename_and_resample_axis():
    axis = MapAxis.from_energy_bounds(1, 10, 4, unit="TeV")
    geom = RegionGeom.create("icrs;circle(0, 0, 1)", axes=[axis])
    renamed = geom.rename_axes("energy", "energy_true")
    assert renamed.axes.names == ["energy_true"]
    coarse = geom.resample_axis(axis.downsample(2))
    assert coarse.data_shape == (2, 1, 1)
    assert geom.data_nbytes() == 4 * 4 * u.byte
    assert not geom.is_image and geom.to_image().is_image
    assert np.prod(geom.data_shape) == 4
