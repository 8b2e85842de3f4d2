"""IRF base class: axes + data + unit, GADF table I/O and vectorized interpolation.

Conventions
-----------
* ``irf.data`` has the shape ``irf.axes.shape`` (axes in the order of
  ``required_axes``, e.g. ``[energy_true, offset]`` for the effective area).
  The FITS cell of a GADF table stores the array in *reversed column order*
  (FITS is Fortran ordered): for columns ``ENERG_*, THETA_*`` the numpy cell
  has shape ``(n_theta, n_energy)``. Reading uses the order in which the
  ``*_LO`` columns appear in the table, so files written with a different
  column order (e.g. BKG ``DETX, DETY, ENERG`` vs ``ENERG, DETX, DETY``) load
  correctly.
* Interpolation is multi-linear on the axis nodes (bin centres) in each axis'
  interpolation space (log for energy, lin for offset / migra / rad / fov),
  optionally on the log of the values (background). Between the outermost
  node and the outermost bin edge the line through the two outer nodes is
  continued (as the reference implementation does: its CTA 1DC exposure
  within 0.5 deg of the pointing, below the first offset node, is reproduced
  to 1e-7, clamping was 0.35 % low), never below zero for linear values;
  coordinates outside the axis bounds get ``fill_value`` (0 by default).
  With ``fill_value=None`` coordinates are clamped to the outer nodes.
"""
import gzip
import io
import logging
import warnings
import zlib
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np
import astropy.units as u
from astropy.io import fits
from astropy.table import Column, Table

from gammalike.maps import MapAxis, MapAxes

from .fits_table import FitsFile
from gammalike.utils.io import write_atomic
from gammalike.utils.paths import make_path

__all__ = [
    "IRF", "GridInterpolator", "NodeAxis", "read_table_hdu", "open_fits", "integrate_log_log",
    "parse_unit",
]

log = logging.getLogger(__name__)

# GADF column prefixes -> axis names (energy is resolved per IRF class)
_PREFIX_TO_AXIS = {
    "ENERG": "energy",
    "ETRUE": "energy",
    "THETA": "offset",
    "MIGRA": "migra",
    "RAD": "rad",
    "DETX": "fov_lon",
    "DETY": "fov_lat",
}
_AXIS_TO_PREFIX = {
    "energy": "ENERG",
    "energy_true": "ENERG",
    "offset": "THETA",
    "migra": "MIGRA",
    "rad": "RAD",
    "fov_lon": "DETX",
    "fov_lat": "DETY",
}

# header keywords that describe the table structure (not copied into meta)
_STRUCTURAL_KEYS = {
    "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "TFIELDS",
    "EXTNAME", "CHECKSUM", "DATASUM", "COMMENT", "HISTORY", "",
}
_STRUCTURAL_PREFIXES = ("TTYPE", "TFORM", "TUNIT", "TDIM", "CREF", "TNULL", "TSCAL", "TZERO", "TDISP")

# internal fixed units of IRF coordinates
_AXIS_UNITS = {
    "energy": u.TeV, "energy_true": u.TeV, "offset": u.deg, "rad": u.deg,
    "fov_lon": u.deg, "fov_lat": u.deg, "migra": u.one,
}


# ----------------------------------------------------------------------------- FITS helpers
_READ_ERRORS = (OSError, EOFError, zlib.error, ValueError, IndexError, TypeError, gzip.BadGzipFile)

# Decompressed bytes of the most recently read files: a DL3 file holds events, GTI and
# all IRFs of a run, which are loaded one by one; decompressing it once saves most of
# the reading time. Small (a few files, bounded size) and keyed on mtime / size.
_FILE_CACHE = OrderedDict()
_FILE_CACHE_MAX_FILES = 4
_FILE_CACHE_MAX_BYTES = 256 * 1024 ** 2


