"""Non-spatial map axes: `MapAxis` (binned or node axis) and `LabelMapAxis`.

An axis stores its nodes as a float64 array in its own unit; the public
accessors (``edges``, ``center``, ``bin_width`` ...) return Quantities built
from cached float arrays, and ``*_float`` style private accessors give the
raw arrays for fast inner loops (``axis._edges`` / ``axis._center``).

Pixel convention: pixel 0 is the centre of the first bin, so bin edges sit at
pixel -0.5 ... nbin - 0.5. The pixel <-> coordinate mapping is piecewise
linear in the *interpolation space* of the axis (lin: x, log: ln x,
sqrt: sqrt x), extrapolated linearly beyond the ends.
"""
import numpy as np
import astropy.units as u
from astropy.table import Table

__all__ = ["MapAxis", "LabelMapAxis"]

_INTERPS = ("lin", "log", "sqrt")
_NODE_TYPES = ("edges", "center")

# gadf-dl3 column prefixes of the standard IRF axes
_DL3_PREFIX_TO_NAME = {
    "ENERG": "energy_true",
    "ETRUE": "energy_true",
    "THETA": "offset",
    "MIGRA": "migra",
    "RAD": "rad",
    "DETX": "fov_lon",
    "DETY": "fov_lat",
}
_NAME_TO_DL3_PREFIX = {
    "energy": "ENERG",
    "energy_true": "ENERG",
    "offset": "THETA",
    "migra": "MIGRA",
    "rad": "RAD",
    "fov_lon": "DETX",
    "fov_lat": "DETY",
}


