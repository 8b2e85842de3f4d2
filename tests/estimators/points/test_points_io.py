"""Tests of the GADF "SED" table I/O of `FluxPoints` (FITS, ECSV, all sed types)."""
import numpy as np
import pytest
from astropy import units as u
from astropy.table import MaskedColumn, Table
from numpy.testing import assert_allclose, assert_array_equal

from gammalike.estimators import FluxPoints
from gammalike.maps import MapAxis

SED_TYPES = ["dnde", "e2dnde", "flux", "eflux", "likelihood"]


def make_points():
    """Flux points with asymmetric errors, upper limits, TS and likelihood scans."""
    axis = MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=4)
    rng = np.random.default_rng(42)
    norm = rng.uniform(0.5, 1.5, 4)
    scan = np.tile(np.linspace(0.1, 3, 7), (4, 1))
    data = {
        "norm": norm,
        "norm_err": 0.1 * norm,
        "norm_errn": 0.09 * norm,
        "norm_errp": 0.11 * norm,
        "norm_ul": norm + 0.25,
        "ts": np.array([50.0, 20.0, 3.0, 0.5]),
        "counts": np.array([100.0, 40.0, 5.0, 1.0]),
        "success": np.array([True, True, True, False]),
        "norm_scan": scan,
        "stat_scan": (scan - norm[:, None]) ** 2 / 0.01,
    }
    return FluxPoints(data, axis, meta={"n_sigma_ul": 3})


@pytest.mark.parametrize("suffix", [".fits", ".ecsv"])
@pytest.mark.parametrize("sed_type", SED_TYPES)
def test_round_trip_identical(tmp_path, suffix, sed_type):
    fp = make_points()
    filename = tmp_path / f"points{suffix}"
    fp.write(filename, sed_type=sed_type)
    new = FluxPoints.read(filename)
    assert new.sed_type_init == sed_type
    table, table_new = fp.to_table(sed_type=sed_type), new.to_table(sed_type=sed_type)
    assert table.colnames == table_new.colnames
    for name in table.colnames:
        # Written numbers come back bit for bit (NaN where NaN).
        assert_array_equal(np.asarray(table[name]), np.asarray(table_new[name]), err_msg=name)
        assert table[name].unit == table_new[name].unit
    # All other representations agree to rounding.
    for other in SED_TYPES:
        name = "norm" if other == "likelihood" else other
        assert_allclose(u.Quantity(getattr(new, name)).value, u.Quantity(getattr(fp, name)).value,
                        rtol=1e-13)
    assert_array_equal(new.is_ul, fp.is_ul)
    assert new.n_sigma_ul == 3
    assert_array_equal(new.success, fp.success)
    assert_allclose(new.energy_axis.edges.value, fp.energy_axis.edges.value, rtol=1e-15)


def test_write_refuses_overwrite(tmp_path):
    fp = make_points()
    filename = tmp_path / "points.fits"
    fp.write(filename)
    with pytest.raises(FileExistsError, match="overwrite"):
        fp.write(filename)
    fp.write(filename, overwrite=True, sed_type="dnde")
    assert FluxPoints.read(filename).sed_type_init == "dnde"


def test_to_table_columns():
    table = make_points().to_table(sed_type="dnde", formatted=True)
    for name in ["e_ref", "e_min", "e_max", "dnde", "dnde_err", "dnde_errn", "dnde_errp",
                 "dnde_ul", "ts", "is_ul", "counts", "success", "stat_scan", "dnde_scan"]:
        assert name in table.colnames, name
    assert table["dnde"].unit == u.Unit("cm-2 s-1 TeV-1")
    assert table.meta["SED_TYPE"] == "dnde"
    likelihood = make_points().to_table(sed_type="likelihood")
    for name in ["ref_dnde", "ref_flux", "ref_eflux", "norm", "norm_scan"]:
        assert name in likelihood.colnames


def test_from_table_errors():
    table = Table({"e_ref": [1.0, 2.0] * u.TeV, "dnde": [1.0, 2.0] * u.m})
    table.meta["SED_TYPE"] = "dnde"
    with pytest.raises(u.UnitConversionError, match="'dnde'.*expected a unit convertible"):
        FluxPoints.from_table(table)
    table = Table({"e_ref": [1.0, 2.0] * u.TeV, "flux": [1.0, 2.0] * u.Unit("cm-2 s-1")})
    with pytest.raises(ValueError, match="requires column"):
        FluxPoints.from_table(table, sed_type="flux")
    with pytest.raises(ValueError, match="Unknown flux points format"):
        FluxPoints.from_table(table, format="lightcurve-xyz")
    with pytest.raises(ValueError, match="unknown SED_TYPE"):
        FluxPoints.from_table(table, sed_type="counts")


