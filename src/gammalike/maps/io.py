"""FITS table formats of map axes (OGIP EBOUNDS, ARF, GADF-DL3, gadf BANDS, Fermi).

These helpers back `MapAxis.from_table` / `MapAxis.to_table` and
`MapAxes.from_table` / `MapAxes.to_table`.
"""
import numpy as np
import astropy.units as u
from astropy.io import fits
from astropy.table import Table

from .axes import (
    MapAxis, LabelMapAxis, _DL3_PREFIX_TO_NAME, _NAME_TO_DL3_PREFIX, _gadf_colnames,
)

__all__ = [
    "axis_from_table", "axis_to_table", "axis_to_table_hdu",
    "axes_from_bands_table", "axes_to_bands_table", "AXIS_FORMATS",
]

AXIS_FORMATS = (
    "ogip", "ogip-sherpa", "ogip-arf", "ogip-arf-sherpa", "gadf-dl3", "gadf",
    "fgst-ccube", "fgst-template",
)

_ENERGY_NAMES = ("energy", "energy_true")


def _column_quantity(table, name, default_unit="", what="table"):
    """Column as a float Quantity (unit from the column, else ``default_unit``)."""
    if name not in table.colnames:
        raise KeyError(f"{what}: column {name!r} not found (columns: {table.colnames})")
    col = table[name]
    unit = col.unit if col.unit is not None else default_unit
    return u.Quantity(np.asarray(col, dtype=float), unit)


def _edges_from_lo_hi(lo, hi):
    """Edges from lower and upper bounds; checks contiguity."""
    lo_v, hi_v = lo.value.ravel(), hi.to_value(lo.unit).ravel()
    if lo_v.size > 1 and not np.allclose(lo_v[1:], hi_v[:-1], rtol=1e-5):
        raise ValueError("axis table: bins are not contiguous (E_MAX[i] != E_MIN[i+1])")
    return u.Quantity(np.append(lo_v, hi_v[-1]), lo.unit)


def _table_name(table):
    return f"table {table.meta.get('EXTNAME', '')!r}".replace(" ''", "")


def axis_from_table(cls, table, format="ogip", idx=0, column_prefix=None):
    """Read a `MapAxis` from a table in one of `AXIS_FORMATS` (see `MapAxis.from_table`)."""
    what = _table_name(table)
    if format in ("ogip", "ogip-sherpa", "fgst-ccube"):
        lo = _column_quantity(table, "E_MIN", "keV", what)
        hi = _column_quantity(table, "E_MAX", "keV", what)
        edges = _edges_from_lo_hi(lo, hi).to("TeV")
        return cls.from_energy_edges(edges, name="energy")
    if format in ("ogip-arf", "ogip-arf-sherpa"):
        lo = _column_quantity(table, "ENERG_LO", "keV", what)
        hi = _column_quantity(table, "ENERG_HI", "keV", what)
        edges = _edges_from_lo_hi(lo, hi).to("TeV")
        return cls.from_energy_edges(edges, name="energy_true")
    if format == "gadf-dl3":
        if column_prefix is None:
            raise ValueError("MapAxis.from_table(format='gadf-dl3') needs column_prefix, e.g. 'ENERG'")
        prefix = column_prefix.upper()
        name = _DL3_PREFIX_TO_NAME.get(prefix, prefix.lower())
        lo_name, hi_name = f"{prefix}_LO", f"{prefix}_HI"
        if lo_name not in table.colnames and prefix in table.colnames:
            nodes = _column_quantity(table, prefix, "", what)
            nodes = nodes[idx].ravel() if nodes.ndim > 1 else nodes
            interp = "log" if name in _ENERGY_NAMES else "lin"
            return cls.from_nodes(nodes, name=name, interp=interp)
        lo = _column_quantity(table, lo_name, "", what)
        hi = _column_quantity(table, hi_name, "", what)
        if lo.ndim > 1:
            lo, hi = lo[idx].ravel(), hi[idx].ravel()
        interp = "log" if name in _ENERGY_NAMES else "lin"
        if np.allclose(lo.value, hi.to_value(lo.unit)):
            return cls.from_nodes(lo, name=name, interp=interp)
        return cls.from_edges(_edges_from_lo_hi(lo, hi), name=name, interp=interp)
    if format == "fgst-template":
        colname = next((c for c in table.colnames if c.upper() == "ENERGY"), None)
        if colname is None:
            raise KeyError(f"{what}: no ENERGY column for format 'fgst-template'")
        nodes = _column_quantity(table, colname, "MeV", what)
        return cls.from_nodes(nodes, name="energy_true", interp="log")
    if format == "gadf":
        return axes_from_bands_table(table)[idx]
    raise ValueError(f"MapAxis.from_table: unknown format {format!r}, expected one of {AXIS_FORMATS}")


