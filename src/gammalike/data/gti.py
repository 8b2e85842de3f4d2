"""`GTI`: good time intervals (GADF / OGIP ``GTI`` table)."""
import numpy as np
import astropy.units as u
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time, TimeDelta

from gammalike.irf.core import read_table_hdu
from gammalike.utils.io import write_atomic

__all__ = ["GTI", "gti_time_range", "time_ref_from_meta", "time_ref_to_meta"]

_DEFAULT_REFERENCE = Time("2000-01-01T00:00:00", scale="tt")


def time_ref_from_meta(meta, default=None):
    """Reference time from the ``MJDREFI`` / ``MJDREFF`` / ``TIMESYS`` keywords.

    Falls back to ``MJDREF`` and then to ``default`` (2000-01-01 TT if None).
    """
    scale = str(meta.get("TIMESYS", "tt")).strip().lower() or "tt"
    if scale not in Time.SCALES:
        scale = "tt"
    if "MJDREFI" in meta:
        return Time(float(meta["MJDREFI"]), float(meta.get("MJDREFF", 0.0)), format="mjd", scale=scale)
    if "MJDREF" in meta:
        return Time(float(meta["MJDREF"]), format="mjd", scale=scale)
    return _DEFAULT_REFERENCE if default is None else default


def time_ref_to_meta(time_ref):
    """``MJDREFI`` / ``MJDREFF`` / ``TIMESYS`` / ``TIMEUNIT`` keywords of a reference time."""
    mjd_int = int(np.floor(time_ref.mjd))
    mjd_frac = float((time_ref - Time(mjd_int, format="mjd", scale=time_ref.scale)).to_value("day"))
    return {
        "MJDREFI": mjd_int, "MJDREFF": mjd_frac,
        "TIMEUNIT": "s", "TIMESYS": time_ref.scale.upper(), "TIMEREF": "LOCAL",
    }


def _seconds_since(time, time_ref):
    """Float seconds of ``time`` (Time, or Quantity relative to the reference) since ``time_ref``."""
    if isinstance(time, Time):
        return np.atleast_1d((time - time_ref).to_value("s"))
    return np.atleast_1d(u.Quantity(time, "s").value)


