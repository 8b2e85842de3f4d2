"""`LightCurveEstimator`: flux points of one source in time intervals.

A reduced dataset cannot be split in time, so the time binning happens
through the datasets' good time intervals (GTI): a dataset belongs to a time
interval when its whole GTI lies inside it (within ``atol``).  For intervals
shorter than an observation, reduce one dataset per (observation, interval)
after ``observations.select_time(time_intervals)``; datasets whose GTI
straddles an interval bound are left out (with a warning).

In each interval the datasets are fitted jointly by a `FluxPointsEstimator`
(same energy edges, source, errors, limits and profiles); an interval
without datasets gives a row of NaN (``success=False``).  The result is one
`FluxPoints` with a `~gammalike.maps.TimeMapAxis`: arrays of shape
``(n_energy, n_time[, ...])``, per-dataset quantities (``counts``,
``npred``, ``npred_excess``) of shape ``(n_energy, n_time, n_datasets)``
with NaN for the datasets outside a time bin.
"""
import logging

import numpy as np
from astropy import units as u
from astropy.time import Time

from ...data import GTI
from ...data.gti import gti_time_range
from ...maps import MapAxis, TimeMapAxis
from ...utils.parallel import backend_or_default, run_multiprocessing
from ..core import Estimator, check_energy_edges, check_source, make_norm_parameter
from .core import FluxPoints
from .sed import FluxPointsEstimator

__all__ = ["LightCurveEstimator"]

log = logging.getLogger(__name__)

#: Quantities given per dataset by the flux points estimator (trailing dataset axis).
_PER_DATASET = ("counts", "npred", "npred_excess", "npred_background")


