"""Telescope pointing: fixed RA/Dec (tracking) or fixed Alt/Az (drift), and the POINTING table.

Alt/Az <-> sky conversions use `astropy.coordinates.AltAz` with the observatory
location from the ``GEOLON`` / ``GEOLAT`` / ``ALTITUDE`` (or ``GEOALT``) keywords.
They never download IERS tables (old observation times are covered by the
bundled IERS-B table; beyond it astropy's predictive values are used).
"""
from contextlib import contextmanager
from enum import Enum

import numpy as np
import astropy.units as u
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.table import Table
from astropy.time import Time, TimeDelta
from astropy.utils import iers

from .gti import time_ref_from_meta

__all__ = ["PointingMode", "FixedPointingInfo", "PointingInfo", "earth_location_from_dict"]


class PointingMode(str, Enum):
    """``POINTING``: the array tracks a fixed sky position; ``DRIFT``: fixed Alt/Az."""

    POINTING = "POINTING"
    DRIFT = "DRIFT"


@contextmanager
def _no_iers_download():
    with iers.conf.set_temp("auto_download", False), iers.conf.set_temp("auto_max_age", None):
        yield


def earth_location_from_dict(meta):
    """`~astropy.coordinates.EarthLocation` from GEOLON / GEOLAT / ALTITUDE (or GEOALT), or None."""
    try:
        lon = float(meta["GEOLON"])
        lat = float(meta["GEOLAT"])
    except (KeyError, TypeError, ValueError):
        return None
    height = meta.get("ALTITUDE", meta.get("GEOALT", 0.0))
    return EarthLocation(lon=lon * u.deg, lat=lat * u.deg, height=float(height) * u.m)