class GTI:
    """Good time intervals.

    Internally the intervals are float64 seconds since ``time_ref``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        Table with ``START`` and ``STOP`` columns (seconds since the reference
        time in ``table.meta``, or `~astropy.time.Time` columns).
    reference_time : `~astropy.time.Time`, optional
        Reference time (default: from the table meta, else 2000-01-01 TT).
    """

    def __init__(self, table, reference_time=None):
        meta = dict(table.meta)
        time_ref = reference_time if reference_time is not None else time_ref_from_meta(meta)
        for name in ("START", "STOP"):
            if name not in table.colnames:
                raise KeyError(f"GTI table: missing column {name!r} (columns: {table.colnames})")
        start, stop = table["START"], table["STOP"]
        self._time_ref = time_ref
        self._start = self._column_seconds(start, time_ref)
        self._stop = self._column_seconds(stop, time_ref)
        if np.any(self._stop < self._start):
            raise ValueError("GTI: some intervals have STOP < START")
        self.meta = {k: v for k, v in meta.items() if k not in ("MJDREFI", "MJDREFF", "MJDREF", "TIMESYS")}

    @staticmethod
    def _column_seconds(column, time_ref):
        if isinstance(column, Time):
            return np.atleast_1d((column - time_ref).to_value("s")).astype(float)
        unit = getattr(column, "unit", None) or u.s
        return np.atleast_1d(u.Quantity(np.asarray(column, dtype=float), unit).to_value("s"))

    @classmethod
    def _from_seconds(cls, start, stop, time_ref, meta=None):
        gti = cls.__new__(cls)
        gti._time_ref = time_ref
        gti._start = np.asarray(start, dtype=float).ravel()
        gti._stop = np.asarray(stop, dtype=float).ravel()
        gti.meta = dict(meta or {})
        return gti

    @classmethod
    def create(cls, start, stop, reference_time=None):
        """GTI from start and stop times.

        Parameters
        ----------
        start, stop : `~astropy.time.Time` or `~astropy.units.Quantity`
            Interval bounds (Quantities are durations since ``reference_time``).
        reference_time : `~astropy.time.Time`, optional
            Reference time (default 2000-01-01 TT).
        """
        time_ref = _DEFAULT_REFERENCE if reference_time is None else Time(reference_time)
        return cls._from_seconds(_seconds_since(start, time_ref), _seconds_since(stop, time_ref), time_ref)

    @classmethod
    def read(cls, filename, hdu="GTI"):
        """Read from a FITS file."""
        table = read_table_hdu(filename, hdu)
        return cls(table)

    # ------------------------------------------------------------------ properties
    @property
    def table(self):
        """GADF table (``START`` / ``STOP`` in seconds since the reference time)."""
        table = Table()
        table["START"] = u.Quantity(self._start, "s")
        table["STOP"] = u.Quantity(self._stop, "s")
        table.meta.update(self.meta)
        table.meta.update(time_ref_to_meta(self._time_ref))
        return table

    @property
    def time_ref(self):
        """Reference time (`~astropy.time.Time`)."""
        return self._time_ref

    @property
    def time_start(self):
        """Start times (`~astropy.time.Time`)."""
        return self._time_ref + TimeDelta(self._start, format="sec")

    @property
    def time_stop(self):
        """Stop times (`~astropy.time.Time`)."""
        return self._time_ref + TimeDelta(self._stop, format="sec")

    @property
    def time_delta(self):
        """Durations of the intervals (Quantity, s)."""
        return u.Quantity(self._stop - self._start, "s")

    @property
    def time_sum(self):
        """Total good time (Quantity, s)."""
        return u.Quantity(np.sum(self._stop - self._start), "s")

    @property
    def time_intervals(self):
        """List of (start, stop) `~astropy.time.Time` pairs."""
        return list(zip(self.time_start, self.time_stop))

    @property
    def met_start(self):
        """Start times in seconds since the reference time."""
        return u.Quantity(self._start, "s")

    @property
    def met_stop(self):
        """Stop times in seconds since the reference time."""
        return u.Quantity(self._stop, "s")

    def __len__(self):
        return self._start.size

    # ------------------------------------------------------------------ operations
    def select_time(self, time_interval):
        """GTI clipped to ``time_interval`` ([start, stop] `~astropy.time.Time`)."""
        lo, hi = (_seconds_since(t, self._time_ref)[0] for t in time_interval)
        start = np.clip(self._start, lo, hi)
        stop = np.clip(self._stop, lo, hi)
        keep = stop > start
        return self._from_seconds(start[keep], stop[keep], self._time_ref, self.meta)

    def union(self, overlap_ok=True, merge_equal=True):
        """Merge overlapping (and, if ``merge_equal``, touching) intervals; sorted result."""
        order = np.argsort(self._start, kind="stable")
        start, stop = self._start[order], self._stop[order]
        if start.size == 0:
            return self._from_seconds(start, stop, self._time_ref, self.meta)
        running_stop = np.maximum.accumulate(stop)
        if merge_equal:
            new = np.concatenate([[True], start[1:] > running_stop[:-1]])
        else:
            new = np.concatenate([[True], start[1:] >= running_stop[:-1]])
        if not overlap_ok and np.any(start[1:] < running_stop[:-1]):
            raise ValueError("GTI.union: overlapping intervals and overlap_ok=False")
        group = np.cumsum(new) - 1
        out_start = start[new]
        out_stop = np.zeros(out_start.size)
        np.maximum.at(out_stop, group, stop)
        return self._from_seconds(out_start, out_stop, self._time_ref, self.meta)

    def stack(self, other):
        """Append the intervals of ``other`` (in place; keeps this reference time)."""
        shift = (other.time_ref - self._time_ref).to_value("s")
        self._start = np.concatenate([self._start, other._start + shift])
        self._stop = np.concatenate([self._stop, other._stop + shift])

    @classmethod
    def from_stack(cls, gtis, **kwargs):
        """GTI with the intervals of all ``gtis`` (reference time of the first)."""
        gtis = list(gtis)
        if not gtis:
            raise ValueError("GTI.from_stack: empty list")
        result = cls._from_seconds(gtis[0]._start.copy(), gtis[0]._stop.copy(), gtis[0].time_ref, gtis[0].meta)
        for gti in gtis[1:]:
            result.stack(gti)
        return result

    def copy(self):
        return self._from_seconds(self._start.copy(), self._stop.copy(), self._time_ref, self.meta)

    # ------------------------------------------------------------------ I/O
    def to_table_hdu(self, format="gadf"):
        """`~astropy.io.fits.BinTableHDU` named GTI."""
        table = self.table
        table.meta.update(HDUCLASS="GADF", HDUCLAS1="GTI")
        return fits.BinTableHDU(table, name="GTI")

    def write(self, filename, overwrite=False, format="gadf"):
        """Write to a FITS file."""
        hdulist = fits.HDUList([fits.PrimaryHDU(), self.to_table_hdu(format=format)])
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp)

    def __str__(self):
        if len(self) == 0:
            return "GTI info:\n- Number of GTIs: 0\n"
        start, stop = self.time_start, self.time_stop
        return (
            "GTI info:\n"
            f"- Number of GTIs: {len(self)}\n"
            f"- Duration: {self.time_sum}\n"
            f"- Start: {self._start.min()} s MET\n"
            f"- Start: {start.min().isot} ({start.min().scale.upper()})\n"
            f"- Stop: {self._stop.max()} s MET\n"
            f"- Stop: {stop.max().isot} ({stop.max().scale.upper()})\n"
        )

    def __repr__(self):
        return f"GTI(n={len(self)}, time_sum={self.time_sum:.1f})"


def gti_time_range(gti):
    """First start and last stop of a dataset's GTI as float MJD (TT), or None if empty.

    Parameters
    ----------
    gti : `~gammalike.data.GTI` or `~astropy.table.Table`
        Good time intervals (a table is read as a GADF GTI table).

    Returns
    -------
    (mjd_start, mjd_stop) : tuple of float, or None when ``gti`` has no interval
    """
    if not hasattr(gti, "met_start"):
        gti = GTI(getattr(gti, "table", gti))
    if len(gti) == 0:
        return None
    ref = gti.time_ref.tt
    ref_mjd = float(ref.mjd)
    start = float(np.min(gti.met_start.to_value("s")))
    stop = float(np.max(gti.met_stop.to_value("s")))
    return ref_mjd + start / 86400.0, ref_mjd + stop / 86400.0