def axis_to_table(axis, format="ogip"):
    """Table of the axis bounds in one of `AXIS_FORMATS`."""
    table = Table()
    if format in ("ogip", "ogip-sherpa", "fgst-ccube"):
        edges = axis.edges.to("keV")
        table["CHANNEL"] = np.arange(axis.nbin, dtype=np.int16)
        table["E_MIN"] = edges[:-1]
        table["E_MAX"] = edges[1:]
    elif format in ("ogip-arf", "ogip-arf-sherpa"):
        edges = axis.edges.to("keV")
        table["ENERG_LO"] = edges[:-1]
        table["ENERG_HI"] = edges[1:]
    elif format == "gadf-dl3":
        prefix = _NAME_TO_DL3_PREFIX.get(axis.name, axis.name.upper())
        if axis.node_type == "center":
            table[f"{prefix}_LO"] = axis.center[np.newaxis]
            table[f"{prefix}_HI"] = axis.center[np.newaxis]
        else:
            table[f"{prefix}_LO"] = axis.edges_min[np.newaxis]
            table[f"{prefix}_HI"] = axis.edges_max[np.newaxis]
    elif format == "gadf":
        return axes_to_bands_table([axis])
    elif format == "fgst-template":
        table["Energy"] = axis.center.to("MeV")
    else:
        raise ValueError(f"MapAxis.to_table: unknown format {format!r}, expected one of {AXIS_FORMATS}")
    return table


def axis_to_table_hdu(axis, format="ogip"):
    """BinTableHDU of `axis_to_table`, with the OGIP EBOUNDS keywords where relevant."""
    table = axis_to_table(axis, format=format)
    if format in ("ogip", "ogip-sherpa", "fgst-ccube"):
        hdu = fits.BinTableHDU(table, header=axis.to_header(format="ogip"), name="EBOUNDS")
    elif format == "fgst-template":
        hdu = fits.BinTableHDU(table, name="ENERGIES")
    else:
        hdu = fits.BinTableHDU(table)
    return hdu


# --------------------------------------------------------------------------- BANDS tables
def axes_to_bands_table(axes):
    """gadf map BANDS table of non-spatial axes.

    One row per combination of bins, the first axis varying fastest; columns
    CHANNEL, then per axis the centre and (for edge axes) the min/max columns.
    The ``AXCOLS{i}`` / ``INTERP{i}`` keywords in ``table.meta`` say which
    columns hold axis ``i``.
    """
    axes = list(axes)
    shape = [ax.nbin for ax in axes]
    table = Table()
    nrows = int(np.prod(shape)) if shape else 0
    table["CHANNEL"] = np.arange(nrows, dtype=np.int64)
    # Fortran order: first axis fastest, as in the files gammapy writes.
    idx = np.unravel_index(np.arange(nrows), shape, order="F") if shape else ()
    for i, (ax, ax_idx) in enumerate(zip(axes, idx)):
        if isinstance(ax, LabelMapAxis):
            colname = ax.name.upper()
            table[colname] = ax.center[ax_idx]
            table.meta[f"AXCOLS{i + 1}"] = colname
            table.meta[f"INTERP{i + 1}"] = "label"
            continue
        center, cmin, cmax = _gadf_colnames(ax)
        table[center] = ax.center[ax_idx]
        if ax.node_type == "edges":
            table[cmin] = ax.edges_min[ax_idx]
            table[cmax] = ax.edges_max[ax_idx]
            table.meta[f"AXCOLS{i + 1}"] = f"{cmin},{cmax}"
        else:
            table.meta[f"AXCOLS{i + 1}"] = center
        table.meta[f"INTERP{i + 1}"] = ax.interp
    return table


