"""GADF "SED" tables of flux points: parsing, building, FITS and ECSV files.

Light curves use the "lightcurve" table format: one row per time bin with
``time_min`` / ``time_max`` (MJD, time scale in ``TIMESYS``, default TT),
then the columns of the "SED" format with one entry per energy bin (shape
``(n_time, n_energy[, ...])``; a single energy bin may also be given as
scalar columns).  Internally a light-curve table is turned into an "SED"
table with the time as a second axis and parsed the same way.

Reading checks the columns the sed type requires (GADF "SED Types"), the
units of every representation column, fills masked entries with NaN (False
for boolean columns) and keeps unknown columns (e.g. ``mask_fit``) so that
they are written back.  Writing picks FITS or ECSV from the file name and
goes through `~gammalike.utils.io.write_atomic`.
"""
import logging
import warnings

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from ...maps import MapAxis, TimeMapAxis
from ...utils import make_path, write_atomic
from .sed_type import (
    NORM_QUANTITIES,
    REQUIRED_COLUMNS,
    SED_TYPES,
    SED_UNITS,
    column_name,
    guess_sed_type,
    log_center,
    n_sigma_from_ul_conf,
    norm_quantity_name,
    ul_conf_from_n_sigma,
)

__all__ = [
    "read_flux_points_table",
    "write_flux_points_table",
    "flux_points_parts_from_table",
    "flux_points_to_table",
]

log = logging.getLogger(__name__)

FORMATS = ("gadf-sed", "lightcurve")
_ENERGY_COLUMNS = ("e_ref", "e_min", "e_max")
_REF_COLUMNS = {"ref_dnde": "dnde", "ref_flux": "flux", "ref_eflux": "eflux"}
# Header keywords written by gammalike (FITS keywords have <= 8 characters).
_META_KEYS = {
    "n_sigma": ("N_SIGMA", "n_sigma"),
    "n_sigma_ul": ("N_SIG_UL", "n_sigma_ul"),
    "sqrt_ts_threshold_ul": ("SQRTTSUL", "sqrt_ts_threshold_ul"),
}
# Structural keywords that must not be copied into the metadata.
_SKIP_META = {"EXTNAME", "SED_TYPE", "UL_CONF", "EXTVER", "HDUCLASS", "HDUCLAS1"}
# Column order of the "other" quantities in written tables.
_OTHER_ORDER = (
    "ts", "sqrt_ts", "npred", "npred_excess", "npred_excess_err", "npred_excess_errp",
    "npred_excess_errn", "npred_excess_ul", "stat", "stat_null", "is_ul", "counts",
    "success",
)
_SCAN_COLUMNS = ("stat_scan",)


def _check_format(format):
    if format not in FORMATS:
        raise ValueError(f"Unknown flux points format {format!r}: supported are {FORMATS}")


def _is_ecsv(path):
    if path.suffix.lower() == ".ecsv":
        return True
    if path.suffix.lower() in (".fits", ".fit", ".fts", ".gz"):
        return False
    with open(path, "rb") as fh:
        return fh.read(7) == b"# %ECSV"


def read_flux_points_table(filename, hdu=None):
    """Table (and GTI table, if any) of a flux points file.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        FITS or ECSV file (ECSV recognised by suffix or content).
    hdu : str or int, optional
        FITS HDU; default "FLUXPOINTS" if present, else the first table HDU.

    Returns
    -------
    table : `~astropy.table.Table`
        The table; ``table.meta["filename"]`` names the file for messages.
    gti : `~astropy.table.Table` or None
        The "GTI" HDU of a FITS file.
    """
    path = make_path(filename)
    if not path.exists():
        raise FileNotFoundError(f"Flux points file not found: {path}")
    if _is_ecsv(path):
        table = Table.read(path, format="ascii.ecsv")
        table.meta["filename"] = str(path)
        return table, None
    gti = None
    with fits.open(path, memmap=False) as hdulist:
        names = [h.name for h in hdulist]
        if hdu is None:
            if "FLUXPOINTS" in names:
                hdu = "FLUXPOINTS"
            else:
                tables = [i for i, h in enumerate(hdulist) if isinstance(h, fits.BinTableHDU)]
                if not tables:
                    raise ValueError(f"{path}: no table HDU found (HDUs: {names})")
                hdu = tables[0]
        try:
            table_hdu = hdulist[hdu]
        except KeyError:
            raise KeyError(f"{path}: HDU {hdu!r} not found (HDUs: {names})") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", u.UnitsWarning)
            table = Table.read(table_hdu)
        if "GTI" in names and hdulist["GTI"] is not table_hdu:
            gti = Table.read(hdulist["GTI"])
    table.meta["filename"] = f"{path}[{hdu}]" if not isinstance(hdu, int) or hdu != 1 else str(path)
    return table, gti


