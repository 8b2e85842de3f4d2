"""`Geom`: base class of map geometries (spatial part + non-spatial `MapAxes`)."""
import abc
import copy

import numpy as np
import astropy.units as u

from .map_axes import MapAxes
from .coord import MapCoord

__all__ = ["Geom"]


class Geom(abc.ABC):
    """Map geometry: a spatial part (WCS grid or sky region) and non-spatial axes.

    Subclasses define ``data_shape``, ``_shape_spatial`` (the trailing data
    dimensions of the spatial part), ``_init_copy`` arguments and the spatial
    pixel <-> coordinate transforms.
    """

    is_hpx = False
    is_region = False

    # ------------------------------------------------------------------ abstract API
    @property
    @abc.abstractmethod
    def data_shape(self):
        """Shape of map data: non-spatial axes reversed, then spatial (ny, nx)."""

    @property
    @abc.abstractmethod
    def axes(self):
        """Non-spatial axes (`MapAxes`)."""

    @abc.abstractmethod
    def _init_kwargs(self):
        """Keyword arguments re-creating this geometry (used by `_init_copy`)."""

    @abc.abstractmethod
    def get_coord(self, mode="center", frame=None, sparse=False, axis_name=None):
        """Coordinates of all bins (`MapCoord`)."""

    @abc.abstractmethod
    def solid_angle(self):
        """Solid angle of the spatial bins (sr)."""

    # ------------------------------------------------------------------ copies
    def _init_copy(self, **kwargs):
        init = self._init_kwargs()
        init.update(kwargs)
        return self.__class__(**init)

    def copy(self, **kwargs):
        """Deep copy, optionally changing init arguments (e.g. ``axes=[...]``)."""
        init = copy.deepcopy(self._init_kwargs())
        init.update(kwargs)
        return self.__class__(**init)

    # ------------------------------------------------------------------ properties
    @property
    def axes_names(self):
        """Names of all axes, spatial first (e.g. ['lon', 'lat', 'energy'])."""
        return ["lon", "lat"] + self.axes.names

    @property
    def is_image(self):
        """True if the geometry has no non-spatial axes."""
        return len(self.axes) == 0

    @property
    def is_flat(self):
        """True if all non-spatial axes have a single bin."""
        return self.axes.is_flat if len(self.axes) else False

    @property
    def ndim(self):
        return len(self.data_shape)

    @property
    def data_shape_axes(self):
        """Data shape with the spatial dimensions set to 1."""
        return self.axes.data_shape + (1, 1)

    @property
    def is_allsky(self):
        return False

    def data_nbytes(self, dtype="float32"):
        """Memory size of map data for this geometry."""
        return np.prod(self.data_shape) * np.dtype(dtype).itemsize * u.byte

    # ------------------------------------------------------------------ non-spatial axes
    def to_image(self):
        """Geometry without the non-spatial axes."""
        return self._init_copy(axes=None)

    def to_cube(self, axes):
        """Geometry with the given non-spatial axes appended to the existing ones."""
        return self._init_copy(axes=list(self.axes) + list(axes))

    def squash(self, axis_name):
        """Geometry with the named axis squashed into one bin."""
        return self._init_copy(axes=self.axes.replace(self.axes[axis_name].squash()))

    def drop(self, axis_name):
        """Geometry without the named axis."""
        return self._init_copy(axes=self.axes.drop(axis_name))

    def replace_axis(self, axis):
        """Geometry with the axis of the same name replaced."""
        return self._init_copy(axes=self.axes.replace(axis))

    def resample_axis(self, axis):
        """Geometry with an axis replaced by a coarser one (alias of `replace_axis`)."""
        return self.replace_axis(axis)

    def rename_axes(self, names, new_names):
        """Geometry with non-spatial axes renamed."""
        return self._init_copy(axes=self.axes.rename_axes(names, new_names))

    def upsample_axis(self, factor, axis_name):
        return self._init_copy(axes=self.axes.upsample(factor, axis_name))

    def downsample_axis(self, factor, axis_name):
        return self._init_copy(axes=self.axes.downsample(factor, axis_name))

    def slice_by_idx(self, slices):
        """Geometry with non-spatial axes sliced (see `MapAxes.slice_by_idx`).

        Axes indexed by an int are dropped.
        """
        slices = {k: v for k, v in slices.items() if k in self.axes.names}
        return self._init_copy(axes=self.axes.slice_by_idx(slices))

    @property
    def center_coord(self):
        """Centre coordinate: (lon, lat, *axis centres)."""
        lon, lat = self.center_skydir.spherical.lon.deg, self.center_skydir.spherical.lat.deg
        return (lon * u.deg, lat * u.deg) + self.axes.center_coord

    def energy_mask(self, energy_min=None, energy_max=None, round_to_edge=False):
        """Boolean map, True in energy bins fully inside [energy_min, energy_max].

        Parameters
        ----------
        energy_min, energy_max : `~astropy.units.Quantity`, optional
            Energy range (open-ended if None).
        round_to_edge : bool
            Round the bounds to the nearest bin edges first.
        """
        from .core import Map

        name = "energy" if "energy" in self.axes.names else "energy_true"
        axis = self.axes[name]
        edges = axis._edges
        lo = -np.inf if energy_min is None else u.Quantity(energy_min).to_value(axis.unit)
        hi = np.inf if energy_max is None else u.Quantity(energy_max).to_value(axis.unit)
        if round_to_edge:
            if np.isfinite(lo):
                lo = edges[np.argmin(np.abs(edges - lo))]
            if np.isfinite(hi):
                hi = edges[np.argmin(np.abs(edges - hi))]
        # small relative tolerance so that edges given as bounds are included
        tol = 1e-6
        inside = (edges[:-1] >= lo * (1 - tol)) & (edges[1:] <= hi * (1 + tol))
        shape = [1] * self.ndim
        shape[self.axes.index_data(name)] = axis.nbin
        data = np.broadcast_to(inside.reshape(shape), self.data_shape).copy()
        return Map.from_geom(self, data=data, dtype=bool)

    # ------------------------------------------------------------------ coordinates
    def get_idx(self):
        """Integer index arrays of all bins, as (ix, iy, *axis indices), each of data shape."""
        idx = np.indices(self.data_shape)
        # data is (..axes reversed.., y, x): return in (x, y, axis0, axis1, ...) order
        return tuple(idx[::-1])

    def _axes_coord_to_pix(self, coords):
        """Pixel coordinates of the non-spatial axes for a MapCoord."""
        pix = []
        for i, ax in enumerate(self.axes):
            key = ax.name if coords.match_by_name else i + 2
            pix.append(ax.coord_to_pix(coords[key]))
        return pix

    def coord_to_idx(self, coords, clip=False):
        """Integer bin indices (x, y, *axes) of coordinates; -1 where outside (unless clip)."""
        coords = MapCoord.create(coords, frame=self.frame, axis_names=self.axes.names)
        pix = self.coord_to_pix(coords)
        return self.pix_to_idx(pix, clip=clip)

    def pix_to_idx(self, pix, clip=False):
        """Integer indices of pixel coordinates; -1 outside unless clip."""
        idx = []
        shape_spatial = self._shape_spatial
        for i, p in enumerate(pix):
            if i < 2:
                n = shape_spatial[::-1][i]
                p = np.asarray(p, dtype=float)
                with np.errstate(invalid="ignore"):
                    v = np.floor(p + 0.5)
                v = np.where(np.isfinite(v), v, -1).astype(int)
                v = np.clip(v, 0, n - 1) if clip else np.where((v < 0) | (v >= n), -1, v)
                idx.append(v)
            else:
                idx.append(self.axes[i - 2].pix_to_idx(p, clip=clip))
        return tuple(idx)

    def contains_pix(self, pix):
        """True where pixel coordinates fall inside the geometry."""
        idx = self.pix_to_idx(pix)
        return np.all(np.stack(np.broadcast_arrays(*[i >= 0 for i in idx])), axis=0)

    def bin_volume(self):
        """Solid angle times the widths of the non-spatial bins (data shape)."""
        volume = self.solid_angle()
        if len(self.axes):
            axes_volume = self.axes.bin_volume()
            volume = volume * axes_volume.reshape(axes_volume.shape + (1, 1))
        return volume

    # ------------------------------------------------------------------ comparison
    def is_allclose(self, other, rtol_axes=1e-6, atol_axes=1e-6):
        return type(other) is type(self) and self.axes.is_allclose(
            other.axes, rtol=rtol_axes, atol=atol_axes
        ) and self.data_shape == other.data_shape

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = object.__hash__


def _make_axes(axes):
    """MapAxes from None / list / MapAxes (validated)."""
    axes = MapAxes.from_default(axes)
    for ax in axes:
        if ax.name in ("lon", "lat"):
            raise ValueError(f"Non-spatial axis cannot be named {ax.name!r}")
    return axes

