"""Reflected-regions background: OFF regions = the ON region rotated about the pointing.

The finders work in the pixel space of a fine reference grid: a TAN
projection centred on the pointing, where a rotation about the pointing pixel
is a rotation on the sky about the pointing (the projection is symmetric about
its tangent point), so every OFF region is at the same offset as the ON region
and has the same shape and size.  Overlaps with the ON region, with each other
and with excluded sky pixels are tested on the grid's pixel centres, all with
vectorized numpy.
"""
import logging
import operator
import warnings
from functools import reduce

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle
from regions import CircleSkyRegion, PixCoord, PointSkyRegion

from ...datasets import SpectrumDatasetOnOff
from ...maps import Map, RegionGeom, WcsGeom
from ...maps.coord import frame_name
from ...maps.region import region_center
from ..core import Maker
from ..utils import _reco_energy_idx, events_in_region_mask, rad_max_deg

__all__ = [
    "ReflectedRegionsBackgroundMaker",
    "ReflectedRegionsFinder",
    "RegionsFinder",
    "WobbleRegionsFinder",
]

log = logging.getLogger(__name__)

_TWO_PI = 2 * np.pi


def _angle(value, name, unit="rad"):
    try:
        return Angle(value).to_value(unit)
    except Exception as exc:  # astropy raises several types for bad angle strings
        raise ValueError(f"{name}: expected an angle (e.g. '0.1 rad'), got {value!r} ({exc})") from None


class RegionsFinder:
    """Base class of the OFF-region finders.

    Parameters
    ----------
    binsz : `~astropy.coordinates.Angle` or str
        Pixel size of the reference grid on which overlaps are tested.
    """

    def __init__(self, binsz="0.01 deg"):
        self.binsz = Angle(binsz)
        if self.binsz.deg <= 0:
            raise ValueError(f"{type(self).__name__}: binsz must be positive, got {binsz!r}")

    def run(self, region, center, exclusion_mask=None):
        """Find OFF regions.

        Parameters
        ----------
        region : `~regions.SkyRegion`
            ON region.
        center : `~astropy.coordinates.SkyCoord`
            Rotation centre (the pointing position).
        exclusion_mask : `~gammalike.maps.WcsNDMap`, optional
            Boolean map, True where OFF regions may be placed.

        Returns
        -------
        regions : list of `~regions.SkyRegion`
            OFF regions.
        wcs : `~astropy.wcs.WCS`
            Reference WCS in which the regions were built (their pixel shapes
            are exact in it: use it to test event containment).
        """
        pix_regions, wcs = self._find_pixel_regions(region, center, exclusion_mask)
        return [pixel_region_to_sky(r, wcs) for r in pix_regions], wcs

    def _find_pixel_regions(self, region, center, exclusion_mask=None):
        """OFF regions as pixel regions of the reference WCS, and that WCS.

        Subclasses implement this (or override `run`).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _find_pixel_regions or run")

    # ------------------------------------------------------------------ reference grid
    def _reference_geom(self, region, center):
        """TAN grid centred on ``center``, 4 x (centre - region distance) + 0.3 deg wide.

        Every rotated region lies within twice that distance of the centre (the
        centre is outside the region), so the grid holds them all; the 0.3 deg
        keep it usable when the region is close to the centre.  The number of
        pixels is the rounded width / binsz.
        """
        frame = frame_name(region_center(region))
        center = center.transform_to(frame)
        width = 4 * float(center.separation(region_center(region)).deg) + 0.3
        return WcsGeom.create(skydir=center, binsz=self.binsz.deg, width=width, proj="TAN", frame=frame)

    @staticmethod
    def _pixel_setup(region, center, geom):
        """Pixel region, centre pixel and polar coordinates of the grid's pixel centres."""
        wcs = geom.wcs
        pix_region = region.to_pixel(wcs)
        cx, cy = (float(v) for v in center.transform_to(geom.frame).to_pixel(wcs))
        ny, nx = geom.data_shape[-2:]
        y, x = np.indices((ny, nx), dtype=float)
        return pix_region, PixCoord(cx, cy), x.ravel(), y.ravel()

    @staticmethod
    def _region_angular_extent(pix_region, center_pix, x, y):
        """Angle (rad) subtended at the centre by the grid pixel centres inside the region."""
        inside = np.asarray(pix_region.contains(PixCoord(x, y)), dtype=bool)
        if not inside.any():
            raise ValueError("ON region is smaller than one pixel of the reference grid: decrease binsz")
        ref = region_angle(pix_region, center_pix)
        angles = np.arctan2(y[inside] - center_pix.y, x[inside] - center_pix.x)
        delta = (angles - ref + np.pi) % _TWO_PI - np.pi
        return float(delta.max() - delta.min())

    @staticmethod
    def _excluded_pixels(geom, exclusion_mask, pix_region, center_pix, x, y):
        """`PixCoord` of the reference pixels excluded by the mask near the region's circle."""
        if exclusion_mask is None:
            return None
        # only pixels in the annulus swept by the rotated region matter
        bbox = pix_region.bounding_box
        half_size = 0.5 * np.hypot(bbox.shape[0], bbox.shape[1]) + 1
        ref = region_pixel_center(pix_region)
        r_center = np.hypot(ref.x - center_pix.x, ref.y - center_pix.y)
        r = np.hypot(x - center_pix.x, y - center_pix.y)
        near = np.abs(r - r_center) <= half_size
        xs, ys = x[near], y[near]
        lon, lat = geom.wcs.wcs_pix2world(xs, ys, 0)
        allowed = _lookup_mask(exclusion_mask, lon, lat, geom.frame)
        excluded = ~allowed
        return PixCoord(xs[excluded], ys[excluded])

    @staticmethod
    def _overlaps(pix_region, excluded):
        if excluded is None or len(excluded.x) == 0:
            return False
        return bool(np.any(pix_region.contains(excluded)))