def write_flux_points_table(table, filename, gti=None, overwrite=False):
    """Write a flux points table to FITS or ECSV (chosen by the suffix).

    FITS files get a "FLUXPOINTS" table HDU (and "GTI" if given).
    """
    path = make_path(filename)
    is_ecsv = path.suffix.lower() == ".ecsv"
    with write_atomic(path, overwrite=overwrite) as tmp:
        if is_ecsv:
            table.write(tmp, format="ascii.ecsv")
        else:
            hdu = fits.table_to_hdu(table)
            hdu.name = "FLUXPOINTS"
            hdus = [fits.PrimaryHDU(), hdu]
            if gti is not None:
                gti_table = getattr(gti, "table", gti)
                gti_hdu = fits.table_to_hdu(Table(gti_table))
                gti_hdu.name = "GTI"
                hdus.append(gti_hdu)
            fits.HDUList(hdus).writeto(tmp)


# ---------------------------------------------------------------------------- parsing
def _column_values(table, name, dtype=float):
    """Plain array of a column: masked entries become NaN (False for booleans)."""
    col = table[name]
    data = col.data
    if dtype is bool:
        values = np.ma.filled(np.ma.asarray(data).astype(bool), False)
        return np.array(values, dtype=bool)
    if hasattr(data, "mask"):
        return np.array(np.ma.filled(np.ma.asarray(data).astype(float), np.nan), dtype=float)
    return np.array(data, dtype=float)


def _column_unit(table, name):
    unit = table[name].unit
    if unit is None:
        return None
    return _without_photons(u.Unit(unit))


def _without_photons(unit):
    """``unit`` with astropy's photon unit ``ph`` dropped.

    Fluxes count photons: "ph cm-2 s-1" (as the Fermi-LAT tools write) is
    "cm-2 s-1" here, but for astropy ``ph`` is a unit of its own.
    """
    power = dict(zip(unit.bases, unit.powers)).get(u.ph, 0)
    return unit / u.ph ** power if power else unit


def _energy_values(table, name, unit, where):
    values = _column_values(table, name)
    col_unit = _column_unit(table, name)
    if col_unit is None:
        raise ValueError(f"{where}: column {name!r} has no unit (expected an energy unit)")
    if not col_unit.is_equivalent(u.TeV):
        raise u.UnitConversionError(
            f"{where}: column {name!r} has unit '{col_unit}', expected an energy unit"
        )
    return values if col_unit == unit else (values * col_unit).to_value(unit)