def _float(meta, key):
    try:
        value = float(meta[key])
    except (KeyError, TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


class FixedPointingInfo:
    """Pointing of an observation with a fixed sky (or fixed Alt/Az) position.

    Parameters
    ----------
    mode : `PointingMode`, optional
        Default: DRIFT if only ``fixed_altaz`` is given, else POINTING.
    fixed_icrs : `~astropy.coordinates.SkyCoord`, optional
        Tracked sky position (POINTING mode).
    fixed_altaz : `~astropy.coordinates.SkyCoord`, optional
        Fixed horizontal position (DRIFT mode; also kept as the mean Alt/Az).
    location : `~astropy.coordinates.EarthLocation`, optional
        Observatory location (needed for Alt/Az <-> sky conversions).
    time_start, time_stop : `~astropy.time.Time`, optional
        Observation times (the mid time is used for conversions without a time).
    """

    def __init__(self, mode=None, fixed_icrs=None, fixed_altaz=None, location=None,
                 time_start=None, time_stop=None, legacy_altaz=None):
        if mode is None:
            mode = PointingMode.DRIFT if fixed_icrs is None and fixed_altaz is not None else PointingMode.POINTING
        self.mode = PointingMode(mode)
        if self.mode == PointingMode.POINTING and fixed_icrs is None:
            raise ValueError("FixedPointingInfo: mode POINTING needs fixed_icrs")
        if self.mode == PointingMode.DRIFT and fixed_altaz is None:
            raise ValueError("FixedPointingInfo: mode DRIFT needs fixed_altaz")
        self._fixed_icrs = None if fixed_icrs is None else fixed_icrs.icrs
        self._fixed_altaz = fixed_altaz if fixed_altaz is not None else legacy_altaz
        self.location = location
        self.time_start = time_start
        self.time_stop = time_stop

    @classmethod
    def from_fits_header(cls, header):
        """From an EVENTS header (``OBS_MODE``, ``RA_PNT``/``DEC_PNT``, ``ALT_PNT``/``AZ_PNT``)."""
        mode = str(header.get("OBS_MODE", "POINTING")).strip().upper()
        ra, dec = _float(header, "RA_PNT"), _float(header, "DEC_PNT")
        alt, az = _float(header, "ALT_PNT"), _float(header, "AZ_PNT")
        location = earth_location_from_dict(header)
        time_ref = time_ref_from_meta(header)
        time_start = time_stop = None
        if "TSTART" in header and "TSTOP" in header:
            time_start = time_ref + TimeDelta(float(header["TSTART"]), format="sec")
            time_stop = time_ref + TimeDelta(float(header["TSTOP"]), format="sec")
        fixed_altaz = None
        if alt is not None and az is not None:
            fixed_altaz = SkyCoord(alt=alt * u.deg, az=az * u.deg, frame=AltAz(location=location))
        if mode == "DRIFT":
            if fixed_altaz is None:
                raise KeyError("EVENTS header: OBS_MODE = 'DRIFT' needs ALT_PNT and AZ_PNT")
            return cls(mode=PointingMode.DRIFT, fixed_altaz=fixed_altaz, location=location,
                       time_start=time_start, time_stop=time_stop)
        if ra is None or dec is None:
            if fixed_altaz is not None:
                return cls(mode=PointingMode.DRIFT, fixed_altaz=fixed_altaz, location=location,
                           time_start=time_start, time_stop=time_stop)
            raise KeyError("EVENTS header: no pointing position (RA_PNT / DEC_PNT or ALT_PNT / AZ_PNT)")
        return cls(mode=PointingMode.POINTING, fixed_icrs=SkyCoord(ra * u.deg, dec * u.deg, frame="icrs"),
                   legacy_altaz=fixed_altaz, location=location,
                   time_start=time_start, time_stop=time_stop)

    @property
    def fixed_icrs(self):
        """Tracked sky position (None in DRIFT mode)."""
        return self._fixed_icrs

    @property
    def fixed_altaz(self):
        """Fixed (DRIFT) or mean (POINTING, from the header) Alt/Az position, or None."""
        return self._fixed_altaz

    @property
    def radec(self):
        """Pointing position in ICRS at the mid time."""
        return self.get_icrs()

    def _default_time(self, obstime):
        if obstime is not None:
            return obstime
        if self.time_start is not None and self.time_stop is not None:
            return self.time_start + 0.5 * (self.time_stop - self.time_start)
        return None

    def get_icrs(self, obstime=None, location=None):
        """Pointing position in ICRS at ``obstime`` (array of times allowed)."""
        if self.mode == PointingMode.POINTING:
            if obstime is None or np.ndim(obstime) == 0:
                return self._fixed_icrs
            return SkyCoord(
                np.full(np.shape(obstime), self._fixed_icrs.ra.deg) * u.deg,
                np.full(np.shape(obstime), self._fixed_icrs.dec.deg) * u.deg, frame="icrs",
            )
        obstime = self._default_time(obstime)
        location = self.location if location is None else location
        if obstime is None or location is None:
            raise ValueError("FixedPointingInfo: DRIFT pointing needs a time and an observatory location")
        frame = AltAz(obstime=obstime, location=location)
        altaz = SkyCoord(
            alt=np.broadcast_to(self._fixed_altaz.alt.deg, np.shape(obstime)) * u.deg,
            az=np.broadcast_to(self._fixed_altaz.az.deg, np.shape(obstime)) * u.deg, frame=frame,
        )
        with _no_iers_download():
            return altaz.transform_to("icrs")

    def get_altaz(self, obstime=None, location=None):
        """Pointing position in Alt/Az at ``obstime``."""
        location = self.location if location is None else location
        obstime = self._default_time(obstime)
        if self.mode == PointingMode.DRIFT:
            return SkyCoord(alt=self._fixed_altaz.alt, az=self._fixed_altaz.az,
                            frame=AltAz(obstime=obstime, location=location))
        if obstime is None or location is None:
            raise ValueError("FixedPointingInfo: Alt/Az needs a time and an observatory location")
        with _no_iers_download():
            return self._fixed_icrs.transform_to(AltAz(obstime=obstime, location=location))

    def __str__(self):
        lines = ["FixedPointingInfo", f"  mode : {self.mode.value}"]
        if self._fixed_icrs is not None:
            lines.append(f"  RA/Dec : {self._fixed_icrs.ra.deg:.4f} deg, {self._fixed_icrs.dec.deg:.4f} deg")
        if self._fixed_altaz is not None:
            lines.append(f"  Alt/Az : {self._fixed_altaz.alt.deg:.4f} deg, {self._fixed_altaz.az.deg:.4f} deg")
        if self.location is not None:
            loc = self.location.geodetic
            lines.append(f"  location : lon {loc.lon.deg:.4f} deg, lat {loc.lat.deg:.4f} deg, height {loc.height:.0f}")
        return "\n".join(lines) + "\n"


class PointingInfo:
    """Time-dependent pointing from a GADF ``POINTING`` table (linear interpolation in time).

    Parameters
    ----------
    table : `~astropy.table.Table`
        Columns ``TIME``, ``RA_PNT``, ``DEC_PNT`` (and optionally ``ALT_PNT``, ``AZ_PNT``).
    """

    def __init__(self, table):
        self.table = Table(table)
        meta = self.table.meta
        self.time_ref = time_ref_from_meta(meta)
        self.location = earth_location_from_dict(meta)
        self._time = np.asarray(self.table["TIME"], dtype=float)
        ra = np.deg2rad(np.asarray(self.table["RA_PNT"], dtype=float))
        dec = np.deg2rad(np.asarray(self.table["DEC_PNT"], dtype=float))
        # interpolate unit vectors: robust across RA = 0 / 360
        self._xyz = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)

    @classmethod
    def read(cls, filename, hdu="POINTING"):
        """Read a POINTING table from a FITS file."""
        from gammalike.irf.core import read_table_hdu

        return cls(read_table_hdu(filename, hdu))

    @property
    def time(self):
        """Time stamps (`~astropy.time.Time`)."""
        return self.time_ref + TimeDelta(self._time, format="sec")

    def get_icrs(self, obstime):
        """Interpolated ICRS pointing at ``obstime``."""
        t = np.atleast_1d((Time(obstime) - self.time_ref).to_value("s"))
        xyz = np.stack([np.interp(t, self._time, self._xyz[:, i]) for i in range(3)], axis=-1)
        ra = np.arctan2(xyz[:, 1], xyz[:, 0])
        dec = np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1]))
        coord = SkyCoord(np.rad2deg(ra) % 360 * u.deg, np.rad2deg(dec) * u.deg, frame="icrs")
        return coord[0] if np.ndim(obstime) == 0 else coord

    def get_altaz(self, obstime, location=None):
        """Alt/Az of the interpolated pointing."""
        location = self.location if location is None else location
        with _no_iers_download():
            return self.get_icrs(obstime).transform_to(AltAz(obstime=obstime, location=location))