def _unique_in_order(values, n, stride):
    """Values of an axis column at the first row of each of its ``n`` bins."""
    return values[np.arange(n) * stride]


def axes_from_bands_table(table, header=None):
    """Axes (list of `MapAxis`) from a gadf BANDS table or a Fermi EBOUNDS/ENERGIES table."""
    meta = dict(table.meta)
    if header is not None:
        meta.update({k: header[k] for k in header if k.startswith(("AXCOLS", "INTERP"))})
    what = _table_name(table)
    if "AXCOLS1" not in meta:
        names = table.colnames
        if "E_MIN" in names and "E_MAX" in names:
            return [axis_from_table(MapAxis, table, format="fgst-ccube")]
        if any(c.upper() == "ENERGY" for c in names):
            return [axis_from_table(MapAxis, table, format="fgst-template")]
        raise ValueError(f"{what}: not a BANDS table (no AXCOLS1 keyword, no E_MIN/E_MAX columns)")

    naxes = 0
    while f"AXCOLS{naxes + 1}" in meta:
        naxes += 1
    nrows = len(table)
    axes, stride = [], 1
    for i in range(naxes):
        cols = [c.strip() for c in meta[f"AXCOLS{i + 1}"].split(",")]
        name = _axis_name_from_column(cols[0])
        # old files have no INTERPn keyword: energies are log-spaced
        interp = meta.get(f"INTERP{i + 1}", "log" if name in _ENERGY_NAMES else "lin")
        if interp == "label":
            values = np.asarray(table[cols[0]])
            # number of distinct labels = run length pattern: find first repeat
            n = _axis_length(values, stride, nrows)
            axes.append(LabelMapAxis(_unique_in_order(values, n, stride), name=name))
            stride *= n
            continue
        if len(cols) == 2:
            lo = _column_quantity(table, cols[0], "", what)
            hi = _column_quantity(table, cols[1], "", what)
            n = _axis_length(lo.value, stride, nrows)
            lo = _unique_in_order(lo, n, stride)
            hi = _unique_in_order(hi, n, stride)
            axis = MapAxis.from_edges(_edges_from_lo_hi(lo, hi), interp=interp, name=name)
        else:
            nodes = _column_quantity(table, cols[0], "", what)
            n = _axis_length(nodes.value, stride, nrows)
            axis = MapAxis.from_nodes(_unique_in_order(nodes, n, stride), interp=interp, name=name)
        axes.append(axis)
        stride *= n
    return axes


def _axis_length(values, stride, nrows):
    """Number of bins of an axis whose values repeat every ``stride`` rows."""
    sub = values[::stride]
    if len(sub) <= 1:
        return len(sub)
    # the axis cycles: its length is the first index where the first value recurs
    # after a change, or the full length.
    change = np.nonzero(sub == sub[0])[0]
    period = change[1] if len(change) > 1 else len(sub)
    return int(period)


def _axis_name_from_column(colname):
    """Axis name from a BANDS column name (E_MIN -> energy, ENERGY_TRUE_MIN -> energy_true)."""
    upper = colname.upper()
    if upper in ("E_MIN", "E_MAX", "ENERGY"):
        return "energy"
    for suffix in ("_MIN", "_MAX"):
        if upper.endswith(suffix):
            upper = upper[: -len(suffix)]
    return upper.lower()
