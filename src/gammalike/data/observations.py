"""`Observation` (events, GTI, IRFs and pointing of one run, loaded lazily) and `Observations`."""
import logging

import numpy as np
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time, TimeDelta

from .gti import GTI, time_ref_from_meta, time_ref_to_meta
from .pointing import FixedPointingInfo, PointingMode, earth_location_from_dict

__all__ = ["Observation", "Observations", "LazyLoader"]

log = logging.getLogger(__name__)

IRF_NAMES = ("aeff", "edisp", "psf", "bkg", "rad_max")
HDU_NAMES = ("events", "gti") + IRF_NAMES


class LazyLoader:
    """A deferred value: ``loader()`` is called on first access (see `Observation`)."""

    def __init__(self, loader, description=""):
        self.loader = loader
        self.description = description

    def __call__(self):
        return self.loader()

    def __repr__(self):
        return f"LazyLoader({self.description})"


class Observation:
    """One observation: events, GTI, IRFs and pointing.

    Every component may be given as an object or as a `LazyLoader`, which is
    called (once) on first access; `DataStore` builds observations this way so
    that nothing is read until it is used.

    Parameters
    ----------
    obs_id : int
        Observation ID.
    meta : dict, optional
        Header keywords of the observation (``TSTART``, ``LIVETIME``, ``DEADC``,
        ``RA_PNT`` ..., as in the EVENTS header). Default: the events header.
    gti : `GTI`
        Good time intervals.
    aeff, edisp, psf, bkg, rad_max : IRFs
        Instrument response functions.
    events : `EventList`
        Events.
    pointing : `FixedPointingInfo`, optional
        Pointing (default: from the header).
    location : `~astropy.coordinates.EarthLocation`, optional
        Observatory location (default: from GEOLON / GEOLAT / ALTITUDE).
    """

    def __init__(self, obs_id=None, meta=None, gti=None, aeff=None, edisp=None, psf=None,
                 bkg=None, rad_max=None, events=None, pointing=None, location=None):
        self.obs_id = obs_id
        self._values = dict(
            events=events, gti=gti, aeff=aeff, edisp=edisp, psf=psf, bkg=bkg, rad_max=rad_max,
            meta=meta, pointing=pointing,
        )
        self._location = location

    # ------------------------------------------------------------------ lazy access
    def _get(self, name):
        value = self._values.get(name)
        if isinstance(value, LazyLoader):
            value = value()
            self._values[name] = value
        return value

    def _is_available(self, name):
        return self._values.get(name) is not None

    @property
    def events(self):
        """`EventList` (loaded on first access)."""
        return self._get("events")

    @events.setter
    def events(self, value):
        self._values["events"] = value

    @property
    def gti(self):
        """`GTI` (from the file, else one interval TSTART - TSTOP of the header)."""
        gti = self._get("gti")
        if gti is None:
            meta = self.meta
            if "TSTART" in meta and "TSTOP" in meta:
                gti = GTI.create(
                    u.Quantity(float(meta["TSTART"]), "s"), u.Quantity(float(meta["TSTOP"]), "s"),
                    reference_time=time_ref_from_meta(meta),
                )
                self._values["gti"] = gti
        return gti

    @gti.setter
    def gti(self, value):
        self._values["gti"] = value

    @property
    def aeff(self):
        """Effective area IRF."""
        return self._get("aeff")

    @aeff.setter
    def aeff(self, value):
        self._values["aeff"] = value

    @property
    def edisp(self):
        """Energy dispersion IRF."""
        return self._get("edisp")

    @edisp.setter
    def edisp(self, value):
        self._values["edisp"] = value

    @property
    def psf(self):
        """PSF IRF."""
        return self._get("psf")

    @psf.setter
    def psf(self, value):
        self._values["psf"] = value

    @property
    def bkg(self):
        """Background IRF."""
        return self._get("bkg")

    @bkg.setter
    def bkg(self, value):
        self._values["bkg"] = value

    @property
    def rad_max(self):
        """`RadMax2D`: the RAD_MAX HDU, or the RAD_MAX keyword of a point-like effective area."""
        rad_max = self._get("rad_max")
        if rad_max is None and self._is_available("aeff"):
            aeff = self.aeff
            if aeff is not None and getattr(aeff, "is_pointlike", False) and "RAD_MAX" in aeff.meta:
                from gammalike.irf.rad_max import RadMax2D

                rad_max = RadMax2D.from_irf(aeff)
                self._values["rad_max"] = rad_max
        return rad_max

    @rad_max.setter
    def rad_max(self, value):
        self._values["rad_max"] = value

    @property
    def meta(self):
        """Header keywords of the observation (the EVENTS header by default)."""
        meta = self._get("meta")
        if meta is None:
            events = self.events
            meta = dict(events.meta) if events is not None else {}
            self._values["meta"] = meta
        return meta

    @meta.setter
    def meta(self, value):
        self._values["meta"] = value

    @property
    def available_hdus(self):
        """Names of the components this observation has ("events", "gti", "aeff", ...)."""
        return [name for name in HDU_NAMES if self._is_available(name)]

    @property
    def available_irfs(self):
        """Names of the IRFs this observation has."""
        return [name for name in IRF_NAMES if self._is_available(name)]

    # ------------------------------------------------------------------ times
    @property
    def time_ref(self):
        """Reference time (MJDREFI / MJDREFF / TIMESYS)."""
        meta = self.meta
        if "MJDREFI" in meta or "MJDREF" in meta:
            return time_ref_from_meta(meta)
        gti = self._get("gti")
        return gti.time_ref if gti is not None else time_ref_from_meta(meta)

    def _time_bound(self, key, gti_attr, reduce):
        """First GTI start / last GTI stop; the header keyword ``key`` if there is no GTI.

        The GTI table is what the events were selected with; the header can
        disagree with it (CTA 1DC: TSTOP - TSTART = 1792 s for GTIs of 1800 s).
        """
        gti = self.gti
        if gti is not None and len(gti) > 0:
            # one Time operation on the float seconds (not a Time array per call)
            seconds = reduce(getattr(gti, gti_attr).to_value("s"))
            return gti.time_ref + TimeDelta(float(seconds), format="sec")
        meta = self.meta
        if key in meta:
            return self.time_ref + TimeDelta(float(meta[key]), format="sec")
        raise KeyError(f"Observation {self.obs_id}: no GTI and no {key} keyword")

    @property
    def tstart(self):
        """Observation start (`~astropy.time.Time`): first GTI start, else the TSTART keyword."""
        return self._time_bound("TSTART", "met_start", np.min)

    @property
    def tstop(self):
        """Observation stop (`~astropy.time.Time`): last GTI stop, else the TSTOP keyword."""
        return self._time_bound("TSTOP", "met_stop", np.max)

    @property
    def tmid(self):
        """Middle of the observation."""
        tstart = self.tstart
        return tstart + 0.5 * (self.tstop - tstart)

    @property
    def observation_time_duration(self):
        """``tstop - tstart`` (Quantity, s): the span of the GTIs."""
        return (self.tstop - self.tstart).to("s")

    @property
    def observation_dead_time_fraction(self):
        """Dead-time fraction ``1 - DEADC`` (0 if unknown)."""
        meta = self.meta
        if "DEADC" in meta:
            return 1.0 - float(meta["DEADC"])
        if "LIVETIME" in meta and "ONTIME" in meta and float(meta["ONTIME"]) > 0:
            return 1.0 - float(meta["LIVETIME"]) / float(meta["ONTIME"])
        return 0.0

    @property
    def observation_live_time_duration(self):
        """Live time (LIVETIME keyword; else good time x (1 - dead-time fraction))."""
        meta = self.meta
        if "LIVETIME" in meta:
            return u.Quantity(float(meta["LIVETIME"]), "s")
        ontime = u.Quantity(float(meta["ONTIME"]), "s") if "ONTIME" in meta else self.gti.time_sum
        return ontime * (1 - self.observation_dead_time_fraction)

    # ------------------------------------------------------------------ pointing
    @property
    def observatory_earth_location(self):
        """Observatory location (GEOLON / GEOLAT / ALTITUDE keywords), or None."""
        if self._location is None:
            self._location = earth_location_from_dict(self.meta)
        return self._location

    @property
    def pointing(self):
        """`FixedPointingInfo` of the observation."""
        pointing = self._get("pointing")
        if pointing is None:
            pointing = FixedPointingInfo.from_fits_header(self.meta)
            if pointing.location is None:
                pointing.location = self._location
            self._values["pointing"] = pointing
        return pointing

    @pointing.setter
    def pointing(self, value):
        self._values["pointing"] = value

    fixed_pointing_info = pointing

    def get_pointing_icrs(self, time=None):
        """Pointing position in ICRS at ``time`` (default: mid time)."""
        pointing = self.pointing
        if time is None and getattr(pointing, "mode", None) == PointingMode.POINTING:
            return pointing.fixed_icrs  # the same at any time: no need for the mid time
        return pointing.get_icrs(time if time is not None else self.tmid, self.observatory_earth_location)

    def get_pointing_altaz(self, time=None):
        """Pointing position in Alt/Az at ``time`` (default: mid time)."""
        return self.pointing.get_altaz(time if time is not None else self.tmid, self.observatory_earth_location)

    @property
    def pointing_radec(self):
        """Pointing position (ICRS) at the mid time."""
        return self.get_pointing_icrs()

    @property
    def target_radec(self):
        """Target position (RA_OBJ / DEC_OBJ), NaN if unknown."""
        meta = self.meta
        try:
            return SkyCoord(float(meta["RA_OBJ"]), float(meta["DEC_OBJ"]), unit="deg", frame="icrs")
        except (KeyError, TypeError, ValueError):
            return SkyCoord(np.nan, np.nan, unit="deg", frame="icrs")

    @property
    def muoneff(self):
        """Muon efficiency (MUONEFF keyword), or None."""
        return self.meta.get("MUONEFF")

    # ------------------------------------------------------------------ construction / selection
    @classmethod
    def create(cls, pointing, location=None, obs_id=0, livetime=None, tstart=None, tstop=None,
               irfs=None, deadtime_fraction=0.0, reference_time=Time("2000-01-01 00:00:00", scale="tt")):
        """Observation without events (e.g. for simulations).

        Parameters
        ----------
        pointing : `~astropy.coordinates.SkyCoord` or `FixedPointingInfo`
            Pointing position.
        livetime : `~astropy.units.Quantity`, optional
            Live time (sets ``tstop = tstart + livetime / (1 - deadtime_fraction)``).
        tstart, tstop : `~astropy.units.Quantity` or `~astropy.time.Time`, optional
            Start / stop (Quantities relative to ``reference_time``; tstart default 0 s).
        irfs : dict, optional
            IRFs keyed "aeff", "edisp", "psf", "bkg", "rad_max".
        deadtime_fraction : float
            Dead-time fraction.
        """
        reference_time = Time(reference_time)

        def seconds(t):
            return (t - reference_time).to_value("s") if isinstance(t, Time) else u.Quantity(t, "s").value

        start = 0.0 if tstart is None else seconds(tstart)
        if tstop is None:
            if livetime is None:
                raise ValueError("Observation.create: give livetime or tstop")
            stop = start + u.Quantity(livetime, "s").value / (1 - deadtime_fraction)
        else:
            stop = seconds(tstop)
        ontime = stop - start
        live = ontime * (1 - deadtime_fraction) if livetime is None else u.Quantity(livetime, "s").value
        meta = dict(time_ref_to_meta(reference_time))
        meta.update(TSTART=start, TSTOP=stop, ONTIME=ontime, LIVETIME=live, DEADC=1 - deadtime_fraction, OBS_ID=obs_id)
        if isinstance(pointing, SkyCoord):
            pointing = FixedPointingInfo(fixed_icrs=pointing.icrs, location=location)
        if location is not None:
            meta.update(GEOLON=location.lon.deg, GEOLAT=location.lat.deg, ALTITUDE=location.height.to_value("m"))
        if pointing.fixed_icrs is not None:
            meta.update(RA_PNT=pointing.fixed_icrs.ra.deg, DEC_PNT=pointing.fixed_icrs.dec.deg)
        gti = GTI.create(u.Quantity(start, "s"), u.Quantity(stop, "s"), reference_time=reference_time)
        return cls(obs_id=obs_id, meta=meta, gti=gti, pointing=pointing, location=location, **(irfs or {}))

    def copy(self, in_memory=False, **kwargs):
        """Copy; ``in_memory=True`` loads every lazy component first. kwargs replace components."""
        values = dict(self._values)
        if in_memory:
            values = {name: self._get(name) for name in values}
        values.update({k: v for k, v in kwargs.items() if k != "obs_id"})
        return Observation(obs_id=kwargs.get("obs_id", self.obs_id), location=self._location, **values)

    def select_time(self, time_interval):
        """Observation restricted to ``time_interval`` ([start, stop] `~astropy.time.Time`).

        Events and GTI are filtered; IRFs are shared; TSTART / TSTOP / ONTIME /
        LIVETIME of the meta describe the selected interval.
        """
        gti = self.gti.select_time(time_interval)
        events = self.events.select_time(time_interval) if self._is_available("events") else None
        meta = dict(self.meta)
        dead = self.observation_dead_time_fraction
        shift = (gti.time_ref - self.time_ref).to_value("s")
        if len(gti):
            meta["TSTART"] = float(gti._start.min() + shift)
            meta["TSTOP"] = float(gti._stop.max() + shift)
        ontime = gti.time_sum.to_value("s")
        meta["ONTIME"] = ontime
        meta["LIVETIME"] = ontime * (1 - dead)
        if events is not None:
            events.table.meta.update(TSTART=meta.get("TSTART"), TSTOP=meta.get("TSTOP"),
                                     ONTIME=ontime, LIVETIME=meta["LIVETIME"])
        values = dict(self._values)
        values.update(events=events, gti=gti, meta=meta)
        return Observation(obs_id=self.obs_id, location=self._location, **values)

    # ------------------------------------------------------------------ checks / display
    def check(self, checks="all"):
        """Yield problems found with this observation (dicts with level, obs_id, msg)."""
        for name in ("events", "gti", "aeff", "edisp", "psf", "bkg"):
            try:
                value = getattr(self, name)
            except Exception as exc:  # report, don't stop: this is a diagnostic
                yield dict(level="error", obs_id=self.obs_id, hdu=name, msg=f"loading {name} failed: {exc}")
                continue
            if value is None and name in ("events", "gti", "aeff"):
                yield dict(level="warning", obs_id=self.obs_id, hdu=name, msg=f"no {name}")
        events = self._values.get("events")
        if events is not None and not isinstance(events, LazyLoader):
            meta_id = events.meta.get("OBS_ID")
            if meta_id is not None and self.obs_id is not None and int(meta_id) != int(self.obs_id):
                yield dict(level="error", obs_id=self.obs_id, hdu="events",
                           msg=f"EVENTS header OBS_ID = {meta_id} differs from {self.obs_id}")
            if len(events) == 0:
                yield dict(level="warning", obs_id=self.obs_id, hdu="events", msg="no events")

    def __str__(self):
        lines = ["Observation", "", f"\tobs id            : {self.obs_id}"]
        try:
            lines.append(f"\ttstart            : {self.tstart.mjd:.2f}")
            lines.append(f"\ttstop             : {self.tstop.mjd:.2f}")
            lines.append(f"\tduration          : {self.observation_time_duration.value:.2f} s")
        except KeyError:
            pass
        try:
            pnt = self.get_pointing_icrs()
            lines.append(f"\tpointing (icrs)   : {pnt.ra.deg:.1f} deg, {pnt.dec.deg:.1f} deg")
        except (KeyError, ValueError):
            pass
        lines.append(f"\tdeadtime fraction : {100 * self.observation_dead_time_fraction:.1f}%")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"Observation(obs_id={self.obs_id}, available={self.available_hdus})"

    def peek(self, figsize=(15, 10)):
        """Quick-look plots of the events and IRFs this observation has."""
        import matplotlib.pyplot as plt

        panels = []
        if self._is_available("aeff"):
            panels.append(("Effective area", lambda ax: self.aeff.plot_energy_dependence(ax=ax)))
        if self._is_available("bkg") and hasattr(self.bkg, "plot_spectrum"):
            panels.append(("Background rate", lambda ax: self.bkg.plot_spectrum(ax=ax)))
        if self._is_available("edisp"):
            panels.append(("Energy dispersion", lambda ax: self.edisp.plot_bias(ax=ax)))
        if self._is_available("psf"):
            panels.append(("PSF containment", lambda ax: self.psf.plot_containment_radius_vs_energy(ax=ax)))
        if self._is_available("rad_max"):
            panels.append(("Rad max", lambda ax: self.rad_max.plot_rad_max_vs_energy(ax=ax)))
        if self._is_available("events"):
            panels.append(("Events: energy", lambda ax: self.events.plot_energy(ax=ax)))
            panels.append(("Events: offset^2", lambda ax: self.events.plot_offset2_distribution(ax=ax)))
        ncols = 3
        nrows = max(int(np.ceil(len(panels) / ncols)), 1)
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
        for ax, (title, plot) in zip(axes.flat, panels):
            plot(ax)
            ax.set_title(title)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        plt.tight_layout()
        return axes


