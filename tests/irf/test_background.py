"""Tests of Background2D / Background3D."""
import warnings

import numpy as np
import pytest
import astropy.units as u
from numpy.testing import assert_allclose

from gammalike.irf.background import Background2D, Background3D, FoVAlignment
from gammalike.maps import MapAxis


def _bkg2d():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=3, name="energy")
    offset = MapAxis.from_edges([0, 1, 2, 3], unit="deg", name="offset")
    e = energy.center.to_value("TeV")[:, None]
    data = 1e-4 * e ** -2.7 * np.ones((1, 3))
    return Background2D(axes=[energy, offset], data=data, unit="s-1 MeV-1 sr-1")


def test_log_interpolation_power_law():
    bkg = _bkg2d()
    # values follow E^-2.7: log-log interpolation between nodes is exact
    e = 3.0 * u.TeV
    assert_allclose(bkg.evaluate(energy=e, offset=0.5 * u.deg).value, 1e-4 * 3.0 ** -2.7, rtol=1e-10)


def test_integrate_log_log():
    bkg = _bkg2d()
    energy = bkg.axes["energy"]
    edges = energy.center  # between nodes the power law is exact
    result = bkg.integrate_log_log("energy", energy=edges[:, None], offset=[0.5, 1.5] * u.deg)
    lo, hi = edges[:-1].to_value("MeV"), edges[1:].to_value("MeV")
    # closed form: 1e-4 TeV^2.7 x E^-2.7 with E in TeV, integrated in MeV
    expected = 1e-4 * 1e6 ** 2.7 * (hi ** -1.7 - lo ** -1.7) / -1.7
    assert_allclose(result.to_value("s-1 sr-1")[:, 0], expected, rtol=1e-8)


def test_round_trip_3d_and_alignment():
    energy = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=2, name="energy")
    lon = MapAxis.from_edges([-1, 0, 1], unit="deg", name="fov_lon")
    lat = MapAxis.from_edges([-1, 0, 1, 2], unit="deg", name="fov_lat")
    data = np.arange(12.0).reshape(2, 2, 3) + 1
    bkg = Background3D(axes=[energy, lon, lat], data=data, unit="s-1 MeV-1 sr-1",
                       fov_alignment=FoVAlignment.REVERSE_LON_RADEC)
    table = bkg.to_table()
    assert table.meta["FOVALIGN"] == "REVERSE_LON_RADEC"
    back = Background3D.from_table(table)
    assert back.fov_alignment == FoVAlignment.REVERSE_LON_RADEC
    assert np.array_equal(back.data, data)
    # evaluation at the nodes gives the data
    value = bkg.evaluate(energy=energy.center[1], fov_lon=lon.center[0], fov_lat=lat.center[2])
    assert_allclose(value.value, data[1, 0, 2])


@pytest.mark.requires_data
def test_hess_bkg(data_path):
    bkg = Background3D.read(data_path / "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz", hdu="BKG")
    assert bkg.axes.names == ["energy", "fov_lon", "fov_lat"]
    value = bkg.evaluate(energy=1 * u.TeV, fov_lon=0.5 * u.deg, fov_lat=0 * u.deg)
    assert value.unit == u.Unit("s-1 MeV-1 sr-1") and value.value > 0
    bkg2d = bkg.to_2d()
    assert bkg2d.evaluate(energy=1 * u.TeV, offset=0.5 * u.deg).value > 0


@pytest.mark.requires_data
def test_cta_1dc_invalid_unit_warns_once(data_path):
    filename = data_path / "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        bkg = Background3D.read(filename, hdu="BACKGROUND")
    messages = [str(w.message) for w in record]
    assert messages.count("Invalid unit found in background table! Assuming (s-1 MeV-1 sr-1)") == 1
    assert bkg.unit == u.Unit("s-1 MeV-1 sr-1")
    # the 1DC table uses the column name BGD and order (DETX, DETY, ENERG)
    assert bkg.data.shape == (21, 36, 36)


@pytest.mark.slow
def test_plots():
    import matplotlib.pyplot as plt

    _bkg2d().peek()
    _bkg2d().to_3d().peek()
    plt.close("all")


def test_round_trip_2d():
    bkg = _bkg2d()
    back = Background2D.from_table(bkg.to_table())
    assert back.axes == bkg.axes
    assert np.array_equal(back.data, bkg.data)
    assert back.unit == bkg.unit
