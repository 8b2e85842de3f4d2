"""`RegionGeom`: a geometry made of one sky region (one spatial bin) and non-spatial axes."""
import operator
from functools import reduce

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.io import fits
from astropy.table import QTable, Table
from astropy.wcs import WCS
from regions import (
    CircleAnnulusSkyRegion, CircleSkyRegion, CompoundSkyRegion, PointSkyRegion,
    Regions, SkyRegion,
)

from .coord import MapCoord, frame_name, skycoord_to_lonlat
from .geom import Geom, _make_axes

__all__ = ["RegionGeom", "parse_region", "region_center", "regions_allclose"]


def parse_region(region):
    """SkyRegion from a SkyRegion, a DS9 string ("icrs;circle(83.6, 22.0, 0.1)") or None.

    A string with several shapes gives their union (`~regions.CompoundSkyRegion`).
    """
    if region is None or isinstance(region, SkyRegion):
        return region
    if isinstance(region, str):
        try:
            regions = Regions.parse(region, format="ds9")
        except Exception as exc:  # regions raises several error types
            raise ValueError(f"Could not parse region string {region!r}: {exc}") from exc
        regions = list(regions)
        if not regions:
            raise ValueError(f"Region string {region!r} holds no region")
        if not all(isinstance(r, SkyRegion) for r in regions):
            raise ValueError(f"Region string {region!r}: only sky regions are supported (give a frame, e.g. 'icrs;')")
        return reduce(operator.or_, regions)
    if isinstance(region, (list, tuple, Regions)):
        regions = [parse_region(r) for r in region]
        return reduce(operator.or_, regions)
    raise TypeError(f"Expected a SkyRegion, region string or None, got {type(region).__name__}")


def _unit_vector(skycoord):
    return skycoord.represent_as("cartesian").xyz.value


def region_center(region):
    """Centre of a sky region (mean direction of vertices / sub-regions if needed)."""
    if hasattr(region, "center"):
        return region.center
    if hasattr(region, "vertices"):
        vectors = _unit_vector(region.vertices)
        frame = region.vertices.frame.name
    elif isinstance(region, CompoundSkyRegion):
        c1, c2 = region_center(region.region1), region_center(region.region2)
        c2 = c2.transform_to(c1.frame)
        vectors = np.stack([_unit_vector(c1), _unit_vector(c2)], axis=-1)
        frame = c1.frame.name
    else:
        raise TypeError(f"Cannot determine the centre of a {type(region).__name__}")
    mean = vectors.reshape(3, -1).mean(axis=1)
    lon = np.degrees(np.arctan2(mean[1], mean[0])) % 360
    lat = np.degrees(np.arctan2(mean[2], np.hypot(mean[0], mean[1])))
    return SkyCoord(lon, lat, unit="deg", frame=frame)


def _is_point_region(region):
    if isinstance(region, PointSkyRegion):
        return True
    if isinstance(region, CompoundSkyRegion):
        return _is_point_region(region.region1) and _is_point_region(region.region2)
    return False


def _make_wcs(center, binsz, frame, proj="TAN"):
    """Small TAN WCS with the reference pixel (0-based 0, 0) at ``center``."""
    lon, lat = skycoord_to_lonlat(center, frame)
    wcs = WCS(naxis=2)
    if frame == "galactic":
        wcs.wcs.ctype = [f"GLON-{proj}", f"GLAT-{proj}"]
    else:
        wcs.wcs.ctype = [f"RA---{proj}", f"DEC--{proj}"]
        wcs.wcs.radesys = "ICRS" if frame == "icrs" else frame.upper()
    wcs.wcs.crval = [float(lon), float(lat)]
    wcs.wcs.cdelt = [-binsz, binsz]
    wcs.wcs.crpix = [1.0, 1.0]
    wcs.wcs.cunit = ["deg", "deg"]
    return wcs