class Observations:
    """List of `Observation`, indexed by position or by obs_id string.

    Parameters
    ----------
    observations : list of `Observation`, optional
        Observations.
    """

    def __init__(self, observations=None):
        self._observations = list(observations or [])

    @property
    def ids(self):
        """Observation IDs as strings."""
        return [str(obs.obs_id) for obs in self._observations]

    def index(self, key):
        """Position of an observation given by obs_id (str / int) or position."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return int(key)
        if isinstance(key, Observation):
            return self._observations.index(key)
        key = str(key)
        ids = self.ids
        if key not in ids:
            raise KeyError(f"Observations: no observation with obs_id {key!r} (have {ids})")
        return ids.index(key)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.__class__(self._observations[key])
        if isinstance(key, (list, tuple, np.ndarray)):
            return self.__class__([self[k] for k in key])
        return self._observations[self.index(key)]

    def __setitem__(self, key, obs):
        self._observations[self.index(key)] = obs

    def __delitem__(self, key):
        del self._observations[self.index(key)]

    def __len__(self):
        return len(self._observations)

    def __iter__(self):
        return iter(self._observations)

    def append(self, obs):
        """Add an observation at the end."""
        if not isinstance(obs, Observation):
            raise TypeError(f"Observations.append: expected an Observation, got {type(obs).__name__}")
        self._observations.append(obs)

    def insert(self, idx, obs):
        """Insert an observation."""
        self._observations.insert(idx, obs)

    def select_time(self, time_intervals):
        """Observations restricted to the given time interval(s), dropping empty ones."""
        intervals = np.atleast_1d(time_intervals) if not isinstance(time_intervals, list) else time_intervals
        if isinstance(time_intervals, Time) and time_intervals.size == 2:
            intervals = [time_intervals]
        result = []
        for interval in intervals:
            for obs in self._observations:
                if obs.tstop > interval[0] and obs.tstart < interval[1]:
                    result.append(obs.select_time(interval))
        return self.__class__(result)

    def in_memory_generator(self):
        """Yield in-memory copies of the observations."""
        for obs in self._observations:
            yield obs.copy(in_memory=True)

    def __str__(self):
        lines = ["Observations", f"Number of observations: {len(self)}"]
        lines.extend(str(obs) for obs in self._observations)
        return "\n".join(lines)

    def __repr__(self):
        return f"Observations(n={len(self)}, ids={self.ids})"
