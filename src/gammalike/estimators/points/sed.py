"""`FluxPointsEstimator`: the norm of a source's best-fit spectrum in energy bins.

For every requested energy bin the source's best-fit spectral model is
multiplied by a free ``norm`` and fitted to the data of that bin, everything
else fixed (``reoptimize=False``, the default) or re-optimised
(``reoptimize=True``).

Energy bins
-----------
Each dataset's reco-energy axis decides which of its bins a flux point uses:
the requested edges are snapped to the nearest reco-energy edges (in log
energy) and the flux point collects the reco bins between its two snapped
edges, within ``mask_safe & mask_fit``.  A flux point without any usable bin
in any dataset is NaN (``success=False``).  The flux points keep the
requested edges; ``e_ref`` is the geometric bin centre and
``dnde = norm * reference_model.dnde(e_ref)``.  Flux points datasets (chi2)
contribute the points whose ``e_ref`` lies in the requested bin.

Fast path (``reoptimize=False``)
--------------------------------
The source's predicted counts per bin, computed once with the best-fit model,
is the template; other sources, the background (or, for ON/OFF data, the
OFF counts with the background profiled at every norm) are fixed.  All
energy bins and all datasets go to the vectorized norm kernel
(`gammalike.estimators.norm_kernel`) in one call: for each energy bin the
bins of all datasets of one statistic are concatenated (their statistics
add), one term per statistic.
"""
import logging

import numpy as np
from astropy import units as u

from ...maps import MapAxis
from ...modeling import Fit
from ...utils.parallel import backend_or_default, run_multiprocessing
from ..core import Estimator, check_energy_edges, check_source, make_norm_parameter
from ..norm_kernel import cash_term, chi2_term, estimate_norm, wstat_term
from .core import FluxPoints

__all__ = ["FluxPointsEstimator"]

log = logging.getLogger(__name__)

_SEL = ("errn-errp", "ul", "scan")


