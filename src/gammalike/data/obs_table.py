"""`ObservationTable`: the GADF observation index table, with selections."""
import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.table import Table
from astropy.time import Time, TimeDelta

from gammalike.irf.core import read_table_hdu
from gammalike.utils.paths import make_path

from .event_list import _angular_separation_deg
from .gti import time_ref_from_meta

__all__ = ["ObservationTable"]


class ObservationTable(Table):
    """Observation index table: one row per observation (OBS_ID, RA_PNT, DEC_PNT, TSTART, ...).

    Selections return new tables; ``inverted=True`` keeps the complement.
    """

    @classmethod
    def read(cls, filename, **kwargs):
        """Read an observation index table (``hdu`` defaults to the first table HDU)."""
        path = make_path(filename)
        hdu = kwargs.pop("hdu", 1)
        table = cls(read_table_hdu(path, hdu))
        if "OBS_ID" not in table.colnames:
            raise KeyError(f"{path}: observation index table has no OBS_ID column")
        return table

    # ------------------------------------------------------------------ derived columns
    @property
    def obs_id(self):
        """Observation IDs (int array)."""
        return np.asarray(self["OBS_ID"]).astype(int)

    @property
    def pointing_radec(self):
        """Pointing positions (ICRS)."""
        return SkyCoord(self._float_col("RA_PNT", "deg"), self._float_col("DEC_PNT", "deg"), unit="deg", frame="icrs")

    @property
    def pointing_galactic(self):
        """Pointing positions (Galactic)."""
        if "GLON_PNT" in self.colnames:
            return SkyCoord(self._float_col("GLON_PNT", "deg"), self._float_col("GLAT_PNT", "deg"),
                            unit="deg", frame="galactic")
        return self.pointing_radec.galactic

    @property
    def time_ref(self):
        """Reference time of TSTART / TSTOP."""
        return time_ref_from_meta(self.meta)

    @property
    def time_start(self):
        """Observation start times (`~astropy.time.Time`)."""
        return self.time_ref + TimeDelta(self._float_col("TSTART", "s"), format="sec")

    @property
    def time_stop(self):
        """Observation stop times (`~astropy.time.Time`)."""
        return self.time_ref + TimeDelta(self._float_col("TSTOP", "s"), format="sec")

    def _float_col(self, name, unit):
        if name not in self.colnames:
            raise KeyError(f"ObservationTable: no column {name!r} (columns: {self.colnames})")
        col = self[name]
        return u.Quantity(np.asarray(col, dtype=float), col.unit or unit).to_value(unit)

    # ------------------------------------------------------------------ selections
    def _select(self, mask, inverted=False):
        mask = np.asarray(mask, dtype=bool)
        return self[~mask if inverted else mask]

    def select_obs_id(self, obs_id):
        """Rows with the given observation ID(s), in the given order.

        Raises
        ------
        ValueError
            If an ID is not in the table.
        """
        ids = np.atleast_1d(np.asarray(obs_id)).astype(int)
        table_ids = self.obs_id
        lookup = {int(oid): row for row, oid in enumerate(table_ids)}
        missing = [int(i) for i in ids if int(i) not in lookup]
        if missing:
            raise ValueError(f"ObservationTable: obs_id {missing} not in the table")
        return self[[lookup[int(i)] for i in ids]]

    def select_range(self, selection_variable, value_range, inverted=False):
        """Rows with ``value_range[0] <= column < value_range[1]``."""
        if selection_variable not in self.colnames:
            raise KeyError(f"ObservationTable.select_range: no column {selection_variable!r}")
        col = self[selection_variable]
        lo, hi = value_range
        if isinstance(lo, u.Quantity) or isinstance(hi, u.Quantity):
            values = u.Quantity(np.asarray(col, dtype=float), col.unit or "")
            lo, hi = u.Quantity(lo), u.Quantity(hi)
        else:
            values = np.asarray(col)
        return self._select((values >= lo) & (values < hi), inverted)

    def select_time_range(self, time_range, partial_overlap=False, inverted=False):
        """Observations inside ``time_range`` ([start, stop] `~astropy.time.Time`).

        With ``partial_overlap`` also observations overlapping the range.
        """
        lo, hi = (Time(t) for t in time_range)
        ref = self.time_ref
        lo_s, hi_s = (lo - ref).to_value("s"), (hi - ref).to_value("s")
        start, stop = self._float_col("TSTART", "s"), self._float_col("TSTOP", "s")
        if partial_overlap:
            mask = (stop > lo_s) & (start < hi_s)
        else:
            mask = (start >= lo_s) & (stop <= hi_s)
        return self._select(mask, inverted)

    def select_sky_circle(self, center, radius, inverted=False):
        """Observations pointing within ``radius`` of ``center`` (`~astropy.coordinates.SkyCoord`)."""
        center = center.icrs
        sep = _angular_separation_deg(
            center.ra.deg, center.dec.deg, self._float_col("RA_PNT", "deg"), self._float_col("DEC_PNT", "deg")
        )
        return self._select(sep < Angle(radius).deg, inverted)

    def select_observations(self, selections=None):
        """Apply several selections given as dicts (type "sky_circle", "time_box", "par_box", "ids")."""
        table = self
        for sel in selections or []:
            sel = dict(sel)
            kind = sel.pop("type")
            inverted = sel.pop("inverted", False)
            if kind == "sky_circle":
                frame = sel.get("frame", "icrs")
                center = SkyCoord(sel["lon"], sel["lat"], frame=frame)
                radius = Angle(sel["radius"]) + Angle(sel.get("border", "0 deg"))
                table = table.select_sky_circle(center, radius, inverted=inverted)
            elif kind == "time_box":
                table = table.select_time_range([sel["time_start"], sel["time_stop"]], inverted=inverted)
            elif kind == "par_box":
                table = table.select_range(sel["variable"], sel["value_range"], inverted=inverted)
            elif kind == "ids":
                table = table.select_obs_id(sel["obs_ids"])
            else:
                raise ValueError(f"ObservationTable.select_observations: unknown selection type {kind!r}")
        return table

    def summary(self):
        """Short text summary."""
        lines = ["Observation table:", f"Number of observations: {len(self)}"]
        if len(self) and "RA_PNT" in self.colnames:
            lines.append(f"Pointings: RA {self['RA_PNT'].min():.1f} -- {self['RA_PNT'].max():.1f} deg, "
                         f"Dec {self['DEC_PNT'].min():.1f} -- {self['DEC_PNT'].max():.1f} deg")
        if len(self) and "TSTART" in self.colnames:
            lines.append(f"Time: {self.time_start.min().isot} -- {self.time_stop.max().isot}")
        if "LIVETIME" in self.colnames:
            total = u.Quantity(np.asarray(self["LIVETIME"], float), self["LIVETIME"].unit or "s").to("h")
            lines.append(f"Total livetime: {total.sum():.2f}")
        return "\n".join(lines) + "\n"