def region_pixel_center(pix_region):
    """Centre of a pixel region (the mean of the vertices for polygons)."""
    center = getattr(pix_region, "center", None)
    if center is not None:
        return center
    vertices = pix_region.vertices
    return PixCoord(np.mean(vertices.x), np.mean(vertices.y))


def region_angle(pix_region, center_pix):
    """Polar angle (rad) of a pixel region's centre seen from ``center_pix``."""
    ref = region_pixel_center(pix_region)
    return float(np.arctan2(ref.y - center_pix.y, ref.x - center_pix.x))


def pixel_region_to_sky(pix_region, wcs):
    """Sky region of a pixel region.

    Circles are converted with numpy (centre through the WCS, radius with the
    mean local pixel scale along x and y), ~100 times faster than
    `regions`' generic conversion; other shapes use `regions`.
    """
    from regions import CirclePixelRegion, CircleSkyRegion

    if not isinstance(pix_region, CirclePixelRegion):
        return pix_region.to_sky(wcs)
    from ...maps.wcs import _wcs_frame
    from ..utils import angular_separation_deg

    cx, cy, r = pix_region.center.x, pix_region.center.y, pix_region.radius
    x = np.array([cx, cx + 1.0, cx])
    y = np.array([cy, cy, cy + 1.0])
    lon, lat = wcs.wcs_pix2world(x, y, 0)
    scale = angular_separation_deg(lon[0], lat[0], lon[1:], lat[1:]).mean()
    from astropy.coordinates import SkyCoord

    center = SkyCoord(float(lon[0]), float(lat[0]), unit="deg", frame=_wcs_frame(wcs))
    return CircleSkyRegion(center=center, radius=Angle(r * scale, "deg"))


def events_in_pixel_regions_mask(events, pix_regions, wcs):
    """True for the events inside any of the pixel regions of ``wcs`` (circles vectorized)."""
    from regions import CirclePixelRegion

    from ..utils import _event_pixels

    x, y = _event_pixels(events, wcs)
    mask = np.zeros(x.shape, dtype=bool)
    circles = [r for r in pix_regions if isinstance(r, CirclePixelRegion)]
    if circles:
        cx = np.array([c.center.x for c in circles])[:, None]
        cy = np.array([c.center.y for c in circles])[:, None]
        r2 = np.array([c.radius for c in circles])[:, None] ** 2
        # cheap bounding-box cut first: most events are far from every region
        near = (x >= (cx - np.sqrt(r2)).min()) & (x <= (cx + np.sqrt(r2)).max())
        near &= (y >= (cy - np.sqrt(r2)).min()) & (y <= (cy + np.sqrt(r2)).max())
        xn, yn = x[near], y[near]
        mask[near] = np.any((xn[None, :] - cx) ** 2 + (yn[None, :] - cy) ** 2 < r2, axis=0)
    others = [r for r in pix_regions if not isinstance(r, CirclePixelRegion)]
    if others:
        pix = PixCoord(x, y)
        for reg in others:
            mask |= np.asarray(reg.contains(pix), dtype=bool)
    return mask


