"""`EventList`: the reconstructed gamma-ray-like events of an observation (GADF ``EVENTS``)."""
import logging

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.io import fits
from astropy.table import vstack
from astropy.time import Time, TimeDelta

from gammalike.irf.core import read_table_hdu, _get_ax
from gammalike.utils.io import write_atomic

from .gti import time_ref_from_meta
from .pointing import FixedPointingInfo

__all__ = ["EventList"]

log = logging.getLogger(__name__)


def _angular_separation_deg(lon1, lat1, lon2, lat2):
    """Great-circle distance (deg) between (lon1, lat1) and (lon2, lat2) in deg (Vincenty)."""
    lon1, lat1, lon2, lat2 = (np.deg2rad(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    dlon = lon2 - lon1
    sdlon, cdlon = np.sin(dlon), np.cos(dlon)
    slat1, clat1 = np.sin(lat1), np.cos(lat1)
    slat2, clat2 = np.sin(lat2), np.cos(lat2)
    num1 = clat2 * sdlon
    num2 = clat1 * slat2 - slat1 * clat2 * cdlon
    denom = slat1 * slat2 + clat1 * clat2 * cdlon
    return np.rad2deg(np.arctan2(np.hypot(num1, num2), denom))


class EventList:
    """Event list: a table with (at least) ``RA``, ``DEC``, ``ENERGY`` and ``TIME`` columns.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Event table; the EVENTS header keywords are in ``table.meta``.
    gti : `~gammalike.data.GTI`, optional
        Good time intervals of the events (written with them by `write`).
    """

    def __init__(self, table, gti=None):
        self.table = table
        self.gti = gti
        self._cache = {}

    @classmethod
    def read(cls, filename, hdu="EVENTS", checksum=False):
        """Read from a FITS file (HDU "EVENTS" by default)."""
        table = read_table_hdu(filename, hdu)
        missing = [c for c in ("RA", "DEC", "ENERGY") if c not in table.colnames]
        if missing:
            raise KeyError(f"{filename}: EVENTS table misses columns {missing} (columns: {table.colnames})")
        return cls(table)

    # ------------------------------------------------------------------ float columns (cached)
    def _column(self, name, unit):
        key = (name, str(unit))
        value = self._cache.get(key)
        if value is None:
            col = self.table[name]
            col_unit = col.unit if col.unit is not None else unit
            value = u.Quantity(np.asarray(col, dtype=float), col_unit).to_value(unit)
            self._cache[key] = value
        return value

    @property
    def meta(self):
        """Header keywords."""
        return self.table.meta

    def __len__(self):
        return len(self.table)

    # ------------------------------------------------------------------ columns
    @property
    def energy(self):
        """Reconstructed energies (Quantity, TeV)."""
        return u.Quantity(self._column("ENERGY", u.TeV), "TeV")

    @property
    def radec(self):
        """Event positions (`~astropy.coordinates.SkyCoord`, ICRS)."""
        return SkyCoord(self._column("RA", u.deg), self._column("DEC", u.deg), unit="deg", frame="icrs")

    @property
    def galactic(self):
        """Event positions in Galactic coordinates."""
        return self.radec.galactic

    @property
    def time_ref(self):
        """Reference time (MJDREFI / MJDREFF / TIMESYS)."""
        return time_ref_from_meta(self.meta)

    @property
    def time(self):
        """Event times (`~astropy.time.Time`)."""
        return self.time_ref + TimeDelta(self._column("TIME", u.s), format="sec")

    @property
    def observation_time_start(self):
        """Start of the observation (TSTART)."""
        return self.time_ref + TimeDelta(float(self.meta["TSTART"]), format="sec")

    @property
    def observation_time_stop(self):
        """Stop of the observation (TSTOP)."""
        return self.time_ref + TimeDelta(float(self.meta["TSTOP"]), format="sec")

    @property
    def observation_time_duration(self):
        """TSTOP - TSTART (Quantity, s)."""
        return u.Quantity(float(self.meta["TSTOP"]) - float(self.meta["TSTART"]), "s")

    @property
    def observation_live_time_duration(self):
        """Live time (LIVETIME keyword, Quantity s)."""
        return u.Quantity(float(self.meta["LIVETIME"]), "s")

    @property
    def observation_dead_time_fraction(self):
        """1 - DEADC."""
        return 1.0 - float(self.meta["DEADC"])

    @property
    def pointing(self):
        """`FixedPointingInfo` from the header."""
        return FixedPointingInfo.from_fits_header(self.meta)

    @property
    def pointing_radec(self):
        """Pointing position (ICRS)."""
        return self.pointing.get_icrs()

    @property
    def offset(self):
        """Angular distance of the events from the pointing position (`~astropy.coordinates.Angle`)."""
        pnt = self.pointing_radec
        return Angle(self._offset_deg(pnt.ra.deg, pnt.dec.deg), "deg")

    def _offset_deg(self, lon, lat):
        return _angular_separation_deg(lon, lat, self._column("RA", u.deg), self._column("DEC", u.deg))

    def offset_from(self, center):
        """Angular distance of the events from ``center`` (`~astropy.coordinates.Angle`)."""
        center = center.icrs
        return Angle(self._offset_deg(center.ra.deg, center.dec.deg), "deg")

    @property
    def is_pointed_observation(self):
        """True if the events carry a pointing position."""
        return "RA_PNT" in self.meta or "ALT_PNT" in self.meta

    # ------------------------------------------------------------------ selections
    def select_row_subset(self, row_specifier):
        """New `EventList` with the given rows (mask, index array or slice)."""
        return self.__class__(self.table[row_specifier], gti=self.gti)

    def select_energy(self, energy_range):
        """Events with ``energy_range[0] <= energy < energy_range[1]``."""
        lo, hi = (u.Quantity(e).to_value("TeV") for e in energy_range)
        energy = self._column("ENERGY", u.TeV)
        return self.select_row_subset((energy >= lo) & (energy < hi))

    def select_offset(self, offset_band):
        """Events with ``offset_band[0] <= offset < offset_band[1]`` (from the pointing)."""
        lo, hi = (Angle(o).deg for o in offset_band)
        pnt = self.pointing_radec
        offset = self._offset_deg(pnt.ra.deg, pnt.dec.deg)
        return self.select_row_subset((offset >= lo) & (offset < hi))

    def select_time(self, time_interval):
        """Events with ``time_interval[0] <= time < time_interval[1]`` (`~astropy.time.Time`)."""
        lo, hi = ((Time(t) - self.time_ref).to_value("s") for t in time_interval)
        time = self._column("TIME", u.s)
        return self.select_row_subset((time >= lo) & (time < hi))

    def select_parameter(self, parameter, band):
        """Events with ``band[0] <= table[parameter] < band[1]``."""
        if parameter not in self.table.colnames:
            raise KeyError(f"EventList.select_parameter: no column {parameter!r} (columns: {self.table.colnames})")
        col = self.table[parameter]
        lo, hi = band
        if col.unit is not None or isinstance(lo, u.Quantity):
            values = u.Quantity(np.asarray(col, dtype=float), col.unit or "")
            lo, hi = u.Quantity(lo), u.Quantity(hi)
        else:
            values = np.asarray(col)
        return self.select_row_subset((values >= lo) & (values < hi))

    def _region_mask(self, region, wcs=None):
        from regions import CircleSkyRegion, SkyRegion

        if isinstance(region, str):
            from regions import Regions

            region = Regions.parse(region, format="ds9")
        if not isinstance(region, SkyRegion) and hasattr(region, "__iter__"):
            mask = np.zeros(len(self), dtype=bool)
            for reg in region:
                mask |= self._region_mask(reg, wcs=wcs)
            return mask
        if isinstance(region, CircleSkyRegion):
            center = region.center.icrs
            sep = self._offset_deg(center.ra.deg, center.dec.deg)
            return sep < region.radius.to_value("deg")
        if wcs is None:
            wcs = _local_wcs(region)
        return np.asarray(region.contains(self.radec, wcs), dtype=bool)

    def select_region(self, regions, wcs=None):
        """Events inside a sky region (or any of a list of regions, or a DS9 string).

        Circles are tested exactly on the sphere; other shapes through ``wcs``
        (a local TAN projection around the region centre by default).
        """
        return self.select_row_subset(self._region_mask(regions, wcs=wcs))

    def select_mask(self, mask):
        """Events in the pixels where a boolean sky map ``mask`` is True."""
        coords = self.radec
        values = mask.get_by_coord({"skycoord": coords}) if hasattr(mask, "get_by_coord") else None
        if values is None:
            raise TypeError("EventList.select_mask: expected a boolean WcsNDMap")
        if np.ndim(values) > 1:
            values = values.any(axis=tuple(range(np.ndim(values) - 1)))
        return self.select_row_subset(np.asarray(values, dtype=bool))

    # ------------------------------------------------------------------ stacking
    def stack(self, other):
        """Append the events of ``other`` (in place)."""
        self.table = vstack([self.table, other.table], metadata_conflicts="silent")
        self._cache = {}

    @classmethod
    def from_stack(cls, event_lists, **kwargs):
        """`EventList` with the events of all ``event_lists`` (meta of the first)."""
        event_lists = list(event_lists)
        table = vstack([e.table for e in event_lists], metadata_conflicts="silent")
        table.meta = dict(event_lists[0].table.meta)
        return cls(table)

    def copy(self):
        return self.__class__(self.table.copy(), gti=self.gti)

    # ------------------------------------------------------------------ I/O
    def to_table_hdu(self, format="gadf"):
        """`~astropy.io.fits.BinTableHDU` named EVENTS."""
        return fits.BinTableHDU(self.table, name="EVENTS")

    def write(self, filename, gti=None, overwrite=False, format="gadf"):
        """Write the events and a GTI (``gti``, default `EventList.gti` if set) to a FITS file."""
        gti = self.gti if gti is None else gti
        hdus = [fits.PrimaryHDU(), self.to_table_hdu(format=format)]
        if gti is not None:
            hdus.append(gti.to_table_hdu())
        with write_atomic(filename, overwrite=overwrite) as tmp:
            fits.HDUList(hdus).writeto(tmp)

    # ------------------------------------------------------------------ display
    def __str__(self):
        lines = ["EventList", "---------", ""]
        meta = self.meta
        for key, label in (("TELESCOP", "Instrument"), ("OBS_ID", "Obs ID"), ("OBJECT", "Object")):
            if key in meta:
                lines.append(f"  {label:<28}: {meta[key]}")
        lines.append(f"  {'Number of events':<28}: {len(self)}")
        if len(self) and "TSTART" in meta and "TSTOP" in meta:
            rate = len(self) / self.observation_time_duration
            lines.append(f"  {'Event rate':<28}: {rate.value:.3f} 1 / s")
            lines.append(f"  {'Time start':<28}: {self.observation_time_start.mjd}")
            lines.append(f"  {'Time stop':<28}: {self.observation_time_stop.mjd}")
        if len(self):
            energy = self._column("ENERGY", u.TeV)
            lines.append(f"  {'Min. energy':<28}: {energy.min():.2e} TeV")
            lines.append(f"  {'Max. energy':<28}: {energy.max():.2e} TeV")
            lines.append(f"  {'Median energy':<28}: {np.median(energy):.2e} TeV")
            if self.is_pointed_observation:
                offset = self.offset.deg
                lines.append(f"  {'Max. offset':<28}: {offset.max():.1f} deg")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"EventList(n={len(self)})"

    # ------------------------------------------------------------------ plots
    def plot_energy(self, ax=None, **kwargs):
        """Histogram of the reconstructed energies (log bins)."""
        ax = _get_ax(ax)
        energy = self._column("ENERGY", u.TeV)
        bins = np.geomspace(max(energy.min(), 1e-3), energy.max(), 50) if len(energy) else 10
        kwargs.setdefault("histtype", "step")
        kwargs.setdefault("label", "Energy")
        ax.hist(energy, bins=bins, **kwargs)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Energy [TeV]")
        ax.set_ylabel("Counts")
        return ax

    def plot_offset2_distribution(self, ax=None, center=None, max_percentile=98, **kwargs):
        """Histogram of the squared offset from ``center`` (default: the pointing)."""
        ax = _get_ax(ax)
        center = self.pointing_radec if center is None else center
        offset2 = self.offset_from(center).deg ** 2
        hi = np.percentile(offset2, max_percentile) if len(offset2) else 1.0
        kwargs.setdefault("histtype", "step")
        ax.hist(offset2, bins=np.linspace(0, hi, 50), **kwargs)
        ax.set_xlabel("Offset$^2$ [deg$^2$]")
        ax.set_ylabel("Counts")
        return ax

    def plot_time(self, ax=None, **kwargs):
        """Event rate vs time (seconds since the first event)."""
        ax = _get_ax(ax)
        time = self._column("TIME", u.s)
        time = time - time.min() if len(time) else time
        kwargs.setdefault("histtype", "step")
        ax.hist(time, bins=50, **kwargs)
        ax.set_xlabel("Time since first event [s]")
        ax.set_ylabel("Counts")
        return ax

    def plot_energy_offset(self, ax=None, max_percentile=99, **kwargs):
        """2D histogram of energy vs offset (log colour scale).

        Offsets stop at the ``max_percentile`` percentile: a few events far
        outside the field of view would otherwise squash the histogram.
        """
        from matplotlib.colors import LogNorm

        ax = _get_ax(ax)
        energy = self._column("ENERGY", u.TeV)
        offset = self.offset.deg
        ebins = np.geomspace(max(energy.min(), 1e-3), energy.max(), 40)
        hi = np.percentile(offset, max_percentile) if len(offset) else 1.0
        obins = np.linspace(0, hi, 30)
        h, _, _ = np.histogram2d(energy, offset, bins=[ebins, obins])
        if "norm" not in kwargs and "vmin" not in kwargs and h.max() > 0:
            kwargs["norm"] = LogNorm(vmin=1, vmax=h.max())
        h = np.where(h > 0, h, np.nan)  # empty bins stay blank on the log scale
        im = ax.pcolormesh(ebins, obins, h.T, **kwargs)
        ax.set_xscale("log")
        ax.set_xlabel("Energy [TeV]")
        ax.set_ylabel("Offset [deg]")
        ax.figure.colorbar(im, ax=ax, label="Counts")
        return ax

    def plot_image(self, ax=None, binsz=0.05, add_cbar=True, **kwargs):
        """Counts image around the pointing position (RA/Dec, simple binning)."""
        ax = _get_ax(ax)
        ra, dec = self._column("RA", u.deg), self._column("DEC", u.deg)
        pnt = self.pointing_radec if self.is_pointed_observation else SkyCoord(np.median(ra), np.median(dec), unit="deg")
        half = 3.0
        rbins = np.arange(pnt.ra.deg - half, pnt.ra.deg + half + binsz, binsz)
        dbins = np.arange(pnt.dec.deg - half, pnt.dec.deg + half + binsz, binsz)
        h, _, _ = np.histogram2d(ra, dec, bins=[rbins, dbins])
        im = ax.pcolormesh(rbins, dbins, h.T, **kwargs)
        ax.invert_xaxis()
        ax.set_xlabel("RA [deg]")
        ax.set_ylabel("Dec [deg]")
        if add_cbar:
            ax.figure.colorbar(im, ax=ax, label=f"Counts per {binsz:g} deg x {binsz:g} deg bin")
        return ax

    def peek(self, allsky=False):
        """Quick-look plots: image, energy, offset^2 and energy-offset histograms."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(12, 9))
        self.plot_image(ax=axes[0][0])
        self.plot_energy(ax=axes[0][1])
        self.plot_offset2_distribution(ax=axes[1][0])
        self.plot_energy_offset(ax=axes[1][1])
        plt.tight_layout()
        return axes


def _local_wcs(region, binsz=0.01):
    """TAN WCS centred on a sky region (for `regions` containment tests)."""
    from astropy.wcs import WCS

    center = getattr(region, "center", None)
    if center is None:
        raise ValueError("EventList.select_region: pass a wcs for regions without a centre")
    center = center.icrs
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [center.ra.deg, center.dec.deg]
    wcs.wcs.crpix = [0.0, 0.0]
    wcs.wcs.cdelt = [-binsz, binsz]
    return wcs