class FluxPointsEstimator(Estimator):
    """Flux points of one source from one or several datasets, fitted jointly.

    Parameters
    ----------
    energy_edges : `~astropy.units.Quantity`
        Edges of the flux points (default 1, 10 TeV).
    source : str or int
        Name or index of the source model (in ``datasets.models``).
    n_sigma : float
        Width of the asymmetric errors.
    n_sigma_ul : float
        Upper-limit level.
    selection_optional : None, "all" or list of {"errn-errp", "ul", "scan"}
        Optional quantities.
    norm : `~gammalike.modeling.Parameter` or dict, optional
        Norm fit bounds (``min``/``max``, default unbounded) and scan grid
        (default 0.2 - 5, 11 log-spaced values), see `make_norm_parameter`.
    norm_min, norm_max, norm_n_values, norm_values :
        Scan grid in the older keyword style.
    reoptimize : bool
        Re-fit the other free parameters with the norm in each bin (full
        fitter, slow); default: keep them at their values (norm kernel).
    sum_over_energy_groups : bool
        Sum counts and predictions over the reco bins of a flux point before
        fitting (default: fit the bins individually, the likelihood summed).
    n_jobs : int, optional
        Processes over energy bins (results identical to the serial run).
    parallel_backend : {"multiprocessing", "dask"}, optional
        Where the ``n_jobs`` jobs run (see `gammalike.utils.parallel`).
    fit : `~gammalike.modeling.Fit`, optional
        Fitter of the ``reoptimize`` path.
    progress_bar : bool, optional
        Show a tqdm progress bar over the energy bins (None: only on terminals).
    e_edges : `~astropy.units.Quantity`, optional
        Old name of ``energy_edges``.
    """

    tag = "FluxPointsEstimator"
    _available_selection_optional = _SEL

    def __init__(self, energy_edges=None, source=0, n_sigma=1, n_sigma_ul=2, selection_optional=None,
                 norm=None, norm_min=None, norm_max=None, norm_n_values=None, norm_values=None,
                 reoptimize=False, sum_over_energy_groups=False, n_jobs=None, fit=None,
                 progress_bar=None, e_edges=None, parallel_backend=None):
        if energy_edges is None:
            energy_edges = e_edges if e_edges is not None else [1, 10] * u.TeV
        self.energy_edges = check_energy_edges(energy_edges, "FluxPointsEstimator")
        self.source = check_source(source, "FluxPointsEstimator")
        self.n_sigma = n_sigma
        self.n_sigma_ul = n_sigma_ul
        self.selection_optional = selection_optional
        self._norm = make_norm_parameter(norm, norm_min, norm_max, norm_n_values, norm_values)
        self.reoptimize = bool(reoptimize)
        self.sum_over_energy_groups = bool(sum_over_energy_groups)
        if n_jobs is not None and int(n_jobs) < 1:
            raise ValueError(f"FluxPointsEstimator: n_jobs must be >= 1, got {n_jobs}")
        self.n_jobs = None if n_jobs is None else int(n_jobs)
        self.parallel_backend = None if parallel_backend is None else backend_or_default(parallel_backend)
        self.fit = fit if fit is not None else Fit()
        self.progress_bar = progress_bar

    # ------------------------------------------------------------------ run
    def run(self, datasets):
        """Estimate the flux points.

        Parameters
        ----------
        datasets : dataset, list of datasets or `~gammalike.datasets.Datasets`
            Datasets with the source model (at its best fit).

        Returns
        -------
        flux_points : `~gammalike.estimators.FluxPoints`
            One row per energy bin, ``sed_type="likelihood"`` with the source's
            spectral model as reference.
        """
        datasets = _as_list(datasets)
        model = _source_model(datasets, self.source)
        if self.reoptimize:
            data = self._estimate_reoptimize(datasets, model)
        else:
            data = self._estimate_fast(datasets, model)
        return self._flux_points(data, model, datasets)

    def _flux_points(self, data, model, datasets):
        axis = MapAxis.from_energy_edges(_snapped_edges(self.energy_edges, datasets))
        meta = {"n_sigma": self.n_sigma, "n_sigma_ul": self.n_sigma_ul}
        reference = model.spectral_model.copy()
        return FluxPoints(data, axis, reference_model=reference, meta=meta, sed_type="likelihood")

    # ------------------------------------------------------------------ fast path
    def _estimate_fast(self, datasets, model):
        edges = self.energy_edges.to_value("TeV")
        n_groups = edges.size - 1
        parts = [_dataset_parts(d, model.name, edges, self.sum_over_energy_groups) for d in datasets]
        terms = _pack_terms(parts, n_groups)
        norm_min, norm_max = self._norm_bounds()
        selection = list(self.selection_optional)
        scan = self._norm_scan_values()
        kwargs = dict(n_sigma=self.n_sigma, n_sigma_ul=self.n_sigma_ul, selection_optional=selection,
                      norm_min=norm_min, norm_max=norm_max, norm_values=scan)
        result = _run_chunks(terms, kwargs, n_groups, self.n_jobs, self.progress_bar, self.parallel_backend)
        return _finish(result, parts, terms, n_groups, selection, scan, len(datasets))

    # ------------------------------------------------------------------ slow path
    def _estimate_reoptimize(self, datasets, model):
        """One full fit per flux point: the norm and every other free parameter.

        The source's spectral model becomes ``ScaleSpectralModel(best fit, norm)``
        with its own parameters frozen; the datasets are copies whose
        ``mask_fit`` keeps only the bins of the flux point.
        """
        edges = self.energy_edges.to_value("TeV")
        n_groups = edges.size - 1
        parts = [_dataset_parts(d, model.name, edges, False) for d in datasets]
        tasks = [(self, datasets, model.name, parts, k) for k in range(n_groups)]
        if self.n_jobs and self.n_jobs > 1 and n_groups > 1:
            rows = run_multiprocessing(_reoptimize_bin, tasks, n_jobs=min(self.n_jobs, n_groups), star=False,
                                       desc="Energy bins", show_progress_bar=self.progress_bar,
                                       parallel_backend=self.parallel_backend)
        else:
            rows = [_reoptimize_bin(t) for t in _progress(tasks, n_groups, self.progress_bar)]
        data = {key: np.array([row[key] for row in rows]) for key in rows[0]}
        data["is_ul"] = np.where(np.isfinite(data["ts"]), data["ts"] < 4, False)
        return data