class LightCurveEstimator(Estimator):
    """Light curve: flux points of one source in time intervals.

    Parameters
    ----------
    time_intervals : list of `~astropy.time.Time`, `~astropy.time.Time` or `~gammalike.maps.TimeMapAxis`, optional
        ``[start, stop]`` pairs (a list of 2-element Time, or a Time of shape
        (n, 2)), or a time axis.  Default: the datasets' GTI ranges (first
        start to last stop of each dataset), overlapping ranges merged.
    energy_edges : `~astropy.units.Quantity`, optional
        Energy edges of the flux points in each interval (snapped to the
        reco-energy edges as by `FluxPointsEstimator`).  Default: one bin over
        the reco-energy range of the datasets.
    source : str or int
        Name or index of the source model.
    n_sigma : float
        Width of the asymmetric errors.
    n_sigma_ul : float
        Upper-limit level.
    selection_optional : None, "all" or list of {"errn-errp", "ul", "scan"}
        Optional quantities.
    reoptimize : bool
        Re-fit the other free parameters in each bin (slow; default False).
    atol : `~astropy.units.Quantity` or str
        Tolerance on the interval bounds when matching the datasets' GTIs.
    n_jobs : int, optional
        Processes over the time intervals (results identical to the serial run).
    parallel_backend : {"multiprocessing", "dask"}, optional
        Where the ``n_jobs`` jobs run (see `gammalike.utils.parallel`).
    norm : `~gammalike.modeling.Parameter` or dict, optional
        Norm bounds and scan grid (see `~gammalike.estimators.core.make_norm_parameter`).
    norm_min, norm_max, norm_n_values, norm_values :
        Scan grid in the older keyword style.
    sum_over_energy_groups : bool
        Sum the reco bins of each flux point before fitting.
    fit : `~gammalike.modeling.Fit`, optional
        Fitter of the ``reoptimize`` path.
    progress_bar : bool, optional
        Progress bar over the time intervals (None: the global setting
        `gammalike.utils.parallel.SHOW_PROGRESS_BAR`).

    Examples
    --------
    >>> estimator = LightCurveEstimator(energy_edges=[0.7, 20] * u.TeV, source="pks2155",
    ...                                 time_intervals=time_intervals)  # doctest: +SKIP
    >>> light_curve = estimator.run(datasets)  # doctest: +SKIP
    >>> light_curve.plot(marker="o")  # doctest: +SKIP
    """

    tag = "LightCurveEstimator"
    _available_selection_optional = ("errn-errp", "ul", "scan")

    def __init__(self, time_intervals=None, energy_edges=None, source=0, n_sigma=1, n_sigma_ul=2,
                 selection_optional=None, reoptimize=False, atol="1e-6 d", n_jobs=None, norm=None,
                 norm_min=None, norm_max=None, norm_n_values=None, norm_values=None,
                 sum_over_energy_groups=False, fit=None, progress_bar=None, parallel_backend=None):
        self.time_axis = _time_axis(time_intervals) if time_intervals is not None else None
        if energy_edges is not None:
            energy_edges = check_energy_edges(energy_edges, "LightCurveEstimator")
        self.energy_edges = energy_edges
        self.source = check_source(source, "LightCurveEstimator")
        self.n_sigma = n_sigma
        self.n_sigma_ul = n_sigma_ul
        self.selection_optional = selection_optional
        self.reoptimize = bool(reoptimize)
        atol = u.Quantity(atol)
        if not atol.unit.is_equivalent(u.s) or atol.value < 0:
            raise ValueError(f"LightCurveEstimator: atol must be a non-negative duration, got {atol}")
        self.atol = atol
        if n_jobs is not None and int(n_jobs) < 1 and int(n_jobs) != -1:
            raise ValueError(f"LightCurveEstimator: n_jobs must be >= 1 or -1, got {n_jobs}")
        self.n_jobs = None if n_jobs is None else int(n_jobs)
        self.parallel_backend = None if parallel_backend is None else backend_or_default(parallel_backend)
        self._norm = make_norm_parameter(norm, norm_min, norm_max, norm_n_values, norm_values)
        self.sum_over_energy_groups = bool(sum_over_energy_groups)
        self.fit = fit
        self.progress_bar = progress_bar

    @property
    def time_intervals(self):
        """The time intervals as ``[start, stop]`` `~astropy.time.Time` pairs (None: from the datasets)."""
        return None if self.time_axis is None else self.time_axis.time_intervals

    # ------------------------------------------------------------------ run
    def run(self, datasets):
        """Estimate the light curve.

        Parameters
        ----------
        datasets : `~gammalike.datasets.Datasets` or list of datasets
            Datasets with GTIs and the source model.

        Returns
        -------
        light_curve : `~gammalike.estimators.FluxPoints`
            Flux points with a time axis (``sed_type_init="likelihood"``, the
            source's spectral model as reference).
        """
        datasets = _as_list(datasets)
        ranges = _gti_ranges(datasets)
        time_axis = self.time_axis if self.time_axis is not None else _axis_from_ranges(ranges)
        members = self._members(ranges, time_axis, datasets)
        estimator = self._flux_points_estimator(datasets)
        bins = [t for t in range(time_axis.nbin) if members[t].size]
        inputs = [([datasets[i] for i in members[t]],) for t in bins]
        results = run_multiprocessing(estimator.run, inputs, n_jobs=self.n_jobs, desc="Time intervals",
                                      show_progress_bar=self.progress_bar, parallel_backend=self.parallel_backend)
        used = np.unique(np.concatenate([members[t] for t in bins])) if bins else np.array([], int)
        gti = _stack_gti([datasets[i].gti for i in used])
        if not results:
            log.warning("LightCurveEstimator: no dataset inside any time interval")
            return self._empty_light_curve(datasets, time_axis, gti)
        return _combine(results, bins, members, time_axis, len(datasets), gti)

    def _members(self, ranges, time_axis, datasets):
        """Indices of the datasets inside each time bin (arrays), warning about straddling ones."""
        lo, hi = time_axis.mjd_bounds("tt")
        atol = self.atol.to_value(u.d)
        start, stop = ranges[:, 0], ranges[:, 1]
        with np.errstate(invalid="ignore"):
            inside = (start[None, :] >= lo[:, None] - atol) & (stop[None, :] <= hi[:, None] + atol)
            overlap = (stop[None, :] > lo[:, None] + atol) & (start[None, :] < hi[:, None] - atol)
        straddle = overlap & ~inside
        if straddle.any():
            names = [datasets[i].name for i in np.flatnonzero(straddle.any(axis=0))]
            log.warning(
                "LightCurveEstimator: %d dataset(s) straddle time interval bounds and are not used "
                "there (%s); reduce per time interval after observations.select_time(...)",
                len(names), ", ".join(names[:5]) + (" ..." if len(names) > 5 else ""),
            )
        return [np.flatnonzero(row) for row in inside]

    def _flux_points_estimator(self, datasets):
        energy_edges = self.energy_edges
        if energy_edges is None:
            energy_edges = _full_energy_range(datasets)
        return FluxPointsEstimator(
            energy_edges=energy_edges, source=self.source, n_sigma=self.n_sigma,
            n_sigma_ul=self.n_sigma_ul, selection_optional=self.selection_optional, norm=self.norm,
            reoptimize=self.reoptimize, sum_over_energy_groups=self.sum_over_energy_groups,
            fit=self.fit, progress_bar=False,
        )

    def _empty_light_curve(self, datasets, time_axis, gti):
        edges = self.energy_edges if self.energy_edges is not None else _full_energy_range(datasets)
        axis = MapAxis.from_energy_edges(u.Quantity(edges).to("TeV"))
        reference = _source_spectral_model(datasets, self.source)
        shape = (axis.nbin, time_axis.nbin)
        data = {key: np.full(shape, np.nan) for key in ("norm", "norm_err", "ts", "stat", "stat_null")}
        data["success"] = np.zeros(shape, bool)
        data["is_ul"] = np.zeros(shape, bool)
        meta = {"n_sigma": self.n_sigma, "n_sigma_ul": self.n_sigma_ul}
        return FluxPoints(data, axis, reference_model=reference, meta=meta, gti=gti,
                          sed_type="likelihood", time_axis=time_axis)