def test_from_table_masked_and_nan():
    # GADF: nan (or masked) for missing values, e.g. a row with only an upper limit.
    table = Table({
        "e_ref": [1.0, 3.0] * u.TeV,
        "dnde": MaskedColumn([1e-12, 0.0], mask=[False, True], unit="cm-2 s-1 TeV-1"),
        "dnde_ul": [np.nan, 1.16e-13] * u.Unit("cm-2 s-1 TeV-1"),
    })
    fp = FluxPoints.from_table(table)
    assert fp.sed_type_init == "dnde"
    assert np.isnan(fp.dnde[1])
    # No is_ul column and no TS: upper limit where only the limit exists.
    assert_array_equal(fp.is_ul, [False, True])


def test_non_contiguous_bins():
    table = Table({
        "e_min": [1.0, 3.0] * u.TeV, "e_max": [2.0, 5.0] * u.TeV,
        "flux": [1e-12, 1e-13] * u.Unit("cm-2 s-1"),
    })
    fp = FluxPoints.from_table(table)
    assert_allclose(fp.energy_min.value, [1.0, 3.0])
    assert_allclose(fp.energy_max.value, [2.0, 5.0])
    assert_allclose(fp.energy_ref.value, [np.sqrt(2.0), np.sqrt(15.0)])
    # Index 2 reference: dnde(e_ref) = flux / (1/emin - 1/emax) / e_ref^2
    assert_allclose(fp.dnde.value[1], 1e-13 / (1 / 3 - 1 / 5) / 15, rtol=1e-12)


@pytest.mark.requires_data
def test_read_hawc19(data_path):
    fp = FluxPoints.read(data_path / "hawc/crab_flux/HAWC19_flux_points.fits")
    assert fp.sed_type_init == "dnde"
    assert fp.energy_axis.nbin == 10
    assert_allclose(fp.energy_min[0].to_value("TeV"), 1.0)
    assert_allclose(fp.energy_max[-1].to_value("TeV"), 316.0)
    # Values from the file (dnde column, TeV units).
    assert_allclose(fp.dnde[0].to_value("cm-2 s-1 TeV-1"), 1.8237526032527885e-11, rtol=1e-15)
    assert np.isnan(fp.dnde[-1])
    assert_allclose(fp.dnde_ul[-1].value, 4.41625724166506e-18, rtol=1e-15)
    assert_array_equal(fp.is_ul, [False] * 9 + [True])


@pytest.mark.requires_data
def test_read_hawc_erg_units_and_masks(data_path):
    # dnde in "cm-2 erg s-1 TeV-2": same physical values as HAWC19 (1 erg = 0.6241509 TeV).
    fp = FluxPoints.read(data_path / "crab-3datasets/HAWC.fits")
    ref = FluxPoints.read(data_path / "hawc/crab_flux/HAWC19_flux_points.fits")
    assert_allclose(fp.dnde[:9].value, ref.dnde[:9].value, rtol=1e-6)
    assert_array_equal(fp.mask_fit, [True] * 9 + [False])
    assert_array_equal(fp.mask_safe, [True] * 9 + [False])


@pytest.mark.requires_data
def test_read_lhaaso_nodes_only(data_path, tmp_path):
    fp = FluxPoints.read(data_path / "crab-3datasets/LHAASO.fits")
    assert fp.sed_type_init == "e2dnde"
    assert fp.energy_axis.node_type == "center"
    assert not fp.has_energy_bounds
    e_ref = fp.energy_ref.to_value("TeV")
    assert_allclose(e_ref[0], 12.523999999999997, rtol=1e-15)
    # e2dnde in erg cm-2 s-1 -> dnde = e2dnde / e_ref^2 in TeV units
    expected = 1.0808167190853306e-11 * u.erg.to("TeV") / e_ref[0] ** 2
    assert_allclose(fp.dnde[0].to_value("cm-2 s-1 TeV-1"), expected, rtol=1e-12)
    assert_allclose(fp.e2dnde_errp[6].to_value("erg cm-2 s-1"), 6.841623045813261e-14, rtol=1e-12)
    assert_allclose(fp.e2dnde_errn[6].to_value("erg cm-2 s-1"), 1.2718575764285337e-13, rtol=1e-12)
    assert fp.is_ul[-1] and not fp.is_ul[:-1].any()
    # Round trip keeps the nodes-only layout (no e_min/e_max) and the file's unit.
    fp.write(tmp_path / "lhaaso.fits")
    table = Table.read(tmp_path / "lhaaso.fits")
    assert "e_min" not in table.colnames
    assert table["e2dnde"].unit == u.Unit("erg cm-2 s-1")
    original = Table.read(data_path / "crab-3datasets/LHAASO.fits")
    assert_array_equal(table["e2dnde"], original["e2dnde"])