def _lookup_mask(exclusion_mask, lon, lat, frame):
    """Mask values (True = allowed) at sky positions; positions outside the mask are allowed."""
    from astropy.coordinates import SkyCoord

    mask_geom = exclusion_mask.geom
    data = np.asarray(exclusion_mask.data, dtype=bool)
    if data.ndim > 2:
        # allowed only where allowed in every non-spatial bin
        data = data.reshape((-1,) + data.shape[-2:]).all(axis=0)
    if frame != mask_geom.frame:
        coords = SkyCoord(lon, lat, unit="deg", frame=frame).transform_to(mask_geom.frame)
        lon, lat = coords.spherical.lon.deg, coords.spherical.lat.deg
    px, py = mask_geom.wcs.wcs_world2pix(lon, lat, 0)
    ix = np.floor(np.asarray(px) + 0.5).astype(int)
    iy = np.floor(np.asarray(py) + 0.5).astype(int)
    ny, nx = data.shape
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    allowed = np.ones(ix.shape, dtype=bool)
    allowed[inside] = data[iy[inside], ix[inside]]
    return allowed


class ReflectedRegionsFinder(RegionsFinder):
    """OFF regions: the ON region rotated about the pointing, as many as fit.

    Starting next to the ON region, the region is rotated in steps: a position
    free of excluded pixels is kept and the next one starts one region width
    (plus ``min_distance``) further; a position touching an excluded pixel is
    skipped by ``angle_increment``.  The region width is the angle subtended at
    the pointing by the reference-grid pixels inside the ON region.

    Parameters
    ----------
    angle_increment : `~astropy.coordinates.Angle` or str
        Rotation step used to move past excluded pixels.
    min_distance : `~astropy.coordinates.Angle` or str
        Extra rotation angle between two consecutive OFF regions.
    min_distance_input : `~astropy.coordinates.Angle` or str
        Extra rotation angle between the ON region and the first / last OFF region.
    max_region_number : int
        Maximum number of OFF regions.
    binsz : `~astropy.coordinates.Angle` or str
        Pixel size of the reference grid.
    """

    def __init__(self, angle_increment="0.1 rad", min_distance="0 rad", min_distance_input="0.1 rad",
                 max_region_number=10000, binsz="0.01 deg"):
        super().__init__(binsz=binsz)
        self.angle_increment = Angle(_angle(angle_increment, "angle_increment"), "rad")
        if self.angle_increment.rad <= 0:
            raise ValueError(f"ReflectedRegionsFinder: angle_increment must be positive, got {angle_increment!r}")
        self.min_distance = Angle(_angle(min_distance, "min_distance"), "rad")
        self.min_distance_input = Angle(_angle(min_distance_input, "min_distance_input"), "rad")
        if self.min_distance.rad < 0 or self.min_distance_input.rad < 0:
            raise ValueError("ReflectedRegionsFinder: min_distance and min_distance_input must be >= 0")
        self.max_region_number = int(max_region_number)
        if self.max_region_number < 1:
            raise ValueError("ReflectedRegionsFinder: max_region_number must be >= 1")

    def _find_pixel_regions(self, region, center, exclusion_mask=None):
        geom = self._reference_geom(region, center)
        pix_region, center_pix, x, y = self._pixel_setup(region, center, geom)
        if pix_region.contains(center_pix):
            log.warning("ReflectedRegionsFinder: the pointing lies inside the ON region, no OFF regions")
            return [], geom.wcs
        width = self._region_angular_extent(pix_region, center_pix, x, y)
        excluded = self._excluded_pixels(geom, exclusion_mask, pix_region, center_pix, x, y)

        step_accept = width + self.min_distance.rad
        step_reject = self.angle_increment.rad
        angle = width + self.min_distance_input.rad
        angle_max = _TWO_PI - width - self.min_distance_input.rad
        regions = []
        while angle < angle_max:
            test = pix_region.rotate(center_pix, angle * u.rad)
            if self._overlaps(test, excluded):
                angle += step_reject
                continue
            regions.append(test)
            if len(regions) >= self.max_region_number:
                break
            angle += step_accept
        return regions, geom.wcs