# ---------------------------------------------------------------------------- helpers
def _as_list(datasets):
    if hasattr(datasets, "stat_sum") and not isinstance(datasets, (list, tuple)) and not hasattr(
            datasets, "__iter__"):
        return [datasets]
    datasets = list(datasets)
    if not datasets:
        raise ValueError("FluxPointsEstimator: no datasets given")
    return datasets


def _source_model(datasets, source):
    models = []
    seen = set()
    for dataset in datasets:
        for m in dataset.models or []:
            if id(m) not in seen:
                seen.add(id(m))
                models.append(m)
    names = [m.name for m in models]
    if isinstance(source, str):
        if source not in names:
            raise ValueError(f"FluxPointsEstimator: no model named {source!r}; models are {names}")
        model = models[names.index(source)]
    else:
        if not -len(models) <= source < len(models):
            raise IndexError(f"FluxPointsEstimator: source index {source} out of range ({names})")
        model = models[source]
    if getattr(model, "spectral_model", None) is None or "Background" in type(model).__name__:
        raise ValueError(f"FluxPointsEstimator: source {model.name!r} is not a sky model with a spectrum")
    return model


def snap_energy_groups(reco_edges, edges):
    """Group index (-1: none) of each reco bin for flux point edges snapped to the reco edges.

    Parameters
    ----------
    reco_edges : `~numpy.ndarray`
        Reco-energy edges (TeV).
    edges : `~numpy.ndarray`
        Requested flux point edges (TeV).

    Returns
    -------
    group : `~numpy.ndarray` of int, one per reco bin
    """
    log_reco = np.log(reco_edges)
    idx = np.argmin(np.abs(np.log(edges)[:, None] - log_reco[None, :]), axis=1)
    group = np.full(reco_edges.size - 1, -1)
    bins = np.arange(reco_edges.size - 1)
    # bin j belongs to group k when idx[k] <= j < idx[k + 1]
    k = np.searchsorted(idx, bins, side="right") - 1
    valid = (k >= 0) & (k < edges.size - 1)
    k_safe = np.clip(k, 0, edges.size - 2)
    valid &= (bins >= idx[k_safe]) & (bins < idx[k_safe + 1])
    group[valid] = k[valid]
    return group


def _snapped_edges(energy_edges, datasets):
    """Flux point edges: the requested edges snapped to the first reco-energy axis.

    The flux points then describe the energy range their data come from (and
    ``e_ref`` is the geometric centre of that range).  Without a dataset with
    a reco-energy axis (flux points datasets only) the requested edges are kept.
    """
    for dataset in datasets:
        axis = getattr(dataset, "energy_axis", None) if hasattr(dataset, "counts") else None
        if axis is None:
            continue
        reco = axis.edges.to_value("TeV")
        edges = energy_edges.to_value("TeV")
        idx = np.argmin(np.abs(np.log(edges)[:, None] - np.log(reco)[None, :]), axis=1)
        snapped = reco[idx]
        # bins collapsing onto one reco edge keep their requested edges
        if np.all(np.diff(snapped) > 0):
            return u.Quantity(snapped, "TeV")
        return energy_edges
    return energy_edges


def _values(m):
    if m is None:
        return None
    return np.asarray(getattr(m, "data", m), dtype=np.float64)


def _other_names(dataset, name):
    return [m.name for m in dataset.models or [] if m.name != name]