def _forward(values, interp):
    """Map coordinates into interpolation space."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if interp == "log":
            return np.log(values)
        if interp == "sqrt":
            return np.sqrt(values)
    return values


def _inverse(values, interp):
    """Map values from interpolation space back to coordinates."""
    if interp == "log":
        return np.exp(values)
    if interp == "sqrt":
        return np.square(values)
    return values


def _grid(lo, hi, n, interp):
    """``n`` points from lo to hi (inclusive) uniformly spaced in interp space."""
    if interp == "log":
        return np.geomspace(lo, hi, n)
    if interp == "sqrt":
        return np.square(np.linspace(np.sqrt(lo), np.sqrt(hi), n))
    return np.linspace(lo, hi, n)


def _piecewise(x, xp, fp):
    """Linear interpolation of (xp, fp) at x with linear extrapolation.

    ``xp`` must be strictly increasing (or strictly decreasing) with >= 2 points.
    """
    x = np.asarray(x, dtype=float)
    if xp[0] > xp[-1]:
        xp, fp = xp[::-1], fp[::-1]
    idx = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    x0, x1 = xp[idx], xp[idx + 1]
    f0, f1 = fp[idx], fp[idx + 1]
    return f0 + (x - x0) * (f1 - f0) / (x1 - x0)


def _to_quantity(value, unit=None, what="value"):
    """Quantity from a Quantity, a string such as "10 GeV" or a number (in ``unit``)."""
    if isinstance(value, str):
        value = u.Quantity(value)
    if isinstance(value, u.Quantity):
        return value if unit is None else value.to(unit)
    try:
        return u.Quantity(value, unit if unit is not None else "")
    except TypeError as exc:
        raise TypeError(f"{what}: expected a Quantity, string or number, got {value!r}") from exc


def _coord_values(coord, unit):
    """Float array of coordinates in ``unit`` (plain numbers are taken as ``unit``)."""
    if isinstance(coord, u.Quantity):
        if coord.unit.is_equivalent(unit) or unit == u.dimensionless_unscaled:
            return coord.to_value(unit) if coord.unit.is_equivalent(unit) else coord.value
        raise u.UnitConversionError(
            f"Cannot convert coordinate with unit '{coord.unit}' to axis unit '{unit}'"
        )
    return np.asarray(coord, dtype=float)


def _as_slice(idx, nbin):
    """``idx`` as a slice: an int index (negative counts from the end) becomes a one-bin slice."""
    if isinstance(idx, (int, np.integer)):
        if idx < 0:
            idx += nbin
        idx = slice(idx, idx + 1)
    return idx


class _AxisBase:
    """What `MapAxis` and `~gammalike.maps.TimeMapAxis` share: name, unit and
    interp accessors, renaming, and indexing / length through ``slice`` and ``nbin``.

    Subclasses set ``_name``, ``_unit``, ``_interp`` and define ``nbin``, ``copy``,
    ``slice``; one defining ``__eq__`` must set ``__hash__`` itself (Python's rule).
    """

    @property
    def name(self):
        """Axis name."""
        return self._name

    @property
    def unit(self):
        """Axis unit (for a time axis: unit of the offsets from the reference time)."""
        return self._unit

    @property
    def interp(self):
        """Interpolation space: "lin", "log" or "sqrt"."""
        return self._interp

    def rename(self, new_name):
        """Copy with a new name."""
        return self.copy(name=new_name)

    def __len__(self):
        return self.nbin

    def __getitem__(self, idx):
        return self.slice(idx)


class MapAxis(_AxisBase):
    """A one-dimensional non-spatial map axis.

    Parameters
    ----------
    nodes : array-like or `~astropy.units.Quantity`
        Bin edges (``node_type="edges"``) or bin centres (``node_type="center"``).
    interp : {"lin", "log", "sqrt"}
        Interpolation space of the pixel <-> coordinate mapping.
    name : str
        Axis name (e.g. "energy", "energy_true", "rad", "migra").
    node_type : {"edges", "center"}
        Meaning of ``nodes``.
    unit : str or `~astropy.units.Unit`
        Unit of the nodes (if ``nodes`` is not a Quantity).
    """

    def __init__(self, nodes, interp="lin", name="", node_type="edges", unit=""):
        if interp not in _INTERPS:
            raise ValueError(f"MapAxis: invalid interp {interp!r}, expected one of {_INTERPS}")
        if node_type not in _NODE_TYPES:
            raise ValueError(
                f"MapAxis: invalid node_type {node_type!r}, expected one of {_NODE_TYPES}"
            )
        if isinstance(nodes, u.Quantity):
            unit = nodes.unit
            nodes = nodes.value
        nodes = np.array(nodes, dtype=float, ndmin=1).ravel()
        if node_type == "edges" and nodes.size < 2:
            raise ValueError(f"MapAxis {name!r}: need at least 2 edges, got {nodes.size}")
        if nodes.size < 1:
            raise ValueError(f"MapAxis {name!r}: need at least one node")
        if nodes.size > 1:
            diff = np.diff(nodes)
            if not (np.all(diff > 0) or np.all(diff < 0)):
                raise ValueError(f"MapAxis {name!r}: nodes must be strictly monotonic")
        if interp == "log" and np.any(nodes <= 0):
            raise ValueError(f"MapAxis {name!r}: interp='log' requires positive nodes")
        self._nodes = nodes
        self._nodes.flags.writeable = False
        self._unit = u.Unit(unit)
        self._interp = interp
        self._name = str(name)
        self._node_type = node_type
        self._cache = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_bounds(cls, lo_bnd, hi_bnd, nbin, interp="lin", name="", unit="", node_type="edges"):
        """Axis with ``nbin`` bins uniformly spaced (in interp space) from lo to hi."""
        if isinstance(lo_bnd, (u.Quantity, str)) or isinstance(hi_bnd, (u.Quantity, str)):
            lo_q = _to_quantity(lo_bnd, unit or None)
            unit = unit or lo_q.unit
            lo_bnd = lo_q.to_value(unit)
            hi_bnd = _to_quantity(hi_bnd).to_value(unit)
        nbin = int(nbin)
        if nbin < 1:
            raise ValueError(f"MapAxis.from_bounds: nbin must be >= 1, got {nbin}")
        npts = nbin + 1 if node_type == "edges" else nbin
        if node_type == "center" and nbin == 1:
            nodes = _grid(lo_bnd, hi_bnd, 3, interp)[1:2]
        else:
            nodes = _grid(float(lo_bnd), float(hi_bnd), npts, interp)
        return cls(nodes, interp=interp, name=name, node_type=node_type, unit=unit)

    @classmethod
    def from_edges(cls, edges, interp="lin", name="", unit=""):
        """Axis from bin edges."""
        return cls(_edges_quantity(edges, unit), interp=interp, name=name, node_type="edges")

    @classmethod
    def from_nodes(cls, nodes, interp="lin", name="", unit=""):
        """Axis from bin centres (``node_type="center"``)."""
        return cls(_edges_quantity(nodes, unit), interp=interp, name=name, node_type="center")

    @classmethod
    def from_energy_edges(cls, energy_edges, unit=None, name=None, interp="log"):
        """Energy axis from edges (default name "energy", log interpolation)."""
        edges = _edges_quantity(energy_edges, unit or "TeV")
        if unit is not None:
            edges = edges.to(unit)
        _check_energy_unit(edges.unit)
        return cls(edges, interp=interp, name=name or "energy", node_type="edges")

    @classmethod
    def from_energy_bounds(
        cls, energy_min, energy_max, nbin, unit=None, per_decade=False, name=None,
        node_type="edges",
    ):
        """Energy axis with log-spaced bins between two bounds.

        Parameters
        ----------
        energy_min, energy_max : `~astropy.units.Quantity`, str or float
            Bounds (floats are in ``unit``, default TeV).
        nbin : int
            Number of bins, or bins per decade if ``per_decade``.
        unit : str, optional
            Unit of the axis (default: unit of ``energy_min`` or TeV).
        per_decade : bool
            ``nbin`` is per decade: ``ceil(nbin * log10(max / min))`` bins in all.
        name : str
            Axis name (default "energy").
        node_type : {"edges", "center"}
            Node type of the axis.
        """
        if unit is None:
            unit = (
                _to_quantity(energy_min).unit
                if isinstance(energy_min, (u.Quantity, str)) else u.TeV
            )
        energy_min = _to_quantity(energy_min, unit, "energy_min")
        energy_max = _to_quantity(energy_max, unit, "energy_max")
        _check_energy_unit(energy_min.unit)
        lo, hi = energy_min.value, energy_max.value
        if not (0 < lo < hi):
            raise ValueError(
                f"MapAxis.from_energy_bounds: need 0 < energy_min < energy_max, got "
                f"{energy_min} and {energy_max}"
            )
        if per_decade:
            nbin = int(np.ceil(np.log10(hi / lo) * nbin - 1e-9))
        return cls.from_bounds(
            lo, hi, nbin, interp="log", name=name or "energy", unit=unit, node_type=node_type
        )

    @classmethod
    def from_table(cls, table, format="ogip", idx=0, column_prefix=None):
        """Axis from a FITS table.

        Parameters
        ----------
        table : `~astropy.table.Table`
            Table with the bounds.
        format : {"ogip", "ogip-sherpa", "ogip-arf", "ogip-arf-sherpa", "gadf-dl3",
                  "fgst-ccube", "fgst-template", "gadf"}
            "ogip"/"fgst-ccube": EBOUNDS (E_MIN, E_MAX) -> "energy";
            "ogip-arf": ENERG_LO/ENERG_HI -> "energy_true";
            "gadf-dl3": ``{column_prefix}_LO/_HI`` (vector columns, row ``idx``);
            "fgst-template": ENERGIES table (column ENERGY) -> "energy_true" nodes;
            "gadf": a BANDS table (see `MapAxes.from_table`), axis number ``idx``.
        """
        from .io import axis_from_table

        return axis_from_table(cls, table, format=format, idx=idx, column_prefix=column_prefix)

    # ------------------------------------------------------------------ basic properties
    @property
    def node_type(self):
        """"edges" or "center"."""
        return self._node_type

    @property
    def nbin(self):
        """Number of bins."""
        return self._nodes.size - 1 if self._node_type == "edges" else self._nodes.size

    @property
    def nbin_per_decade(self):
        """Mean number of bins per decade (log axes)."""
        lo, hi = self._edges[0], self._edges[-1]
        return self.nbin / abs(np.log10(hi / lo))

    @property
    def is_energy_axis(self):
        """True for the "energy" and "energy_true" axes."""
        return self._name in ("energy", "energy_true")

    def _cached(self, key, func):
        value = self._cache.get(key)
        if value is None:
            value = func()
            value.flags.writeable = False
            self._cache[key] = value
        return value

    @property
    def _edges(self):
        """Bin edges as a float array in the axis unit (cached)."""
        if self._node_type == "edges":
            return self._nodes
        return self._cached("edges", lambda: self.pix_to_coord_value(np.arange(self.nbin + 1) - 0.5))

    @property
    def _center(self):
        """Bin centres as a float array in the axis unit (cached)."""
        if self._node_type == "center":
            return self._nodes
        return self._cached("center", lambda: self.pix_to_coord_value(np.arange(self.nbin, dtype=float)))

    @property
    def edges(self):
        """Bin edges (`~astropy.units.Quantity`)."""
        return u.Quantity(self._edges, self._unit, copy=None)

    @property
    def edges_min(self):
        """Lower bin edges."""
        return self.edges[:-1]

    @property
    def edges_max(self):
        """Upper bin edges."""
        return self.edges[1:]

    @property
    def center(self):
        """Bin centres (log centre for interp="log")."""
        return u.Quantity(self._center, self._unit, copy=None)

    @property
    def bin_width(self):
        """Bin widths."""
        return u.Quantity(np.diff(self._edges), self._unit)

    @property
    def bounds(self):
        """Lower and upper bound of the axis (first and last edge)."""
        return self.edges[[0, -1]]

    @property
    def as_plot_center(self):
        """Bin centres for plotting (Quantity)."""
        return self.center

    @property
    def as_plot_edges(self):
        """Bin edges for plotting (Quantity)."""
        return self.edges

    @property
    def as_plot_xerr(self):
        """(lower, upper) x errors of the bin centres, for errorbar plots."""
        return self.center - self.edges_min, self.edges_max - self.center

    @property
    def as_plot_labels(self):
        """Bin labels such as "1.00e+00 TeV - 2.00e+00 TeV"."""
        if self._node_type == "center":
            return [f"{v:.2e} {self._unit}" for v in self._center]
        lo, hi = self._edges[:-1], self._edges[1:]
        return [f"{a:.2e} {self._unit} - {b:.2e} {self._unit}" for a, b in zip(lo, hi)]

    @property
    def as_plot_scale(self):
        """Matplotlib axis scale matching the interpolation ("log" or "linear")."""
        return "log" if self._interp == "log" else "linear"

    def format_plot_xaxis(self, ax):
        """Set scale and label of a matplotlib x axis for this axis."""
        ax.set_xscale(self.as_plot_scale)
        label = self._name.replace("_", " ").capitalize()
        if self._name == "energy_true":
            label = "True energy"
        unit = f" [{self._unit.to_string()}]" if self._unit != u.dimensionless_unscaled else ""
        ax.set_xlabel(f"{label}{unit}")
        return ax

    def iter_by_edges(self):
        """Iterate over (lower, upper) bin edges as Quantities."""
        edges = self.edges
        for idx in range(self.nbin):
            yield edges[idx], edges[idx + 1]

    # ------------------------------------------------------------------ pixel <-> coordinate
    def _pix_nodes(self):
        """(pixel positions, interp-space values) of the nodes."""
        def build():
            n = self._nodes.size
            offset = -0.5 if self._node_type == "edges" else 0.0
            return np.vstack([np.arange(n) + offset, _forward(self._nodes, self._interp)])
        return self._cached("pix_nodes", build)

    def pix_to_coord_value(self, pix):
        """Coordinates (float, axis unit) at fractional pixel positions."""
        pix = np.asarray(pix, dtype=float)
        pixn, fnodes = self._pix_nodes()
        if pixn.size == 1:
            return np.full(pix.shape, self._nodes[0])
        return _inverse(_piecewise(pix, pixn, fnodes), self._interp)

    def pix_to_coord(self, pix):
        """Coordinates at fractional pixel positions (Quantity if the axis has a unit)."""
        values = self.pix_to_coord_value(pix)
        return u.Quantity(values, self._unit, copy=None)

    def coord_to_pix(self, coord):
        """Fractional pixel positions of coordinates (floats are in the axis unit)."""
        values = _coord_values(coord, self._unit)
        pixn, fnodes = self._pix_nodes()
        if pixn.size == 1:
            return np.where(np.isclose(values, self._nodes[0]), 0.0, np.nan)
        return _piecewise(_forward(values, self._interp), fnodes, pixn)

    def coord_to_idx(self, coord, clip=False):
        """Bin index containing each coordinate; -1 outside the axis unless ``clip``."""
        values = _coord_values(coord, self._unit)
        if self._node_type == "edges":
            edges = self._edges
            if edges[0] > edges[-1]:
                idx = self.nbin - np.searchsorted(edges[::-1], values, side="left")
            else:
                idx = np.searchsorted(edges, values, side="right") - 1
            # the last edge belongs to the last bin
            idx = np.where(values == edges[-1], self.nbin - 1, idx)
            if clip:
                return np.clip(idx, 0, self.nbin - 1)
            bad = (idx < 0) | (idx >= self.nbin) | ~np.isfinite(values)
            return np.where(bad, -1, idx)
        return self.pix_to_idx(self.coord_to_pix(values), clip=clip)

    def pix_to_idx(self, pix, clip=False):
        """Bin index of fractional pixel positions; -1 outside unless ``clip``."""
        pix = np.asarray(pix, dtype=float)
        with np.errstate(invalid="ignore"):
            idx = np.floor(pix + 0.5)
        idx = np.where(np.isfinite(idx), idx, -1).astype(int)
        if clip:
            return np.clip(idx, 0, self.nbin - 1)
        return np.where((idx < 0) | (idx >= self.nbin), -1, idx)

    # ------------------------------------------------------------------ derived axes
    def copy(self, **kwargs):
        """Copy, optionally changing nodes, interp, name, node_type or unit."""
        init = dict(
            nodes=self._nodes, interp=self._interp, name=self._name,
            node_type=self._node_type, unit=self._unit,
        )
        init.update(kwargs)
        return self.__class__(**init)

    def to_node_type(self, node_type):
        """Copy with the given node type (edges <-> centres)."""
        if node_type == self._node_type:
            return self.copy()
        nodes = self._edges if node_type == "edges" else self._center
        return self.copy(nodes=nodes, node_type=node_type)

    def slice(self, idx):
        """Sub-axis for an int index or a slice (step 1)."""
        idx = _as_slice(idx, self.nbin)
        start, stop, step = idx.indices(self.nbin)
        if step != 1:
            raise ValueError("MapAxis.slice: only slices with step 1 are supported")
        if stop <= start:
            raise ValueError(f"MapAxis.slice: empty slice {idx} of axis {self._name!r}")
        nodes = self._nodes[start:stop + 1] if self._node_type == "edges" else self._nodes[start:stop]
        return self.copy(nodes=nodes)

    def squash(self):
        """Axis with a single bin spanning the whole axis."""
        return MapAxis.from_bounds(
            self._edges[0], self._edges[-1], 1, interp=self._interp,
            name=self._name, unit=self._unit,
        )

    def upsample(self, factor):
        """Axis with ``factor`` times more bins (subdivided in interp space)."""
        factor = int(factor)
        if self._node_type == "edges":
            pix = np.arange(self.nbin * factor + 1) / factor - 0.5
        else:
            pix = np.arange((self.nbin - 1) * factor + 1) / factor
        return self.copy(nodes=self.pix_to_coord_value(pix))

    def downsample(self, factor):
        """Axis with ``factor`` times fewer bins (every ``factor``-th edge, last edge kept)."""
        factor = int(factor)
        if self._node_type == "edges":
            idx = np.arange(0, self.nbin + 1, factor)
            if idx[-1] != self.nbin:
                idx = np.append(idx, self.nbin)
        else:
            idx = np.arange(0, self.nbin, factor)
        return self.copy(nodes=self._nodes[idx])

    def pad(self, pad_width):
        """Axis extended by ``pad_width`` bins (int or (before, after)) in interp space."""
        before, after = (pad_width, pad_width) if np.isscalar(pad_width) else pad_width
        if self._node_type == "edges":
            pix = np.arange(-before, self.nbin + after + 1) - 0.5
        else:
            pix = np.arange(-before, self.nbin + after)
        return self.copy(nodes=self.pix_to_coord_value(pix.astype(float)))

    def group_table(self, edges):
        """Group the axis bins into the given (approximate) edges.

        Each edge is snapped to the nearest axis edge. Bins below the first
        edge form an "underflow" group, bins above the last an "overflow" group.

        Returns
        -------
        table : `~astropy.table.Table`
            Columns ``group_idx``, ``{name}_min``, ``{name}_max``, ``idx_min``,
            ``idx_max`` (inclusive bin indices) and ``bin_type``
            ("underflow", "normal   ", "overflow").
        """
        if self._node_type != "edges":
            raise ValueError("group_table: only defined for axes with node_type='edges'")
        values = _coord_values(_edges_quantity(edges, self._unit), self._unit)
        pix = self.coord_to_pix(values) + 0.5  # position in units of edge index
        edge_idx = np.unique(np.clip(np.round(pix), 0, self.nbin).astype(int))
        idx_min, idx_max, bin_type = [], [], []
        if edge_idx[0] > 0:
            idx_min.append(0), idx_max.append(edge_idx[0] - 1), bin_type.append("underflow")
        for lo, hi in zip(edge_idx[:-1], edge_idx[1:]):
            idx_min.append(lo), idx_max.append(hi - 1), bin_type.append("normal   ")
        if edge_idx[-1] < self.nbin:
            idx_min.append(edge_idx[-1]), idx_max.append(self.nbin - 1), bin_type.append("overflow")
        idx_min, idx_max = np.array(idx_min, dtype=int), np.array(idx_max, dtype=int)
        table = Table()
        table["group_idx"] = np.arange(idx_min.size)
        table[f"{self._name}_min"] = self.edges[idx_min]
        table[f"{self._name}_max"] = self.edges[idx_max + 1]
        table["idx_min"] = idx_min
        table["idx_max"] = idx_max
        table["bin_type"] = np.array(bin_type, dtype="U9")
        return table

    # ------------------------------------------------------------------ comparisons
    def is_allclose(self, other, **kwargs):
        """Same node type, number of bins, unit-converted nodes allclose (``np.allclose`` kwargs)."""
        if not isinstance(other, MapAxis):
            return False
        if other.node_type != self._node_type or other.nbin != self.nbin:
            return False
        if not other.unit.is_equivalent(self._unit):
            return False
        other_nodes = u.Quantity(other._nodes, other.unit).to_value(self._unit)
        kwargs.setdefault("rtol", 1e-6)
        kwargs.setdefault("atol", 0)
        return bool(np.allclose(self._nodes, other_nodes, **kwargs))

    def is_aligned(self, other, atol=2e-2):
        """True if every edge of ``other`` falls on an edge of this axis (within ``atol`` pixels)."""
        if not isinstance(other, MapAxis) or not other.unit.is_equivalent(self._unit):
            return False
        pix = self.coord_to_pix(u.Quantity(other._edges, other.unit)) + 0.5
        return bool(np.allclose(pix, np.round(pix), atol=atol))

    def __eq__(self, other):
        if not isinstance(other, MapAxis):
            return NotImplemented
        return (
            self._name == other.name and self._interp == other.interp
            and self._node_type == other.node_type and self.is_allclose(other)
        )

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ I/O
    def to_table(self, format="ogip"):
        """Table of the bounds in a FITS format ("ogip", "ogip-sherpa", "ogip-arf",
        "ogip-arf-sherpa", "gadf-dl3", "gadf", "fgst-ccube", "fgst-template")."""
        from .io import axis_to_table

        return axis_to_table(self, format=format)

    def to_table_hdu(self, format="ogip"):
        """`~astropy.io.fits.BinTableHDU` of `to_table` (EXTNAME EBOUNDS/SPECRESP as the format implies)."""
        from .io import axis_to_table_hdu

        return axis_to_table_hdu(self, format=format)

    def to_header(self, format="ogip", idx=0):
        """FITS header keywords describing the axis (gadf map keywords AXCOLS/INTERP)."""
        from astropy.io import fits

        header = fits.Header()
        if format in ("ogip", "ogip-sherpa", "fgst-ccube"):
            header["EXTNAME"] = "EBOUNDS"
            header["TELESCOP"] = "DUMMY"
            header["INSTRUME"] = "DUMMY"
            header["FILTER"] = "None"
            header["CHANTYPE"] = "PHA"
            header["DETCHANS"] = self.nbin
            header["HDUCLASS"] = "OGIP"
            header["HDUCLAS1"] = "RESPONSE"
            header["HDUCLAS2"] = "EBOUNDS"
            header["HDUVERS"] = "1.2.0"
        elif format == "gadf":
            key = f"AXCOLS{idx + 1}"
            colnames = _gadf_colnames(self)
            header[key] = ",".join(colnames[1:]) if self._node_type == "edges" else colnames[0]
            header[f"INTERP{idx + 1}"] = self._interp
        else:
            raise ValueError(f"MapAxis.to_header: unknown format {format!r}")
        return header

    # ------------------------------------------------------------------ display
    def __str__(self):
        lo_name = "edges" if self._node_type == "edges" else "center"
        values = self._edges if self._node_type == "edges" else self._center
        unit = self._unit.to_string()
        lines = [
            "MapAxis",
            "",
            f"\tname       : {self._name}",
            f"\tunit       : {unit!r}",
            f"\tnbins      : {self.nbin}",
            f"\tnode type  : {self._node_type}",
            f"\t{lo_name + ' min':<11}: {values.min():.1e} {unit}",
            f"\t{lo_name + ' max':<11}: {values.max():.1e} {unit}",
            f"\tinterp     : {self._interp}",
        ]
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return (
            f"MapAxis(name={self._name!r}, nbin={self.nbin}, node_type={self._node_type!r}, "
            f"interp={self._interp!r}, unit={self._unit.to_string()!r})"
        )

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()


def _edges_quantity(values, unit):
    """Quantity from Quantity / list of Quantities / strings / numbers (in ``unit``)."""
    if isinstance(values, u.Quantity):
        return values
    if isinstance(values, str):
        return u.Quantity(values)
    values = list(values) if not isinstance(values, np.ndarray) else values
    if len(values) and isinstance(values[0], (u.Quantity, str)):
        return u.Quantity([u.Quantity(v) for v in values])
    return u.Quantity(np.asarray(values, dtype=float), unit or "")


def _check_energy_unit(unit):
    if not u.Unit(unit).is_equivalent("TeV"):
        raise u.UnitConversionError(f"Energy axis: unit '{unit}' is not an energy unit")


def _gadf_colnames(axis):
    """(centre, min, max) column names of an axis in a gadf BANDS table."""
    if axis.name == "energy":
        return "ENERGY", "E_MIN", "E_MAX"
    upper = axis.name.upper()
    return upper, f"{upper}_MIN", f"{upper}_MAX"


class LabelMapAxis:
    """A map axis of discrete labels (e.g. dataset names).

    Parameters
    ----------
    labels : list of str
        Labels of the bins.
    name : str
        Axis name.
    """

    node_type = "label"
    interp = "lin"
    unit = u.dimensionless_unscaled

    def __init__(self, labels, name=""):
        labels = np.asarray(labels)
        if len(np.unique(labels)) != labels.size:
            raise ValueError(f"LabelMapAxis {name!r}: labels must be unique")
        self._labels = labels
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def nbin(self):
        return self._labels.size

    @property
    def center(self):
        return self._labels

    @property
    def edges(self):
        raise ValueError("LabelMapAxis has no edges")

    @property
    def is_energy_axis(self):
        return False

    def coord_to_idx(self, coord, clip=False):
        coord = np.asarray(coord)
        sorter = np.argsort(self._labels)
        pos = np.searchsorted(self._labels, coord, sorter=sorter)
        pos = np.clip(pos, 0, self.nbin - 1)
        idx = sorter[pos]
        found = self._labels[idx] == coord
        if not clip and not np.all(found):
            raise ValueError(f"LabelMapAxis {self._name!r}: unknown labels {coord[~found]}")
        return idx

    def coord_to_pix(self, coord):
        return self.coord_to_idx(coord).astype(float)

    def pix_to_idx(self, pix, clip=False):
        return np.asarray(np.floor(np.asarray(pix) + 0.5), dtype=int)

    def pix_to_coord(self, pix):
        return self._labels[self.pix_to_idx(pix)]

    def slice(self, idx):
        if isinstance(idx, (int, np.integer)):
            idx = slice(idx, idx + 1)
        return LabelMapAxis(self._labels[idx], name=self._name)

    def squash(self):
        return LabelMapAxis([f"{self._labels[0]}...{self._labels[-1]}"], name=self._name)

    def copy(self, **kwargs):
        init = dict(labels=self._labels, name=self._name)
        init.update(kwargs)
        return LabelMapAxis(**init)

    def rename(self, new_name):
        return self.copy(name=new_name)

    def is_allclose(self, other, **kwargs):
        return isinstance(other, LabelMapAxis) and np.array_equal(self._labels, other._labels)

    def __eq__(self, other):
        if not isinstance(other, LabelMapAxis):
            return NotImplemented
        return self._name == other.name and self.is_allclose(other)

    __hash__ = object.__hash__

    def __len__(self):
        return self.nbin

    def __str__(self):
        return (
            f"LabelMapAxis\n\n\tname       : {self._name}\n\tnbins      : {self.nbin}\n"
            f"\tnode type  : label\n\tlabels     : {list(self._labels)}\n"
        )

    def __deepcopy__(self, memo):
        return self.copy(labels=self._labels.copy())