def flux_points_parts_from_table(table, sed_type=None, format="gadf-sed", reference_model=None):
    """Parse a GADF "SED" table into the pieces `FluxPoints` is built from.

    Returns
    -------
    parts : dict
        "data", "energy_axis", "energy_ref", "sed_type", "meta",
        "reference_values", "energy_min"/"energy_max" (non-contiguous bins),
        "e_min_exact"/"e_max_exact", "other_units".
    """
    _check_format(format)
    time_axis = None
    if format == "lightcurve":
        table, time_axis = _light_curve_to_sed_table(table)
    meta = dict(table.meta)
    where = meta.pop("filename", "flux points table")
    colnames = list(table.colnames)
    sed_type = sed_type or meta.get("SED_TYPE") or guess_sed_type(colnames)
    if sed_type is None:
        raise ValueError(
            f"{where}: cannot tell the sed type: no SED_TYPE keyword and none of the columns "
            f"norm, dnde, e2dnde, flux, eflux (columns: {colnames})"
        )
    sed_type = str(sed_type).strip()
    if sed_type not in SED_TYPES:
        raise ValueError(f"{where}: unknown SED_TYPE {sed_type!r}, expected one of {SED_TYPES}")
    _check_required(where, colnames, sed_type, reference_model)

    # -- energies
    has_ref, has_bounds = "e_ref" in colnames, "e_min" in colnames and "e_max" in colnames
    unit = _column_unit(table, "e_ref" if has_ref else "e_min")
    if unit is None:
        raise ValueError(f"{where}: energy columns have no unit (expected an energy unit)")
    parts = {"energy_min": None, "energy_max": None}
    if has_bounds:
        e_min = _energy_values(table, "e_min", unit, where)
        e_max = _energy_values(table, "e_max", unit, where)
        e_ref = _energy_values(table, "e_ref", unit, where) if has_ref else log_center(e_min, e_max)
        contiguous = np.allclose(e_max[:-1], e_min[1:], rtol=1e-6, atol=0)
        if contiguous and np.all(e_max > e_min):
            axis = MapAxis.from_energy_edges(u.Quantity(np.append(e_min, e_max[-1]), unit))
            parts["e_min_exact"], parts["e_max_exact"] = e_min, e_max
        else:
            axis = MapAxis.from_nodes(u.Quantity(e_ref, unit), interp="log", name="energy")
            parts["energy_min"], parts["energy_max"] = e_min, e_max
    else:
        e_ref = _energy_values(table, "e_ref", unit, where)
        axis = MapAxis.from_nodes(u.Quantity(e_ref, unit), interp="log", name="energy")
    parts["energy_axis"] = axis
    parts["energy_ref"] = u.Quantity(e_ref, unit)

    # -- norm-like columns of the representation, reference values, other columns
    data, other_units, reference_values = {}, {}, {}
    main = column_name("norm", sed_type)
    main_unit = _representation_unit(table, main, sed_type, where)
    for name in colnames:
        if name in _ENERGY_COLUMNS:
            continue
        quantity = norm_quantity_name(name, sed_type)
        if quantity is not None:
            col_unit = _representation_unit(table, name, sed_type, where)
            values = _column_values(table, name)
            if col_unit != main_unit:
                values = (values * col_unit).to_value(main_unit)
            data[quantity] = u.Quantity(values, main_unit, copy=False)
        elif name in _REF_COLUMNS:
            key = _REF_COLUMNS[name]
            col_unit = _column_unit(table, name)
            if col_unit is None or not col_unit.is_equivalent(SED_UNITS[key]):
                raise u.UnitConversionError(
                    f"{where}: column {name!r} has unit '{col_unit}', expected a unit "
                    f"convertible to '{SED_UNITS[key]}'"
                )
            reference_values[key] = u.Quantity(_column_values(table, name), col_unit)
        elif _is_other_representation(name, sed_type):
            # e.g. "dnde" columns next to "norm": derivable, not stored twice.
            log.debug("%s: ignoring column %r (derived from %r)", where, name, main)
        else:
            is_bool = table[name].dtype == bool or name in ("is_ul", "success")
            data[name] = _column_values(table, name, dtype=bool if is_bool else float) \
                if table[name].dtype.kind in "biuf" else np.array(table[name])
            col_unit = _column_unit(table, name)
            if col_unit is not None and col_unit != u.dimensionless_unscaled:
                other_units[name] = col_unit
    parts["data"] = data
    parts["other_units"] = other_units
    parts["reference_values"] = reference_values or None
    parts["sed_type"] = sed_type
    parts["meta"] = _meta_from_table(meta)
    parts["time_axis"] = time_axis
    return parts


_TIME_META = ("MJDREFI", "MJDREFF", "MJDREF", "TIMESYS", "TIMEUNIT", "TIMEREF")