class RegionGeom(Geom):
    """Geometry of a single sky region with non-spatial axes.

    The data of a map on this geometry have shape ``axes.data_shape + (1, 1)``,
    e.g. ``(nbin_energy, 1, 1)``.

    Parameters
    ----------
    region : `~regions.SkyRegion`, str or None
        The region (None for a geometry without position, e.g. OGIP spectra
        without a REGION HDU).
    axes : list of `MapAxis`, optional
        Non-spatial axes.
    wcs : `~astropy.wcs.WCS`, optional
        WCS used to convert the region to pixels (default: TAN around the region).
    binsz_wcs : `~astropy.coordinates.Angle` or str
        Pixel size of the default WCS.
    """

    is_region = True
    _shape_spatial = (1, 1)

    def __init__(self, region, axes=None, wcs=None, binsz_wcs="0.1 deg"):
        self._region = parse_region(region)
        self._axes = _make_axes(axes)
        self._binsz_wcs = Angle(binsz_wcs)
        if wcs is None and self._region is not None:
            center = region_center(self._region)
            wcs = _make_wcs(center, self._binsz_wcs.deg, frame_name(center))
        self._wcs = wcs

    @classmethod
    def create(cls, region, **kwargs):
        """RegionGeom from a SkyRegion, a DS9 region string or None (kwargs: axes, wcs, binsz_wcs)."""
        return cls(region, **kwargs)

    @classmethod
    def from_regions(cls, regions, **kwargs):
        """RegionGeom of the union of several regions."""
        return cls(parse_region(list(regions)), **kwargs)

    def _init_kwargs(self):
        return dict(region=self._region, axes=self._axes, wcs=self._wcs, binsz_wcs=self._binsz_wcs)

    # ------------------------------------------------------------------ properties
    @property
    def region(self):
        """The sky region (or None)."""
        return self._region

    @property
    def axes(self):
        return self._axes

    @property
    def wcs(self):
        """WCS used for pixel conversions of the region."""
        return self._wcs

    @property
    def binsz_wcs(self):
        return self._binsz_wcs

    @property
    def data_shape(self):
        return self._axes.data_shape + (1, 1)

    @property
    def npix(self):
        return (1, 1)

    @property
    def frame(self):
        """Frame of the region centre ("icrs", "galactic"; "icrs" without region)."""
        if self._region is None:
            return "icrs"
        return frame_name(self.center_skydir)

    @property
    def center_skydir(self):
        """Centre of the region (None without region)."""
        if self._region is None:
            return None
        return region_center(self._region)

    @property
    def center_pix(self):
        return (0.0, 0.0)

    @property
    def center_coord(self):
        if self._region is None:
            return (np.nan * u.deg, np.nan * u.deg) + self._axes.center_coord
        return super().center_coord

    @property
    def is_all_point_sky_regions(self):
        """True if the region is a point or a union of points."""
        return self._region is not None and _is_point_region(self._region)

    @property
    def width(self):
        """Width and height of the region bounding box (`~astropy.units.Quantity`, deg)."""
        if self._region is None:
            raise ValueError("RegionGeom.width: geometry has no region")
        if isinstance(self._region, CircleSkyRegion):
            diameter = 2 * self._region.radius.to("deg")
            return u.Quantity([diameter, diameter])
        if self.is_all_point_sky_regions:
            return u.Quantity([0, 0], "deg")
        bbox = self._region.to_pixel(self._wcs).bounding_box
        binsz = np.abs(self._wcs.wcs.cdelt)
        return u.Quantity([bbox.shape[1] * binsz[0], bbox.shape[0] * binsz[1]], "deg")

    def separation(self, position):
        """Angular separation between the region centre and ``position``."""
        return self.center_skydir.separation(position)

    # ------------------------------------------------------------------ solid angle
    def solid_angle(self):
        """Solid angle of the region (sr; NaN without region, 0 for points)."""
        region = self._region
        if region is None:
            return u.Quantity(np.nan, "sr")
        if self.is_all_point_sky_regions:
            return u.Quantity(0.0, "sr")
        if isinstance(region, CircleSkyRegion):
            return u.Quantity(2 * np.pi * (1 - np.cos(region.radius.to_value("rad"))), "sr")
        if isinstance(region, CircleAnnulusSkyRegion):
            r_in, r_out = region.inner_radius.to_value("rad"), region.outer_radius.to_value("rad")
            return u.Quantity(2 * np.pi * (np.cos(r_in) - np.cos(r_out)), "sr")
        pix_region = region.to_pixel(self._wcs)
        try:
            area = float(pix_region.area)
        except (AttributeError, NotImplementedError):
            # compound regions: sub-pixel sampling of the union on a fine grid
            geom = self.to_wcs_geom()
            weights = geom.region_weights([region], oversampling_factor=30)
            return u.Quantity(float(np.sum(weights * geom.solid_angle().value)), "sr")
        pix_sr = np.prod(np.radians(np.abs(self._wcs.wcs.cdelt)))
        return u.Quantity(area * pix_sr, "sr")

    # ------------------------------------------------------------------ coordinates
    def get_coord(self, mode="center", frame=None, sparse=False, axis_name=None):
        """Coordinates: the region centre for lon/lat, bin centres (or edges) of the axes."""
        frame = frame_name(frame) if frame is not None else self.frame
        if self._region is None:
            lon, lat = np.nan, np.nan
        else:
            lon, lat = skycoord_to_lonlat(self.center_skydir, frame)
        ndim = len(self._axes) + 2
        data = {
            "lon": np.reshape(lon, (1,) * ndim).astype(float),
            "lat": np.reshape(lat, (1,) * ndim).astype(float),
        }
        for name, value in self._axes.get_coord(mode=mode if axis_name is None else "center").items():
            data[name] = value.reshape(value.shape + (1, 1))
        if mode == "edges" and axis_name is not None:
            ax = self._axes[axis_name]
            shape = [1] * ndim
            shape[self._axes.index_data(axis_name)] = ax.nbin + 1
            data[axis_name] = ax.edges.reshape(shape)
        coords = MapCoord(data, frame=frame)
        return coords if sparse else coords.broadcasted

    def coord_to_pix(self, coords):
        """Pixel coordinates: spatial pix 0 inside the region, -1 outside (always 0 for
        point regions or without region); fractional pix along the axes."""
        coords = MapCoord.create(coords, frame=self.frame, axis_names=self._axes.names)
        axes_pix = self._axes_coord_to_pix(coords)
        lon = np.asarray(coords.lon, dtype=float)
        if self._region is None or self.is_all_point_sky_regions or np.all(np.isnan(lon)):
            inside = np.ones(np.shape(lon), dtype=bool)
        else:
            inside = self.contains(coords) | np.isnan(lon)
        spatial = np.where(inside, 0.0, -1.0)
        return (spatial, spatial.copy()) + tuple(axes_pix)

    def pix_to_coord(self, pix):
        """Coordinates at pixel positions: lon/lat (deg floats) of the region centre,
        Quantities for the non-spatial axes."""
        spatial = np.asarray(pix[0], dtype=float)
        if self._region is None:
            lon = lat = np.full(spatial.shape, np.nan)
        else:
            lon0, lat0 = skycoord_to_lonlat(self.center_skydir, self.frame)
            lon, lat = np.full(spatial.shape, float(lon0)), np.full(spatial.shape, float(lat0))
        coords = [lon, lat]
        for ax, p in zip(self._axes, pix[2:]):
            coords.append(ax.pix_to_coord(p))
        return tuple(coords)

    def contains(self, coords):
        """True where positions (MapCoord, SkyCoord or dict) fall inside the region."""
        if self._region is None:
            raise ValueError("RegionGeom.contains: geometry has no region")
        if isinstance(coords, SkyCoord):
            skycoord = coords
        else:
            skycoord = MapCoord.create(coords, frame=self.frame).skycoord
        return np.asarray(self._region.contains(skycoord, self._wcs), dtype=bool)

    # ------------------------------------------------------------------ WCS helpers
    def to_wcs_geom(self, width_min=None):
        """Small `WcsGeom` (TAN, pixel size ``binsz_wcs``) covering the region."""
        from .wcs import WcsGeom

        if self._region is None:
            raise ValueError("RegionGeom.to_wcs_geom: geometry has no region")
        width = self.width.to_value("deg")
        binsz = self._binsz_wcs.deg
        if width_min is not None:
            width = np.maximum(width, Angle(width_min).deg)
        # at least one pixel, and one spare pixel on each side for partial coverage
        npix = np.maximum(np.ceil(width / binsz).astype(int) + 2, 1)
        return WcsGeom.create(
            skydir=self.center_skydir, binsz=binsz, npix=(int(npix[0]), int(npix[1])),
            proj="TAN", frame=self.frame, axes=self._axes,
        )

    def get_wcs_coord_and_weights(self, factor=10):
        """Positions of a fine WCS grid inside the region and their fractional weights.

        Returns
        -------
        coords : `MapCoord`
            lon/lat of the grid pixels overlapping the region (1D arrays), with
            the axes' centres kept separate (sparse, not broadcast).
        weights : `~numpy.ndarray`
            Fraction of each pixel inside the region (sums to the region area in pixels).
        """
        from .wcs import WcsGeom

        if self.is_all_point_sky_regions:
            lon, lat = skycoord_to_lonlat(self.center_skydir, self.frame)
            data = {"lon": np.atleast_1d(lon), "lat": np.atleast_1d(lat)}
            return MapCoord(data, frame=self.frame), np.ones(1)
        wcs_geom = self.to_wcs_geom()
        binsz = self._binsz_wcs.deg / factor
        fine = WcsGeom.create(
            skydir=self.center_skydir, binsz=binsz, npix=tuple(int(n * factor) for n in wcs_geom.npix),
            proj="TAN", frame=self.frame,
        )
        weights = fine.region_weights([self._region])
        mask = weights > 0
        coords = fine.get_coord().apply_mask(mask)
        return MapCoord({"lon": coords.lon, "lat": coords.lat}, frame=self.frame), weights[mask]

    def plot_region(self, ax=None, kwargs_point=None, path_effect=None, **kwargs):
        """Plot the region outline on WCSAxes (created if ``ax`` is None); returns ``ax``."""
        import matplotlib.pyplot as plt

        if self._region is None:
            raise ValueError("RegionGeom.plot_region: geometry has no region")
        if ax is None:
            ax = plt.figure().add_subplot(projection=self.to_wcs_geom().wcs)
            geom = self.to_wcs_geom()
            ax.set_xlim(-0.5, geom.npix[0] - 0.5)
            ax.set_ylim(-0.5, geom.npix[1] - 0.5)
        kwargs.setdefault("facecolor", "none")
        kwargs.setdefault("edgecolor", "tab:blue")
        kwargs_point = dict(kwargs_point or {})
        kwargs_point.setdefault("marker", "*")
        kwargs_point.setdefault("color", kwargs["edgecolor"])
        regions = _flatten_region(self._region)
        for region in regions:
            pix_region = region.to_pixel(ax.wcs)
            if isinstance(region, PointSkyRegion):
                artist = pix_region.as_artist(**kwargs_point)
            else:
                artist = pix_region.as_artist(**kwargs)
            if path_effect is not None:
                artist.set_path_effects([path_effect])
            ax.add_artist(artist)
        return ax

    # ------------------------------------------------------------------ I/O
    def to_region_table(self):
        """REGION table (regions' FITS serialisation) with the WCS in ``table.meta``."""
        if self._region is None:
            raise ValueError("RegionGeom.to_region_table: geometry has no region")
        pix_regions = [r.to_pixel(self._wcs) for r in _flatten_region(self._region)]
        table = Regions(pix_regions).serialize(format="fits")
        table.meta.update(dict(self._wcs.to_header()))
        table.meta["EXTNAME"] = "REGION"
        return table

    def to_hdulist(self, format="ogip", hdu_bands=None, hdu_region=None):
        """HDUs of the axes (EBOUNDS for "ogip", BANDS for "gadf") and the REGION."""
        hdus = []
        if format in ("ogip", "ogip-sherpa"):
            energy = self._axes["energy"] if "energy" in self._axes.names else self._axes[0]
            hdu = energy.to_table_hdu(format="ogip")
            if hdu_bands:
                hdu.name = hdu_bands
            hdus.append(hdu)
        elif format == "gadf":
            table = self._axes.to_table(format="gadf")
            hdus.append(fits.BinTableHDU(table, name=hdu_bands or "BANDS"))
        else:
            raise ValueError(f"RegionGeom.to_hdulist: unknown format {format!r}")
        if self._region is not None:
            table = self.to_region_table()
            hdus.append(fits.BinTableHDU(table, name=hdu_region or "REGION"))
        return fits.HDUList(hdus)

    @classmethod
    def from_hdulist(cls, hdulist, format="ogip", hdu=None, hdu_bands=None, hdu_region=None):
        """RegionGeom from HDUs: axes from EBOUNDS (ogip) or BANDS (gadf), region from REGION if any."""
        from .io import axes_from_bands_table

        names = [h.name for h in hdulist]
        if format in ("ogip", "ogip-sherpa"):
            name = hdu_bands or "EBOUNDS"
            if name not in names:
                raise KeyError(f"RegionGeom.from_hdulist: no {name!r} HDU (HDUs: {names})")
            table = Table.read(hdulist[name])
            axes = [cls._axis_from_ogip(table)]
        elif format == "gadf":
            name = hdu_bands or (f"{hdu}_BANDS" if hdu else "BANDS")
            if name not in names:
                raise KeyError(f"RegionGeom.from_hdulist: no {name!r} HDU (HDUs: {names})")
            table = Table.read(hdulist[name])
            axes = axes_from_bands_table(table)
        else:
            raise ValueError(f"RegionGeom.from_hdulist: unknown format {format!r}")
        region_name = hdu_region or "REGION"
        region, wcs = None, None
        if region_name in names:
            region, wcs = _read_region_hdu(hdulist[region_name])
        return cls(region=region, axes=axes, wcs=wcs)

    @staticmethod
    def _axis_from_ogip(table):
        from .axes import MapAxis

        return MapAxis.from_table(table, format="ogip")

    # ------------------------------------------------------------------ display / compare
    def __str__(self):
        center = self.center_skydir
        if center is None:
            center_str = "None"
        else:
            lon, lat = skycoord_to_lonlat(center)
            center_str = f"{float(lon):.1f} deg, {float(lat):.1f} deg"
        return (
            "RegionGeom\n\n"
            f"\tregion     : {type(self._region).__name__ if self._region is not None else None}\n"
            f"\taxes       : {self.axes_names}\n"
            f"\tshape      : {self.data_shape[::-1]}\n"
            f"\tndim       : {self.ndim}\n"
            f"\tframe      : {self.frame}\n"
            f"\tcenter     : {center_str}\n"
        )

    def __repr__(self):
        return f"RegionGeom(region={self._region!r}, axes={self._axes.names})"

    def __eq__(self, other):
        if not isinstance(other, RegionGeom):
            return NotImplemented
        if self._axes != other.axes:
            return False
        if self._region is None or other.region is None:
            return self._region is None and other.region is None
        return regions_allclose(self._region, other.region)

    __hash__ = object.__hash__


