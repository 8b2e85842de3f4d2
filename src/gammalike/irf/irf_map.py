"""`IRFMap`: base class of the reduced IRF maps (`PSFMap`, `EDispKernelMap`, `EDispMap`).

A reduced IRF map holds two maps on the same (usually coarse) spatial grid:

- the IRF itself (e.g. PSF values on axes ``rad`` and ``energy_true``);
- the exposure it was averaged with (same axes, the IRF-specific axis squashed
  to one bin), used to weight the IRFs when datasets are stacked.

FITS layout (gammapy's MapDataset files): HDUs ``<NAME>`` / ``<NAME>_BANDS``
for the IRF and ``<NAME>_EXPOSURE`` / ``<NAME>_EXPOSURE_BANDS`` for the
exposure, e.g. PSF, PSF_BANDS, PSF_EXPOSURE, PSF_EXPOSURE_BANDS.

Files written by older releases name some axes differently ("theta" for the
PSF ``rad`` axis, "energy" for ``energy_true``); `IRFMap` renames them on read
through the ``_axis_renames`` class attribute of each subclass.
"""
import numpy as np
import astropy.units as u
from astropy.io import fits

from ..maps import Map, MapAxis
from ..utils import make_path, write_atomic

__all__ = ["IRFMap"]

_CACHE_SIZE = 64


def _axis_in_unit(axis, unit):
    """Copy of a `MapAxis` with its nodes converted to ``unit``."""
    if axis.unit == u.Unit(unit):
        return axis
    nodes = u.Quantity(axis._nodes, axis.unit).to_value(unit)
    return axis.copy(nodes=nodes, unit=unit)