def _light_curve_to_sed_table(table):
    """An "SED" table (rows: energy bins, time as the second axis) and the time axis.

    Parameters
    ----------
    table : `~astropy.table.Table`
        "lightcurve" table: one row per time bin.

    Returns
    -------
    sed_table : `~astropy.table.Table`
    time_axis : `~gammalike.maps.TimeMapAxis`
    """
    where = table.meta.get("filename", "light curve table")
    time_axis = TimeMapAxis.from_table(table, format="lightcurve")
    ntime = len(table)
    energy_col = "e_ref" if "e_ref" in table.colnames else "e_min"
    if energy_col not in table.colnames:
        raise ValueError(f"{where}: light curve needs energy columns e_ref or e_min/e_max "
                         f"(columns: {table.colnames})")
    energy = np.asarray(table[energy_col])
    nenergy = 1 if energy.ndim == 1 else energy.shape[1]
    sed = Table()
    for name in table.colnames:
        if name in ("time_min", "time_max"):
            continue
        col = table[name]
        data = col.data
        if np.ma.isMaskedArray(data) or hasattr(data, "mask"):
            fill = False if data.dtype == bool else np.nan
            data = np.ma.filled(np.ma.asarray(data).astype(data.dtype if fill is False else float), fill)
        data = np.asarray(data)
        if data.ndim == 1:
            data = data[:, None]  # scalar columns: one energy bin
        if data.shape[:2] != (ntime, nenergy):
            raise ValueError(
                f"{where}: column {name!r} has shape {data.shape}, expected ({ntime}, {nenergy}, ...) "
                "(time bins, energy bins)"
            )
        if name in _ENERGY_COLUMNS:
            if not np.allclose(data, data[:1], rtol=1e-6, equal_nan=True):
                raise ValueError(f"{where}: column {name!r} differs between time bins; "
                                 "a light curve needs the same energy bins in every row")
            values = data[0]
        elif name in _REF_COLUMNS:
            values = data[0]
        else:
            values = np.moveaxis(data, 0, 1)  # (energy, time, ...)
        sed[name] = u.Quantity(values, col.unit) if col.unit is not None else values
    sed.meta.update({k: v for k, v in table.meta.items() if k not in _TIME_META})
    return sed, time_axis


def _check_required(where, colnames, sed_type, reference_model):
    required = list(REQUIRED_COLUMNS[sed_type])
    if sed_type == "likelihood":
        required = ["norm"]
        if reference_model is None:
            required.append("ref_dnde")
        if "e_ref" not in colnames:
            required += ["e_min", "e_max"]
    missing = [name for name in required if name not in colnames]
    if sed_type in ("dnde", "e2dnde") and missing == ["e_ref"] and \
            "e_min" in colnames and "e_max" in colnames:
        missing = []  # e_ref defaults to the log bin centre
    if missing:
        raise ValueError(
            f"{where}: SED_TYPE {sed_type!r} requires column(s) {missing} "
            f"(columns present: {colnames})"
        )


def _representation_unit(table, name, sed_type, where):
    unit = _column_unit(table, name)
    expected = SED_UNITS[sed_type]
    if unit is None:
        if sed_type != "likelihood":
            warnings.warn(
                f"{where}: column {name!r} has no unit, assuming '{expected}'", UserWarning
            )
        return expected
    if not unit.is_equivalent(expected):
        raise u.UnitConversionError(
            f"{where}: column {name!r} has unit '{unit}', expected a unit convertible "
            f"to '{expected}'"
        )
    return unit


def _is_other_representation(name, sed_type):
    return any(
        norm_quantity_name(name, other) is not None for other in SED_TYPES if other != sed_type
    )


def _meta_from_table(meta):
    result = {}
    for key, names in _META_KEYS.items():
        for name in names:
            if name in meta:
                result[key] = float(meta[name])
                break
    if "n_sigma_ul" not in result and "UL_CONF" in meta:
        result["n_sigma_ul"] = round(n_sigma_from_ul_conf(meta["UL_CONF"]), 6)
    known = {n for names in _META_KEYS.values() for n in names} | _SKIP_META
    for key, value in meta.items():
        if key not in known and not key.startswith(("TTYPE", "TFORM", "TUNIT")):
            result[key] = value
    return result


