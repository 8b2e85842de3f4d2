"""`MapAxes`: the ordered set of non-spatial axes of a geometry."""
import numpy as np
import astropy.units as u

from .axes import MapAxis, LabelMapAxis

__all__ = ["MapAxes"]

_PRIMARY_ORDER = ("energy", "energy_true", "time")


class MapAxes:
    """An ordered collection of `MapAxis`, looked up by index or by name.

    In map data the axes are stored in reverse order before the spatial axes:
    axes ``[energy, time]`` on a WCS geometry give data of shape
    ``(ntime, nenergy, ny, nx)``.

    Parameters
    ----------
    axes : list of `MapAxis`
        The axes (names must be unique).
    n_spatial_axes : int, optional
        Number of spatial axes of the geometry they belong to (informational).
    """

    def __init__(self, axes=None, n_spatial_axes=None):
        if isinstance(axes, MapAxes):
            axes = list(axes)
        axes = list(axes or [])
        for ax in axes:
            if not isinstance(ax, (MapAxis, LabelMapAxis)):
                raise TypeError(f"MapAxes: expected MapAxis objects, got {type(ax).__name__}")
        names = [ax.name for ax in axes]
        if len(set(names)) != len(names):
            raise ValueError(f"MapAxes: axis names must be unique, got {names}")
        self._axes = axes
        self._n_spatial_axes = n_spatial_axes

    @classmethod
    def from_default(cls, axes, n_spatial_axes=None):
        """`MapAxes` from None, a list of axes or a `MapAxes`."""
        if isinstance(axes, MapAxes):
            return axes
        return cls(axes, n_spatial_axes=n_spatial_axes)

    @classmethod
    def from_table(cls, table, format="gadf"):
        """Axes from a gadf BANDS table (or Fermi EBOUNDS / ENERGIES table)."""
        from .io import axes_from_bands_table

        if format not in ("gadf", "fgst-ccube", "fgst-template", "ogip"):
            raise ValueError(f"MapAxes.from_table: unknown format {format!r}")
        return cls(axes_from_bands_table(table))

    def to_table(self, format="gadf"):
        """gadf BANDS table of the axes."""
        from .io import axes_to_bands_table

        if format != "gadf":
            if len(self) != 1:
                raise ValueError(f"MapAxes.to_table: format {format!r} needs exactly one axis")
            return self[0].to_table(format=format)
        return axes_to_bands_table(self._axes)

    def to_header(self, format="gadf"):
        """Header keywords AXCOLS{i} / INTERP{i} of the axes."""
        from astropy.io import fits

        header = fits.Header()
        for idx, ax in enumerate(self._axes):
            if isinstance(ax, LabelMapAxis):
                header[f"AXCOLS{idx + 1}"] = ax.name.upper()
                header[f"INTERP{idx + 1}"] = "label"
            else:
                header.update(ax.to_header(format="gadf", idx=idx))
        return header

    # ------------------------------------------------------------------ container protocol
    def __len__(self):
        return len(self._axes)

    def __iter__(self):
        return iter(self._axes)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._axes[key]
        if isinstance(key, str):
            for ax in self._axes:
                if ax.name == key:
                    return ax
            raise KeyError(f"MapAxes: no axis named {key!r} (axes: {self.names})")
        if isinstance(key, slice):
            return MapAxes(self._axes[key], n_spatial_axes=self._n_spatial_axes)
        if isinstance(key, (list, tuple)):
            return MapAxes([self[k] for k in key], n_spatial_axes=self._n_spatial_axes)
        raise TypeError(f"MapAxes: invalid key {key!r}")

    def __contains__(self, name):
        return name in self.names

    @property
    def names(self):
        """Axis names."""
        return [ax.name for ax in self._axes]

    @property
    def shape(self):
        """Number of bins of each axis."""
        return tuple(ax.nbin for ax in self._axes)

    @property
    def data_shape(self):
        """Shape of these axes in map data (reversed order)."""
        return self.shape[::-1]

    @property
    def n_spatial_axes(self):
        return self._n_spatial_axes

    def index(self, axis_name):
        """Position of an axis in this list."""
        if isinstance(axis_name, (int, np.integer)):
            return int(axis_name)
        try:
            return self.names.index(axis_name)
        except ValueError:
            raise KeyError(f"MapAxes: no axis named {axis_name!r} (axes: {self.names})") from None

    def index_data(self, axis_name):
        """Position of an axis in map data (axes are stored reversed, spatial axes last)."""
        return len(self) - 1 - self.index(axis_name)

    @property
    def is_unidimensional(self):
        """At most one axis has more than one bin."""
        return sum(ax.nbin > 1 for ax in self._axes) <= 1

    @property
    def is_flat(self):
        """All axes have a single bin."""
        return all(ax.nbin == 1 for ax in self._axes)

    @property
    def primary_axis(self):
        """The main axis: the only non-flat one, else energy / energy_true / time, else the longest."""
        if not self._axes:
            raise ValueError("MapAxes: no axes")
        long_axes = [ax for ax in self._axes if ax.nbin > 1]
        if len(long_axes) == 1:
            return long_axes[0]
        for name in _PRIMARY_ORDER:
            if name in self.names:
                return self[name]
        return max(self._axes, key=lambda ax: ax.nbin)

    def assert_names(self, required_names):
        """Raise ValueError unless the axis names are exactly ``required_names`` (in order)."""
        if list(self.names) != list(required_names):
            raise ValueError(f"Unexpected axes {self.names}, expected {list(required_names)}")

    # ------------------------------------------------------------------ derived collections
    def copy(self):
        return MapAxes([ax.copy() for ax in self._axes], n_spatial_axes=self._n_spatial_axes)

    def replace(self, axis):
        """Copy with the axis of the same name replaced by ``axis``."""
        idx = self.index(axis.name)
        axes = list(self._axes)
        axes[idx] = axis
        return MapAxes(axes, n_spatial_axes=self._n_spatial_axes)

    def drop(self, axis_name):
        """Copy without the named axis."""
        idx = self.index(axis_name)
        axes = [ax for i, ax in enumerate(self._axes) if i != idx]
        return MapAxes(axes, n_spatial_axes=self._n_spatial_axes)

    def append(self, axis):
        """Copy with an extra axis at the end."""
        return MapAxes(self._axes + [axis], n_spatial_axes=self._n_spatial_axes)

    def squash(self):
        """Every axis squashed to a single bin."""
        return MapAxes([ax.squash() for ax in self._axes], n_spatial_axes=self._n_spatial_axes)

    def rename_axes(self, names, new_names):
        """Copy with axes renamed."""
        if isinstance(names, str):
            names, new_names = [names], [new_names]
        axes = list(self._axes)
        for name, new in zip(names, new_names):
            idx = self.index(name)
            axes[idx] = axes[idx].rename(new)
        return MapAxes(axes, n_spatial_axes=self._n_spatial_axes)

    def upsample(self, factor, axis_name):
        return self.replace(self[axis_name].upsample(factor))

    def downsample(self, factor, axis_name):
        return self.replace(self[axis_name].downsample(factor))

    def slice_by_idx(self, slices):
        """Copy with axes sliced; ``slices`` maps axis names to int or slice.

        Axes indexed with an int are dropped (as numpy does), slices keep them.
        """
        axes = []
        for ax in self._axes:
            idx = slices.get(ax.name, slice(None))
            if isinstance(idx, (int, np.integer)):
                continue
            axes.append(ax.slice(idx))
        return MapAxes(axes, n_spatial_axes=self._n_spatial_axes)

    # ------------------------------------------------------------------ coordinates
    def get_coord(self, mode="center"):
        """Coordinates of all bins as a dict of Quantities broadcastable to the data shape
        of these axes (``self.data_shape``)."""
        coords = {}
        n = len(self)
        for idx, ax in enumerate(self._axes):
            shape = [1] * n
            shape[n - 1 - idx] = ax.nbin
            if mode == "edges" and isinstance(ax, MapAxis):
                values = ax.edges
                shape[n - 1 - idx] = ax.nbin + 1
            else:
                values = ax.center
            coords[ax.name] = values.reshape(shape)
        return coords

    def coord_to_idx(self, coords, clip=True):
        """Tuple of bin indices (one per axis) for a dict of coordinates."""
        return tuple(ax.coord_to_idx(coords[ax.name], clip=clip) for ax in self._axes)

    def coord_to_pix(self, coords):
        return tuple(ax.coord_to_pix(coords[ax.name]) for ax in self._axes)

    def pix_to_coord(self, pix):
        return tuple(ax.pix_to_coord(p) for ax, p in zip(self._axes, pix))

    def pix_to_idx(self, pix, clip=False):
        return tuple(ax.pix_to_idx(p, clip=clip) for ax, p in zip(self._axes, pix))

    @property
    def center_coord(self):
        """Centre coordinate of every axis (middle pixel)."""
        return tuple(ax.pix_to_coord((float(ax.nbin) - 1.0) / 2.0) for ax in self._axes)

    def bin_volume(self):
        """Product of the bin widths, shaped as the data of these axes."""
        volume = u.Quantity(np.ones(self.data_shape))
        n = len(self)
        for idx, ax in enumerate(self._axes):
            shape = [1] * n
            shape[n - 1 - idx] = ax.nbin
            volume = volume * ax.bin_width.reshape(shape)
        return volume

    # ------------------------------------------------------------------ comparison / display
    def is_allclose(self, other, **kwargs):
        if not isinstance(other, MapAxes) or len(other) != len(self):
            return False
        return all(a.is_allclose(b, **kwargs) for a, b in zip(self._axes, other))

    def __eq__(self, other):
        if not isinstance(other, MapAxes):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self._axes, other))

    __hash__ = object.__hash__

    def __repr__(self):
        return f"MapAxes({self.names})"

    def __str__(self):
        return "MapAxes\n\n" + "\n".join(str(ax) for ax in self._axes)
