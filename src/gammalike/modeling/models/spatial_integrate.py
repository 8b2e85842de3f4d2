"""Sky geometry and pixel integration used by the spatial models (floats only).

Everything here works on float64 numpy arrays, angles in degrees, solid angles
in sr; no Quantity arithmetic, so that a spatial model can be re-integrated on
a cut-out at every fit step.

Integration scheme (`integrate_image`)
--------------------------------------
The flux fraction in a pixel is the integral of the surface brightness over
the pixel's solid angle.  It is computed on the pixels of a box that covers
the model's evaluation radius:

* each pixel is split into ``n x n`` sub-pixels (``n = 1``: pixel centres);
  the brightness at the sub-pixel centres is averaged and multiplied by the
  pixel's exact solid angle (spherical quadrilateral of its corners, the same
  definition as `WcsGeom.solid_angle`);
* when the whole box has been evaluated (always for ``n > 1``; for ``n = 1``
  when the box lies inside the map) the box is rescaled so that it sums to
  exactly 1: the analytic normalisation of the model is 1, and this removes
  the discretisation error of sharp edges (disks, shells) from the total
  flux.  The map then holds the fraction of the flux in each pixel and sums
  to 1 when it contains the source.
"""
from collections import OrderedDict

import numpy as np

__all__ = [
    "sky_offset",
    "elliptical_radius",
    "destination_lonlat",
    "pixel_box",
    "box_solid_angle",
    "integrate_image",
    "bilinear_weights_image",
    "geom_lonlat",
    "geom_solid_angle",
    "geom_key",
]

#: Largest number of sub-pixel evaluations per call; ``n`` is reduced beyond.
MAX_SUBPIXELS = 2_000_000
#: Largest automatic oversampling factor.
MAX_OVERSAMPLING = 50

_GEOM_CACHE = OrderedDict()
_GEOM_CACHE_SIZE = 16


def geom_key(geom):
    """Hashable value identifying a WCS geometry's spatial pixel grid."""
    wcs = geom.wcs.wcs
    return (
        tuple(geom.npix), tuple(wcs.ctype), tuple(wcs.crval), tuple(wcs.crpix), tuple(wcs.cdelt),
        wcs.get_pc().tobytes(), str(wcs.radesys),
    )


def _geom_cache(geom):
    """Cache entry of a WCS geometry's spatial grid, keyed by value: geometries rebuilt at
    every call (``geom.to_image()``, cut-outs) still hit the cache."""
    key = geom_key(geom)
    entry = _GEOM_CACHE.get(key)
    if entry is None:
        entry = _GEOM_CACHE[key] = {}
        while len(_GEOM_CACHE) > _GEOM_CACHE_SIZE:
            _GEOM_CACHE.popitem(last=False)
    else:
        _GEOM_CACHE.move_to_end(key)
    return entry


def geom_lonlat(geom, frame):
    """Pixel-centre (lon, lat) in deg of a WCS geometry, in ``frame``; shape (ny, nx), cached."""
    cache = _geom_cache(geom)
    key = ("lonlat", frame)
    if key not in cache:
        coords = geom.to_image().get_coord(frame=frame) if geom.axes else geom.get_coord(frame=frame)
        lon = np.array(coords.lon, dtype=float).reshape(geom.data_shape[-2:])
        lat = np.array(coords.lat, dtype=float).reshape(geom.data_shape[-2:])
        lon.flags.writeable = False
        lat.flags.writeable = False
        cache[key] = (lon, lat)
    return cache[key]


def geom_solid_angle(geom):
    """Pixel solid angles (sr floats), shape (ny, nx), cached."""
    cache = _geom_cache(geom)
    if "omega" not in cache:
        omega = np.array(geom.solid_angle().to_value("sr"), dtype=float).reshape(geom.data_shape[-2:])
        omega.flags.writeable = False
        cache["omega"] = omega
    return cache["omega"]


# ---------------------------------------------------------------------- sphere
def sky_offset(lon, lat, lon_0, lat_0):
    """Separation and direction of ``(lon, lat)`` seen from ``(lon_0, lat_0)``.

    Returns
    -------
    sep : `~numpy.ndarray`
        Great-circle separation (deg), stable at all angles.
    east, north : `~numpy.ndarray`
        Tangent-plane components of the direction (unnormalised: their norm
        is ``sin(sep)``); the position angle is ``arctan2(east, north)``.
    """
    lat0 = np.radians(lat_0)
    lat1 = np.radians(lat)
    dlon = np.radians(lon - lon_0)
    sin_lat0, cos_lat0 = np.sin(lat0), np.cos(lat0)
    sin_lat1, cos_lat1 = np.sin(lat1), np.cos(lat1)
    cos_dlon = np.cos(dlon)
    east = cos_lat1 * np.sin(dlon)
    north = cos_lat0 * sin_lat1 - sin_lat0 * cos_lat1 * cos_dlon
    z = sin_lat0 * sin_lat1 + cos_lat0 * cos_lat1 * cos_dlon
    sep = np.degrees(np.arctan2(np.hypot(east, north), z))
    return sep, east, north