@contextmanager
def _reading(path):
    """Turn low-level read failures (truncated / corrupt files) into OSError naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*truncated.*")
            yield
    except FileNotFoundError:
        raise
    except _READ_ERRORS + (Warning,) as exc:
        raise OSError(f"{path}: cannot read FITS file (truncated or corrupt?): {exc}") from exc


def _cached_file(path):
    """`FitsFile` of a (possibly gzip-compressed) file read into memory, cached for the last few files."""
    stat = path.stat()
    key = str(path)
    entry = _FILE_CACHE.get(key)
    if entry is not None and entry[0] == (stat.st_mtime_ns, stat.st_size):
        _FILE_CACHE.move_to_end(key)
        return entry[2]
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    fits_file = FitsFile(raw, path=str(path))
    if len(raw) <= _FILE_CACHE_MAX_BYTES:
        _FILE_CACHE[key] = ((stat.st_mtime_ns, stat.st_size), len(raw), fits_file)
        total = sum(v[1] for v in _FILE_CACHE.values())
        while len(_FILE_CACHE) > _FILE_CACHE_MAX_FILES or total > _FILE_CACHE_MAX_BYTES:
            _, (_, size, _) = _FILE_CACHE.popitem(last=False)
            total -= size
    return fits_file


def clear_file_cache():
    """Forget the files kept in memory by the FITS readers."""
    _FILE_CACHE.clear()


def _checked_path(filename):
    path = make_path(filename)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    return path


def fits_file(filename):
    """In-memory `FitsFile` of a FITS file (cached), errors naming the file."""
    path = _checked_path(filename)
    with _reading(path):
        return _cached_file(path)


def hdu_names(filename):
    """Names of the HDUs of a FITS file."""
    return fits_file(filename).names


def read_header(filename, hdu):
    """Header keywords (dict) of one HDU of a FITS file."""
    path = _checked_path(filename)
    with _reading(path):
        return dict(_cached_file(path).header(_cached_file(path).index(hdu)))


def open_fits(filename):
    """Open a FITS file with astropy (a fresh in-memory HDUList the caller may close).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    OSError
        If the file cannot be read as FITS (e.g. truncated).
    """
    path = _checked_path(filename)
    with _reading(path):
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return fits.open(io.BytesIO(raw), memmap=False)


def _get_hdu(hdulist, hdu, path):
    try:
        return hdulist[hdu]
    except (KeyError, IndexError):
        names = [h.name for h in hdulist]
        raise KeyError(f"{path}: no HDU {hdu!r} (HDUs in file: {names})") from None


def read_table_hdu(filename, hdu):
    """Read a binary table HDU of a FITS file.

    Parameters
    ----------
    filename : str or `~pathlib.Path`
        FITS file (``$GAMMAPY_DATA`` style variables are expanded).
    hdu : str or int
        HDU name or index.

    Returns
    -------
    table : `~astropy.table.Table`
        Table; column units are parsed leniently (unparsable units become
        `~astropy.units.UnrecognizedUnit`), the header is in ``table.meta``.

    Raises
    ------
    FileNotFoundError, KeyError, OSError
        Missing file, missing HDU, unreadable (e.g. truncated) file.
    """
    path = _checked_path(filename)
    with _reading(path):
        ff = _cached_file(path)
        idx = ff.index(hdu)
        table = ff.table(idx)
    table.meta = {
        k: v for k, v in table.meta.items()
        if k not in _STRUCTURAL_KEYS and not k.startswith(_STRUCTURAL_PREFIXES)
    }
    table.meta["EXTNAME"] = ff.names[idx]
    return table


def _native(array):
    if array.dtype.kind in "biufc" and not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def table_from_hdu(hdu):
    """`~astropy.table.Table` from a BinTableHDU (quietly accepting invalid units).

    Faster than ``Table.read`` for the few-column DL3 tables: columns are taken
    from the FITS record array directly (native byte order).
    """
    data = hdu.data
    columns = []
    for col in hdu.columns:
        values = np.asarray(data[col.name]) if data is not None else np.zeros(0)
        unit = None
        if col.unit:
            unit = u.Unit(col.unit, format="fits", parse_strict="silent")
            if isinstance(unit, u.UnrecognizedUnit):
                unit = parse_unit(col.unit) or unit
        columns.append(Column(_native(values), name=col.name, unit=unit))
    header = hdu.header
    meta = {key: header[key] for key in header if key not in ("COMMENT", "HISTORY", "")}
    meta = {k: v for k, v in meta.items() if k not in _STRUCTURAL_KEYS and not k.startswith(_STRUCTURAL_PREFIXES)}
    meta["EXTNAME"] = hdu.name
    return Table(columns, meta=meta, copy=None)


def parse_unit(unit, default=None):
    """A `~astropy.units.Unit` from a column unit, tolerant of common non-FITS spellings.

    Returns ``default`` when the unit cannot be understood.
    """
    if unit is None:
        return u.one if default is None else u.Unit(default)
    if isinstance(unit, u.UnrecognizedUnit):
        unit = unit.name
    if isinstance(unit, u.UnitBase):
        return unit
    text = str(unit).strip()
    if text == "":
        return u.one
    for fmt in ("fits", "generic"):
        try:
            return u.Unit(text, format=fmt)
        except ValueError:
            continue
    return None if default is None else u.Unit(default)


def _header_meta(header):
    """Non-structural header keywords as a plain dict."""
    return {
        key: header[key] for key in header
        if key not in _STRUCTURAL_KEYS and not key.startswith(_STRUCTURAL_PREFIXES)
    }


# ----------------------------------------------------------------------------- interpolation
def _forward(values, interp):
    with np.errstate(divide="ignore", invalid="ignore"):
        if interp == "log":
            return np.log(values)
        if interp == "sqrt":
            return np.sqrt(values)
    return values


class NodeAxis:
    """An IRF axis reduced to what interpolation along it needs: its nodes (bin
    centres, in the axis' interpolation space) and its bounds (the outer edges)."""

    def __init__(self, axis):
        self.interp = axis.interp
        self.nodes = _forward(axis._center, axis.interp)
        edges = axis._edges if axis.node_type == "edges" else axis._center
        self.lo, self.hi = min(edges[0], edges[-1]), max(edges[0], edges[-1])

    def weights(self, x, clamp=False):
        """Lower node index, weight of the upper node and validity of positions ``x``.

        Linear in the interpolation space between the nodes and, up to the
        edges, continued from the outer two nodes (``clamp``: held at the outer
        nodes everywhere).  Positions beyond the edges are invalid (weight 0
        unless ``clamp``); a single-node axis is valid everywhere.
        """
        x = np.asarray(x, dtype=float)
        n = self.nodes.size
        if n == 1:
            return np.zeros(x.shape, dtype=int), np.zeros(x.shape), np.ones(x.shape, dtype=bool)
        tol = 1e-9 * max(abs(self.lo), abs(self.hi), 1e-12)
        with np.errstate(invalid="ignore"):
            valid = (x >= self.lo - tol) & (x <= self.hi + tol)
        xf = _forward(x, self.interp)
        idx = np.clip(np.searchsorted(self.nodes, xf, side="right") - 1, 0, n - 2)
        x0, x1 = self.nodes[idx], self.nodes[idx + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (xf - x0) / (x1 - x0)
        t = np.clip(t, 0.0, 1.0) if clamp else np.where(valid, t, 0.0)
        return idx, np.where(np.isfinite(t), t, 0.0), valid


class GridInterpolator:
    """Vectorized multi-linear interpolation on the nodes of a set of `MapAxis`.

    Parameters
    ----------
    axes : list of `MapAxis`
        Axes; interpolation along each axis happens in its ``interp`` space on
        the bin centres.
    values : `~numpy.ndarray`
        Values of shape ``[ax.nbin for ax in axes]``.
    value_scale : {"lin", "log"}
        Interpolate the values linearly or their logarithm.
    fill_value : float or None
        Value for coordinates outside the axis bounds (between the outer node
        and the edge the outer two nodes are extrapolated); None clamps every
        coordinate to the outermost nodes instead.
    """

    def __init__(self, axes, values, value_scale="lin", fill_value=0.0):
        values = np.asarray(values, dtype=float)
        shape = tuple(ax.nbin for ax in axes)
        if values.shape != shape:
            raise ValueError(f"GridInterpolator: values shape {values.shape} != axes shape {shape}")
        self.value_scale = value_scale
        self.fill_value = fill_value
        self._axes = [NodeAxis(ax) for ax in axes]
        if value_scale == "log":
            tiny = np.finfo(float).tiny
            self._values = np.log(np.clip(values, tiny, None))
            self._zero = np.log(tiny)
        else:
            self._values = values

    def __call__(self, coords):
        """Interpolate at ``coords`` (list of float arrays in axis units, broadcastable)."""
        # Each axis works on its own (unbroadcast) coordinates: an IRF evaluated on
        # energies (n, 1, 1) x an image (1, ny, nx) locates n + ny nx values, not 3 n ny nx.
        coords = [np.asarray(c, dtype=float) for c in coords]
        shape = np.broadcast_shapes(*(c.shape for c in coords))
        clamp = self.fill_value is None
        valid = np.ones((), dtype=bool)
        lower, weights = [], []
        for x, axis in zip(coords, self._axes):
            idx, t, axis_valid = axis.weights(x, clamp=clamp)
            valid = valid & axis_valid
            lower.append(idx)
            weights.append(t)

        ndim = len(coords)
        result = np.zeros(shape)
        # loop over the 2**ndim corners of the cell (ndim <= 3), not over points;
        # the index arrays broadcast against each other in the gather
        for corner in range(2 ** ndim):
            w = np.ones(())
            index = []
            for dim in range(ndim):
                upper = (corner >> dim) & 1
                t = weights[dim]
                if upper:
                    if self._axes[dim].nodes.size == 1:
                        w = None
                        break
                    w = w * t
                    index.append(lower[dim] + 1)
                else:
                    w = w * (1.0 - t)
                    index.append(lower[dim])
            if w is None:
                continue
            result += w * self._values[tuple(index)]

        if self.value_scale == "log":
            result = np.where(result <= self._zero * 0.5, 0.0, np.exp(result))
        elif self.fill_value is not None:
            result = np.clip(result, 0.0, None)
        if self.fill_value is not None:
            result = np.where(valid, result, self.fill_value)
        return result


def integrate_log_log(x_lo, x_hi, y_lo, y_hi):
    """Integral of a power law through (x_lo, y_lo) and (x_hi, y_hi) from x_lo to x_hi.

    Closed form; falls back to the trapezoid rule where a value is zero or
    negative (a power law cannot pass through it).
    """
    x_lo, x_hi, y_lo, y_hi = np.broadcast_arrays(
        *[np.asarray(a, dtype=float) for a in (x_lo, x_hi, y_lo, y_hi)]
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = x_hi / x_lo
        index = np.log(y_hi / y_lo) / np.log(ratio)
        gp1 = index + 1.0
        powerlaw = np.where(
            np.abs(gp1) > 1e-10,
            y_lo * x_lo / gp1 * (ratio ** gp1 - 1.0),
            y_lo * x_lo * np.log(ratio),
        )
        trapezoid = 0.5 * (y_lo + y_hi) * (x_hi - x_lo)
    ok = (y_lo > 0) & (y_hi > 0) & np.isfinite(powerlaw)
    return np.where(ok, powerlaw, trapezoid)


# ----------------------------------------------------------------------------- IRF base
def _get_ax(ax):
    import matplotlib.pyplot as plt

    return plt.gca() if ax is None else ax


class IRF:
    """Base class of the instrument response functions.

    Parameters
    ----------
    axes : list of `MapAxis` or `MapAxes`
        Axes, named as ``required_axes`` (in that order).
    data : `~numpy.ndarray` or `~astropy.units.Quantity`
        Values of shape ``axes.shape``.
    unit : str or `~astropy.units.Unit`
        Unit of the data (ignored if ``data`` is a Quantity).
    is_pointlike : bool
        Point-like IRF (computed inside a directional cut, see `RadMax2D`).
    fov_alignment : `FoVAlignment`
        Alignment of field-of-view coordinates (background only).
    meta : dict
        Header keywords.
    interp_kwargs : dict
        ``value_scale`` ("lin" / "log") and ``fill_value`` for `GridInterpolator`.
    """

    tag = None
    required_axes = ()
    default_unit = u.one
    _data_columns = ()
    _hduclas2 = None
    _hduclas4 = None
    _default_hdu = None
    default_interp_kwargs = dict(value_scale="lin", fill_value=0.0)

    def __init__(self, axes, data=0, unit="", is_pointlike=False, fov_alignment=None,
                 meta=None, interp_kwargs=None):
        axes = MapAxes.from_default(axes)
        axes = MapAxes(list(axes))
        axes.assert_names(self.required_axes)
        self._axes = axes
        if isinstance(data, u.Quantity):
            unit = data.unit
            data = data.value
        self._unit = u.one if unit is None else u.Unit(unit)
        self.data = data
        self.is_pointlike = bool(is_pointlike)
        self.meta = dict(meta or {})
        from .background import FoVAlignment  # local: background imports this module

        self.fov_alignment = FoVAlignment(fov_alignment or FoVAlignment.RADEC)
        kwargs = dict(self.default_interp_kwargs)
        kwargs.update(interp_kwargs or {})
        self.interp_kwargs = kwargs

    # ------------------------------------------------------------------ data
    @property
    def axes(self):
        """`MapAxes` of the IRF."""
        return self._axes

    @property
    def unit(self):
        """Unit of the data."""
        return self._unit

    @property
    def data(self):
        """Data array (float64, shape ``axes.shape``)."""
        return self._data

    @data.setter
    def data(self, value):
        if isinstance(value, u.Quantity):
            value = value.to_value(self._unit)
        value = np.asarray(value, dtype=float)
        shape = self._axes.shape
        if value.ndim == 0:
            value = np.full(shape, float(value))
        if value.shape != shape:
            raise ValueError(
                f"{type(self).__name__}: data shape {value.shape} does not match axes "
                f"{self._axes.names} of shape {shape}"
            )
        self._data = value
        self._interpolator = None

    @property
    def quantity(self):
        """Data as a `~astropy.units.Quantity`."""
        return u.Quantity(self._data, self._unit, copy=None)

    @quantity.setter
    def quantity(self, value):
        value = u.Quantity(value)
        self._unit = value.unit
        self.data = value.value

    # ------------------------------------------------------------------ evaluation
    def _get_interpolator(self):
        if self._interpolator is None:
            self._interpolator = GridInterpolator(
                list(self._axes), self._data,
                value_scale=self.interp_kwargs.get("value_scale", "lin"),
                fill_value=self.interp_kwargs.get("fill_value", 0.0),
            )
        return self._interpolator

    def _coord_arrays(self, kwargs):
        """Float coordinate arrays (axis units) for every axis; missing ones default to the centres."""
        unknown = set(kwargs) - set(self.required_axes) - {"method"}
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.evaluate: unknown coordinates {sorted(unknown)}, "
                f"expected {list(self.required_axes)}"
            )
        coords = []
        n = len(self._axes)
        for idx, ax in enumerate(self._axes):
            value = kwargs.get(ax.name)
            if value is None:
                shape = [1] * n
                shape[idx] = ax.nbin
                coords.append(ax._center.reshape(shape))
                continue
            coords.append(_to_float(value, ax.unit, ax.name))
        return coords

    def evaluate_float(self, *coords):
        """Interpolate on float arrays given in the axis units, in ``required_axes`` order."""
        return self._get_interpolator()(coords)

    def evaluate(self, method=None, **kwargs):
        """Evaluate the IRF at the given coordinates (Quantities, broadcast together).

        Missing coordinates default to the axis centres (broadcastable in axes order).
        """
        coords = self._coord_arrays(kwargs)
        values = self._get_interpolator()(coords)
        return u.Quantity(values, self._unit, copy=None)

    def integrate_log_log(self, axis_name, **kwargs):
        """Integrate over bins of ``axis_name`` (edges given in ``kwargs[axis_name]``, along the first dimension).

        The IRF is evaluated at the edges and integrated with a power law between
        adjacent edges (closed form). Returns an array with one fewer element along
        the first dimension, with unit ``self.unit * axis unit``.
        """
        edges = kwargs.pop(axis_name)
        ax = self._axes[axis_name]
        edges = u.Quantity(edges, ax.unit) if not isinstance(edges, u.Quantity) else edges.to(ax.unit)
        kwargs[axis_name] = edges
        values = self.evaluate(**kwargs).value
        e = np.broadcast_to(edges.value, values.shape) if edges.ndim == values.ndim else edges.value
        e = np.broadcast_to(e, values.shape)
        integral = integrate_log_log(e[:-1], e[1:], values[:-1], values[1:])
        return u.Quantity(integral, self._unit * ax.unit)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def _axis_name(cls, prefix):
        name = _PREFIX_TO_AXIS.get(prefix)
        if name == "energy" and "energy_true" in cls.required_axes:
            return "energy_true"
        return name

    @classmethod
    def _read_axes(cls, table):
        """Axes in column order and in ``required_axes`` order from a GADF table."""
        what = f"{cls.__name__} table {table.meta.get('EXTNAME', '')!r}"
        column_order, axes = [], {}
        for colname in table.colnames:
            if not colname.upper().endswith("_LO"):
                continue
            prefix = colname.upper()[:-3]
            name = cls._axis_name(prefix)
            if name is None or name not in cls.required_axes or name in axes:
                continue
            axis = MapAxis.from_table(table, format="gadf-dl3", column_prefix=prefix)
            if name in ("energy", "energy_true", "offset", "rad", "fov_lon", "fov_lat"):
                axis = _axis_to_unit(axis, _AXIS_UNITS[name])
            axes[name] = axis.rename(name)
            column_order.append(name)
        missing = [n for n in cls.required_axes if n not in axes]
        if missing:
            expected = [f"{_AXIS_TO_PREFIX[n]}_LO/_HI" for n in missing]
            raise KeyError(f"{what}: missing axis columns {expected} (columns: {table.colnames})")
        return column_order, MapAxes([axes[n] for n in cls.required_axes])

    @classmethod
    def _data_column(cls, table):
        for name in cls._data_columns:
            if name in table.colnames:
                return name
        raise KeyError(
            f"{cls.__name__} table {table.meta.get('EXTNAME', '')!r}: no data column, "
            f"expected one of {list(cls._data_columns)} (columns: {table.colnames})"
        )

    @staticmethod
    def _cell_to_data(cell, column_order, axes):
        """Reorder a FITS cell (reversed column order) to ``axes`` order."""
        cell = np.asarray(cell, dtype=float)
        lengths = [axes[name].nbin for name in column_order]
        if cell.size != int(np.prod(lengths)):
            raise ValueError(
                f"data cell of shape {cell.shape} does not match axes {column_order} "
                f"with {lengths} bins"
            )
        cell = cell.reshape(lengths[::-1])
        current = column_order[::-1]
        return np.transpose(cell, [current.index(name) for name in axes.names])

    @classmethod
    def _unit_from_column(cls, table, colname):
        unit = parse_unit(table[colname].unit)
        if unit is None:
            raise ValueError(
                f"{cls.__name__}: column {colname!r} has an invalid unit {str(table[colname].unit)!r}"
            )
        return unit

    @classmethod
    def from_table(cls, table, format="gadf-dl3"):
        """Read from a GADF DL3 table (one row, array columns)."""
        if format != "gadf-dl3":
            raise ValueError(f"{cls.__name__}.from_table: unsupported format {format!r}, expected 'gadf-dl3'")
        column_order, axes = cls._read_axes(table)
        colname = cls._data_column(table)
        data = cls._cell_to_data(table[colname][0], column_order, axes)
        unit = cls._unit_from_column(table, colname)
        meta = _header_meta(table.meta)
        is_pointlike = str(meta.get("HDUCLAS3", "")).upper() == "POINT-LIKE"
        kwargs = {}
        if "FOVALIGN" in meta:
            kwargs["fov_alignment"] = meta["FOVALIGN"]
        return cls(axes=axes, data=data, unit=unit, meta=meta, is_pointlike=is_pointlike, **kwargs)

    @classmethod
    def read(cls, filename, hdu=None, format="gadf-dl3"):
        """Read from a FITS file (``hdu`` defaults to the usual EXTNAME of this IRF)."""
        hdu = cls._default_hdu if hdu is None else hdu
        table = read_table_hdu(filename, hdu)
        return cls.from_table(table, format=format)

    def _header(self):
        header = {k: v for k, v in self.meta.items() if k not in ("EXTNAME",)}
        header.update(
            HDUCLASS="GADF",
            HDUDOC="https://github.com/open-gamma-ray-astro/gamma-astro-data-formats",
            HDUVERS="0.2",
            HDUCLAS1="RESPONSE",
            HDUCLAS2=self._hduclas2,
            HDUCLAS3="POINT-LIKE" if self.is_pointlike else "FULL-ENCLOSURE",
            HDUCLAS4=self._hduclas4,
        )
        return header

    def _axes_table(self):
        table = Table()
        for ax in self._axes:
            prefix = _AXIS_TO_PREFIX[ax.name]
            if ax.node_type == "center":
                lo = hi = ax.center
            else:
                lo, hi = ax.edges_min, ax.edges_max
            table[f"{prefix}_LO"] = lo[np.newaxis]
            table[f"{prefix}_HI"] = hi[np.newaxis]
        return table

    def _data_cell(self, data):
        """FITS cell (reversed axes order) with a leading row dimension."""
        return np.transpose(data)[np.newaxis]

    def to_table(self, format="gadf-dl3"):
        """GADF DL3 table (one row with array columns)."""
        if format != "gadf-dl3":
            raise ValueError(f"{type(self).__name__}.to_table: unsupported format {format!r}")
        table = self._axes_table()
        table[self._data_columns[0]] = u.Quantity(self._data_cell(self._data), self._unit)
        table.meta.update(self._header())
        return table

    def to_table_hdu(self, format="gadf-dl3"):
        """`~astropy.io.fits.BinTableHDU` of `to_table`."""
        table = self.to_table(format=format)
        name = table.meta.pop("EXTNAME", None) or self._default_hdu
        return fits.BinTableHDU(table, name=name)

    def write(self, filename, overwrite=False, format="gadf-dl3"):
        """Write to a FITS file (primary HDU + the IRF table HDU)."""
        hdulist = fits.HDUList([fits.PrimaryHDU(), self.to_table_hdu(format=format)])
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp)

    # ------------------------------------------------------------------ misc
    def copy(self, **kwargs):
        """Deep copy, optionally replacing constructor arguments."""
        init = dict(
            axes=self._axes.copy(), data=self._data.copy(), unit=self._unit,
            is_pointlike=self.is_pointlike, fov_alignment=self.fov_alignment,
            meta=dict(self.meta), interp_kwargs=dict(self.interp_kwargs),
        )
        init.update(kwargs)
        return self.__class__(**init)

    def is_allclose(self, other, rtol_axes=1e-3, atol_axes=1e-6, **kwargs):
        """Same class, axes and data within tolerances."""
        if not isinstance(other, self.__class__):
            return False
        if self._axes.names != other.axes.names:
            return False
        for a, b in zip(self._axes, other.axes):
            if not a.is_allclose(b, rtol=rtol_axes, atol=atol_axes):
                return False
        if not self._unit.is_equivalent(other.unit):
            return False
        other_data = u.Quantity(other.data, other.unit).to_value(self._unit)
        return bool(np.allclose(self._data, other_data, **kwargs))

    def __str__(self):
        lines = [type(self).__name__, "-" * len(type(self).__name__), ""]
        lines.append(f"  axes  : {self._axes.names}")
        lines.append(f"  shape : {self._axes.shape}")
        lines.append(f"  ndim  : {len(self._axes)}")
        lines.append(f"  unit  : {self._unit}")
        lines.append(f"  dtype : {self.data.dtype}")
        lines.append("")
        for ax in self._axes:
            lo, hi = ax.edges[0] if ax.node_type == "edges" else ax.center[0], (
                ax.edges[-1] if ax.node_type == "edges" else ax.center[-1]
            )
            lines.append(f"  {ax.name:<12}: {ax.nbin} bins, {lo:.3g} - {hi:.3g} ({ax.interp})")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"{type(self).__name__}(axes={self._axes.names}, shape={self._axes.shape}, unit='{self._unit}')"


def _to_float(value, unit, name):
    """Float array of a coordinate in ``unit`` (numbers are taken as already in ``unit``)."""
    if isinstance(value, str):
        value = u.Quantity(value)
    if isinstance(value, u.Quantity):
        try:
            return value.to_value(unit)
        except u.UnitConversionError:
            raise u.UnitConversionError(
                f"coordinate {name!r}: unit '{value.unit}' is not convertible to '{unit}'"
            ) from None
    return np.asarray(value, dtype=float)


def _axis_to_unit(axis, unit):
    if axis.unit == unit or not axis.unit.is_equivalent(unit):
        return axis
    nodes = u.Quantity(axis._nodes, axis.unit).to_value(unit)
    return axis.copy(nodes=nodes, unit=unit)