class WobbleRegionsFinder(RegionsFinder):
    """OFF regions evenly spaced on the circle through the ON region (wobble observations).

    ``n_off_regions`` positions at rotation angles ``2 pi k / (n_off_regions + 1)``;
    positions overlapping excluded pixels, or closer to the ON region than its
    width plus ``min_distance_input``, are dropped.

    Parameters
    ----------
    n_off_regions : int
        Number of OFF regions.
    binsz : `~astropy.coordinates.Angle` or str
        Pixel size of the reference grid.
    min_distance_input : `~astropy.coordinates.Angle` or str
        Minimum extra rotation angle between the ON region and an OFF region.
    """

    def __init__(self, n_off_regions, binsz="0.01 deg", min_distance_input="0 rad"):
        super().__init__(binsz=binsz)
        self.n_off_regions = int(n_off_regions)
        if self.n_off_regions < 1:
            raise ValueError(f"WobbleRegionsFinder: n_off_regions must be >= 1, got {n_off_regions!r}")
        self.min_distance_input = Angle(_angle(min_distance_input, "min_distance_input"), "rad")

    def _find_pixel_regions(self, region, center, exclusion_mask=None):
        geom = self._reference_geom(region, center)
        pix_region, center_pix, x, y = self._pixel_setup(region, center, geom)
        if pix_region.contains(center_pix):
            log.warning("WobbleRegionsFinder: the pointing lies inside the ON region, no OFF regions")
            return [], geom.wcs
        width = self._region_angular_extent(pix_region, center_pix, x, y)
        excluded = self._excluded_pixels(geom, exclusion_mask, pix_region, center_pix, x, y)
        angles = _TWO_PI * np.arange(1, self.n_off_regions + 1) / (self.n_off_regions + 1)
        closest = np.minimum(angles, _TWO_PI - angles)
        regions = []
        for angle in angles[closest >= width + self.min_distance_input.rad]:
            test = pix_region.rotate(center_pix, angle * u.rad)
            if not self._overlaps(test, excluded):
                regions.append(test)
        return regions, geom.wcs


