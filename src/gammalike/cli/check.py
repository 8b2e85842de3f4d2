"""``gammalike check DATASTORE``: validate a DL3 data store, one line per problem.

The structural checks are `DataStore.check` (index tables, every referenced
file, every observation's HDUs loading); this module adds the units check:
each HDU referenced by the index is opened (once per file) and the units of
its columns must parse and have the physical type GADF prescribes.
"""
from astropy import units as u
from astropy.io import fits

from ..data import DataStore
from ..utils.paths import make_path

__all__ = ["open_datastore", "check_datastore", "format_problem", "CHECKS"]

CHECKS = ("obs_table", "hdu_table", "observations", "units")

# GADF columns whose unit must convert to the given one, per HDU class
_EXPECTED_UNITS = {
    "events": {"TIME": "s", "RA": "deg", "DEC": "deg", "ENERGY": "TeV"},
    "gti": {"START": "s", "STOP": "s"},
    "aeff_2d": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
                "EFFAREA": "m2"},
    "edisp_2d": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
                 "MIGRA_LO": "", "MIGRA_HI": ""},
    "psf_table": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
                  "RAD_LO": "deg", "RAD_HI": "deg", "RPSF": "sr-1"},
    "psf_3gauss": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
                   "SIGMA_1": "deg", "SIGMA_2": "deg", "SIGMA_3": "deg"},
    "psf_king": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
                 "SIGMA": "deg"},
    "bkg_2d": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
               "BKG": "s-1 TeV-1 sr-1"},
    "bkg_3d": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "DETX_LO": "deg", "DETX_HI": "deg",
               "DETY_LO": "deg", "DETY_HI": "deg", "BKG": "s-1 TeV-1 sr-1"},
    "rad_max_2d": {"ENERG_LO": "TeV", "ENERG_HI": "TeV", "THETA_LO": "deg", "THETA_HI": "deg",
                   "RAD_MAX": "deg"},
}


def open_datastore(path):
    """`DataStore` from a folder (index tables inside) or a FITS file holding both index tables."""
    path = make_path(path)
    if path.is_dir():
        return DataStore.from_dir(path)
    if path.is_file():
        return DataStore.from_file(path)
    raise FileNotFoundError(f"{path}: data store not found (no such folder or file)")


def _column_units(header):
    """{column name: unit string} of a FITS binary-table header."""
    units = {}
    for idx in range(1, int(header.get("TFIELDS", 0)) + 1):
        name = str(header.get(f"TTYPE{idx}", "")).strip()
        unit = header.get(f"TUNIT{idx}")
        if name:
            units[name.upper()] = None if unit is None else str(unit).strip()
    return units


def _check_units(datastore):
    """Problems with the column units of every HDU in the index (files opened once each)."""
    table = datastore.hdu_table
    by_file = {}
    for row in range(len(table)):
        loc = table.location_info(row)
        by_file.setdefault(loc.path(), []).append(loc)
    for path, locations in by_file.items():
        if not path.is_file():
            continue  # reported by the hdu_table check
        try:
            hdulist = fits.open(path, memmap=True)
        except (OSError, ValueError) as exc:
            yield dict(level="error", obs_id=locations[0].obs_id, msg=f"{path}: cannot open ({exc})")
            continue
        with hdulist:
            for loc in locations:
                try:
                    header = hdulist[loc.hdu_name].header
                except (KeyError, IndexError):
                    yield dict(level="error", obs_id=loc.obs_id, hdu=loc.hdu_type,
                               msg=f"{path}: no HDU {loc.hdu_name!r}")
                    continue
                except (OSError, ValueError) as exc:
                    yield dict(level="error", obs_id=loc.obs_id, hdu=loc.hdu_type,
                               msg=f"{path}[{loc.hdu_name}]: unreadable ({exc})")
                    continue
                yield from _check_header_units(header, loc, path)


def _check_header_units(header, loc, path):
    expected = _EXPECTED_UNITS.get(loc.hdu_class, {})
    units = _column_units(header)
    for column, text in units.items():
        where = f"{path.name}[{loc.hdu_name}] column {column}"
        if text is None or text == "":
            if expected.get(column):
                yield dict(level="warning", obs_id=loc.obs_id, hdu=loc.hdu_type,
                           msg=f"{where}: no unit, expected {expected[column]}")
            continue
        try:
            unit = u.Unit(text, format="fits", parse_strict="raise")
        except ValueError:
            try:
                unit = u.Unit(text, parse_strict="raise")
            except ValueError:
                yield dict(level="warning", obs_id=loc.obs_id, hdu=loc.hdu_type,
                           msg=f"{where}: invalid unit {text!r}")
                continue
        target = expected.get(column)
        if target is not None and not unit.is_equivalent(u.Unit(target)):
            yield dict(level="error", obs_id=loc.obs_id, hdu=loc.hdu_type,
                       msg=f"{where}: unit {text!r} does not convert to {target or 'dimensionless'}")


def check_datastore(datastore, checks=CHECKS):
    """Yield the problems of a data store (dicts with level, obs_id, msg and optionally hdu)."""
    checks = list(checks)
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}, expected some of {list(CHECKS)}")
    structural = [c for c in checks if c != "units"]
    if structural:
        yield from datastore.check(checks=structural)
    if "units" in checks:
        yield from _check_units(datastore)


def format_problem(problem):
    """One line: ``LEVEL   obs 23523 [aeff] message``."""
    level = str(problem.get("level", "error")).upper()
    parts = [f"{level:<7}"]
    if problem.get("obs_id") is not None:
        parts.append(f"obs {problem['obs_id']}")
    if problem.get("hdu"):
        parts.append(f"[{problem['hdu']}]")
    parts.append(str(problem.get("msg", "")))
    return " ".join(parts)