# ---------------------------------------------------------------------------- helpers
def _as_list(datasets):
    if hasattr(datasets, "stat_sum") and not hasattr(datasets, "__iter__"):
        return [datasets]
    datasets = list(datasets)
    if not datasets:
        raise ValueError("LightCurveEstimator: no datasets given")
    return datasets


def _time_axis(time_intervals):
    """`TimeMapAxis` from the accepted forms of ``time_intervals``."""
    if isinstance(time_intervals, TimeMapAxis):
        return time_intervals
    if isinstance(time_intervals, Time):
        if time_intervals.ndim != 2 or time_intervals.shape[1] != 2:
            raise ValueError(
                "LightCurveEstimator: time_intervals as one Time must have shape (n, 2), "
                f"got {time_intervals.shape}"
            )
        return TimeMapAxis.from_time_edges(time_intervals[:, 0], time_intervals[:, 1])
    intervals = list(time_intervals)
    if not intervals:
        raise ValueError("LightCurveEstimator: time_intervals is empty")
    for idx, interval in enumerate(intervals):
        if not isinstance(interval, (Time, list, tuple)) or np.size(interval) != 2:
            raise ValueError(
                f"LightCurveEstimator: time_intervals[{idx}] must be a [start, stop] pair of "
                f"astropy Time, got {interval!r}"
            )
    order = np.argsort([Time(iv[0]).tt.mjd for iv in intervals], kind="stable")
    if np.any(order != np.arange(len(intervals))):
        raise ValueError("LightCurveEstimator: time_intervals must be sorted by their start")
    return TimeMapAxis.from_time_intervals(intervals)


def _gti_ranges(datasets):
    """(n_datasets, 2) float MJD (TT) of each dataset's first GTI start and last stop (NaN: empty)."""
    ranges = np.full((len(datasets), 2), np.nan)
    for idx, dataset in enumerate(datasets):
        gti = getattr(dataset, "gti", None)
        if gti is None:
            raise ValueError(
                f"LightCurveEstimator: dataset {dataset.name!r} has no GTI; "
                "a light curve needs the time of every dataset"
            )
        bounds = gti_time_range(gti)
        if bounds is not None:
            ranges[idx] = bounds
    return ranges


def _axis_from_ranges(ranges):
    """Time bins from the datasets' GTI ranges: overlapping ranges merged, touching ones kept apart.

    Consecutive slices of one observation stay separate bins; datasets taken
    at the same time (e.g. two instruments) share one.
    """
    good = np.all(np.isfinite(ranges), axis=1)
    if not good.any():
        raise ValueError("LightCurveEstimator: no dataset has a non-empty GTI")
    ranges = ranges[good]
    ranges = ranges[np.lexsort((ranges[:, 1], ranges[:, 0]))]
    start, stop = ranges[:, 0], ranges[:, 1]
    running_stop = np.maximum.accumulate(stop)
    new = np.concatenate([[True], start[1:] >= running_stop[:-1]])
    group = np.cumsum(new) - 1
    lo = start[new]
    hi = np.zeros(lo.size)
    np.maximum.at(hi, group, stop)
    return TimeMapAxis(u.Quantity(lo, u.d), u.Quantity(hi, u.d), Time(0.0, format="mjd", scale="tt"))


