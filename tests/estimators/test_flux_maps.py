"""Tests of `FluxMaps` (gammalike.estimators.map.core)."""
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammalike.estimators.map import FluxMaps
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling.models import PowerLawSpectralModel, SkyModel


def _geom():
    axis = MapAxis.from_energy_edges([1, 10, 100] * u.TeV, name="energy")
    return WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), npix=(5, 4), binsz=0.1,
                          frame="galactic", axes=[axis])


def _maps(with_ul=True):
    geom = _geom()
    rng = np.random.default_rng(1)
    norm = rng.uniform(0.5, 2, geom.data_shape)
    data = {
        "norm": Map.from_geom(geom, data=norm),
        "norm_err": Map.from_geom(geom, data=0.1 * norm),
        "ts": Map.from_geom(geom, data=np.full(geom.data_shape, 9.0)),
        "npred_excess": Map.from_geom(geom, data=10 * norm),
        "success": Map.from_geom(geom, data=np.ones(geom.data_shape, bool), dtype=bool),
    }
    if with_ul:
        data["norm_ul"] = Map.from_geom(geom, data=2 * norm)
    model = SkyModel(spectral_model=PowerLawSpectralModel(index=2, amplitude="2e-12 cm-2 s-1 TeV-1"),
                     name="ref")
    return FluxMaps(data, reference_model=model, meta={"n_sigma_ul": 2})


def test_sed_type_views_closed_form():
    maps = _maps()
    norm = maps["norm"].data
    # power law of index 2, amplitude 2e-12 at 1 TeV: flux in [a, b] = 2e-12 (1/a - 1/b) cm-2 s-1
    flux_ref = 2e-12 * np.array([1 - 0.1, 0.1 - 0.01])
    assert maps["flux"].unit == u.Unit("cm-2 s-1")
    np.testing.assert_allclose(maps["flux"].data, norm * flux_ref[:, None, None], rtol=1e-10)
    # dnde at the log centre sqrt(a b): 2e-12 / (a b); e2dnde = 2e-12 cm-2 s-1 TeV everywhere
    e_ref = np.sqrt([10.0, 1000.0])
    np.testing.assert_allclose(maps["dnde"].data, norm * (2e-12 / e_ref ** 2)[:, None, None], rtol=1e-10)
    np.testing.assert_allclose(maps["e2dnde"].quantity.to_value("TeV cm-2 s-1"), norm * 2e-12, rtol=1e-10)
    # energy flux of E^-2: 2e-12 ln(b / a) TeV cm-2 s-1
    np.testing.assert_allclose(maps["eflux"].data, norm * 2e-12 * np.log(10), rtol=1e-10)
    np.testing.assert_allclose(maps["flux_err"].data, 0.1 * maps["flux"].data, rtol=1e-10)
    np.testing.assert_allclose(maps.flux_ul.data, 2 * maps["flux"].data, rtol=1e-10)
    np.testing.assert_allclose(maps.flux_ref.to_value("cm-2 s-1"), flux_ref)


def test_derived_quantities_and_errors():
    maps = _maps()
    np.testing.assert_allclose(maps["sqrt_ts"].data, 3.0)
    # is_ul: ts < sqrt_ts_threshold_ul**2 = 4 -> no bin is an upper limit
    assert not maps["is_ul"].data.any()
    assert "flux_errn" not in maps
    with pytest.raises(KeyError, match="flux_errn"):
        maps["flux_errn"]
    with pytest.raises(AttributeError):
        maps.dnde_errp
    assert maps.energy_axis.nbin == 2
    assert "npred_excess" in str(maps)


def test_norm_maps_must_be_dimensionless():
    geom = _geom()
    with pytest.raises(ValueError, match="dimensionless"):
        FluxMaps({"norm": Map.from_geom(geom, unit="cm-2 s-1")})


@pytest.mark.parametrize("sed_type", ["likelihood", "flux", "dnde"])
def test_write_read_round_trip(tmp_path, sed_type):
    maps = _maps()
    path = tmp_path / "maps.fits"
    maps.write(path, sed_type=sed_type)
    with pytest.raises(OSError):
        maps.write(path, sed_type=sed_type)
    back = FluxMaps.read(path)
    assert set(back.available_quantities) == set(maps.available_quantities)
    for name in ("norm", "norm_err", "norm_ul", "ts", "npred_excess", "flux", "dnde_ul"):
        np.testing.assert_allclose(back[name].data, maps[name].data, rtol=1e-6)
    assert back["success"].data.dtype == bool
    assert isinstance(back.reference_model, SkyModel)
    assert back.reference_spectral_model.amplitude.value == pytest.approx(2e-12, rel=1e-6, abs=0)
    from astropy.io import fits

    with fits.open(path) as hdulist:
        assert hdulist[0].header["SED_TYPE"] == sed_type
        names = [h.name for h in hdulist]
        assert "BANDS" in names
        main = "NORM" if sed_type == "likelihood" else sed_type.upper()
        assert main in names


def test_from_maps_flux():
    maps = _maps()
    flux = {"flux": maps["flux"], "flux_err": maps["flux_err"], "ts": maps["ts"]}
    new = FluxMaps.from_maps(flux, sed_type="flux", reference_model=maps.reference_model)
    np.testing.assert_allclose(new["norm"].data, maps["norm"].data, rtol=1e-10)
    # another reference model: the flux stays, the dnde view follows the new model
    other = FluxMaps.from_maps(flux, reference_model=PowerLawSpectralModel(index=3))
    np.testing.assert_allclose(other["flux"].data, maps["flux"].data, rtol=1e-10)


def test_get_flux_points_and_plot_grid():
    maps = _maps()
    position = maps.geom.pix_to_coord((2, 1, 0))
    position = SkyCoord(position[0], position[1], frame="galactic", unit="deg")
    points = maps.get_flux_points(position)
    np.testing.assert_allclose(points.norm, maps["norm"].data[:, 1, 2])
    np.testing.assert_allclose(points.flux.to_value("cm-2 s-1"), maps["flux"].data[:, 1, 2], rtol=1e-8)
    import matplotlib.pyplot as plt

    axes = maps.plot_grid("sqrt_ts", ncols=2, add_cbar=True)
    assert axes.size == 2
    plt.close("all")