class IRFMap:
    """Base class of maps of reduced IRFs with their exposure.

    Parameters
    ----------
    irf_map : `~gammalike.maps.Map`
        The IRF map (WCS or region geometry) with the subclass' required axes.
    exposure_map : `~gammalike.maps.Map`, optional
        Exposure of the IRF (same spatial grid; IRF axis squashed to one bin).
    """

    tag = None
    hdu_name = None
    #: required non-spatial axes, in the order of the geometry
    required_axes = ()
    #: axis renames applied on construction (old file layouts), old -> new
    _axis_renames = {}
    #: axis units used internally, name -> unit
    _axis_units = {"energy_true": "TeV", "energy": "TeV"}

    def __init__(self, irf_map, exposure_map=None):
        self._irf_map = self._standardize(irf_map, "irf map")
        self._exposure_map = (
            None if exposure_map is None else self._standardize(exposure_map, "exposure map")
        )
        self._cache = {}

    # ------------------------------------------------------------------ standardization
    @classmethod
    def _standardize(cls, m, what):
        """Rename old axis names, convert axis units, check the required axes."""
        if not isinstance(m, Map):
            raise TypeError(f"{cls.__name__}: {what} must be a Map, got {type(m).__name__}")
        axes = list(m.geom.axes)
        names = [ax.name for ax in axes]
        changed = False
        for i, ax in enumerate(axes):
            new_name = cls._axis_renames.get(ax.name)
            if new_name is not None and new_name not in names:
                ax = ax.rename(new_name)
                changed = True
            unit = cls._axis_units.get(ax.name)
            if unit is not None and isinstance(ax, MapAxis) and ax.unit != u.Unit(unit):
                ax = _axis_in_unit(ax, unit)
                changed = True
            axes[i] = ax
        missing = [name for name in cls.required_axes if name not in [ax.name for ax in axes]]
        if missing:
            raise ValueError(
                f"{cls.__name__}: {what} needs axes {list(cls.required_axes)}, got "
                f"{[ax.name for ax in axes]} (missing {missing})"
            )
        if changed:
            geom = m.geom._init_copy(axes=axes)
            m = m.__class__(geom, data=m.data, unit=m.unit, meta=m.meta)
        return m

    def _clear_cache(self):
        self._cache.clear()

    def _cache_get(self, key, func):
        """Value cached under ``key`` (computed by ``func`` on a miss, FIFO eviction)."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = func()
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = value
        return value

    # ------------------------------------------------------------------ properties
    @property
    def _irf(self):
        return self._irf_map

    @property
    def exposure_map(self):
        """Exposure map of the IRF (or None)."""
        return self._exposure_map

    @exposure_map.setter
    def exposure_map(self, value):
        self._exposure_map = None if value is None else self._standardize(value, "exposure map")
        self._clear_cache()

    def _set_irf_map(self, value):
        self._irf_map = self._standardize(value, "irf map")
        self._clear_cache()

    @property
    def energy_axis_true(self):
        """True-energy axis of the IRF map (every subclass requires one)."""
        return self._irf_map.geom.axes["energy_true"]

    @property
    def has_single_spatial_bin(self):
        """True if the spatial grid has a single bin (e.g. a region geometry)."""
        return int(np.prod(self._irf_map.geom.data_shape[-2:])) == 1

    @property
    def mask_safe_image(self):
        """Boolean image (spatial), True where the exposure is positive (all True without exposure)."""
        shape = self._irf_map.geom.data_shape[-2:]
        if self._exposure_map is None:
            data = np.ones(shape, dtype=bool)
        else:
            exposure = np.nan_to_num(np.asarray(self._exposure_map.data, dtype=float))
            data = exposure.reshape((-1,) + exposure.shape[-2:]).max(axis=0) > 0
        geom = self._irf_map.geom.to_image()
        return Map.from_geom(geom, data=data, dtype=bool)

    # ------------------------------------------------------------------ spatial lookup
    def _spatial_index(self, position=None):
        """(iy, ix) of the spatial bin used for ``position``.

        The nearest bin; if it has no exposure, the nearest bin with exposure.
        ``position=None`` uses the centre of the geometry.
        """
        geom = self._irf_map.geom
        ny, nx = geom.data_shape[-2:]
        if ny * nx == 1:
            return 0, 0
        if position is None:
            position = geom.center_skydir
        lon, lat = _lonlat_in_frame(position, geom.frame)
        x, y = geom.wcs.wcs_world2pix(lon, lat, 0)
        ix = int(np.clip(np.floor(float(x) + 0.5), 0, nx - 1)) if np.isfinite(x) else nx // 2
        iy = int(np.clip(np.floor(float(y) + 0.5), 0, ny - 1)) if np.isfinite(y) else ny // 2
        if self._exposure_map is not None:
            valid = self._valid_image()
            if not valid[iy, ix] and valid.any():
                coords = geom.to_image().get_coord()
                lon_img = np.asarray(coords["lon"]).reshape(ny, nx)
                lat_img = np.asarray(coords["lat"]).reshape(ny, nx)
                sep = _angular_separation_deg(lon, lat, lon_img, lat_img)
                sep = np.where(valid, sep, np.inf)
                iy, ix = np.unravel_index(np.argmin(sep), sep.shape)
        return int(iy), int(ix)

    def _valid_image(self):
        def compute():
            exposure = np.nan_to_num(np.asarray(self._exposure_map.data, dtype=float))
            return exposure.reshape((-1,) + exposure.shape[-2:]).max(axis=0) > 0

        return self._cache_get(("valid_image",), compute)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_hdulist(cls, hdulist, hdu=None, hdu_bands=None, exposure_hdu=None,
                     exposure_hdu_bands=None, format="gadf"):
        """Create from an HDU list.

        Parameters
        ----------
        hdulist : `~astropy.io.fits.HDUList`
            HDU list.
        hdu : str, optional
            Name of the IRF HDU (default: the class' ``hdu_name``, e.g. "PSF").
        hdu_bands : str, optional
            Name of its BANDS HDU (default ``<hdu>_BANDS``).
        exposure_hdu, exposure_hdu_bands : str, optional
            Names of the exposure HDUs (default ``<hdu>_EXPOSURE`` and ``<hdu>_EXPOSURE_BANDS``);
            the exposure is optional.
        format : {"gadf"}
            Format.
        """
        if format != "gadf":
            raise ValueError(f"{cls.__name__}.from_hdulist: unknown format {format!r}, expected 'gadf'")
        hdu = (hdu or cls.hdu_name).upper()
        names = [h.name for h in hdulist]
        if hdu not in names:
            raise KeyError(f"{cls.__name__}: HDU {hdu!r} not found (HDUs: {names})")
        hdu_bands = hdu_bands or f"{hdu}_BANDS"
        irf_map = Map.from_hdulist(
            hdulist, hdu=hdu, hdu_bands=hdu_bands if hdu_bands in names else None
        )
        exposure_hdu = (exposure_hdu or f"{hdu}_EXPOSURE").upper()
        exposure_map = None
        if exposure_hdu in names:
            exposure_hdu_bands = exposure_hdu_bands or f"{exposure_hdu}_BANDS"
            exposure_map = Map.from_hdulist(
                hdulist, hdu=exposure_hdu,
                hdu_bands=exposure_hdu_bands if exposure_hdu_bands in names else None,
            )
        return cls(irf_map, exposure_map)

    @classmethod
    def read(cls, filename, format="gadf", hdu=None, checksum=False):
        """Read from a FITS file (HDUs ``<hdu>``, ``<hdu>_BANDS``, ``<hdu>_EXPOSURE`` ...)."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"{cls.__name__}.read: file not found: {path}")
        with fits.open(path, memmap=False, checksum=checksum) as hdulist:
            try:
                return cls.from_hdulist(hdulist, hdu=hdu, format=format)
            except (KeyError, ValueError) as exc:
                raise type(exc)(f"{path}: {exc}") from None

    def to_hdulist(self, format="gadf", hdu=None):
        """HDU list: PRIMARY, ``<hdu>``, ``<hdu>_BANDS``, ``<hdu>_EXPOSURE``, ``<hdu>_EXPOSURE_BANDS``."""
        if format != "gadf":
            raise ValueError(f"{type(self).__name__}.to_hdulist: unknown format {format!r}, expected 'gadf'")
        hdu = (hdu or self.hdu_name).upper()
        hdus = [fits.PrimaryHDU()]
        hdus += list(self._irf_map.to_hdulist(hdu=hdu, hdu_bands=f"{hdu}_BANDS"))[1:]
        if self._exposure_map is not None:
            name = f"{hdu}_EXPOSURE"
            hdus += list(self._exposure_map.to_hdulist(hdu=name, hdu_bands=f"{name}_BANDS"))[1:]
        return fits.HDUList(hdus)

    def write(self, filename, overwrite=False, format="gadf"):
        """Write to a FITS file (atomically; refuses to overwrite unless ``overwrite``)."""
        hdulist = self.to_hdulist(format=format)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp)

    # ------------------------------------------------------------------ derived maps
    def copy(self):
        """Deep copy."""
        exposure = None if self._exposure_map is None else self._exposure_map.copy()
        return self.__class__(self._irf_map.copy(), exposure)

    def _new(self, irf_map, exposure_map):
        return self.__class__(irf_map, exposure_map)

    def cutout(self, position, width, mode="trim"):
        """IRF map cut out around ``position`` (see `WcsGeom.cutout`)."""
        if self._irf_map.geom.is_region:
            return self.copy()
        irf = self._irf_map.cutout(position, width, mode=mode, fill_value=0)
        exposure = None
        if self._exposure_map is not None:
            exposure = self._exposure_map.cutout(position, width, mode=mode, fill_value=0)
        return self._new(irf, exposure)

    def downsample(self, factor, axis_name=None, weights=None):
        """Downsample spatially (mean over blocks) or along ``axis_name``."""
        kwargs = dict(preserve_counts=False, axis_name=axis_name, weights=weights)
        irf = self._irf_map.downsample(factor, **kwargs)
        exposure = self._exposure_map
        if exposure is not None:
            if axis_name is None:
                exposure = exposure.downsample(factor, preserve_counts=False, weights=weights)
            elif axis_name in exposure.geom.axes.names and exposure.geom.axes[axis_name].nbin > 1:
                exposure = exposure.downsample(factor, preserve_counts=False, axis_name=axis_name)
        return self._new(irf, exposure)

    def slice_by_idx(self, slices):
        """Slice along non-spatial axes (dict axis name -> int or slice)."""
        irf = self._irf_map.slice_by_idx(slices)
        exposure = self._exposure_map
        if exposure is not None:
            sub = {
                k: v for k, v in slices.items()
                if k in exposure.geom.axes.names and exposure.geom.axes[k].nbin > 1
            }
            exposure = exposure.slice_by_idx(sub)
        return self._new(irf, exposure)

    def to_region_nd_map(self, region):
        """IRF map at a position (point region: nearest bin) or averaged over a region."""
        from regions import PointSkyRegion

        from ..maps.region import _is_point_region, parse_region

        region = parse_region(region)
        if self._irf_map.geom.is_region:
            return self.copy()
        if region is not None and _is_point_region(region):
            irf = self._irf_map.to_region_nd_map(region, method="nearest")
            exposure = None
            if self._exposure_map is not None:
                exposure = self._exposure_map.to_region_nd_map(region, method="nearest")
        elif region is not None and not self._irf_map.geom.to_image().region_mask([region]).data.any():
            # region smaller than the (coarse) IRF pixels: value at the region centre
            from ..maps.region import region_center

            point = PointSkyRegion(region_center(region))
            irf = self._irf_map.to_region_nd_map(point, method="nearest")
            exposure = None
            if self._exposure_map is not None:
                exposure = self._exposure_map.to_region_nd_map(point, method="nearest")
            geom = irf.geom.__class__(region, axes=irf.geom.axes)
            irf = irf.__class__(geom, data=irf.data, unit=irf.unit)
            if exposure is not None:
                exposure = exposure.__class__(
                    geom.__class__(region, axes=exposure.geom.axes), data=exposure.data,
                    unit=exposure.unit,
                )
        else:
            irf = self._irf_map.to_region_nd_map(region, func=np.nanmean)
            exposure = None
            if self._exposure_map is not None:
                exposure = self._exposure_map.to_region_nd_map(region, func=np.nanmean)
        return self._new(irf, exposure)

    # ------------------------------------------------------------------ stacking
    def stack(self, other, weights=None, nan_to_num=True):
        """Stack ``other`` into this map in place: exposure-weighted mean of the IRFs.

        ``irf = (irf_1 * exp_1 + irf_2 * exp_2 * w) / (exp_1 + exp_2 * w)`` and
        ``exp = exp_1 + exp_2 * w`` in every bin.

        Parameters
        ----------
        other : `IRFMap`
            Map to stack (same axes; same spatial grid or a pixel-aligned cutout of it).
        weights : `~gammalike.maps.Map` or array, optional
            Weights of ``other`` (typically a safe mask): broadcastable to the IRF
            data of ``other``, or a Map whose non-spatial axes are reduced (any bin
            True / maximum) and which is looked up at the IRF pixel centres.
        nan_to_num : bool
            Replace NaN by zero in ``other`` first.
        """
        if self._exposure_map is None or other.exposure_map is None:
            raise ValueError(
                f"{type(self).__name__}.stack: both maps need an exposure map to be stacked"
            )
        other_irf = other._irf_map
        unit = self._exposure_map.unit
        w = _weights_array(weights, other_irf)
        exp_other = other.exposure_map.quantity.to_value(unit)
        irf_other = other_irf.quantity.to_value(self._irf_map.unit)
        if nan_to_num:
            exp_other = np.nan_to_num(exp_other)
            irf_other = np.nan_to_num(irf_other)
        exp_self = np.nan_to_num(np.asarray(self._exposure_map.data, dtype=float))
        prod_self = np.asarray(self._irf_map.data, dtype=float) * exp_self
        if w is None:
            prod_other = irf_other * exp_other
        else:
            w = _broadcast_weights(w, exp_other.ndim)
            prod_other = irf_other * exp_other * w
            # the exposure has the IRF axis squashed: reduce the weights along it
            squashed = tuple(
                d for d in range(w.ndim) if exp_other.shape[d] == 1 and w.shape[d] > 1
            )
            if squashed:
                w = w.max(axis=squashed, keepdims=True)
            exp_other = exp_other * w

        same = self._irf_map.geom.data_shape == other_irf.geom.data_shape
        if same:
            prod = prod_self + prod_other
            exposure = exp_self + exp_other
        else:
            # pixel-aligned cutout: let the map class place it
            prod_map = self._irf_map._init_copy(data=prod_self, unit="")
            prod_map.stack(other_irf._init_copy(data=prod_other, unit=""))
            exp_map = self._exposure_map._init_copy(data=exp_self, unit="")
            exp_map.stack(other.exposure_map._init_copy(data=exp_other, unit=""))
            prod, exposure = prod_map.data, exp_map.data
        with np.errstate(invalid="ignore", divide="ignore"):
            irf = np.where(exposure > 0, prod / exposure, 0.0)
        self._irf_map = self._irf_map._init_copy(data=irf.astype(np.float64))
        self._exposure_map = self._exposure_map._init_copy(
            data=np.asarray(exposure, dtype=np.float64)
        )
        self._clear_cache()

    # ------------------------------------------------------------------ comparison / display
    def is_allclose(self, other, rtol=1e-5, atol=0):
        """Same type, IRF maps and exposure maps allclose."""
        if type(other) is not type(self):
            return False
        if not self._irf_map.is_allclose(other._irf_map, rtol=rtol, atol=atol):
            return False
        if (self._exposure_map is None) != (other.exposure_map is None):
            return False
        if self._exposure_map is None:
            return True
        return self._exposure_map.is_allclose(other.exposure_map, rtol=rtol, atol=atol)

    def __str__(self):
        exposure = "None" if self._exposure_map is None else repr(self._exposure_map)
        return (
            f"{type(self).__name__}\n{'-' * len(type(self).__name__)}\n\n"
            f"  irf map      : {self._irf_map!r}\n"
            f"  exposure map : {exposure}\n"
        )

    def __repr__(self):
        return f"{type(self).__name__}(axes={self._irf_map.geom.axes.names}, shape={self._irf_map.data.shape[::-1]})"