def _full_energy_range(datasets):
    """[min, max] of the datasets' reco-energy axes (TeV)."""
    lo, hi = np.inf, -np.inf
    for dataset in datasets:
        axis = getattr(dataset, "energy_axis", None) if hasattr(dataset, "counts") else None
        if axis is None:
            continue
        edges = axis.edges.to_value("TeV")
        lo, hi = min(lo, edges[0]), max(hi, edges[-1])
    if not np.isfinite(lo):
        raise ValueError("LightCurveEstimator: give energy_edges (no dataset has a reco-energy axis)")
    return u.Quantity([lo, hi], "TeV")


def _source_spectral_model(datasets, source):
    models, seen = [], set()
    for dataset in datasets:
        for model in dataset.models or []:
            if id(model) not in seen:
                seen.add(id(model))
                models.append(model)
    names = [m.name for m in models]
    if isinstance(source, str):
        if source not in names:
            raise ValueError(f"LightCurveEstimator: no model named {source!r}; models are {names}")
        return models[names.index(source)].spectral_model.copy()
    if not -len(models) <= source < len(models):
        raise IndexError(f"LightCurveEstimator: source index {source} out of range ({names})")
    return models[source].spectral_model.copy()


def _stack_gti(gtis):
    """GTI with the intervals of all used datasets (None if none)."""
    gtis = [g if hasattr(g, "met_start") else GTI(getattr(g, "table", g)) for g in gtis if g is not None]
    if not gtis:
        return None
    return GTI.from_stack(gtis)


def _quantities(fp):
    """Likelihood-type arrays of one `FluxPoints` (no time axis), with units of the others."""
    data, units = {}, {}
    for name in fp.available_quantities:
        value = getattr(fp, name)
        if isinstance(value, u.Quantity):
            units[name] = value.unit
            value = value.value
        data[name] = np.asarray(value)
    return data, units


def _combine(results, bins, members, time_axis, n_datasets, gti):
    """One `FluxPoints` with a time axis from the flux points of the non-empty time bins."""
    first = results[0]
    axis = first.energy_axis
    for fp, t in zip(results[1:], bins[1:]):
        if not fp.energy_axis.is_allclose(axis):
            raise ValueError(
                "LightCurveEstimator: the flux point energy bins differ between time intervals "
                f"(interval {t}: {fp.energy_axis.edges} vs {axis.edges}); use datasets with the "
                "same reco-energy binning"
            )
    ntime, nenergy = time_axis.nbin, axis.nbin
    parts = [_quantities(fp) for fp in results]
    names = []
    for data, _ in parts:
        names += [n for n in data if n not in names]
    units = {}
    for _, part_units in parts:
        units.update(part_units)
    out = {}
    for name in names:
        sample = next(data[name] for data, _ in parts if name in data)
        per_dataset = name in _PER_DATASET
        trailing = (n_datasets,) if per_dataset else sample.shape[1:]
        fill = False if sample.dtype == bool else np.nan
        dtype = bool if sample.dtype == bool else float
        array = np.full((nenergy, ntime) + trailing, fill, dtype=dtype)
        for (data, _), t in zip(parts, bins):
            if name not in data:
                continue
            if per_dataset:
                array[:, t, members[t]] = data[name]
            else:
                array[:, t] = data[name]
        out[name] = u.Quantity(array, units[name]) if name in units else array
    if "norm_scan" in out:
        # the scan grid is the same in every bin: keep it for the empty ones too
        scan = next(data["norm_scan"] for data, _ in parts if "norm_scan" in data)
        out["norm_scan"][:, :] = scan[:, None, :]
    # sqrt_ts is derived from ts and the norm sign; store it only if given
    meta = {"n_sigma": first.n_sigma, "n_sigma_ul": first.n_sigma_ul,
            "sqrt_ts_threshold_ul": first.sqrt_ts_threshold_ul}
    meta.update({k: v for k, v in first.meta.items() if k not in meta})
    return FluxPoints(out, axis, reference_model=first.reference_model, meta=meta, gti=gti,
                      sed_type="likelihood", time_axis=time_axis)