class ReflectedRegionsBackgroundMaker(Maker):
    """ON/OFF background from OFF regions found by a regions finder.

    Parameters
    ----------
    region_finder : `RegionsFinder`, optional
        Finder (default: ``ReflectedRegionsFinder(**kwargs)``).
    exclusion_mask : `~gammalike.maps.WcsNDMap`, optional
        Boolean map, True where OFF regions may be placed.
    **kwargs
        Options of the default `ReflectedRegionsFinder`.
    """

    tag = "ReflectedRegionsBackgroundMaker"

    def __init__(self, region_finder=None, exclusion_mask=None, **kwargs):
        if region_finder is None:
            region_finder = ReflectedRegionsFinder(**kwargs)
        elif kwargs:
            raise TypeError(
                f"ReflectedRegionsBackgroundMaker: options {sorted(kwargs)} only apply to the default "
                "finder; configure the region_finder instead"
            )
        if not isinstance(region_finder, RegionsFinder):
            raise TypeError(
                f"ReflectedRegionsBackgroundMaker: region_finder must be a RegionsFinder, got "
                f"{type(region_finder).__name__}"
            )
        if exclusion_mask is not None:
            if not isinstance(getattr(exclusion_mask, "geom", None), WcsGeom):
                raise TypeError("ReflectedRegionsBackgroundMaker: exclusion_mask must be a WcsNDMap")
            if exclusion_mask.data.dtype != bool:
                raise TypeError(
                    "ReflectedRegionsBackgroundMaker: exclusion_mask must be boolean (True = OFF regions allowed), "
                    f"got dtype {exclusion_mask.data.dtype}"
                )
        self.region_finder = region_finder
        self.exclusion_mask = exclusion_mask

    def make_counts_off(self, dataset, observation):
        """OFF counts (`RegionNDMap` whose region is the union of the OFF regions) and their number."""
        geom = dataset.counts.geom
        region = geom.region
        if region is None:
            raise ValueError(f"ReflectedRegionsBackgroundMaker: dataset {dataset.name!r} has no ON region")
        pointing = observation.get_pointing_icrs()
        if isinstance(region, PointSkyRegion):
            return self._make_counts_off_points(geom, observation, pointing)
        events = observation.events
        if type(self.region_finder).run is RegionsFinder.run:
            # count with the exact pixel shapes the finder tested for overlaps
            pix_regions, wcs = self.region_finder._find_pixel_regions(region, pointing, self.exclusion_mask)
            regions = [pixel_region_to_sky(r, wcs) for r in pix_regions]
            inside = events_in_pixel_regions_mask(events, pix_regions, wcs) if regions else None
        else:
            regions, wcs = self.region_finder.run(region, pointing, exclusion_mask=self.exclusion_mask)
            inside = events_in_region_mask(events, regions, wcs) if regions else None
        if not regions:
            return None, 0
        axis = geom.axes["energy"]
        geom_off = RegionGeom(region=reduce(operator.or_, regions), axes=[axis], wcs=wcs)
        energy = events._column("ENERGY", u.TeV)[inside]
        idx = _reco_energy_idx(energy, axis.edges.to_value("TeV"))
        data = np.bincount(idx[idx >= 0], minlength=axis.nbin).astype(float)
        counts_off = Map.from_geom(geom_off, data=data.reshape(geom_off.data_shape), unit="")
        return counts_off, len(regions)

    def _make_counts_off_points(self, geom, observation, pointing):
        """OFF counts of a point-like analysis: the ON position rotated about the pointing.

        The ON counts are the events within the energy-dependent RAD_MAX of
        the ON position (`SpectrumDatasetMaker`); the OFF positions are found
        for a circle of the largest cut in the energy range, so that no OFF
        circle touches the ON circle or the excluded sky at any energy, and
        the OFF counts are the events within the same cuts of them.
        """
        rad_max = observation.rad_max
        if rad_max is None:
            raise ValueError(
                f"ReflectedRegionsBackgroundMaker: observation {observation.obs_id}: a point ON region "
                "(point-like analysis) needs the RAD_MAX of the observation"
            )
        center = geom.region.center.icrs
        axis = geom.axes["energy"]
        edges = axis.edges.to_value("TeV")
        energy = np.geomspace(edges[0], edges[-1], 10 * axis.nbin + 1)
        offset = float(center.separation(pointing).deg)
        radius = float(np.max(rad_max_deg(rad_max, energy, offset)))
        circle = CircleSkyRegion(center, Angle(radius, "deg"))
        regions, wcs = self.region_finder.run(circle, pointing, exclusion_mask=self.exclusion_mask)
        if not regions:
            return None, 0
        events = observation.events
        energy = events._column("ENERGY", u.TeV)
        idx = _reco_energy_idx(energy, edges)
        inside = np.zeros(energy.shape, dtype=bool)
        for off in regions:
            off_center = off.center.icrs
            off_offset = float(off_center.separation(pointing).deg)
            cut = rad_max_deg(rad_max, energy, off_offset)
            inside |= events._offset_deg(off_center.ra.deg, off_center.dec.deg) < cut
        data = np.bincount(idx[inside & (idx >= 0)], minlength=axis.nbin).astype(float)
        geom_off = RegionGeom(region=reduce(operator.or_, regions), axes=[axis], wcs=wcs)
        counts_off = Map.from_geom(geom_off, data=data.reshape(geom_off.data_shape), unit="")
        return counts_off, len(regions)

    def run(self, dataset, observation):
        """`SpectrumDatasetOnOff` with the OFF counts of the reflected regions.

        ``acceptance = 1`` and ``acceptance_off`` = the number of OFF regions
        (each is a rotated copy of the ON region: same solid angle, same
        offset, hence the same background acceptance).
        """
        counts_off, n_off = self.make_counts_off(dataset, observation)
        if counts_off is None:
            warnings.warn(
                f"ReflectedRegionsBackgroundMaker: no OFF region found for observation "
                f"{observation.obs_id} (dataset {dataset.name!r}); counts_off is empty and alpha is 0"
            )
            geom = dataset.counts.geom
            counts_off = Map.from_geom(geom, data=np.zeros(geom.data_shape), unit="")
        return SpectrumDatasetOnOff.from_spectrum_dataset(
            dataset=dataset, acceptance=1, acceptance_off=n_off, counts_off=counts_off,
        )
