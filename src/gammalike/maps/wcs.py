"""`WcsGeom`: a rectangular sky pixel grid (astropy WCS) with non-spatial axes."""
import warnings

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from .coord import MapCoord, frame_name, skycoord_to_lonlat
from .geom import Geom, _make_axes

__all__ = ["WcsGeom"]


def _pair(value, what):
    """(x, y) floats from a scalar or a 2-sequence (Angles / Quantities / strings in deg)."""
    if isinstance(value, str):
        value = Angle(value)
    if isinstance(value, u.Quantity):
        value = value.to_value("deg")
    if np.isscalar(value) or np.ndim(value) == 0:
        return float(value), float(value)
    value = list(np.ravel(value)) if not isinstance(value, (tuple, list)) else list(value)
    if len(value) != 2:
        raise ValueError(f"WcsGeom.create: {what} must be a scalar or a pair, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, str):
            v = Angle(v)
        out.append(float(v.to_value("deg")) if isinstance(v, u.Quantity) else float(v))
    return tuple(out)


def _celestial_wcs(header):
    """2D celestial WCS of a header (extra axes such as CTYPE3='Energy' are ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header, naxis=2)
    return wcs


def _wcs_frame(wcs):
    ctype = wcs.wcs.ctype[0].upper()
    if ctype.startswith("GLON"):
        return "galactic"
    radesys = (wcs.wcs.radesys or "ICRS").strip().lower()
    return "fk5" if radesys == "fk5" else "icrs"


class WcsGeom(Geom):
    """Geometry of a WCS sky image with optional non-spatial axes.

    Map data have shape ``axes.data_shape + (ny, nx)``.

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        Celestial WCS (two axes).
    npix : tuple of int
        Number of pixels (nx, ny).
    cdelt, crpix : ignored
        Accepted for signature compatibility.
    axes : list of `MapAxis`, optional
        Non-spatial axes.
    """

    _slice_spatial_axes = slice(-2, None)

    def __init__(self, wcs, npix, cdelt=None, crpix=None, axes=None):
        if wcs.naxis != 2:
            wcs = wcs.celestial
        self._wcs = wcs
        npix = np.ravel(npix).astype(int) if not np.isscalar(npix) else np.array([npix, npix])
        self._npix = (int(npix[0]), int(npix[1]))
        if min(self._npix) < 1:
            raise ValueError(f"WcsGeom: npix must be >= 1, got {self._npix}")
        self._axes = _make_axes(axes)
        self._cache = {}

    @classmethod
    def create(cls, npix=None, binsz=0.5, proj="CAR", frame="icrs", refpix=None, axes=None,
               skydir=None, width=None):
        """Create a WCS geometry.

        Parameters
        ----------
        npix : int or (int, int), optional
            Number of pixels (nx, ny); derived from ``width`` / ``binsz`` if None.
        binsz : float, Angle or pair
            Pixel size in deg.
        proj : str
            Projection code (CAR, TAN, AIT, AIR, ...).
        frame : {"icrs", "galactic"}
            Coordinate frame.
        refpix : (float, float), optional
            Reference pixel (FITS 1-based); default the image centre.
        axes : list of `MapAxis`, optional
            Non-spatial axes.
        skydir : `~astropy.coordinates.SkyCoord` or (lon, lat) in deg, optional
            Image centre (reference coordinate); default (0, 0).
        width : float, Angle, str or pair, optional
            Image width (deg) used when ``npix`` is None; default all-sky.
        """
        frame = frame_name(frame)
        if skydir is None:
            lon, lat = 0.0, 0.0
        elif isinstance(skydir, SkyCoord):
            lon, lat = (float(v) for v in skydir_to_frame(skydir, frame))
        else:
            lon, lat = _pair(skydir, "skydir")
        binsz_x, binsz_y = _pair(binsz, "binsz")
        if npix is None:
            width_x, width_y = _pair(width, "width") if width is not None else (360.0, 180.0)
            npix = (
                max(int(np.rint(width_x / binsz_x)), 1),
                max(int(np.rint(width_y / binsz_y)), 1),
            )
        else:
            npix = (int(npix), int(npix)) if np.isscalar(npix) else tuple(int(n) for n in npix)
        if refpix is None:
            refpix = ((npix[0] + 1) / 2.0, (npix[1] + 1) / 2.0)
        wcs = WCS(naxis=2)
        if frame == "galactic":
            wcs.wcs.ctype = [f"GLON-{proj}", f"GLAT-{proj}"]
        else:
            wcs.wcs.ctype = [f"RA---{proj}", f"DEC--{proj}"]
            wcs.wcs.radesys = "ICRS" if frame == "icrs" else frame.upper()
        wcs.wcs.crval = [lon, lat]
        wcs.wcs.cdelt = [-binsz_x, binsz_y]
        wcs.wcs.crpix = [float(refpix[0]), float(refpix[1])]
        wcs.wcs.cunit = ["deg", "deg"]
        wcs.wcs.set()
        return cls(wcs, npix, axes=axes)

    @classmethod
    def from_header(cls, header, hdu_bands=None, format="gadf"):
        """Geometry from an image header and an optional BANDS table HDU."""
        from .io import axes_from_bands_table
        from astropy.table import Table

        wcs = _celestial_wcs(header)
        npix = (int(header["NAXIS1"]), int(header["NAXIS2"]))
        axes = []
        if hdu_bands is not None:
            axes = axes_from_bands_table(Table.read(hdu_bands), header=header)
        return cls(wcs, npix, axes=axes)

    def _init_kwargs(self):
        return dict(wcs=self._wcs, npix=self._npix, axes=self._axes)

    # ------------------------------------------------------------------ properties
    @property
    def wcs(self):
        """Celestial astropy WCS."""
        return self._wcs

    @property
    def axes(self):
        return self._axes

    @property
    def npix(self):
        """Number of pixels (nx, ny)."""
        return self._npix

    @property
    def _shape_spatial(self):
        return (self._npix[1], self._npix[0])

    @property
    def data_shape(self):
        return self._axes.data_shape + self._shape_spatial

    @property
    def frame(self):
        """"icrs" or "galactic"."""
        return _wcs_frame(self._wcs)

    @property
    def projection(self):
        """Projection code (e.g. "CAR", "TAN")."""
        return self._wcs.wcs.ctype[0][5:]

    @property
    def pixel_scales(self):
        """Pixel sizes |cdelt| (Angle, deg) along x and y."""
        return Angle(np.abs(self._wcs.wcs.cdelt), "deg")

    @property
    def binsz(self):
        """Pixel size along x (deg)."""
        return float(np.abs(self._wcs.wcs.cdelt[0]))

    @property
    def center_pix(self):
        """Pixel coordinates (0-based) of the image centre."""
        return ((self._npix[0] - 1) / 2.0, (self._npix[1] - 1) / 2.0)

    @property
    def center_skydir(self):
        """Sky position of the image centre."""
        x, y = self.center_pix
        lon, lat = self._wcs.wcs_pix2world(x, y, 0)
        return SkyCoord(float(lon), float(lat), unit="deg", frame=self.frame)

    @property
    def width(self):
        """Image width and height (npix * pixel size) as a Quantity [w, h] (deg)."""
        return u.Quantity(np.array(self._npix) * np.abs(self._wcs.wcs.cdelt), "deg")

    @property
    def is_allsky(self):
        width = self.width.to_value("deg")
        return bool(width[0] >= 359.99 and width[1] >= 179.99)

    @property
    def is_regular(self):
        return True

    # ------------------------------------------------------------------ spatial coordinates
    def _image_lonlat(self):
        """(lon, lat) of the pixel centres, shape (ny, nx), cached."""
        if "lonlat" not in self._cache:
            y, x = np.indices(self._shape_spatial, dtype=float)
            lon, lat = self._wcs.wcs_pix2world(x, y, 0)
            lon, lat = np.asarray(lon), np.asarray(lat)
            lon.flags.writeable = False
            lat.flags.writeable = False
            self._cache["lonlat"] = (lon, lat)
        return self._cache["lonlat"]

    def get_coord(self, mode="center", frame=None, sparse=False, axis_name=None):
        """Coordinates of all bins (`MapCoord`); lon/lat are deg floats.

        Parameters
        ----------
        mode : {"center", "edges"}
            Bin centres, or edges of the axis ``axis_name``.
        frame : str, optional
            Transform lon/lat into this frame.
        sparse : bool
            Keep arrays broadcastable instead of full data shape.
        """
        lon, lat = self._image_lonlat()
        frame = frame_name(frame) if frame is not None else self.frame
        if frame != self.frame:
            lon, lat = skycoord_to_lonlat(SkyCoord(lon, lat, unit="deg", frame=self.frame), frame)
        n = len(self._axes)
        data = {
            "lon": lon.reshape((1,) * n + lon.shape),
            "lat": lat.reshape((1,) * n + lat.shape),
        }
        for name, value in self._axes.get_coord(mode="center").items():
            data[name] = value.reshape(value.shape + (1, 1))
        if mode == "edges" and axis_name is not None:
            ax = self._axes[axis_name]
            shape = [1] * (n + 2)
            shape[self._axes.index_data(axis_name)] = ax.nbin + 1
            data[axis_name] = ax.edges.reshape(shape)
        coords = MapCoord(data, frame=frame)
        return coords if sparse else coords.broadcasted

    def coord_to_pix(self, coords):
        """Fractional pixel coordinates (x, y, *axes) of coordinates."""
        coords = MapCoord.create(coords, frame=self.frame, axis_names=self._axes.names)
        if coords.frame is not None and coords.frame != self.frame:
            coords = coords.to_frame(self.frame)
        lon, lat = np.broadcast_arrays(coords.lon, coords.lat)
        x, y = self._wcs.wcs_world2pix(lon, lat, 0)
        return (np.asarray(x), np.asarray(y)) + tuple(self._axes_coord_to_pix(coords))

    def pix_to_coord(self, pix):
        """Coordinates (lon, lat in deg floats; Quantities for axes) at pixel positions."""
        x, y = np.broadcast_arrays(np.asarray(pix[0], float), np.asarray(pix[1], float))
        lon, lat = self._wcs.wcs_pix2world(x, y, 0)
        coords = [np.asarray(lon), np.asarray(lat)]
        for ax, p in zip(self._axes, pix[2:]):
            coords.append(ax.pix_to_coord(p))
        return tuple(coords)

    def contains(self, coords):
        """True where coordinates fall inside the geometry."""
        idx = self.coord_to_idx(coords)
        return np.all(np.stack(np.broadcast_arrays(*[i >= 0 for i in idx])), axis=0)

    def separation(self, center):
        """Angular distance of the pixel centres to ``center`` (Angle, shape (ny, nx))."""
        lon, lat = self._image_lonlat()
        coords = SkyCoord(lon, lat, unit="deg", frame=self.frame)
        return center.separation(coords)

    # ------------------------------------------------------------------ solid angle
    def solid_angle(self):
        """Solid angle of each pixel (sr, shape (ny, nx)): exact spherical quadrilaterals."""
        if "solid_angle" not in self._cache:
            ny, nx = self._shape_spatial
            y, x = np.mgrid[-0.5:ny, -0.5:nx]
            lon, lat = self._wcs.wcs_pix2world(x, y, 0)
            lon, lat = np.radians(lon), np.radians(lat)
            vec = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
            a, b = vec[:, :-1, :-1], vec[:, :-1, 1:]
            c, d = vec[:, 1:, 1:], vec[:, 1:, :-1]
            area = _triangle_area(a, b, c) + _triangle_area(a, c, d)
            area = np.where(np.isfinite(area), area, 0.0)
            self._cache["solid_angle"] = area
        return u.Quantity(self._cache["solid_angle"], "sr")

    # ------------------------------------------------------------------ regions
    def region_mask(self, regions, inside=True):
        """Boolean map, True for pixels whose centre is inside any of the regions.

        Parameters
        ----------
        regions : list of `~regions.SkyRegion` or str, or a single region
            Regions (DS9 strings are parsed).
        inside : bool
            If False, return the complement.
        """
        from .core import Map

        mask = self._region_mask_image(regions)
        if not inside:
            mask = ~mask
        data = np.broadcast_to(mask, self.data_shape).copy()
        return Map.from_geom(self, data=data, dtype=bool)

    def boundary_mask(self, width):
        """Boolean map, False within ``width`` of the image border.

        Parameters
        ----------
        width : `~astropy.coordinates.Angle`, str or tuple of two
            Border width, along (x, y) if a tuple; rounded up to whole pixels.
        """
        from .core import Map

        widths = width if isinstance(width, (tuple, list)) else (width, width)
        if len(widths) != 2:
            raise ValueError(f"WcsGeom.boundary_mask: width must be an angle or a pair, got {width!r}")
        scales = self.pixel_scales.to_value("deg")
        n_x, n_y = (int(np.ceil(Angle(w).to_value("deg") / scale - 1e-9)) for w, scale in zip(widths, scales))
        if n_x < 0 or n_y < 0:
            raise ValueError(f"WcsGeom.boundary_mask: width must be positive, got {width!r}")
        ny, nx = self._shape_spatial
        image = np.zeros((ny, nx), dtype=bool)
        image[n_y:ny - n_y, n_x:nx - n_x] = True
        return Map.from_geom(self, data=np.broadcast_to(image, self.data_shape).copy(), dtype=bool)

    def _region_mask_image(self, regions):
        from regions import PixCoord
        from .region import parse_region

        if not isinstance(regions, (list, tuple)):
            regions = [regions]
        y, x = np.indices(self._shape_spatial)
        pix = PixCoord(x.ravel(), y.ravel())
        mask = np.zeros(self._shape_spatial, dtype=bool)
        for region in regions:
            region = parse_region(region)
            contained = region.to_pixel(self._wcs).contains(pix)
            mask |= np.asarray(contained).reshape(self._shape_spatial)
        return mask

    def region_weights(self, regions, oversampling_factor=10):
        """Fraction of each pixel (ny, nx) covered by the union of the regions (sub-pixel sampling)."""
        from regions import PixCoord
        from .region import parse_region

        if not isinstance(regions, (list, tuple)):
            regions = [regions]
        f = int(oversampling_factor)
        ny, nx = self._shape_spatial
        sub = (np.arange(f) + 0.5) / f - 0.5
        ys = (np.arange(ny)[:, None] + sub[None, :]).ravel()
        xs = (np.arange(nx)[:, None] + sub[None, :]).ravel()
        xx, yy = np.meshgrid(xs, ys)
        pix = PixCoord(xx.ravel(), yy.ravel())
        mask = np.zeros(xx.size, dtype=bool)
        for region in regions:
            mask |= np.asarray(parse_region(region).to_pixel(self._wcs).contains(pix))
        return mask.reshape(ny, f, nx, f).mean(axis=(1, 3))

    # ------------------------------------------------------------------ derived geometries
    def cutout(self, position, width, mode="trim", odd_npix=False):
        """Geometry of a cutout centred (to the nearest pixel) on ``position``.

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`
            Cutout centre.
        width : Angle, float (deg) or pair
            Cutout size.
        mode : {"trim", "partial"}
            "trim" clips the cutout to the parent image; "partial" keeps the full size.
        odd_npix : bool
            Force an odd number of pixels.
        """
        geom, _ = self._cutout_slices(position, width, mode=mode, odd_npix=odd_npix)
        return geom

    def _cutout_slices(self, position, width, mode="trim", odd_npix=False):
        """(cutout geometry, (parent slices, cutout slices)) for `cutout`."""
        width_x, width_y = _pair(width, "width")
        binsz = np.abs(self._wcs.wcs.cdelt)
        npix = np.array([max(int(np.rint(width_x / binsz[0])), 1), max(int(np.rint(width_y / binsz[1])), 1)])
        if odd_npix:
            npix = npix + (1 - npix % 2)
        lon, lat = skydir_to_frame(position, self.frame)
        cx, cy = self._wcs.wcs_world2pix(float(lon), float(lat), 0)
        # pixel index of the cutout's first pixel in the parent image
        start = np.array([
            int(np.floor(cx - (npix[0] - 1) / 2.0 + 0.5)),
            int(np.floor(cy - (npix[1] - 1) / 2.0 + 0.5)),
        ])
        stop = start + npix
        if mode == "trim":
            start = np.maximum(start, 0)
            stop = np.minimum(stop, self._npix)
            if np.any(stop <= start):
                raise ValueError("WcsGeom.cutout: position and width do not overlap the geometry")
            npix = stop - start
        elif mode != "partial":
            raise ValueError(f"WcsGeom.cutout: unknown mode {mode!r}, expected 'trim' or 'partial'")
        wcs = self._wcs.deepcopy()
        wcs.wcs.crpix = wcs.wcs.crpix - start
        wcs.wcs.set()
        geom = self.__class__(wcs, (int(npix[0]), int(npix[1])), axes=self._axes)
        parent = (slice(max(start[1], 0), min(stop[1], self._npix[1])),
                  slice(max(start[0], 0), min(stop[0], self._npix[0])))
        child = (slice(parent[0].start - start[1], parent[0].stop - start[1]),
                 slice(parent[1].start - start[0], parent[1].stop - start[0]))
        return geom, (parent, child)

    def upsample(self, factor, axis_name=None):
        """Geometry with ``factor`` times finer pixels (or a finer non-spatial axis)."""
        if axis_name is not None:
            return self.upsample_axis(factor, axis_name)
        factor = int(factor)
        wcs = self._wcs.deepcopy()
        wcs.wcs.cdelt = wcs.wcs.cdelt / factor
        wcs.wcs.crpix = (wcs.wcs.crpix - 0.5) * factor + 0.5
        wcs.wcs.set()
        return self.__class__(wcs, (self._npix[0] * factor, self._npix[1] * factor), axes=self._axes)

    def downsample(self, factor, axis_name=None):
        """Geometry with ``factor`` times coarser pixels (npix must be divisible by factor)."""
        if axis_name is not None:
            return self.downsample_axis(factor, axis_name)
        factor = int(factor)
        if self._npix[0] % factor or self._npix[1] % factor:
            raise ValueError(f"WcsGeom.downsample: npix {self._npix} not divisible by {factor}")
        wcs = self._wcs.deepcopy()
        wcs.wcs.cdelt = wcs.wcs.cdelt * factor
        wcs.wcs.crpix = (wcs.wcs.crpix - 0.5) / factor + 0.5
        wcs.wcs.set()
        return self.__class__(wcs, (self._npix[0] // factor, self._npix[1] // factor), axes=self._axes)

    def pad(self, pad_width, axis_name=None):
        """Geometry with ``pad_width`` extra pixels (int or (x, y)) on each side."""
        if axis_name is not None:
            return self._init_copy(axes=self._axes.replace(self._axes[axis_name].pad(pad_width)))
        px, py = (pad_width, pad_width) if np.isscalar(pad_width) else pad_width
        wcs = self._wcs.deepcopy()
        wcs.wcs.crpix = wcs.wcs.crpix + np.array([px, py])
        wcs.wcs.set()
        return self.__class__(wcs, (self._npix[0] + 2 * px, self._npix[1] + 2 * py), axes=self._axes)

    def is_aligned(self, other, tolerance=1e-6):
        """Same projection, frame and pixel grid (up to an integer pixel shift)."""
        if not isinstance(other, WcsGeom):
            return False
        w1, w2 = self._wcs.wcs, other.wcs.wcs
        if list(w1.ctype) != list(w2.ctype) or not np.allclose(w1.cdelt, w2.cdelt, rtol=tolerance):
            return False
        if not np.allclose(w1.crval, w2.crval, atol=tolerance):
            return False
        shift = np.asarray(w1.crpix) - np.asarray(w2.crpix)
        return bool(np.allclose(shift, np.round(shift), atol=tolerance))

    # ------------------------------------------------------------------ I/O
    def to_header(self):
        """FITS image header of the spatial WCS plus WCSSHAPE."""
        header = self._wcs.to_header()
        header["WCSSHAPE"] = str(tuple(self._npix) + self._axes.shape).replace(" ", "")
        return header

    # ------------------------------------------------------------------ display / compare
    def __str__(self):
        lon, lat = skycoord_to_lonlat(self.center_skydir)
        width = self.width.to_value("deg")
        crval = self._wcs.wcs.crval
        return (
            "WcsGeom\n\n"
            f"\taxes       : {self.axes_names}\n"
            f"\tshape      : {self.data_shape[::-1]}\n"
            f"\tndim       : {self.ndim}\n"
            f"\tframe      : {self.frame}\n"
            f"\tprojection : {self.projection}\n"
            f"\tcenter     : {float(lon):.1f} deg, {float(lat):.1f} deg\n"
            f"\twidth      : {width[0]:.1f} deg x {width[1]:.1f} deg\n"
            f"\twcs ref    : {crval[0]:.1f} deg, {crval[1]:.1f} deg\n"
        )

    def __repr__(self):
        return f"WcsGeom(npix={self._npix}, frame={self.frame!r}, proj={self.projection!r}, axes={self._axes.names})"

    def __eq__(self, other):
        if not isinstance(other, WcsGeom):
            return NotImplemented
        if self._npix != other.npix or self._axes != other.axes:
            return False
        return self.is_aligned(other) and np.allclose(self._wcs.wcs.crpix, other.wcs.wcs.crpix)

    __hash__ = object.__hash__

    def is_allclose(self, other, rtol_axes=1e-6, atol_axes=1e-6, rtol_wcs=1e-6):
        if not isinstance(other, WcsGeom) or self._npix != other.npix:
            return False
        if not self._axes.is_allclose(other.axes, rtol=rtol_axes, atol=atol_axes):
            return False
        return self.is_aligned(other, tolerance=rtol_wcs) and np.allclose(
            self._wcs.wcs.crpix, other.wcs.wcs.crpix
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_wcs"] = self._wcs.to_header_string()
        state["_cache"] = {}
        return state

    def __setstate__(self, state):
        state["_wcs"] = _celestial_wcs(fits.Header.fromstring(state["_wcs"]))
        self.__dict__.update(state)


def skydir_to_frame(skydir, frame):
    """(lon, lat) in deg of a SkyCoord in ``frame``."""
    return skycoord_to_lonlat(skydir, frame)


def _triangle_area(a, b, c):
    """Solid angle of spherical triangles with unit-vector vertices (Van Oosterom & Strackee)."""
    triple = np.einsum("i...,i...->...", a, np.cross(b, c, axis=0))
    denom = 1 + np.einsum("i...,i...->...", a, b) + np.einsum("i...,i...->...", b, c) \
        + np.einsum("i...,i...->...", c, a)
    return 2 * np.arctan2(np.abs(triple), denom)