# --------------------------------------------------------------------------- helpers
def _lonlat_in_frame(position, frame):
    """(lon, lat) in deg of a SkyCoord in ``frame``."""
    from ..maps.coord import skycoord_to_lonlat

    lon, lat = skycoord_to_lonlat(position, frame)
    return float(np.ravel(lon)[0]), float(np.ravel(lat)[0])


def _angular_separation_deg(lon1, lat1, lon2, lat2):
    """Great-circle distance in deg (Vincenty formula, numpy broadcasting)."""
    lon1, lat1, lon2, lat2 = (np.radians(v) for v in (lon1, lat1, lon2, lat2))
    dlon = lon2 - lon1
    num1 = np.cos(lat2) * np.sin(dlon)
    num2 = np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(dlon)
    den = np.sin(lat1) * np.sin(lat2) + np.cos(lat1) * np.cos(lat2) * np.cos(dlon)
    return np.degrees(np.arctan2(np.hypot(num1, num2), den))


def _weights_array(weights, irf_map):
    """Weights as a float array broadcastable to ``irf_map.data`` (or None)."""
    if weights is None:
        return None
    if not isinstance(weights, Map):
        return np.asarray(weights, dtype=float)
    data = np.asarray(weights.data, dtype=float)
    target = irf_map.geom
    if weights.geom.data_shape == target.data_shape:
        return data
    same_spatial = weights.geom.data_shape[-2:] == target.data_shape[-2:]
    # reduce the non-spatial axes of the weights (e.g. a mask on reco energy)
    image = data.reshape((-1,) + data.shape[-2:]).max(axis=0)
    if not same_spatial:
        if weights.geom.is_region:
            image = np.full(target.data_shape[-2:], float(image.max()))
        else:
            coords = target.to_image().get_coord()
            wimage = weights.geom.to_image()
            idx = wimage.coord_to_idx(coords)
            valid = (idx[0] >= 0) & (idx[1] >= 0)
            values = image[np.where(valid, idx[1], 0), np.where(valid, idx[0], 0)]
            image = np.where(valid, values, 0.0)
    return image.reshape((1,) * (len(target.data_shape) - 2) + image.shape)


def _broadcast_weights(w, ndim):
    w = np.asarray(w, dtype=float)
    if w.ndim < ndim:
        w = w.reshape((1,) * (ndim - w.ndim) + w.shape)
    return w