def regions_allclose(region1, region2, rtol=1e-6, atol_deg=1e-8):
    """True if two sky regions have the same type and numerically close parameters.

    Regions read back from a REGION HDU went through a pixel round trip, so
    exact equality is too strict.
    """
    if type(region1) is not type(region2):
        return False
    if isinstance(region1, CompoundSkyRegion):
        return (
            region1.operator == region2.operator
            and regions_allclose(region1.region1, region2.region1, rtol, atol_deg)
            and regions_allclose(region1.region2, region2.region2, rtol, atol_deg)
        )
    for name in getattr(region1, "_params", ()):
        v1, v2 = getattr(region1, name), getattr(region2, name)
        if isinstance(v1, SkyCoord):
            if v1.shape != v2.shape:
                return False
            if np.any(v1.separation(v2).deg > max(atol_deg, 1e-9)):
                return False
        elif isinstance(v1, u.Quantity):
            if not np.allclose(v1.value, v2.to_value(v1.unit), rtol=rtol, atol=atol_deg):
                return False
        elif v1 != v2:
            return False
    return True


def _flatten_region(region):
    """Leaf regions of a (possibly compound) region."""
    if isinstance(region, CompoundSkyRegion):
        return _flatten_region(region.region1) + _flatten_region(region.region2)
    return [region]


def _read_region_hdu(hdu):
    """(SkyRegion, WCS) from a REGION HDU in regions' FITS format."""
    # regions' parser needs Quantity columns (a Table row gives ROTANG as a
    # length-1 array, which rectangles and ellipses reject).
    table = QTable.read(hdu)
    wcs = WCS(hdu.header, naxis=2)
    try:
        pix_regions = Regions.parse(table, format="fits")
    except Exception as exc:
        raise ValueError(f"HDU {hdu.name!r}: could not parse region table: {exc}") from exc
    sky = [r.to_sky(wcs) for r in pix_regions]
    if not sky:
        return None, wcs
    return reduce(operator.or_, sky), wcs

