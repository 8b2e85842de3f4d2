"""`TimeMapAxis`: an axis of time intervals (light curves).

Unlike a `MapAxis`, the bins of a time axis need not touch: a light curve
of night-time observations has gaps.  The axis therefore holds the lower
and upper bound of every bin, as float offsets (in ``unit``, default days)
from a reference time, and converts to `~astropy.time.Time` only at the
public edge.
"""
import numpy as np
from astropy import units as u
from astropy.table import Table
from astropy.time import Time

from .axes import _AxisBase, _as_slice

__all__ = ["TimeMapAxis"]

#: Reference time of axes built from absolute times: MJD 0 (TT), so that the
#: offsets in days are MJD values, as the "lightcurve" tables store them.
_MJD_ZERO = Time(0.0, format="mjd", scale="tt")


def _time(value, what):
    if isinstance(value, Time):
        return value
    try:
        return Time(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"TimeMapAxis: {what} must be astropy Time, got {type(value).__name__}") from exc


class TimeMapAxis(_AxisBase):
    """Time intervals, possibly with gaps, relative to a reference time.

    Parameters
    ----------
    edges_min, edges_max : `~astropy.units.Quantity`
        Start and stop of each bin, as durations since ``reference_time``
        (sorted by start, ``edges_max > edges_min``; bins may have gaps
        between them and may overlap).
    reference_time : `~astropy.time.Time`
        Reference time.
    name : str
        Axis name (default "time").
    interp : {"lin"}
        Interpolation (only linear).
    """

    node_type = "intervals"
    is_energy_axis = False

    def __init__(self, edges_min, edges_max, reference_time, name="time", interp="lin"):
        if interp != "lin":
            raise ValueError(f"TimeMapAxis: only interp='lin' is supported, got {interp!r}")
        edges_min = u.Quantity(edges_min)
        edges_max = u.Quantity(edges_max)
        if not edges_min.unit.is_equivalent(u.s):
            raise u.UnitConversionError(
                f"TimeMapAxis: edges_min has unit '{edges_min.unit}', expected a time unit"
            )
        unit = edges_min.unit
        lo = np.array(edges_min.to_value(unit), dtype=float, ndmin=1).ravel()
        hi = np.array(u.Quantity(edges_max).to_value(unit), dtype=float, ndmin=1).ravel()
        if lo.shape != hi.shape:
            raise ValueError(
                f"TimeMapAxis: edges_min ({lo.size}) and edges_max ({hi.size}) differ in length"
            )
        if lo.size == 0:
            raise ValueError("TimeMapAxis: need at least one time interval")
        if np.any(hi <= lo):
            raise ValueError("TimeMapAxis: every interval needs edges_max > edges_min")
        if lo.size > 1 and np.any(np.diff(lo) < 0):
            raise ValueError("TimeMapAxis: intervals must be sorted by their start")
        self._lo, self._hi = lo, hi
        self._lo.flags.writeable = False
        self._hi.flags.writeable = False
        self._unit = unit
        self._reference_time = _time(reference_time, "reference_time")
        self._name = str(name)
        self._interp = interp

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_time_edges(cls, time_min, time_max, unit="d", interp="lin", name="time"):
        """Axis from start and stop times (`~astropy.time.Time` arrays).

        The reference time is the first start time (in its scale).
        """
        time_min = _time(time_min, "time_min")
        time_max = _time(time_max, "time_max")
        time_min = Time(np.atleast_1d(time_min))
        time_max = Time(np.atleast_1d(time_max))
        reference = time_min[0]
        unit = u.Unit(unit)
        lo = (time_min - reference).to(unit)
        hi = (time_max - reference).to(unit)
        return cls(lo, hi, reference, name=name, interp=interp)

    @classmethod
    def from_time_bounds(cls, time_min, time_max, nbin, unit="d", name="time"):
        """``nbin`` contiguous bins of equal length from ``time_min`` to ``time_max``."""
        time_min = _time(time_min, "time_min")
        duration = (_time(time_max, "time_max") - time_min).to_value(unit)
        edges = np.linspace(0.0, duration, int(nbin) + 1)
        return cls(u.Quantity(edges[:-1], unit), u.Quantity(edges[1:], unit), time_min, name=name)

    @classmethod
    def from_time_intervals(cls, time_intervals, unit="d", name="time"):
        """Axis from a list of ``[start, stop]`` `~astropy.time.Time` pairs."""
        intervals = list(time_intervals)
        if not intervals:
            raise ValueError("TimeMapAxis.from_time_intervals: empty list of intervals")
        starts = Time([Time(iv[0]) for iv in intervals])
        stops = Time([Time(iv[1]) for iv in intervals])
        return cls.from_time_edges(starts, stops, unit=unit, name=name)

    @classmethod
    def from_gti(cls, gti, name="time"):
        """One bin per good time interval of a `~gammalike.data.GTI`."""
        return cls(u.Quantity(gti.met_start, "s").to("d"), u.Quantity(gti.met_stop, "s").to("d"),
                   gti.time_ref, name=name)

    @classmethod
    def from_table(cls, table, format="lightcurve", name="time"):
        """Axis from the ``time_min`` / ``time_max`` columns (MJD) of a light-curve table.

        The time scale is the table's ``TIMESYS`` keyword (default "tt"),
        the unit ``TIMEUNIT`` (default days), the reference ``MJDREFI`` +
        ``MJDREFF`` (default 0).
        """
        if format != "lightcurve":
            raise ValueError(f"TimeMapAxis.from_table: unknown format {format!r}, expected 'lightcurve'")
        for column in ("time_min", "time_max"):
            if column not in table.colnames:
                where = table.meta.get("filename", "table")
                raise KeyError(f"{where}: light curve needs column {column!r} (columns: {table.colnames})")
        meta = table.meta
        scale = str(meta.get("TIMESYS", "tt")).strip().lower() or "tt"
        if scale not in Time.SCALES:
            scale = "tt"
        unit = u.Unit(str(meta.get("TIMEUNIT", "d")).strip() or "d")
        mjd_ref = float(meta.get("MJDREFI", 0)) + float(meta.get("MJDREFF", 0.0))
        reference = Time(mjd_ref, format="mjd", scale=scale)
        lo = np.asarray(table["time_min"], dtype=float)
        hi = np.asarray(table["time_max"], dtype=float)
        col_unit = table["time_min"].unit
        if col_unit is not None and u.Unit(col_unit).is_equivalent(u.s):
            unit = u.Unit(col_unit)
        return cls(u.Quantity(lo, unit), u.Quantity(hi, unit), reference, name=name)

    # ------------------------------------------------------------------ properties
    @property
    def nbin(self):
        """Number of time intervals."""
        return self._lo.size

    @property
    def reference_time(self):
        """Reference time (`~astropy.time.Time`)."""
        return self._reference_time

    @property
    def edges_min(self):
        """Bin starts since the reference time (Quantity)."""
        return u.Quantity(self._lo, self._unit)

    @property
    def edges_max(self):
        """Bin stops since the reference time (Quantity)."""
        return u.Quantity(self._hi, self._unit)

    @property
    def edges(self):
        """Bin edges (Quantity, ``nbin + 1``); only for contiguous axes."""
        if not self.is_contiguous:
            raise ValueError("TimeMapAxis.edges: the intervals are not contiguous (use edges_min/edges_max)")
        return u.Quantity(np.append(self._lo, self._hi[-1]), self._unit)

    @property
    def center(self):
        """Bin centres since the reference time (Quantity)."""
        return u.Quantity(0.5 * (self._lo + self._hi), self._unit)

    @property
    def bin_width(self):
        """Bin durations (Quantity)."""
        return u.Quantity(self._hi - self._lo, self._unit)

    time_delta = bin_width

    @property
    def time_min(self):
        """Bin starts (`~astropy.time.Time`)."""
        return self._reference_time + self.edges_min

    @property
    def time_max(self):
        """Bin stops (`~astropy.time.Time`)."""
        return self._reference_time + self.edges_max

    @property
    def time_mid(self):
        """Bin centres (`~astropy.time.Time`)."""
        return self._reference_time + self.center

    @property
    def time_bounds(self):
        """First start and last stop (`~astropy.time.Time`)."""
        return Time([self.time_min[0], self.time_max[-1]])

    @property
    def time_intervals(self):
        """List of ``[start, stop]`` `~astropy.time.Time` pairs."""
        return [Time([a, b]) for a, b in zip(self.time_min, self.time_max)]

    @property
    def is_contiguous(self):
        """True when every bin starts where the previous one stops (within 1e-9 relative)."""
        return bool(np.allclose(self._lo[1:], self._hi[:-1], rtol=1e-12, atol=1e-9))

    def mjd_bounds(self, scale="tt"):
        """(time_min, time_max) as float MJD arrays in ``scale``.

        Computed from the reference time once, then float offsets, so that
        tables of many bins are fast to write.
        """
        ref = getattr(self._reference_time, scale)
        ref_mjd = float(ref.mjd)
        factor = float(self._unit.to(u.d))
        # split to keep the precision of the day fraction
        ref_int = np.floor(ref_mjd)
        ref_frac = float((ref - Time(ref_int, format="mjd", scale=scale)).to_value(u.d))
        return (ref_int + (ref_frac + self._lo * factor), ref_int + (ref_frac + self._hi * factor))

    # ------------------------------------------------------------------ coordinates
    def coord_to_idx(self, coord, clip=False):
        """Index of the bin containing each time (-1 outside any bin; ``clip``: the bin
        starting last before the time, or the first bin)."""
        coord = _time(coord, "coord")
        value = np.atleast_1d((coord - self._reference_time).to_value(self._unit))
        inside = (value[:, None] >= self._lo) & (value[:, None] < self._hi)  # (n_coord, nbin)
        idx = np.where(inside.any(axis=1), np.argmax(inside, axis=1), -1)  # first bin if overlapping
        if clip:
            nearest = np.clip(np.searchsorted(self._lo, value, side="right") - 1, 0, self.nbin - 1)
            return np.where(idx >= 0, idx, nearest)
        return idx

    def iter_by_edges(self):
        """Iterate over ``(time_min, time_max)`` pairs (`~astropy.time.Time`)."""
        time_min, time_max = self.time_min, self.time_max
        for idx in range(self.nbin):
            yield time_min[idx], time_max[idx]

    # ------------------------------------------------------------------ derived axes
    def copy(self, **kwargs):
        """Copy, optionally replacing edges_min, edges_max, reference_time or name."""
        init = dict(edges_min=self.edges_min, edges_max=self.edges_max,
                    reference_time=self._reference_time, name=self._name, interp=self._interp)
        init.update(kwargs)
        return self.__class__(**init)

    def slice(self, idx):
        """Sub-axis for an int index or a slice (step 1)."""
        idx = _as_slice(idx, self.nbin)
        start, stop, step = idx.indices(self.nbin)
        if step != 1 or stop <= start:
            raise ValueError(f"TimeMapAxis.slice: need a non-empty slice of step 1, got {idx}")
        return self.copy(edges_min=self.edges_min[start:stop], edges_max=self.edges_max[start:stop])

    def squash(self):
        """Axis with one bin from the first start to the last stop."""
        return self.copy(edges_min=self.edges_min[:1], edges_max=self.edges_max[-1:])

    # ------------------------------------------------------------------ plotting
    @property
    def as_plot_center(self):
        """Bin centres (`~astropy.time.Time`)."""
        return self.time_mid

    @property
    def as_plot_xerr(self):
        """(lower, upper) errors of the centres (Quantities)."""
        half = 0.5 * self.bin_width
        return half, half

    @property
    def as_plot_labels(self):
        """Bin labels "start - stop" (ISO, UTC)."""
        return [f"{a.utc.isot} - {b.utc.isot}" for a, b in zip(self.time_min, self.time_max)]

    # ------------------------------------------------------------------ I/O
    def to_table(self, format="lightcurve", scale="tt"):
        """Table with ``time_min`` / ``time_max`` (MJD in ``scale``) and the time keywords."""
        if format != "lightcurve":
            raise ValueError(f"TimeMapAxis.to_table: unknown format {format!r}, expected 'lightcurve'")
        lo, hi = self.mjd_bounds(scale)
        table = Table()
        table["time_min"] = lo
        table["time_max"] = hi
        table.meta.update(MJDREFI=0, MJDREFF=0.0, TIMESYS=scale, TIMEUNIT="d")
        return table

    # ------------------------------------------------------------------ comparisons
    def is_allclose(self, other, atol=1e-6 * u.d):
        """Same number of bins, starts and stops within ``atol``."""
        if not isinstance(other, TimeMapAxis) or other.nbin != self.nbin:
            return False
        atol = u.Quantity(atol).to_value(u.s)
        shift = (other.reference_time - self._reference_time).to_value(u.s)
        f_self, f_other = float(self._unit.to(u.s)), float(other.unit.to(u.s))
        lo = other._lo * f_other + shift
        hi = other._hi * f_other + shift
        return bool(np.allclose(self._lo * f_self, lo, rtol=0, atol=atol)
                    and np.allclose(self._hi * f_self, hi, rtol=0, atol=atol))

    def __eq__(self, other):
        if not isinstance(other, TimeMapAxis):
            return NotImplemented
        return self._name == other.name and self.is_allclose(other)

    __hash__ = object.__hash__

    def __str__(self):
        lines = [
            self.__class__.__name__,
            "-" * len(self.__class__.__name__),
            "",
            f"  name       : {self._name}",
            f"  nbins      : {self.nbin}",
            f"  reference  : {self._reference_time.isot} ({self._reference_time.scale.upper()})",
            f"  time_min   : {self.time_min[0].utc.isot} (UTC)",
            f"  time_max   : {self.time_max[-1].utc.isot} (UTC)",
            f"  total time : {self.bin_width.sum().to(u.h):.3f}",
            f"  contiguous : {self.is_contiguous}",
        ]
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"TimeMapAxis(nbin={self.nbin}, name={self._name!r})"
