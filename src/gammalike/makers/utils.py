"""Reduction helpers shared by the makers: IRFs evaluated on a geometry, event selections.

Every function works on the coordinates of a geometry (`RegionGeom` or
`WcsGeom`), so the same code serves the 1D makers and the 3D ones.  Inside,
everything is float64 in fixed units (TeV, deg, s); `Map` objects are made at
the end.
"""
import logging

import numpy as np
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from regions import CircleSkyRegion, CompoundSkyRegion, PointSkyRegion

from ..maps import Map, RegionGeom
from ..maps.coord import skycoord_to_lonlat

__all__ = [
    "angular_separation_deg",
    "events_in_region_mask",
    "fov_coordinates",
    "geom_offset_and_weights",
    "make_counts_rad_max",
    "make_map_background_irf",
    "make_map_exposure_true_energy",
    "make_observation_meta_table",
    "observation_pointing",
]

log = logging.getLogger(__name__)

_MEV_PER_TEV = 1e6


def angular_separation_deg(lon1, lat1, lon2, lat2):
    """Great-circle distance (deg) between positions given in deg (Vincenty formula, broadcast)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    dlon = lon2 - lon1
    sdlon, cdlon = np.sin(dlon), np.cos(dlon)
    slat1, clat1 = np.sin(lat1), np.cos(lat1)
    slat2, clat2 = np.sin(lat2), np.cos(lat2)
    num1 = clat2 * sdlon
    num2 = clat1 * slat2 - slat1 * clat2 * cdlon
    denom = slat1 * slat2 + clat1 * clat2 * cdlon
    return np.degrees(np.arctan2(np.hypot(num1, num2), denom))


def observation_pointing(observation):
    """Pointing position (ICRS `SkyCoord`) of an observation at its mid time."""
    return observation.get_pointing_icrs()


# ----------------------------------------------------------------------------- events
def _event_pixels(events, wcs):
    """Pixel coordinates (0-based) of the events in ``wcs`` (floats, cached per WCS frame)."""
    from ..maps.wcs import _wcs_frame

    frame = _wcs_frame(wcs)
    if frame == "icrs":
        lon = events._column("RA", u.deg)
        lat = events._column("DEC", u.deg)
    else:
        lon, lat = skycoord_to_lonlat(events.radec, frame)
    x, y = wcs.wcs_world2pix(lon, lat, 0)
    return np.asarray(x), np.asarray(y)


def _leaf_regions(region):
    if isinstance(region, CompoundSkyRegion):
        return _leaf_regions(region.region1) + _leaf_regions(region.region2)
    return [region]


def events_in_region_mask(events, region, wcs):
    """True for the events inside a sky region (or the union of a compound region / list).

    Circles are tested exactly on the sphere (angular distance to the centre
    below the radius), all circles in one vectorized computation; other shapes
    in the pixel space of ``wcs``, as `regions` does (``region.contains(skycoord, wcs)``).

    Parameters
    ----------
    events : `~gammalike.data.EventList`
        Events.
    region : `~regions.SkyRegion` or list of them
        Region(s).
    wcs : `~astropy.wcs.WCS`
        WCS in which the regions are interpreted.
    """
    regions = []
    for reg in (region if isinstance(region, (list, tuple)) else [region]):
        regions.extend(_leaf_regions(reg))
    mask = np.zeros(len(events), dtype=bool)
    circles = [r for r in regions if isinstance(r, CircleSkyRegion)]
    others = [r for r in regions if not isinstance(r, (CircleSkyRegion, PointSkyRegion))]
    if circles:
        ra, dec = events._column("RA", u.deg), events._column("DEC", u.deg)
        centers = [r.center.icrs for r in circles]
        lon = np.array([c.ra.deg for c in centers])[:, None]
        lat = np.array([c.dec.deg for c in centers])[:, None]
        radius = np.array([r.radius.to_value("deg") for r in circles])[:, None]
        mask |= np.any(angular_separation_deg(lon, lat, ra[None, :], dec[None, :]) < radius, axis=0)
    if others:
        radec = events.radec
        for reg in others:
            mask |= np.asarray(reg.contains(radec, wcs), dtype=bool)
    return mask


def _reco_energy_idx(energy_tev, edges_tev):
    """Bin index of reco energies on ``edges`` (bins are [lo, hi)); -1 outside."""
    idx = np.searchsorted(edges_tev, energy_tev, side="right") - 1
    return np.where((idx >= 0) & (idx < edges_tev.size - 1), idx, -1)


def rad_max_deg(rad_max, energy_tev, offset_deg):
    """RAD_MAX cut (deg) at reco energies (TeV, array) and offsets (deg, broadcast to them)."""
    energy_tev = np.asarray(energy_tev, dtype=float)
    offset_deg = np.broadcast_to(np.asarray(offset_deg, dtype=float), energy_tev.shape)
    scale = u.Unit(rad_max.axes["energy"].unit).to("TeV")
    return rad_max.evaluate_float(energy_tev / scale, offset_deg) * u.Unit(rad_max.unit).to("deg")


def make_counts_rad_max(geom, rad_max, events, pointing):
    """Counts of a point-like analysis: events within the energy-dependent RAD_MAX of the region centre.

    Parameters
    ----------
    geom : `RegionGeom`
        ON geometry (its region centre is the source position).
    rad_max : `~gammalike.irf.RadMax2D`
        Directional cut vs reco energy and offset.
    events : `~gammalike.data.EventList`
        Events.
    pointing : `~astropy.coordinates.SkyCoord`
        Pointing position (for the offset of the region centre).
    """
    center = geom.center_skydir.icrs
    offset = angular_separation_deg(pointing.ra.deg, pointing.dec.deg, center.ra.deg, center.dec.deg)
    energy = events._column("ENERGY", u.TeV)
    axis = geom.axes["energy"]
    cut = rad_max_deg(rad_max, energy, float(offset))
    sep = events._offset_deg(center.ra.deg, center.dec.deg)
    idx = _reco_energy_idx(energy, axis.edges.to_value("TeV"))
    sel = (sep < cut) & (idx >= 0)
    data = np.bincount(idx[sel], minlength=axis.nbin).astype(float)
    return Map.from_geom(geom, data=data.reshape(geom.data_shape), unit="")


# ----------------------------------------------------------------------------- geometry
def geom_offset_and_weights(geom, pointing, use_region_center=True):
    """Offsets (deg) of the spatial positions of a geometry from the pointing, with weights.

    For a `RegionGeom` with ``use_region_center=False`` the positions are the
    pixels of a fine grid covering the region, weighted by their fraction inside
    it; otherwise the region centre (weight 1).  For a `WcsGeom` the pixel
    centres (shape (ny, nx)), weights None.
    """
    pointing = pointing.icrs
    if isinstance(geom, RegionGeom):
        if use_region_center or geom.is_all_point_sky_regions:
            center = geom.center_skydir.icrs
            lon, lat = np.atleast_1d(center.ra.deg), np.atleast_1d(center.dec.deg)
            weights = np.ones(1)
        else:
            coords, weights = geom.get_wcs_coord_and_weights()
            lon, lat = skycoord_to_lonlat(coords.skycoord, "icrs")
            lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
        offset = angular_separation_deg(pointing.ra.deg, pointing.dec.deg, lon, lat)
        return offset, weights
    coords = geom.to_image().get_coord()
    lon, lat = skycoord_to_lonlat(coords.skycoord, "icrs")
    offset = angular_separation_deg(pointing.ra.deg, pointing.dec.deg, lon, lat)
    return np.asarray(offset).reshape(geom.to_image().data_shape[-2:]), None


def _true_axis(geom):
    name = "energy_true" if "energy_true" in geom.axes.names else "energy"
    return geom.axes[name]


def make_map_exposure_true_energy(pointing, livetime, aeff, geom, use_region_center=True):
    """Exposure ``aeff(energy_true, offset) * livetime`` on a geometry with an ``energy_true`` axis.

    Parameters
    ----------
    pointing : `~astropy.coordinates.SkyCoord`
        Pointing position.
    livetime : `~astropy.units.Quantity`
        Live time.
    aeff : `~gammalike.irf.EffectiveAreaTable2D`
        Effective area.
    geom : `RegionGeom` or `WcsGeom`
        Geometry with an ``energy_true`` axis.
    use_region_center : bool
        For region geometries: evaluate at the region centre (True) or average
        over the region (False).

    Returns
    -------
    exposure : `Map`
        Exposure in ``aeff.unit * s``; ``meta["livetime"]`` holds the livetime.
    """
    livetime = u.Quantity(livetime, "s")
    axis = _true_axis(geom)
    energy = axis.center.to_value(aeff.axes["energy_true"].unit)
    offset, weights = geom_offset_and_weights(geom, pointing, use_region_center)
    offset = offset * u.deg.to(aeff.axes["offset"].unit)
    if isinstance(geom, RegionGeom):
        values = aeff.evaluate_float(energy[:, None], offset[None, :])
        values = (values * weights[None, :]).sum(axis=1) / weights.sum()
    else:
        values = aeff.evaluate_float(energy[:, None, None], offset[None, :, :])
    data = values.reshape(geom.data_shape) * livetime.value
    exposure = Map.from_geom(geom, data=data.astype(np.float64), unit=aeff.unit * u.s)
    exposure.meta["livetime"] = livetime
    return exposure


def region_radius_deg(region):
    """Radius (deg) of a circular region (0 for a point); TypeError otherwise."""
    if isinstance(region, PointSkyRegion):
        return 0.0
    if isinstance(region, CircleSkyRegion):
        return float(region.radius.to_value("deg"))
    raise TypeError(
        f"containment correction needs a circular ON region, got {type(region).__name__}"
    )


# ----------------------------------------------------------------------------- background
def fov_coordinates(alignment, pointing, lon, lat, frame="icrs", pointing_altaz=None, obstime=None,
                    location=None):
    """Field-of-view coordinates (deg) of sky positions relative to the pointing.

    Parameters
    ----------
    alignment : `~gammalike.irf.FoVAlignment`
        RADEC: offset frame aligned with RA/Dec (fov_lon towards increasing
        RA); REVERSE_LON_RADEC: the same with fov_lon reversed; ALTAZ: aligned
        with azimuth / altitude (needs ``pointing_altaz``, ``obstime`` and
        ``location``).
    pointing : `~astropy.coordinates.SkyCoord`
        Pointing (ICRS).
    lon, lat : `~numpy.ndarray`
        Positions (deg) in ``frame``.
    """
    from ..irf import FoVAlignment

    coords = SkyCoord(lon, lat, unit="deg", frame=frame)
    alignment = FoVAlignment(alignment)
    if alignment == FoVAlignment.ALTAZ:
        if pointing_altaz is None:
            raise ValueError("fov_coordinates: ALTAZ-aligned background needs the Alt/Az pointing")
        from astropy.coordinates import AltAz

        altaz = coords.transform_to(AltAz(obstime=obstime, location=location))
        off = altaz.transform_to(pointing_altaz.skyoffset_frame())
        # az increases to the east of north: fov_lon along -az as seen on the sky
        return -off.lon.wrap_at("180d").deg, off.lat.deg
    off = coords.transform_to(pointing.icrs.skyoffset_frame())
    fov_lon, fov_lat = off.lon.wrap_at("180d").deg, off.lat.deg
    if alignment == FoVAlignment.REVERSE_LON_RADEC:
        fov_lon = -fov_lon
    return fov_lon, fov_lat


def _integrate_energy(values_at_edges, edges):
    """Closed-form log-log integral over bins of values given at the edges (first axis)."""
    from ..irf.core import integrate_log_log

    e = np.reshape(edges, (-1,) + (1,) * (values_at_edges.ndim - 1))
    e = np.broadcast_to(e, values_at_edges.shape)
    return integrate_log_log(e[:-1], e[1:], values_at_edges[:-1], values_at_edges[1:])


def make_map_background_irf(pointing, ontime, bkg, geom, oversampling=None, use_region_center=True,
                            observation=None):
    """Predicted background counts from a background IRF on a geometry with an ``energy`` axis.

    The rate (per energy and solid angle) is integrated over each reco-energy
    bin in closed form (power law between ``oversampling`` sub-edges) and
    multiplied by the solid angle of the pixel / region and the time.

    Parameters
    ----------
    pointing : `~astropy.coordinates.SkyCoord`
        Pointing (ICRS).
    ontime : `~astropy.units.Quantity`
        Exposure time of the background model (the livetime).
    bkg : `~gammalike.irf.Background2D` or `~gammalike.irf.Background3D`
        Background IRF.
    geom : `RegionGeom` or `WcsGeom`
        Geometry with an ``energy`` axis.
    oversampling : int, optional
        Energy sub-bins per bin.
    observation : `~gammalike.data.Observation`, optional
        Needed for ALTAZ-aligned 3D backgrounds (pointing in Alt/Az, time, location).
    """
    axis = geom.axes["energy"]
    factor = int(oversampling) if oversampling else 1
    edges = axis.edges.to_value("TeV")
    if factor > 1:
        log_edges = np.log(edges)
        fine = np.concatenate([
            np.linspace(log_edges[i], log_edges[i + 1], factor + 1)[:-1] for i in range(edges.size - 1)
        ] + [log_edges[-1:]])
        edges_fine = np.exp(fine)
    else:
        edges_fine = edges
    energy_unit = u.Unit(bkg.axes["energy"].unit)
    e_eval = edges_fine * u.TeV.to(energy_unit)

    if isinstance(geom, RegionGeom) and not use_region_center and not geom.is_all_point_sky_regions:
        coords, weights = geom.get_wcs_coord_and_weights()
        lon, lat = skycoord_to_lonlat(coords.skycoord, "icrs")
        lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
    elif isinstance(geom, RegionGeom):
        center = geom.center_skydir.icrs
        lon, lat = np.atleast_1d(center.ra.deg), np.atleast_1d(center.dec.deg)
        weights = np.ones(1)
    else:
        coords = geom.to_image().get_coord()
        lon, lat = skycoord_to_lonlat(coords.skycoord, "icrs")
        weights = None
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    spatial_shape = lon.shape

    if "offset" in bkg.axes.names:
        offset = angular_separation_deg(pointing.icrs.ra.deg, pointing.icrs.dec.deg, lon, lat)
        offset = offset * u.deg.to(bkg.axes["offset"].unit)
        rate = bkg.evaluate_float(e_eval.reshape((-1,) + (1,) * offset.ndim), offset[None, ...])
    else:
        kwargs = {}
        if observation is not None:
            kwargs = dict(pointing_altaz=observation.get_pointing_altaz(), obstime=observation.tmid,
                          location=observation.observatory_earth_location)
        fov_lon, fov_lat = fov_coordinates(bkg.fov_alignment, pointing, lon.ravel(), lat.ravel(), **kwargs)
        scale = u.deg.to(bkg.axes["fov_lon"].unit)
        fov_lon = np.reshape(fov_lon, spatial_shape) * scale
        fov_lat = np.reshape(fov_lat, spatial_shape) * scale
        rate = bkg.evaluate_float(e_eval.reshape((-1,) + (1,) * fov_lon.ndim), fov_lon[None, ...], fov_lat[None, ...])

    # rate in bkg.unit -> per TeV per sr per s
    rate = rate * u.Unit(bkg.unit).to("TeV-1 sr-1 s-1")
    integral = _integrate_energy(rate, edges_fine)
    if factor > 1:
        integral = integral.reshape((axis.nbin, factor) + integral.shape[1:]).sum(axis=1)
    ontime = u.Quantity(ontime, "s").value
    if isinstance(geom, RegionGeom):
        integral = (integral * weights[None, :]).sum(axis=1) / weights.sum()
        solid_angle = geom.solid_angle().to_value("sr")
        data = integral * solid_angle * ontime
    else:
        data = integral * geom.to_image().solid_angle().to_value("sr") * ontime
    return Map.from_geom(geom, data=np.asarray(data).reshape(geom.data_shape), unit="")


# ----------------------------------------------------------------------------- meta
def make_observation_meta_table(observation):
    """One-row table describing the observation (OBS_ID, pointing, times, livetime...)."""
    row = {"TELESCOP": observation.meta.get("TELESCOP", ""), "OBS_ID": observation.obs_id}
    try:
        pointing = observation.get_pointing_icrs()
        row["RA_PNT"] = pointing.ra.deg * u.deg
        row["DEC_PNT"] = pointing.dec.deg * u.deg
    except (KeyError, ValueError, AttributeError) as exc:
        log.debug("meta table: no pointing for obs %s (%s)", observation.obs_id, exc)
    try:
        row["LIVETIME"] = observation.observation_live_time_duration.to("s")
        row["ONTIME"] = observation.observation_time_duration.to("s")
    except (KeyError, TypeError) as exc:
        log.debug("meta table: no times for obs %s (%s)", observation.obs_id, exc)
    for key in ("OBJECT", "ZEN_PNT", "ALT_PNT", "AZ_PNT", "MUONEFF"):
        if key in observation.meta:
            row[key] = observation.meta[key]
    return Table([row])
