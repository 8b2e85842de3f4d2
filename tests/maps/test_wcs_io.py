"""Tests of gammalike.maps.wcs_io (FITS layout of WCS maps)."""
import numpy as np
from astropy.io import fits
from numpy.testing import assert_allclose

from gammalike.maps import Map, MapAxis, WcsNDMap


def test_layout_with_named_hdu(tmp_path):
    axis = MapAxis.from_energy_bounds(1, 10, 2, unit="TeV", name="energy_true")
    m = WcsNDMap.create(npix=(4, 3), axes=[axis], unit="cm2 s", meta={"creator": "test"})
    m.data += 2
    hdulist = m.to_hdulist(hdu="exposure")
    assert [h.name for h in hdulist] == ["PRIMARY", "EXPOSURE", "EXPOSURE_BANDS"]
    header = hdulist["EXPOSURE"].header
    # gadf map keywords, as in $GAMMAPY_DATA/crab-3datasets/Fermi-LAT.fits
    assert header["BANDSHDU"] == "EXPOSURE_BANDS"
    assert header["AXCOLS1"] == "ENERGY_TRUE_MIN,ENERGY_TRUE_MAX"
    assert header["INTERP1"] == "log"
    path = tmp_path / "exposure.fits"
    m.write(path, hdu="exposure")
    read = Map.read(path, hdu="EXPOSURE")
    assert read.meta == {"creator": "test"}
    assert read.geom.axes.names == ["energy_true"]
    assert_allclose(read.quantity.to_value("m2 s"), 2e-4)


def test_primary_layout(tmp_path):
    m = WcsNDMap.create(npix=(4, 3))
    path = tmp_path / "image.fits"
    m.write(path)
    with fits.open(path) as hdulist:
        assert [h.name for h in hdulist] == ["PRIMARY"]
        assert hdulist[0].data.shape == (3, 4)
    assert np.all(Map.read(path).data == 0)