def elliptical_radius(lon, lat, lon_0, lat_0, e, phi):
    """Separation scaled to the major axis of an ellipse (deg).

    A point on the ellipse of semi-major axis ``a``, eccentricity ``e`` and
    major-axis position angle ``phi`` (deg, east of north) gets the value
    ``a``; for ``e = 0`` this is the separation.
    """
    sep, east, north = sky_offset(lon, lat, lon_0, lat_0)
    if e == 0:
        return sep
    phi = np.radians(phi)
    along = north * np.cos(phi) + east * np.sin(phi)
    across = east * np.cos(phi) - north * np.sin(phi)
    norm = np.hypot(along, across)
    scale = np.sqrt(along ** 2 + across ** 2 / (1.0 - e ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(norm > 0, scale / np.where(norm > 0, norm, 1.0), 1.0)
    return sep * factor


def destination_lonlat(lon_0, lat_0, distance, position_angle):
    """Points at ``distance`` (deg) and ``position_angle`` (deg, east of north) from a centre."""
    lat0 = np.radians(lat_0)
    d = np.radians(distance)
    pa = np.radians(position_angle)
    sin_lat = np.sin(lat0) * np.cos(d) + np.cos(lat0) * np.sin(d) * np.cos(pa)
    lat = np.arcsin(np.clip(sin_lat, -1, 1))
    dlon = np.arctan2(np.sin(pa) * np.sin(d) * np.cos(lat0), np.cos(d) - np.sin(lat0) * sin_lat)
    return lon_0 + np.degrees(dlon), np.degrees(lat)


# ---------------------------------------------------------------------- pixels
def pixel_box(wcs, npix, lon_0, lat_0, radius):
    """Pixel index ranges covering a circle, not clipped to the map.

    Parameters
    ----------
    wcs : `~astropy.wcs.WCS`
        Celestial WCS.
    npix : (int, int)
        Map size (nx, ny), used to reject boxes broken by the projection.
    lon_0, lat_0, radius : float
        Circle centre and radius (deg, in the WCS frame).

    Returns
    -------
    box : tuple of int or None
        ``(ix_lo, ix_hi, iy_lo, iy_hi)`` (inclusive), or None where the circle
        contains a pole or crosses the projection's seam (then the whole map
        is used).
    """
    if radius >= 90 or abs(lat_0) + radius >= 89.5:
        return None
    pa = np.arange(0.0, 360.0, 360.0 / 48)
    # 2 % larger than the circle, so that the polygon of ring points contains it
    lon, lat = destination_lonlat(lon_0, lat_0, radius * 1.02, pa)
    lon = np.append(lon, lon_0)
    lat = np.append(lat, lat_0)
    x, y = wcs.wcs_world2pix(lon, lat, 0)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return None
    # a ring cut by the projection seam jumps across the map: detect by its extent
    span = max(x.max() - x.min(), y.max() - y.min())
    scale = np.abs(wcs.wcs.cdelt).min()
    if span * scale > 8 * radius / max(np.cos(np.radians(min(abs(lat_0) + radius, 89.0))), 1e-3) + 4 * scale:
        return None
    ix_lo = int(np.floor(x.min() + 0.5)) - 1
    ix_hi = int(np.floor(x.max() + 0.5)) + 1
    iy_lo = int(np.floor(y.min() + 0.5)) - 1
    iy_hi = int(np.floor(y.max() + 0.5)) + 1
    return ix_lo, ix_hi, iy_lo, iy_hi


def _triangle_area(a, b, c):
    """Solid angle of spherical triangles with unit-vector vertices (Van Oosterom & Strackee)."""
    triple = np.einsum("i...,i...->...", a, np.cross(b, c, axis=0))
    denom = 1 + np.einsum("i...,i...->...", a, b) + np.einsum("i...,i...->...", b, c) \
        + np.einsum("i...,i...->...", c, a)
    return 2 * np.arctan2(np.abs(triple), denom)


def box_solid_angle(wcs, box):
    """Exact solid angles (sr) of the pixels of a box (may extend beyond the map)."""
    ix_lo, ix_hi, iy_lo, iy_hi = box
    x = np.arange(ix_lo, ix_hi + 2) - 0.5
    y = np.arange(iy_lo, iy_hi + 2) - 0.5
    xx, yy = np.meshgrid(x, y)
    lon, lat = wcs.wcs_pix2world(xx, yy, 0)
    lon, lat = np.radians(lon), np.radians(lat)
    vec = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    a, b = vec[:, :-1, :-1], vec[:, :-1, 1:]
    c, d = vec[:, 1:, 1:], vec[:, 1:, :-1]
    area = _triangle_area(a, b, c) + _triangle_area(a, c, d)
    return np.where(np.isfinite(area), area, 0.0)


def _subpixel_offsets(n):
    return (np.arange(n) + 0.5) / n - 0.5


def integrate_image(func, geom, lon_0, lat_0, radius, oversampling, frame):
    """Fraction of a model's flux in each pixel of a WCS image.

    Parameters
    ----------
    func : callable
        ``func(lon, lat)`` -> surface brightness (sr-1) on float arrays in deg,
        coordinates in ``frame``.
    geom : `~gammalike.maps.WcsGeom`
        Geometry (its spatial part is used).
    lon_0, lat_0 : float
        Model centre in ``frame`` (deg).
    radius : float or None
        Evaluation radius (deg); None evaluates the whole map.
    oversampling : int
        Sub-pixels per pixel side.
    frame : str
        Frame of the geometry (``geom.frame``).

    Returns
    -------
    image : `~numpy.ndarray`
        Shape (ny, nx), dimensionless fractions (float64).
    """
    wcs = geom.wcs
    nx, ny = geom.npix
    image = np.zeros((ny, nx))
    box = None if radius is None else pixel_box(wcs, (nx, ny), lon_0, lat_0, radius)
    n = max(int(oversampling), 1)
    if box is not None:
        ix_lo, ix_hi, iy_lo, iy_hi = box
        if ix_hi < 0 or iy_hi < 0 or ix_lo >= nx or iy_lo >= ny:
            return image  # the source is entirely outside the map
        nbx, nby = ix_hi - ix_lo + 1, iy_hi - iy_lo + 1
        n = max(1, min(n, int(np.sqrt(MAX_SUBPIXELS / (nbx * nby)))))
        inside = ix_lo >= 0 and iy_lo >= 0 and ix_hi < nx and iy_hi < ny
        if n > 1:
            # small model: sub-pixels on the whole box (also beyond the map), then rescaled
            values = _box_fractions(func, wcs, box, n)
            total = values.sum()
            # rescale only if the box is complete and sane (see the module docstring)
            if np.isfinite(total) and 0.5 < total < 1.5:
                values /= total
            values = np.nan_to_num(values, nan=0.0)
            px = slice(max(ix_lo, 0), min(ix_hi, nx - 1) + 1)
            py = slice(max(iy_lo, 0), min(iy_hi, ny - 1) + 1)
            image[py, px] = values[py.start - iy_lo:py.stop - iy_lo, px.start - ix_lo:px.stop - ix_lo]
            return image
        # model large compared to the pixels: pixel centres of the map part of the box;
        # rescaled only when the whole box is inside the map
        sl = (slice(max(iy_lo, 0), min(iy_hi, ny - 1) + 1), slice(max(ix_lo, 0), min(ix_hi, nx - 1) + 1))
        lon, lat = geom_lonlat(geom, frame)
        values = func(lon[sl], lat[sl]) * geom_solid_angle(geom)[sl]
        values = np.nan_to_num(values, nan=0.0)
        total = values.sum()
        if inside and np.isfinite(total) and 0.5 < total < 1.5:
            values /= total
        image[sl] = values
        return image
    # whole map (no evaluation radius, or the box is unusable)
    if n > 1:
        values = _box_fractions(func, wcs, (0, nx - 1, 0, ny - 1), n)
    else:
        lon, lat = geom_lonlat(geom, frame)
        values = func(lon, lat) * geom_solid_angle(geom)
    return np.nan_to_num(values, nan=0.0)


def _box_fractions(func, wcs, box, n):
    """Sub-pixel averaged brightness times pixel solid angle on a box of pixels."""
    ix_lo, ix_hi, iy_lo, iy_hi = box
    nbx, nby = ix_hi - ix_lo + 1, iy_hi - iy_lo + 1
    sub = _subpixel_offsets(n)
    xs = (np.arange(ix_lo, ix_hi + 1)[:, None] + sub[None, :]).ravel()
    ys = (np.arange(iy_lo, iy_hi + 1)[:, None] + sub[None, :]).ravel()
    xx, yy = np.meshgrid(xs, ys)
    lon, lat = wcs.wcs_pix2world(xx, yy, 0)
    values = func(np.asarray(lon), np.asarray(lat))
    values = np.where(np.isfinite(values), values, 0.0)
    # leading (e.g. energy) dimensions of the values are kept
    mean = values.reshape(values.shape[:-2] + (nby, n, nbx, n)).mean(axis=(-3, -1))
    return mean * box_solid_angle(wcs, box)


def bilinear_weights_image(geom, lon_0, lat_0):
    """Point-source image: unit flux shared between the 4 pixels around the position.

    Bilinear weights between the nearest pixel centres keep the flux centroid
    at the exact position, so that the predicted counts (after the PSF
    convolution) move smoothly with the position during a fit.  Flux falling
    on pixels outside the map is lost.
    """
    nx, ny = geom.npix
    image = np.zeros((ny, nx))
    x, y = geom.wcs.wcs_world2pix(lon_0, lat_0, 0)
    x, y = float(x), float(y)
    if not (np.isfinite(x) and np.isfinite(y)):
        return image
    ix, iy = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - ix, y - iy
    for dx, wx in ((0, 1 - fx), (1, fx)):
        for dy, wy in ((0, 1 - fy), (1, fy)):
            i, j = ix + dx, iy + dy
            if 0 <= i < nx and 0 <= j < ny:
                image[j, i] += wx * wy
    return image