def _dataset_parts(dataset, name, edges, sum_groups):
    """Float arrays of one dataset, flattened, with the flux point index of each element.

    Returns a dict with ``stat_type``, ``group`` (int per element, -1 unused)
    and the arrays of the kernel term (``template`` and the fixed parts).
    """
    tag = getattr(dataset, "tag", type(dataset).__name__)
    if tag == "FluxPointsDataset":
        return _flux_points_parts(dataset, name, edges)
    counts = _values(dataset.counts)
    shape = counts.shape
    reco_edges = dataset.energy_axis.edges.to_value("TeV")
    group_e = snap_energy_groups(reco_edges, edges)
    group = np.broadcast_to(group_e.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
    template = dataset._npred_signal_array([name]).reshape(shape)
    others = _other_names(dataset, name)
    other = dataset._npred_signal_array(others).reshape(shape) if others else np.zeros(shape)
    mask = dataset._mask_array()
    mask = np.ones(shape, bool) if mask is None else np.asarray(mask, bool).reshape(shape)
    counts_off = getattr(dataset, "counts_off", None)
    if counts_off is not None:
        alpha = dataset._alpha_array() if hasattr(dataset, "_alpha_array") else _values(dataset.alpha)
        arrays = {"counts": counts, "counts_off": _values(counts_off),
                  "alpha": np.asarray(alpha, float).reshape(shape), "signal": other,
                  "template": template}
        stat_type = "wstat"
    else:
        background = dataset._npred_background_array().reshape(shape)
        arrays = {"counts": counts, "background": background + other, "template": template}
        stat_type = "cash"
    group = np.where(mask, group, -1)
    if sum_groups:
        arrays, group = _sum_groups(arrays, group, stat_type)
    return {"stat_type": stat_type, "group": group.reshape(-1),
            "arrays": {k: np.asarray(v, float).reshape(-1) for k, v in arrays.items()}}


def _sum_groups(arrays, group, stat_type):
    """Sum the reco bins of each flux point (per spatial pixel)."""
    n_groups = group.max() + 1 if group.size else 0
    spatial = group.shape[1:]
    out = {}
    flat_group = group.reshape(group.shape[0], -1)
    keys = list(arrays)
    if stat_type == "wstat":
        arrays = dict(arrays)
        arrays["alpha_off"] = arrays["alpha"] * arrays["counts_off"]
        keys = [k for k in arrays if k != "alpha"]
    for key in keys:
        values = np.asarray(arrays[key], float).reshape(group.shape[0], -1)
        summed = np.zeros((max(n_groups, 0),) + values.shape[1:])
        pix = np.broadcast_to(np.arange(values.shape[1]), values.shape)
        use = flat_group >= 0
        np.add.at(summed, (flat_group[use], pix[use]), values[use])
        out[key] = summed
    if stat_type == "wstat":
        off = out.pop("counts_off")
        alpha_off = out.pop("alpha_off")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["alpha"] = np.where(off > 0, alpha_off / np.where(off > 0, off, 1), 0.0)
        out["counts_off"] = off
    new_group = np.broadcast_to(np.arange(max(n_groups, 0))[:, None], (max(n_groups, 0), flat_group.shape[1]))
    return ({k: v.reshape((-1,) + spatial) for k, v in out.items()},
            new_group.reshape((-1,) + spatial))


def _flux_points_parts(dataset, name, edges):
    e_ref = np.asarray(dataset._e_ref, float)
    model = None
    other = np.zeros(e_ref.shape)
    for m in dataset.models or []:
        if getattr(m, "spectral_model", None) is None or "Background" in type(m).__name__:
            continue
        dnde = _dnde_float(m.spectral_model, e_ref)
        if m.name == name:
            model = dnde
        else:
            other = other + dnde
    template = np.zeros(e_ref.shape) if model is None else model
    err = dataset._err if dataset._err is not None else 0.5 * (dataset._errn + dataset._errp)
    group = np.searchsorted(edges, e_ref, side="right") - 1
    group = np.where((group >= 0) & (group < edges.size - 1) & dataset._stat_mask, group, -1)
    arrays = {"data": np.asarray(dataset._dnde, float), "error": np.asarray(err, float),
              "model": other, "template": template}
    return {"stat_type": "chi2", "group": group, "arrays": arrays}


def _dnde_float(spectral_model, energy):
    if hasattr(spectral_model, "dnde_float"):
        return spectral_model.dnde_float(energy)
    return u.Quantity(spectral_model(energy * u.TeV)).to_value("cm-2 s-1 TeV-1")


_TERM_KEYS = {
    "cash": ("counts", "template", "background"),
    "wstat": ("counts", "template", "counts_off", "alpha", "signal"),
    "chi2": ("data", "template", "error", "model"),
}
_MAKERS = {"cash": cash_term, "wstat": wstat_term, "chi2": chi2_term}


def _pack_terms(parts, n_groups):
    """One kernel term per statistic: bins of all datasets of that statistic per flux point.

    Returns a dict stat_type -> (term, dataset index and position of every packed element).
    """
    terms = {}
    for stat_type, keys in _TERM_KEYS.items():
        selected = [(i, p) for i, p in enumerate(parts) if p["stat_type"] == stat_type]
        if not selected:
            continue
        group = np.concatenate([p["group"] for _, p in selected])
        owner = np.concatenate([np.full(p["group"].size, i) for i, p in selected])
        values = {k: np.concatenate([p["arrays"][k] for _, p in selected]) for k in keys}
        keep = np.flatnonzero(group >= 0)
        g = group[keep]
        order = np.argsort(g, kind="stable")
        g, keep = g[order], keep[order]
        n_per = np.bincount(g, minlength=n_groups)
        width = max(int(n_per.max()) if n_per.size else 0, 1)
        start = np.concatenate([[0], np.cumsum(n_per)[:-1]])
        pos = np.arange(g.size) - start[g]
        mask = np.zeros((n_groups, width), bool)
        mask[g, pos] = True
        packed = {}
        for key in keys:
            arr = np.zeros((n_groups, width))
            arr[g, pos] = values[key][keep]
            packed[key] = arr
        if stat_type == "chi2":
            packed["error"] = np.where(mask, packed["error"], 1.0)
        term = _MAKERS[stat_type](mask=mask, **packed)
        terms[stat_type] = {"term": term, "owner": owner[keep], "g": g, "pos": pos,
                            "has": n_per > 0}
    return terms


def _chunks(n_groups, n_jobs):
    n_chunks = 1 if not n_jobs or n_jobs <= 1 else min(n_jobs, n_groups)
    return [c for c in np.array_split(np.arange(n_groups), n_chunks) if c.size]


def _subset_terms(terms, idx):
    from ..norm_kernel import NormTerm

    return [NormTerm(t.stat_type, {k: v[idx] for k, v in t.arrays.items()}, t.mask[idx]) for t in terms]


def _estimate_chunk(args):
    terms, kwargs = args
    return estimate_norm(terms, **kwargs)


def _run_chunks(terms, kwargs, n_groups, n_jobs, progress_bar, parallel_backend=None):
    """The kernel over all flux points, optionally split over processes.

    Rows of the same packed arrays go to every chunk (no re-padding), so each
    problem sees bit-identical inputs and the results equal the serial run.
    """
    all_terms = [t["term"] for t in terms.values()]
    if not all_terms:
        return None
    chunks = _chunks(n_groups, n_jobs)
    tasks = [(_subset_terms(all_terms, idx), kwargs) for idx in chunks]
    if len(tasks) == 1:
        results = [_estimate_chunk(tasks[0])]
    else:
        results = run_multiprocessing(_estimate_chunk, tasks, n_jobs=len(tasks), star=False, desc="Energy bins",
                                      show_progress_bar=progress_bar, parallel_backend=parallel_backend)
    out = {}
    for key in results[0]:
        out[key] = np.concatenate([r[key] for r in results], axis=0)
    return out


def _progress(iterable, total, progress_bar):
    from tqdm import tqdm

    disable = None if progress_bar is None else not progress_bar
    return tqdm(iterable, total=total, desc="Energy bins", disable=disable, leave=False)


def _finish(result, parts, terms, n_groups, selection, scan, n_datasets):
    """Per flux point quantities, NaN for flux points without data."""
    has = np.zeros(n_groups, bool)
    for t in terms.values():
        has |= t["has"]
    nan = np.full(n_groups, np.nan)
    if result is None:
        result = {"norm": nan, "norm_err": nan, "stat": nan, "stat_null": nan, "ts": nan,
                  "sqrt_ts": nan, "success": np.zeros(n_groups, bool)}
        for key in ("norm_errn", "norm_errp", "norm_ul"):
            result[key] = nan
        result["norm_scan"] = np.broadcast_to(scan, (n_groups, scan.size)).copy()
        result["stat_scan"] = np.full((n_groups, scan.size), np.nan)
    data = {}
    keys = ["norm", "norm_err", "ts", "sqrt_ts", "stat", "stat_null"]
    keys += [k for k, sel in (("norm_errn", "errn-errp"), ("norm_errp", "errn-errp"),
                              ("norm_ul", "ul")) if sel in selection]
    for key in keys:
        data[key] = np.where(has, result[key], np.nan)
    data["success"] = has & np.asarray(result["success"], bool)
    if "scan" in selection:
        data["norm_scan"] = result["norm_scan"]
        data["stat_scan"] = np.where(has[:, None], result["stat_scan"], np.nan)
    with np.errstate(invalid="ignore"):
        data["is_ul"] = np.where(has, data["ts"] < 4, False)
    counts, npred, npred_excess = _bin_sums(data["norm"], terms, n_groups, n_datasets)
    data["counts"] = counts
    data["npred"] = npred
    data["npred_excess"] = npred_excess
    return data


def _bin_sums(norm, terms, n_groups, n_datasets):
    """Counts, predicted counts and predicted excess per flux point and dataset at the best fit."""
    shape = (n_groups, n_datasets)
    counts = np.full(shape, np.nan)
    npred = np.full(shape, np.nan)
    npred_excess = np.full(shape, np.nan)
    for stat_type, t in terms.items():
        if stat_type == "chi2":
            continue
        a = t["term"].arrays
        g, pos, owner = t["g"], t["pos"], t["owner"]
        x = np.where(np.isfinite(norm), norm, 0.0)[g]
        signal = x * a["template"][g, pos]
        n = a["counts"][g, pos]
        # npred_excess: predicted counts of the source
        excess = signal
        if stat_type == "cash":
            total = a["background"][g, pos] + signal
        else:
            from ...stats import get_wstat_mu_bkg

            mu_sig = a["signal"][g, pos] + signal
            total = mu_sig + get_wstat_mu_bkg(n, a["counts_off"][g, pos], a["alpha"][g, pos], mu_sig)
        flat = g * n_datasets + owner
        size = n_groups * n_datasets
        seen = np.bincount(flat, minlength=size).reshape(shape) > 0
        for out, values in ((counts, n), (npred, total), (npred_excess, excess)):
            summed = np.bincount(flat, weights=values, minlength=size).reshape(shape)
            out[seen] = np.where(np.isnan(out[seen]), 0, out[seen]) + summed[seen]
    return counts, npred, npred_excess


# ---------------------------------------------------------------------------- reoptimize
def _reoptimize_bin(task):
    """Full fit of flux point ``k`` (one task of the slow path; picklable)."""
    from ...modeling.models import ScaleSpectralModel

    estimator, datasets, name, parts, k = task
    selection = estimator.selection_optional
    scan = estimator._norm_scan_values()
    n_datasets = len(datasets)
    row = {key: np.nan for key in ("norm", "norm_err", "ts", "sqrt_ts", "stat", "stat_null")}
    if "errn-errp" in selection:
        row["norm_errn"] = row["norm_errp"] = np.nan
    if "ul" in selection:
        row["norm_ul"] = np.nan
    if "scan" in selection:
        row["norm_scan"], row["stat_scan"] = scan, np.full(scan.size, np.nan)
    row["success"] = False
    row["counts"] = np.full(n_datasets, np.nan)
    row["npred"] = np.full(n_datasets, np.nan)
    row["npred_excess"] = np.full(n_datasets, np.nan)

    models = _merged_models(datasets).copy()
    source = models[name]
    reference = source.spectral_model
    reference.parameters.freeze_all()
    scaled = ScaleSpectralModel(reference, norm=1.0)
    norm = scaled.norm
    lo, hi = estimator._norm_bounds()
    norm.min, norm.max = (np.nan if not np.isfinite(lo) else lo), (np.nan if not np.isfinite(hi) else hi)
    source.spectral_model = scaled
    sliced = []
    used = False
    for dataset, part in zip(datasets, parts):
        in_bin = (part["group"] == k)
        if not in_bin.any():
            continue
        used = True
        new = dataset.copy(name=dataset.name)
        _restrict_mask_fit(new, in_bin)
        new.models = models
        sliced.append(new)
    if not used:
        return row
    fit = estimator.fit
    with models.parameters.restore_status(restore_values=False):
        result = fit.optimize(sliced)
        stat = float(result.total_stat)
        row["norm"] = norm.value
        row["success"] = bool(result.success)
        covariance = fit.covariance(sliced)
        row["norm_err"] = norm.error if covariance.success else np.nan
        values = [p.value for p in models.parameters]
        if "errn-errp" in selection:
            out = fit.confidence(sliced, norm, sigma=estimator.n_sigma)
            row["norm_errn"], row["norm_errp"] = out["errn"], out["errp"]
        if "ul" in selection:
            out = fit.confidence(sliced, norm, sigma=estimator.n_sigma_ul)
            row["norm_ul"] = row["norm"] + out["errp"]
        _set_values(models, values)
        _bin_counts(row, sliced, datasets, k, parts, name)
        if "scan" in selection:
            norm.scan_values = scan
            profile = fit.stat_profile(sliced, norm, reoptimize=True)
            row["stat_scan"] = np.asarray(profile["stat_scan"], float)
            _set_values(models, values)
        # null hypothesis: norm = 0, the others re-optimised
        norm.value = 0.0
        norm.frozen = True
        free = [p for p in models.parameters.unique_parameters if not p.frozen]
        stat_null = fit.optimize(sliced).total_stat if free else sum(d.stat_sum() for d in sliced)
        norm.frozen = False
        _set_values(models, values)
    row["stat"] = stat
    row["stat_null"] = float(stat_null)
    row["ts"] = row["stat_null"] - stat
    row["sqrt_ts"] = np.sign(row["norm"]) * np.sqrt(max(row["ts"], 0)) if row["norm"] != 0 else 0.0
    return row


def _merged_models(datasets):
    from ...modeling.models import Models

    seen, models = set(), []
    for dataset in datasets:
        for m in dataset.models or []:
            if id(m) not in seen:
                seen.add(id(m))
                models.append(m)
    return Models(models)


def _set_values(models, values):
    for p, v in zip(models.parameters, values):
        p.value = v


def _restrict_mask_fit(dataset, in_bin):
    """``mask_fit &= bins of the flux point`` (the dataset's own mask_safe is kept)."""
    tag = getattr(dataset, "tag", "")
    if tag == "FluxPointsDataset":
        current = dataset.mask_fit if dataset.mask_fit is not None else np.ones(in_bin.size, bool)
        dataset.mask_fit = np.asarray(current, bool) & in_bin
        return
    shape = dataset.counts.data.shape
    mask = in_bin.reshape(shape)
    if dataset.mask_fit is not None:
        mask = mask & np.asarray(dataset.mask_fit.data, bool).reshape(shape)
    dataset.mask_fit = mask


def _bin_counts(row, sliced, datasets, k, parts, name):
    """Counts, npred and npred of the source in flux point ``k`` per dataset (at the best fit)."""
    by_name = {d.name: d for d in sliced}
    for i, (dataset, part) in enumerate(zip(datasets, parts)):
        new = by_name.get(dataset.name)
        if new is None or part["stat_type"] == "chi2":
            continue
        in_bin = part["group"] == k
        counts = _values(new.counts).reshape(-1)
        signal = new._npred_signal_array().reshape(-1)
        source = new._npred_signal_array([name]).reshape(-1)
        total = signal + new._npred_background_array().reshape(-1)
        row["counts"][i] = counts[in_bin].sum()
        row["npred"][i] = total[in_bin].sum()
        row["npred_excess"][i] = source[in_bin].sum()