# ---------------------------------------------------------------------------- writing
def flux_points_to_table(flux_points, sed_type, format="gadf-sed", formatted=False):
    """Table of `FluxPoints` in a representation (see `FluxPoints.to_table`)."""
    _check_format(format)
    fp = flux_points
    if format == "lightcurve" and fp.time_axis is None:
        raise ValueError("FluxPoints.to_table: format 'lightcurve' needs flux points with a time axis")
    if format == "gadf-sed" and fp.time_axis is not None:
        raise ValueError("FluxPoints.to_table: flux points with a time axis are written in the "
                         "'lightcurve' format")
    table = Table()
    unit = fp._energy_unit
    table["e_ref"] = u.Quantity(fp._e_ref, unit)
    write_bounds = fp.has_energy_bounds or sed_type in ("flux", "eflux", "likelihood")
    if write_bounds:
        table["e_min"] = u.Quantity(fp._e_min, unit)
        table["e_max"] = u.Quantity(fp._e_max, unit)
    if sed_type == "likelihood":
        for name, key in _REF_COLUMNS.items():
            table[name] = u.Quantity(fp._ref[key], SED_UNITS[key])
    if sed_type in ("flux", "eflux") or (sed_type == "likelihood" and fp._base in ("flux", "eflux")):
        if not fp.has_energy_bounds:
            log.warning("Flux points without energy bounds: %s uses interpolated bin bounds", sed_type)
    for quantity in NORM_QUANTITIES:
        if quantity not in fp._norm or quantity == "norm_scan":
            continue
        table[column_name(quantity, sed_type)] = _norm_column(fp, quantity, sed_type)
    others = list(fp._other)
    order = [n for n in _OTHER_ORDER if n in others or n == "is_ul"]
    order += [n for n in others if n not in order and n not in _SCAN_COLUMNS]
    for name in order:
        if name == "is_ul":
            if "is_ul" in fp._other or "norm_ul" in fp._norm:
                table["is_ul"] = fp.is_ul
            continue
        table[name] = _other_column(fp, name)
    for name in _SCAN_COLUMNS:
        if name in fp._other:
            table[name] = _other_column(fp, name)
    if "norm_scan" in fp._norm:
        table[column_name("norm_scan", sed_type)] = _norm_column(fp, "norm_scan", sed_type)
    table.meta.update(_meta_to_table(fp, sed_type))
    if format == "lightcurve":
        table = _sed_to_light_curve_table(table, fp.time_axis)
    if formatted:
        _format_columns(table)
    return table


def _sed_to_light_curve_table(sed, time_axis):
    """Rows per time bin from an "SED" table whose columns have the time as second axis."""
    table = time_axis.to_table(format="lightcurve")
    ntime = time_axis.nbin
    for name in sed.colnames:
        col = sed[name]
        data = np.asarray(col)
        if name in _ENERGY_COLUMNS or name in _REF_COLUMNS:
            values = np.broadcast_to(data[None, :], (ntime,) + data.shape).copy()
        else:
            values = np.moveaxis(data, 1, 0)  # (time, energy, ...)
        table[name] = u.Quantity(values, col.unit) if col.unit is not None else values
    meta = dict(sed.meta)
    meta.update(table.meta)
    table.meta = meta
    return table


def _norm_column(fp, quantity, sed_type):
    if sed_type == fp._base:
        # Base representation: the stored numbers in the unit they came in.
        values = fp._norm[quantity]
        if sed_type == "likelihood":
            return values.copy()
        return u.Quantity(values, fp._base_unit)
    values = fp._get(quantity, sed_type)
    return values if sed_type == "likelihood" else u.Quantity(values, SED_UNITS[sed_type])


def _other_column(fp, name):
    values = fp._other[name]
    unit = fp._other_units.get(name)
    return u.Quantity(values, unit) if unit is not None else values.copy()


def _meta_to_table(fp, sed_type):
    meta = {"SED_TYPE": sed_type, "UL_CONF": ul_conf_from_n_sigma(fp.n_sigma_ul)}
    meta["N_SIGMA"] = fp.n_sigma
    meta["N_SIG_UL"] = fp.n_sigma_ul
    meta["SQRTTSUL"] = fp.sqrt_ts_threshold_ul
    for key, value in fp.meta.items():
        if isinstance(value, (str, int, float, bool, np.integer, np.floating, np.bool_)):
            meta.setdefault(key, value)
    return meta


def _format_columns(table):
    for name in table.colnames:
        if table[name].dtype.kind == "f":
            table[name].format = ".3f" if name.startswith("e_") else ".3e"
