"""`Map`: base class of all maps (data array + geometry + unit) and the
``Map.create`` / ``Map.from_geom`` / ``Map.read`` dispatch."""
import abc
import copy
import operator
from contextlib import nullcontext as _nullcontext

import numpy as np
import astropy.units as u
from astropy.io import fits

from ..utils import make_path, write_atomic

__all__ = ["Map"]


def _as_unit(unit):
    return u.Unit(unit) if unit is not None else u.dimensionless_unscaled


class Map(abc.ABC):
    """Base class of maps: an ndarray of shape ``geom.data_shape`` with a unit.

    Parameters
    ----------
    geom : `Geom`
        Geometry.
    data : `~numpy.ndarray` or `~astropy.units.Quantity`, optional
        Data (zeros of ``dtype`` if None).
    dtype : str or dtype
        Data type when ``data`` is None.
    meta : dict, optional
        Metadata.
    unit : str or `~astropy.units.Unit`
        Unit of the data (taken from ``data`` if it is a Quantity).
    """

    tag = "map"

    def __init__(self, geom, data=None, dtype="float32", meta=None, unit=""):
        self._geom = geom
        if isinstance(data, u.Quantity):
            unit = data.unit if unit in ("", None) else unit
            data = data.to_value(unit)
        self._unit = _as_unit(unit)
        if data is None:
            data = np.zeros(geom.data_shape, dtype=dtype)
        self.data = data
        self.meta = dict(meta) if meta is not None else {}

    # ------------------------------------------------------------------ dispatch
    @staticmethod
    def create(**kwargs):
        """Create an empty map; ``map_type`` "wcs" (default) or "region", other kwargs go to
        `WcsGeom.create` / `RegionGeom.create` (plus dtype, unit, meta, data)."""
        map_type = kwargs.pop("map_type", "wcs")
        if map_type == "wcs":
            from .wcs_ndmap import WcsNDMap

            return WcsNDMap.create(**kwargs)
        if map_type == "region":
            from .region_ndmap import RegionNDMap

            return RegionNDMap.create(**kwargs)
        raise ValueError(f"Map.create: unsupported map_type {map_type!r} (expected 'wcs' or 'region')")

    @staticmethod
    def from_geom(geom, meta=None, data=None, unit="", dtype="float32", **kwargs):
        """Map of the class matching ``geom`` (WcsNDMap for WcsGeom, RegionNDMap for RegionGeom)."""
        if geom.is_region:
            from .region_ndmap import RegionNDMap as cls
        else:
            from .wcs_ndmap import WcsNDMap as cls
        return cls(geom, data=data, dtype=dtype, meta=meta, unit=unit)

    @staticmethod
    def read(filename, hdu=None, hdu_bands=None, map_type="auto", format=None, colname=None):
        """Read a map from a FITS file (WCS image HDU + BANDS, or a region map table)."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"Map.read: file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            return Map.from_hdulist(
                hdulist, hdu=hdu, hdu_bands=hdu_bands, map_type=map_type, format=format,
                colname=colname, filename=str(path),
            )

    @staticmethod
    def from_hdulist(hdulist, hdu=None, hdu_bands=None, map_type="auto", format=None,
                     colname=None, filename=""):
        """Map from an open HDU list (see `Map.read`)."""
        if map_type == "auto":
            map_type = _guess_map_type(hdulist, hdu, filename)
        if map_type == "wcs":
            from .wcs_ndmap import WcsNDMap

            return WcsNDMap.from_hdulist(hdulist, hdu=hdu, hdu_bands=hdu_bands, format=format)
        if map_type == "region":
            from .region_ndmap import RegionNDMap

            return RegionNDMap.from_hdulist(
                hdulist, format=format or "gadf", hdu=hdu, colname=colname
            )
        raise ValueError(f"Map.read: unsupported map_type {map_type!r}")

    # ------------------------------------------------------------------ properties
    @property
    def geom(self):
        """Geometry of the map."""
        return self._geom

    @property
    def data(self):
        """Data array (shape ``geom.data_shape``)."""
        return self._data

    @data.setter
    def data(self, value):
        if isinstance(value, u.Quantity):
            value = value.to_value(self._unit)
        value = np.asanyarray(value)
        shape = self._geom.data_shape
        if value.shape != shape:
            if value.size == int(np.prod(shape)) and _squeeze(value.shape) == _squeeze(shape):
                value = value.reshape(shape)
            elif value.ndim <= len(shape):
                try:
                    value = np.broadcast_to(value, shape).copy()
                except ValueError:
                    raise ValueError(
                        f"{type(self).__name__}: data shape {value.shape} does not match "
                        f"geometry data_shape {shape}"
                    ) from None
            else:
                raise ValueError(
                    f"{type(self).__name__}: data shape {value.shape} does not match "
                    f"geometry data_shape {shape}"
                )
        self._data = value

    @property
    def unit(self):
        """Unit of the data."""
        return self._unit

    @property
    def quantity(self):
        """Data as a Quantity (a view, no copy)."""
        return u.Quantity(self._data, self._unit, copy=None)

    @quantity.setter
    def quantity(self, value):
        value = u.Quantity(value)
        self._unit = value.unit
        self.data = value.value

    @property
    def is_mask(self):
        """True for boolean maps."""
        return self._data.dtype == bool

    def to_unit(self, unit):
        """Copy converted to ``unit``."""
        unit = _as_unit(unit)
        factor = self._unit.to(unit)
        return self._init_copy(data=self._data * factor, unit=unit)

    # ------------------------------------------------------------------ copies
    def _init_copy(self, **kwargs):
        init = dict(geom=self._geom, data=self._data, meta=self.meta, unit=self._unit)
        init.update(kwargs)
        if "data" in init and "dtype" not in init and init["data"] is not None:
            init["dtype"] = np.asarray(init["data"]).dtype
        return self.__class__(**init)

    def copy(self, **kwargs):
        """Deep copy, optionally replacing geom, data, unit or meta."""
        if "geom" in kwargs and "data" not in kwargs:
            geom = kwargs["geom"]
            if geom.data_shape != self._geom.data_shape:
                raise ValueError(
                    f"copy: new geom data_shape {geom.data_shape} does not match {self._geom.data_shape}"
                )
        init = dict(
            geom=self._geom, data=self._data.copy(), meta=copy.deepcopy(self.meta),
            unit=self._unit,
        )
        init.update(kwargs)
        return self.__class__(**init)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self._data
        return self._data.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy ufuncs on maps: element-wise calls return a map (unit-aware via
        Quantity), reductions return plain arrays. Also makes ``Quantity * map``
        and ``ndarray * map`` return maps."""
        if kwargs.get("out") is not None:
            return NotImplemented
        args = [
            (x.quantity if x.unit != u.dimensionless_unscaled else x.data) if isinstance(x, Map) else x
            for x in inputs
        ]
        if method == "__call__":
            with np.errstate(all="ignore") if ufunc in (np.log, np.sqrt, np.divide) else _nullcontext():
                try:
                    result = getattr(ufunc, method)(*args, **kwargs)
                except TypeError:
                    # ufuncs astropy refuses for quantities (logical_*, bitwise ...)
                    args = [x.value if isinstance(x, u.Quantity) else x for x in args]
                    result = getattr(ufunc, method)(*args, **kwargs)
            if isinstance(result, tuple):
                return result
            if np.shape(result) == self._geom.data_shape:
                if isinstance(result, u.Quantity):
                    return self._init_copy(data=result.value, unit=result.unit)
                return self._init_copy(data=np.asarray(result), unit="")
            return result
        args = [x.value if isinstance(x, u.Quantity) else x for x in args]
        return getattr(ufunc, method)(*args, **kwargs)

    # ------------------------------------------------------------------ index / coordinates
    def _data_index(self, idx):
        """Data index tuple from (x, y, *axes) index arrays (data order is reversed)."""
        return tuple(np.asarray(i) for i in idx[::-1])

    def get_by_idx(self, idx):
        """Values at integer indices (x, y, *axes)."""
        return self._data[self._data_index(idx)]

    def get_by_pix(self, pix):
        """Values at the nearest pixel centres (NaN outside)."""
        idx = self._geom.pix_to_idx(pix)
        return self._values_at_idx(idx, np.nan)

    def get_by_coord(self, coords, fill_value=np.nan):
        """Values of the bins containing the coordinates (``fill_value`` outside)."""
        idx = self._geom.coord_to_idx(coords)
        return self._values_at_idx(idx, fill_value)

    def _values_at_idx(self, idx, fill_value):
        idx = np.broadcast_arrays(*idx)
        valid = np.all([i >= 0 for i in idx], axis=0)
        safe = tuple(np.where(valid, i, 0) for i in idx)
        values = self._data[self._data_index(safe)]
        if np.all(valid):
            return values
        if fill_value is None:
            fill_value = 0
        return np.where(valid, values, fill_value)

    def interp_by_coord(self, coords, method="linear", fill_value=None, values_scale="lin"):
        """Interpolate the map at coordinates.

        Parameters
        ----------
        coords : `MapCoord`, dict or tuple
            Coordinates (lon/lat or skycoord, plus the non-spatial axes).
        method : {"linear", "nearest"}
            Interpolation method (linear in the pixel space of each axis).
        fill_value : float or None
            Value outside the map; None extrapolates (linear) or clips (nearest).
        values_scale : {"lin", "log", "sqrt"}
            Interpolate the values in this scale.
        """
        pix = self._geom.coord_to_pix(coords)
        return self.interp_by_pix(pix, method=method, fill_value=fill_value, values_scale=values_scale)

    def interp_by_pix(self, pix, method="linear", fill_value=None, values_scale="lin"):
        """Interpolate the map at pixel coordinates (x, y, *axes); see `interp_by_coord`."""
        from .interp import interp_data_by_pix

        data_pix = [np.asarray(p, dtype=float) for p in pix][::-1]
        return interp_data_by_pix(
            self._data, data_pix, method=method, fill_value=fill_value, values_scale=values_scale,
        )

    def fill_by_idx(self, idx, weights=None):
        """Add ``weights`` (default 1) at integer indices; indices < 0 are ignored."""
        idx = np.broadcast_arrays(*[np.asarray(i) for i in idx])
        valid = np.all([i >= 0 for i in idx], axis=0)
        data_idx = tuple(i[valid] for i in idx[::-1])
        flat = np.ravel_multi_index(data_idx, self._data.shape)
        if weights is None:
            w = None
        else:
            if isinstance(weights, u.Quantity):
                weights = weights.to_value(self._unit)
            w = np.broadcast_to(np.asarray(weights), valid.shape)[valid]
        counts = np.bincount(flat, weights=w, minlength=self._data.size)
        self._data += counts.reshape(self._data.shape).astype(self._data.dtype, copy=False)

    def fill_by_coord(self, coords, weights=None):
        """Add ``weights`` (default 1) in the bins containing the coordinates."""
        idx = self._geom.coord_to_idx(coords)
        self.fill_by_idx(idx, weights=weights)

    def fill_by_pix(self, pix, weights=None):
        self.fill_by_idx(self._geom.pix_to_idx(pix), weights=weights)

    def set_by_idx(self, idx, vals):
        """Set values at integer indices (x, y, *axes)."""
        self._data[self._data_index(idx)] = vals

    def set_by_coord(self, coords, vals):
        idx = self._geom.coord_to_idx(coords)
        idx = np.broadcast_arrays(*idx)
        valid = np.all([i >= 0 for i in idx], axis=0)
        vals = np.broadcast_to(vals, valid.shape)[valid]
        self._data[tuple(i[valid] for i in idx[::-1])] = vals

    # ------------------------------------------------------------------ slicing / reductions
    def slice_by_idx(self, slices):
        """Map sliced along non-spatial axes; ``slices`` maps axis name -> int or slice.

        An int removes the axis, a slice keeps it.
        """
        geom = self._geom.slice_by_idx(slices)
        index = [slice(None)] * self._data.ndim
        for name, idx in slices.items():
            if name in self._geom.axes.names:
                index[self._geom.axes.index_data(name)] = idx
        return self._init_copy(geom=geom, data=self._data[tuple(index)])

    def __getitem__(self, item):
        if isinstance(item, dict):
            return self.slice_by_idx(item)
        raise TypeError(f"{type(self).__name__}[...]: use a dict of axis slices, got {item!r}")

    def get_image_by_idx(self, idx):
        """Image (no non-spatial axes) at the given tuple of axis indices."""
        if len(idx) != len(self._geom.axes):
            raise ValueError(f"get_image_by_idx: need {len(self._geom.axes)} indices, got {len(idx)}")
        slices = {ax.name: int(i) for ax, i in zip(self._geom.axes, idx)}
        return self.slice_by_idx(slices)

    def get_image_by_coord(self, coords):
        """Image at the given non-spatial coordinates (dict axis name -> value)."""
        idx = tuple(
            int(ax.coord_to_idx(coords[ax.name], clip=True)) for ax in self._geom.axes
        )
        return self.get_image_by_idx(idx)

    def iter_by_image_data(self):
        """Yield (image data, index tuple) for every combination of non-spatial bins."""
        shape = self._geom.axes.shape
        for idx in np.ndindex(*shape):
            yield self._data[idx[::-1]], idx

    def iter_by_image(self, keepdims=False):
        """Yield the images of the map (as maps)."""
        for _, idx in self.iter_by_image_data():
            if keepdims:
                slices = {ax.name: slice(i, i + 1) for ax, i in zip(self._geom.axes, idx)}
                yield self.slice_by_idx(slices)
            else:
                yield self.get_image_by_idx(idx)

    def reduce(self, axis_name, func=np.add, keepdims=False, weights=None):
        """Reduce one non-spatial axis with a ufunc (squashed if keepdims, else dropped)."""
        idx = self._geom.axes.index_data(axis_name)
        data = self._data if weights is None else self._data * np.asarray(weights)
        data = func.reduce(data, axis=idx, keepdims=keepdims)
        geom = self._geom.squash(axis_name) if keepdims else self._geom.drop(axis_name)
        return self._init_copy(geom=geom, data=data)

    def reduce_over_axes(self, func=np.add, keepdims=False, axes_names=None, weights=None):
        """Reduce the non-spatial axes (all by default) with a ufunc."""
        if axes_names is None:
            axes_names = self._geom.axes.names
        elif isinstance(axes_names, str):
            axes_names = [axes_names]
        result = self
        if weights is not None:
            result = self._init_copy(data=self._data * np.asarray(weights))
        for name in axes_names:
            result = result.reduce(name, func=func, keepdims=keepdims)
        return result

    def sum_over_axes(self, axes_names=None, keepdims=True, weights=None):
        """Sum over non-spatial axes (all by default), keeping them as single bins by default."""
        return self.reduce_over_axes(
            func=np.add, keepdims=keepdims, axes_names=axes_names, weights=weights
        )

    def resample_axis(self, axis, weights=None, ufunc=np.add):
        """Combine bins into the coarser ``axis`` (its edges must be a subset of the current ones).

        Parameters
        ----------
        axis : `MapAxis`
            New axis, same name as an existing one.
        weights : `Map` or array, optional
            Weights applied before combining (e.g. a mask).
        ufunc : `~numpy.ufunc`
            Reduction (np.add, np.logical_or, np.maximum ...).
        """
        old = self._geom.axes[axis.name]
        if not old.is_aligned(axis):
            raise ValueError(
                f"resample_axis: edges of the new {axis.name!r} axis are not a subset of the "
                "current edges"
            )
        data = self._data
        if weights is not None:
            weights = weights.data if isinstance(weights, Map) else np.asarray(weights)
            data = data * weights
        pix = old.coord_to_pix(u.Quantity(axis._edges, axis.unit)) + 0.5
        edge_idx = np.round(pix).astype(int)
        idx_data = self._geom.axes.index_data(axis.name)
        lo, hi = edge_idx[:-1], edge_idx[1:]
        if np.any(hi <= lo):
            raise ValueError("resample_axis: new axis has an empty bin")
        reduced = ufunc.reduceat(data, lo, axis=idx_data)
        geom = self._geom.resample_axis(axis)
        return self._init_copy(geom=geom, data=reduced)

    def downsample(self, factor, preserve_counts=True, axis_name=None, weights=None):
        """Downsample a non-spatial axis by ``factor`` (sum if preserve_counts, else mean)."""
        if axis_name is None:
            raise ValueError(f"{type(self).__name__}.downsample: give axis_name")
        axis = self._geom.axes[axis_name].downsample(factor)
        result = self.resample_axis(axis, weights=weights)
        if not preserve_counts:
            old = self._geom.axes[axis_name]
            pix = old.coord_to_pix(u.Quantity(axis._edges, axis.unit)) + 0.5
            n = np.diff(np.round(pix).astype(int))
            shape = [1] * self._data.ndim
            shape[self._geom.axes.index_data(axis_name)] = axis.nbin
            result.data = result.data / n.reshape(shape)
        return result

    def upsample(self, factor, order=0, preserve_counts=True, axis_name=None):
        """Upsample a non-spatial axis by ``factor`` (repeat; divided if preserve_counts)."""
        if axis_name is None:
            raise ValueError(f"{type(self).__name__}.upsample: give axis_name")
        axis = self._geom.axes[axis_name].upsample(factor)
        idx = self._geom.axes.index_data(axis_name)
        data = np.repeat(self._data, int(factor), axis=idx)
        if preserve_counts:
            data = data / factor
        return self._init_copy(geom=self._geom.replace_axis(axis), data=data)

    # ------------------------------------------------------------------ stacking
    def stack(self, other, weights=None, nan_to_num=True):
        """Add ``other`` into this map in place (same geometry), optionally weighted."""
        if self._geom.data_shape != other.geom.data_shape:
            raise ValueError(
                f"stack: geometries differ ({self._geom.data_shape} vs {other.geom.data_shape})"
            )
        data = other.quantity.to_value(self._unit)
        if nan_to_num:
            data = np.nan_to_num(data, copy=True)
        if weights is not None:
            weights = weights.data if isinstance(weights, Map) else np.asarray(weights)
            data = data * weights
        self._data += data.astype(self._data.dtype, copy=False)

    def is_allclose(self, other, rtol_axes=1e-3, atol_axes=1e-6, **kwargs):
        """Same geometry (axes allclose), unit and data allclose (``np.allclose`` kwargs)."""
        if not isinstance(other, Map) or self._geom.data_shape != other.geom.data_shape:
            return False
        if not self._unit.is_equivalent(other.unit):
            return False
        if not self._geom.axes.is_allclose(other.geom.axes, rtol=rtol_axes, atol=atol_axes):
            return False
        return bool(np.allclose(self._data, other.quantity.to_value(self._unit), **kwargs))

    # ------------------------------------------------------------------ arithmetic
    def _other_values(self, other, op):
        """(values, result unit) of the second operand of an arithmetic operation."""
        if isinstance(other, Map):
            if other.geom.data_shape != self._geom.data_shape:
                try:
                    np.broadcast_shapes(other.data.shape, self._data.shape)
                except ValueError:
                    raise ValueError(
                        f"Map arithmetic: shapes {self._data.shape} and {other.data.shape} "
                        "do not broadcast"
                    ) from None
            other = other.quantity
        if op in (operator.add, operator.sub, operator.iadd, operator.isub,
                  operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
            if isinstance(other, u.Quantity):
                if self._unit == u.dimensionless_unscaled and not other.unit.is_equivalent(self._unit):
                    return other.value, other.unit
                return other.to_value(self._unit), self._unit
            return other, self._unit
        if op in (operator.mul, operator.imul, operator.truediv, operator.itruediv):
            if isinstance(other, u.Quantity):
                if op in (operator.mul, operator.imul):
                    return other.value, self._unit * other.unit
                return other.value, self._unit / other.unit
            return other, self._unit
        if isinstance(other, u.Quantity):
            return other.value, self._unit
        return other, self._unit

    def _arithmetics(self, op, other, copy=True):
        values, unit = self._other_values(other, op)
        if op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
            return self._init_copy(data=op(self._data, values), unit="")
        if copy:
            data = op(self._data, values)
            if op in (operator.and_, operator.or_, operator.xor):
                unit = ""
            return self._init_copy(data=data, unit=unit)
        self._data = op(self._data, values)
        self._unit = _as_unit(unit)
        return self

    def __add__(self, other):
        return self._arithmetics(operator.add, other)

    def __radd__(self, other):
        return self._arithmetics(operator.add, other)

    def __sub__(self, other):
        return self._arithmetics(operator.sub, other)

    def __rsub__(self, other):
        return -self + other

    def __mul__(self, other):
        return self._arithmetics(operator.mul, other)

    def __rmul__(self, other):
        return self._arithmetics(operator.mul, other)

    def __truediv__(self, other):
        return self._arithmetics(operator.truediv, other)

    def __rtruediv__(self, other):
        values, unit = (other.value, other.unit) if isinstance(other, u.Quantity) else (other, u.dimensionless_unscaled)
        return self._init_copy(data=values / self._data, unit=unit / self._unit)

    def __pow__(self, power):
        return self._init_copy(data=self._data ** power, unit=self._unit ** power)

    def __iadd__(self, other):
        return self._arithmetics(operator.iadd, other, copy=False)

    def __isub__(self, other):
        return self._arithmetics(operator.isub, other, copy=False)

    def __imul__(self, other):
        return self._arithmetics(operator.imul, other, copy=False)

    def __itruediv__(self, other):
        return self._arithmetics(operator.itruediv, other, copy=False)

    def __neg__(self):
        return self._init_copy(data=-self._data)

    def __abs__(self):
        return self._init_copy(data=np.abs(self._data))

    def __invert__(self):
        return self._init_copy(data=np.logical_not(self._data), unit="")

    def __and__(self, other):
        return self._arithmetics(operator.and_, other)

    def __or__(self, other):
        return self._arithmetics(operator.or_, other)

    def __xor__(self, other):
        return self._arithmetics(operator.xor, other)

    def __iand__(self, other):
        return self._arithmetics(operator.and_, other, copy=False)

    def __ior__(self, other):
        return self._arithmetics(operator.or_, other, copy=False)

    def __lt__(self, other):
        return self._arithmetics(operator.lt, other)

    def __le__(self, other):
        return self._arithmetics(operator.le, other)

    def __gt__(self, other):
        return self._arithmetics(operator.gt, other)

    def __ge__(self, other):
        return self._arithmetics(operator.ge, other)

    def __eq__(self, other):
        return self._arithmetics(operator.eq, other)

    def __ne__(self, other):
        return self._arithmetics(operator.ne, other)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ I/O
    @abc.abstractmethod
    def to_hdulist(self, *args, **kwargs):
        """HDU list of the map."""

    def write(self, filename, overwrite=False, **kwargs):
        """Write the map to a FITS file (atomic; refuses to overwrite unless ``overwrite``)."""
        hdulist = self.to_hdulist(**kwargs)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp)

    # ------------------------------------------------------------------ display
    def __str__(self):
        shape = self._data.shape[::-1]
        unit = self._unit.to_string()
        return (
            f"{type(self).__name__}\n\n"
            f"\tgeom  : {type(self._geom).__name__} \n"
            f"\taxes  : {self._geom.axes_names}\n"
            f"\tshape : {shape}\n"
            f"\tndim  : {self._data.ndim}\n"
            f"\tunit  : {unit}\n"
            f"\tdtype : {self._data.dtype}\n"
        )

    def __repr__(self):
        return (
            f"{type(self).__name__}(geom={type(self._geom).__name__}, "
            f"axes={self._geom.axes_names}, shape={self._data.shape[::-1]}, unit={self._unit.to_string()!r})"
        )


def _squeeze(shape):
    return tuple(n for n in shape if n != 1)


def _guess_map_type(hdulist, hdu, filename):
    """'wcs' for image HDUs, 'region' for table HDUs with a REGION/BANDS companion."""
    if hdu is None:
        for h in hdulist:
            if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)) and h.data is not None:
                return "wcs"
        if any(isinstance(h, fits.BinTableHDU) for h in hdulist):
            return "region"
        raise ValueError(f"Map.read: no image or table HDU found in {filename!r}")
    if hdu not in hdulist:
        names = [h.name for h in hdulist]
        raise KeyError(f"Map.read: HDU {hdu!r} not found in {filename!r} (HDUs: {names})")
    target = hdulist[hdu]
    if isinstance(target, fits.BinTableHDU):
        return "region"
    return "wcs"