@pytest.mark.requires_data
def test_read_likelihood_with_scans_and_gti(data_path, tmp_path):
    fp = FluxPoints.read(data_path / "estimators/crab_hess_fp/crab_hess_fp.fits")
    assert fp.sed_type_init == "likelihood"
    assert fp.n_sigma_ul == 3  # UL_CONF = 0.9973002
    assert fp.norm_scan.shape == (5, 11)
    assert fp.gti is not None and len(fp.gti) == 1
    table = Table.read(data_path / "estimators/crab_hess_fp/crab_hess_fp.fits", hdu="FLUXPOINTS")
    # dnde = norm * ref_dnde from the file
    assert_allclose(fp.dnde[1].value, table["norm"][1] * table["ref_dnde"][1], rtol=1e-14)
    assert_allclose(fp.flux[1].value, table["norm"][1] * table["ref_flux"][1], rtol=1e-14)
    # Recomputed 3 sigma upper limits agree with the stored ones (from the fit, not the
    # 11-point scan) to 2.5%; the failed first bin (all-NaN profile) has none.
    new = fp.recompute_ul(n_sigma_ul=3)
    assert_allclose(new.norm_ul[1:], fp.norm_ul[1:], rtol=0.025)
    assert np.isnan(new.norm_ul[0])
    fp.write(tmp_path / "fp.fits")
    again = FluxPoints.read(tmp_path / "fp.fits")
    assert len(again.gti) == 1
    assert_array_equal(again.stat_scan, fp.stat_scan)


@pytest.mark.requires_data
def test_read_kev_energies(data_path):
    # Energies in keV and ref_flux in "keV / (TeV s cm2)".
    fp = FluxPoints.read(data_path / "crab-3datasets/FluxPoints_hess.fits")
    assert_allclose(fp.energy_min[0].to_value("TeV"), 1.0, rtol=1e-12)
    table = Table.read(data_path / "crab-3datasets/FluxPoints_hess.fits")
    expected = table["norm"][0] * (table["ref_flux"].quantity[0]).to_value("cm-2 s-1")
    assert_allclose(fp.flux[0].to_value("cm-2 s-1"), expected, rtol=1e-12)


@pytest.mark.requires_data
def test_read_ecsv_with_dat_suffix(data_path):
    fp = FluxPoints.read(data_path / "crab-3datasets/FluxPoints_lhaaso2021_km2a.dat")
    assert fp.sed_type_init == "e2dnde"
    assert_allclose(fp.e2dnde[0].to_value("TeV cm-2 s-1"), 6.7459273599999995e-12, rtol=1e-15)


@pytest.mark.requires_data
@pytest.mark.parametrize("suffix", ["fits", "ecsv"])
def test_read_photon_units(data_path, suffix):
    # units "ph / (cm2 MeV s)" as the Fermi-LAT tools write them: 'ph' counts, it is not a dimension;
    # first row of the file: e_ref 115.478198469 MeV, dnde 1.15069456054e-10 ph / (cm2 MeV s)
    fp = FluxPoints.read(data_path / "tests" / "spectrum" / "flux_points" / f"diff_flux_points.{suffix}")
    assert_allclose(fp.energy_ref[0].to_value("MeV"), 115.478198469, rtol=1e-12)
    assert_allclose(fp.dnde.ravel()[0].to_value("cm-2 s-1 TeV-1"), 1.15069456054e-10 * 1e6, rtol=1e-9)
    assert_allclose(fp.n_sigma_ul, 1.95996, rtol=1e-5)  # from UL_CONF 0.95
    integral = FluxPoints.read(data_path / "tests" / "spectrum" / "flux_points" / f"flux_points.{suffix}")
    assert integral.flux.unit.is_equivalent("cm-2 s-1")


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.fits"):
        FluxPoints.read(tmp_path / "nothere.fits")
