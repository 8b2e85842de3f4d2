"""`SpectrumDataset`: counts in reconstructed energy with exposure, edisp and background.

Predicted counts of a sky model in reco bin ``j``::

    npred_j = sum_i  F_i * exposure_i * P_ij

with ``F_i`` the model's integral flux over true-energy bin ``i``
(cm-2 s-1), ``exposure_i`` in cm2 s and ``P`` the energy dispersion matrix.

The statistic is evaluated thousands of times in a fit, so everything it
needs is prepared once as float64 arrays (`_prepare`), and each model's
predicted counts are cached on its parameter values: a model whose
parameters did not change is not re-evaluated.
"""
import logging

import numpy as np
from astropy import units as u

from ..irf import EDispKernel
from ..maps import RegionNDMap
from ..stats import CashCountsStatistic, cash
from ..utils.random import get_random_state
from . import plots
from .core import Dataset, _format_models_summary, make_name
from .evaluation import (
    EXPOSURE_UNIT,
    edisp_matrix,
    energy_grid,
    is_background_model,
    is_sky_model,
    spectral_key,
    to_map as _to_map,
    values as _values,
)
from .gadf import spectrum_dataset_kwargs_from_hdulist, spectrum_dataset_to_hdulist
from .map_info import info_rates

__all__ = ["SpectrumDataset"]

log = logging.getLogger(__name__)

class SpectrumDataset(Dataset):
    """Spectrum in reconstructed energy with its response and a known background (cash).

    Parameters
    ----------
    models : `~gammalike.modeling.models.SkyModel`, list or `Models`, optional
        Models (those meant for other datasets are dropped).
    counts : `~gammalike.maps.RegionNDMap`
        Counts per reco-energy bin ("energy" axis).
    exposure : `~gammalike.maps.RegionNDMap`
        Exposure per true-energy bin ("energy_true" axis), e.g. in m2 s.
    background : `~gammalike.maps.RegionNDMap`, optional
        Expected background counts per reco-energy bin.
    edisp : `~gammalike.irf.EDispKernel`, optional
        Energy dispersion; None means perfect reconstruction (same binning).
    mask_safe, mask_fit : `~gammalike.maps.RegionNDMap` of bool, optional
        Bins used for the statistic.
    name : str, optional
        Name (random if None).
    meta_table : `~astropy.table.Table`, optional
        Observation summary rows.
    gti : GTI, optional
        Good time intervals.
    meta : dict, optional
        Header keywords (TELESCOP, INSTRUME ...).
    """

    tag = "SpectrumDataset"
    stat_type = "cash"
    # setting any of these invalidates the prepared arrays and the npred cache
    _cache_inputs = ("counts", "exposure", "background", "edisp")

    def __init__(self, models=None, counts=None, exposure=None, background=None, edisp=None,
                 mask_safe=None, mask_fit=None, name=None, meta_table=None, gti=None, meta=None):
        self._name = make_name(name)
        self._npred_cache = {}
        self._prepared = None
        self.counts = counts
        self.exposure = exposure
        self.background = background
        self.edisp = edisp
        self.mask_safe = mask_safe
        self.mask_fit = mask_fit
        self.meta_table = meta_table
        self.gti = gti
        self.meta = dict(meta or {})
        self.models = models

    def reset_data_cache(self):
        """Forget the prepared float arrays and the cached predictions."""
        self.__dict__["_prepared"] = None
        self.__dict__["_npred_cache"] = {}

    def __getstate__(self):
        # caches are rebuilt on demand; copying them would copy models too
        state = dict(self.__dict__)
        state["_prepared"] = None
        state["_npred_cache"] = {}
        return state

    def _as_mask(self, value, what):
        """Bool map from a map, a bool array or None."""
        if value is None or isinstance(value, RegionNDMap):
            return value
        geom = self._geom
        if geom is None:
            raise ValueError(f"{self.name}: set counts before {what} given as an array")
        return _to_map(geom, np.asarray(value, dtype=bool), dtype=bool)

    def _reset_model_cache(self):
        self.__dict__["_npred_cache"] = {}

    # -- geometry -------------------------------------------------------
    @property
    def _geom(self):
        for name in ("counts", "background", "mask_safe"):
            m = self.__dict__.get(name)
            if m is not None:
                return m.geom
        return None

    @property
    def geoms(self):
        """Geometries: "geom" (reco energy), "geom_exposure" (true energy)."""
        geoms = {"geom": self._geom}
        if self.exposure is not None:
            geoms["geom_exposure"] = self.exposure.geom
        return geoms

    @property
    def energy_axis(self):
        return self._geom.axes["energy"]

    @property
    def energy_axis_true(self):
        if self.exposure is not None:
            return self.exposure.geom.axes["energy_true"]
        if self.edisp is not None:
            return self.edisp.energy_axis_true
        return None

    @property
    def mask_safe_image(self):
        """Whether any reco-energy bin is safe (bool)."""
        if self.mask_safe is None:
            return True
        return bool(_values(self.mask_safe).any())

    # -- the fast path ----------------------------------------------------
    def _prepare(self):
        """Float arrays for the statistic, computed once per change of inputs."""
        prep = self._prepared
        if prep is not None:
            return prep
        prep = {}
        geom = self._geom
        n_reco = geom.axes["energy"].nbin if geom is not None else None
        if self.exposure is not None:
            edges = self.exposure.geom.axes["energy_true"].edges.to_value("TeV")
            prep["grid"] = energy_grid(edges)
            prep["exposure"] = _values(self.exposure).astype(np.float64) * u.Unit(
                self.exposure.unit
            ).to(EXPOSURE_UNIT)
            n_true = edges.size - 1
            pdf = edisp_matrix(self.edisp)
            if pdf is None:
                if n_reco is not None and n_true != n_reco:
                    axis_true = self.exposure.geom.axes["energy_true"]
                    pdf = EDispKernel.from_diagonal_response(axis_true, geom.axes["energy"]).data
            elif pdf.shape != (n_true, n_reco if n_reco is not None else pdf.shape[1]):
                raise ValueError(
                    f"{self.name}: edisp matrix shape {pdf.shape} does not match "
                    f"{n_true} true and {n_reco} reco energy bins"
                )
            prep["pdf"] = pdf
        if geom is not None:
            prep["energy_center"] = geom.axes["energy"].center.to_value("TeV")
        self.__dict__["_prepared"] = prep
        return prep

    def _npred_model(self, model, prep):
        """Predicted reco counts of one sky model (float array, cached on its parameters)."""
        spectral = model.spectral_model
        key = spectral_key(spectral)
        cached = self._npred_cache.get(id(model))
        if cached is not None and cached[0] == key and cached[1] is spectral:
            return cached[2]
        npred = prep["grid"].flux(spectral, key) * prep["exposure"]
        pdf = prep["pdf"]
        if pdf is not None:
            npred = npred @ pdf
        self._npred_cache[id(model)] = (key, spectral, npred)
        return npred

    def _npred_signal_array(self, model_names=None):
        prep = self._prepare()
        total = None
        models = self.models
        if models is not None and "exposure" in prep:
            for model in models:
                if not is_sky_model(model):
                    continue
                if model_names is not None and model.name not in model_names:
                    continue
                npred = self._npred_model(model, prep)
                total = npred if total is None else total + npred
        if total is None:
            return np.zeros(self._geom.data_shape).reshape(-1)
        return total

    def _background_model(self):
        models = self.models
        if models is None:
            return None
        for model in models:
            if is_background_model(model):
                return model
        return None

    def _npred_background_array(self):
        background = _values(self.background)
        if background is None:
            return np.zeros(self._geom.data_shape).reshape(-1)
        bkg_model = self._background_model()
        if bkg_model is not None:
            energy = self._prepare()["energy_center"]
            spectral = bkg_model.spectral_model
            norm = spectral.dnde_float(energy) if hasattr(spectral, "dnde_float") else spectral(energy * u.TeV).value
            return background * norm
        return background

    def _mask_array(self):
        """Combined bool mask as a flat array, or None."""
        safe, fit = _values(self.mask_safe), _values(self.mask_fit)
        if safe is None:
            return fit
        if fit is None:
            return safe
        return safe & fit

    def _stat_array(self):
        return cash(_values(self.counts), self._npred_signal_array() + self._npred_background_array())

    def stat_sum(self):
        """Total statistic over the bins in `mask` (the fit's hot path)."""
        counts = _values(self.counts)
        npred = self._npred_signal_array() + self._npred_background_array()
        mask = self._mask_array()
        if mask is not None:
            counts, npred = counts[mask], npred[mask]
        return float(cash(counts, npred).sum())

    # -- public map API ---------------------------------------------------
    def stat_array(self):
        """Per-bin statistic (float array, reco-energy bins)."""
        return self._stat_array()

    def npred_signal(self, model_names=None, stack=True):
        """Predicted signal counts (`~gammalike.maps.RegionNDMap`).

        Parameters
        ----------
        model_names : list of str, optional
            Only these models.
        stack : bool
            Sum the models (True) or return a dict name -> map.
        """
        if not stack:
            names = [m.name for m in self.models or [] if not is_background_model(m)]
            if model_names is not None:
                names = [n for n in names if n in model_names]
            return {n: _to_map(self._geom, self._npred_signal_array([n])) for n in names}
        return _to_map(self._geom, self._npred_signal_array(model_names))

    def npred_background(self):
        """Predicted background counts (`~gammalike.maps.RegionNDMap`)."""
        return _to_map(self._geom, self._npred_background_array())

    def npred(self):
        """Predicted counts, signal plus background (`~gammalike.maps.RegionNDMap`)."""
        return _to_map(self._geom, self._npred_signal_array() + self._npred_background_array())

    def fake(self, random_state="random-seed"):
        """Replace counts by a Poisson realisation of the predicted counts.

        Parameters
        ----------
        random_state : int, `~numpy.random.Generator` or "random-seed"
            Seed or generator (see `~gammalike.utils.random.get_random_state`).
        """
        rng = get_random_state(random_state)
        npred = self._npred_signal_array() + self._npred_background_array()
        self.counts = _to_map(self._geom, rng.poisson(np.clip(npred, 0, None)).astype(float))

    @property
    def excess(self):
        """Counts minus background (`~gammalike.maps.RegionNDMap`)."""
        background = self.background
        bkg = _values(background) if background is not None else 0.0
        return _to_map(self._geom, _values(self.counts) - bkg)

    def residuals(self, method="diff", **kwargs):
        """Residuals between counts and predicted counts.

        Parameters
        ----------
        method : {"diff", "diff/model", "diff/sqrt(model)"}
            ``counts - npred``, divided by npred or by sqrt(npred).
        """
        counts = _values(self.counts)
        npred = self._npred_signal_array() + self._npred_background_array()
        return _to_map(self._geom, _residuals(counts, npred, method))

    # -- livetime -------------------------------------------------------
    @property
    def livetime(self):
        """Livetime (from the exposure map meta, else the GTI), Quantity in s."""
        exposure = self.exposure
        meta = getattr(exposure, "meta", None) or {}
        if "livetime" in meta:
            return u.Quantity(meta["livetime"], "s")
        if self.gti is not None:
            return self._ontime()
        return u.Quantity(np.nan, "s")

    def _ontime(self):
        gti = self.gti
        if gti is None:
            return u.Quantity(np.nan, "s")
        if hasattr(gti, "time_sum"):
            return u.Quantity(gti.time_sum, "s")
        table = getattr(gti, "table", gti)
        start = u.Quantity(table["START"], table["START"].unit or "s")
        stop = u.Quantity(table["STOP"], table["STOP"].unit or "s")
        return (stop - start).sum().to("s")

    # -- constructors ---------------------------------------------------
    @classmethod
    def create(cls, geom, energy_axis_true=None, migra_axis=None, rad_axis=None,
               binsz_irf=None, reference_time="2000-01-01", name=None, meta_table=None,
               reco_psf=False, **kwargs):
        """Empty dataset (zero counts and exposure, nothing safe) on a region geometry.

        Parameters
        ----------
        geom : `~gammalike.maps.RegionGeom`
            Reco-energy geometry (axis "energy").
        energy_axis_true : `~gammalike.maps.MapAxis`, optional
            True-energy axis (default: the reco axis renamed "energy_true").
        name : str, optional
            Dataset name.
        """
        energy_axis = geom.axes["energy"]
        if energy_axis_true is None:
            energy_axis_true = energy_axis.copy(name="energy_true")
        geom_true = geom.to_image().to_cube([energy_axis_true])
        counts = RegionNDMap.from_geom(geom, unit="")
        background = RegionNDMap.from_geom(geom, unit="")
        exposure = RegionNDMap.from_geom(geom_true, unit="m2 s")
        mask_safe = RegionNDMap.from_geom(geom, dtype=bool)
        edisp = EDispKernel.from_diagonal_response(energy_axis_true, energy_axis)
        kwargs.update(
            counts=counts, exposure=exposure, edisp=edisp, mask_safe=mask_safe, name=name,
            meta_table=meta_table,
        )
        if cls._has_off:
            # ON/OFF: no OFF counts yet, unit acceptances
            kwargs.update(counts_off=RegionNDMap.from_geom(geom, unit=""), acceptance=1, acceptance_off=1)
        else:
            kwargs["background"] = background
        return cls(**kwargs)

    def _empty_like(self, name=None):
        """Empty dataset with the same geometries and units (the start of `to_masked`)."""
        empty = SpectrumDataset.create(self._geom, energy_axis_true=self.energy_axis_true, name=name)
        if self.exposure is not None:
            geom = empty.exposure.geom
            empty.exposure = _to_map(geom, np.zeros(geom.data_shape), unit=self.exposure.unit)
        else:
            empty.exposure = None
        if self.background is None:
            empty.background = None
        return empty

    def to_masked(self, name=None):
        """New dataset with the data outside the safe mask set to zero (see `stack`)."""
        dataset = self._empty_like(name=name)
        dataset.meta = dict(self.meta)
        dataset.stack(self)
        return dataset

    # -- slicing ----------------------------------------------------------
    #: reco-energy maps passed to the constructor (sliced by `slice_by_idx`)
    _reco_maps = ("counts", "background", "mask_safe", "mask_fit")

    def slice_by_idx(self, slices, name=None):
        """Sub-dataset over a range of reco-energy bins.

        Parameters
        ----------
        slices : dict
            ``{"energy": slice(i, j)}``; the true-energy axis (exposure) is kept.
        name : str, optional
            Name of the new dataset (random if None).
        """
        reco = slices.get("energy", slice(None))
        if not isinstance(reco, slice):
            reco = slice(int(reco), int(reco) + 1)
        kwargs = {"name": name, "meta_table": self.meta_table, "gti": self.gti, "meta": dict(self.meta)}
        for attr in self._reco_maps:
            m = getattr(self, attr)
            kwargs[attr] = m.slice_by_idx({"energy": reco}) if m is not None else None
        kwargs["exposure"] = self.exposure.copy() if self.exposure is not None else None
        if self.edisp is not None:
            kwargs["edisp"] = self.edisp.slice_by_idx({"energy": reco})
        return self.__class__(**kwargs)

    def slice_by_energy(self, energy_min=None, energy_max=None, name=None):
        """Sub-dataset with the reco-energy bins inside ``[energy_min, energy_max]``.

        Bins are kept whole: a bin is selected if both its edges lie in the
        range (up to a relative tolerance of 1e-6).
        """
        edges = self.energy_axis.edges.to_value("TeV")
        lo = edges[0] if energy_min is None else u.Quantity(energy_min).to_value("TeV")
        hi = edges[-1] if energy_max is None else u.Quantity(energy_max).to_value("TeV")
        inside = np.nonzero((edges[:-1] >= lo * (1 - 1e-6)) & (edges[1:] <= hi * (1 + 1e-6)))[0]
        if inside.size == 0:
            raise ValueError(
                f"{self.name}: no reco-energy bin inside [{lo:.4g}, {hi:.4g}] TeV "
                f"(axis {edges[0]:.4g} - {edges[-1]:.4g} TeV)"
            )
        return self.slice_by_idx({"energy": slice(inside[0], inside[-1] + 1)}, name=name)

    # -- stacking -------------------------------------------------------
    def _stack_masks(self, other):
        n = self._geom.data_shape
        size = int(np.prod(n))
        mask_self = _values(self.mask_safe) if self.mask_safe is not None else np.ones(size, bool)
        mask_other = _values(other.mask_safe) if other.mask_safe is not None else np.ones(size, bool)
        return mask_self.astype(bool), mask_other.astype(bool)

    def stack(self, other, **kwargs):
        """Add another dataset to this one, in place.

        Counts (and background) outside each dataset's safe mask are dropped;
        the safe masks are OR-ed; exposures are summed (a dataset without any
        safe bin contributes none); the energy dispersion becomes the
        exposure-weighted mean of the matrices, each with its unsafe reco
        bins set to zero, so that the stacked prediction equals the sum of the
        individual masked predictions; livetimes are summed.
        """
        if not isinstance(other, SpectrumDataset):
            raise TypeError(f"{self.name}: cannot stack a {type(other).__name__}")
        if self._geom.data_shape != other._geom.data_shape or not np.allclose(
            self.energy_axis.edges.to_value("TeV"), other.energy_axis.edges.to_value("TeV"), rtol=1e-6
        ):
            raise ValueError(
                f"Cannot stack dataset {other.name!r} into {self.name!r}: reco energy axes differ"
            )
        mask_self, mask_other = self._stack_masks(other)
        geom = self._geom

        counts = _values(self.counts) * mask_self + _values(other.counts) * mask_other
        self.counts = _to_map(geom, counts, unit=self.counts.unit)

        if self.background is not None and other.background is not None and not self._has_off:
            bkg = _values(self.background) * mask_self + _values(other.background) * mask_other
            self.background = _to_map(geom, bkg, unit=self.background.unit)

        self._stack_irfs(other, mask_self, mask_other)
        self._stack_extra(other, mask_self, mask_other)

        self.mask_safe = _to_map(geom, mask_self | mask_other, dtype=bool)
        if self.mask_fit is not None and other.mask_fit is not None:
            self.mask_fit = _to_map(geom, _values(self.mask_fit) | _values(other.mask_fit), dtype=bool)
        else:
            self.mask_fit = None

        livetime = _nan_to_zero(self.livetime) + _nan_to_zero(other.livetime)
        if self.exposure is not None:
            self.exposure.meta["livetime"] = livetime.to("s")
        self.gti = _stack_gti(self.gti, other.gti)
        self.meta_table = _stack_meta_table(self.meta_table, other.meta_table)

    _has_off = False

    def _stack_extra(self, other, mask_self, mask_other):
        """Hook for subclasses (OFF counts)."""

    def _stack_irfs(self, other, mask_self, mask_other):
        if self.exposure is None or other.exposure is None:
            return
        unit = self.exposure.unit
        exp_self = _values(self.exposure) * float(mask_self.any())
        exp_other = _values(other.exposure) * float(mask_other.any()) * u.Unit(other.exposure.unit).to(unit)
        if exp_self.shape != exp_other.shape:
            raise ValueError(
                f"Cannot stack dataset {other.name!r} into {self.name!r}: true energy axes differ"
            )
        total = exp_self + exp_other
        pdf_self, pdf_other = self._prepare().get("pdf"), other._prepare().get("pdf")
        if pdf_self is None:
            pdf_self = np.eye(exp_self.size, mask_self.size)
        if pdf_other is None:
            pdf_other = np.eye(exp_other.size, mask_other.size)
        # the kernels are weighted by the exposure they were made for (aeff x
        # livetime, `EDispKernel.exposure`, set by the makers) when known, else
        # by the dataset exposure
        w_self = _edisp_weights(self, unit) * float(mask_self.any())
        w_other = _edisp_weights(other, unit) * float(mask_other.any())
        w_total = w_self + w_other
        weighted = (
            pdf_self * mask_self[None, :] * w_self[:, None]
            + pdf_other * mask_other[None, :] * w_other[:, None]
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            pdf = np.where(w_total[:, None] > 0, weighted / w_total[:, None], 0.0)
        meta = dict(getattr(self.exposure, "meta", {}) or {})
        self.exposure = _to_map(self.exposure.geom, total, unit=unit, meta=meta)
        edisp = EDispKernel(axes=[self.energy_axis_true, self.energy_axis], data=pdf)
        edisp.exposure = u.Quantity(w_total, unit)
        self.edisp = edisp

    # -- info -----------------------------------------------------------
    def info_dict(self, in_safe_data_range=True):
        """Summary numbers (summed over the safe bins).

        Keys: name, counts, excess, sqrt_ts, background, npred, npred_background,
        npred_signal, exposure_min, exposure_max, livetime, ontime, counts_rate,
        background_rate, excess_rate, n_bins, n_fit_bins, stat_type, stat_sum.
        """
        size = int(np.prod(self._geom.data_shape))
        mask = _values(self.mask_safe) if (in_safe_data_range and self.mask_safe is not None) else np.ones(size, bool)
        counts = float(_values(self.counts)[mask].sum())
        background = float(self._info_background()[mask].sum())
        info = {"name": self.name, "counts": counts}
        info["excess"] = counts - background
        info["sqrt_ts"] = float(self._info_counts_statistic(mask).sqrt_ts)
        info["background"] = background
        npred_signal = self._npred_signal_array()
        npred_background = self._npred_background_array()
        info["npred"] = float((npred_signal + npred_background)[mask].sum())
        info["npred_background"] = float(npred_background[mask].sum())
        info["npred_signal"] = float(npred_signal[mask].sum())
        info["exposure_min"], info["exposure_max"] = self._exposure_range(mask)
        livetime = self.livetime
        info["livetime"] = livetime
        info["ontime"] = self._ontime()
        info.update(info_rates(info, livetime))
        info["n_bins"] = int(mask.sum())
        fit_mask = self._mask_array()
        info["n_fit_bins"] = int(fit_mask.sum()) if fit_mask is not None else size
        info["stat_type"] = self.stat_type
        info["stat_sum"] = self.stat_sum() if self.counts is not None else np.nan
        return info

    def _info_background(self):
        if self.background is None:
            return np.zeros(int(np.prod(self._geom.data_shape)))
        return _values(self.background)

    def _info_counts_statistic(self, mask):
        counts = _values(self.counts)[mask].sum()
        return CashCountsStatistic(counts, self._info_background()[mask].sum())

    def _exposure_range(self, mask):
        if self.exposure is None:
            nan = u.Quantity(np.nan, "m2 s")
            return nan, nan
        values = _values(self.exposure)
        sel = values > 0
        if not mask.any():
            sel = np.zeros_like(sel)
        if not sel.any():
            sel = np.ones_like(sel)
        unit = u.Unit(self.exposure.unit)
        return u.Quantity(values[sel].min(), unit), u.Quantity(values[sel].max(), unit)

    def __str__(self):
        info = self.info_dict()
        title = self.__class__.__name__
        lines = [title, "-" * len(title), "", f"{'Name':<32}: {self.name}", ""]
        lines += [
            f"{'Total counts':<32}: {info['counts']:.0f}",
            f"{'Total background counts':<32}: {info['background']:.2f}",
            f"{'Total excess counts':<32}: {info['excess']:.2f}",
            "",
            f"{'Predicted counts':<32}: {info['npred']:.2f}",
            f"{'Predicted background counts':<32}: {info['npred_background']:.2f}",
            f"{'Predicted excess counts':<32}: {info['npred_signal']:.2f}",
            "",
            f"{'Exposure min':<32}: {info['exposure_min'].to('m2 s'):.2e}",
            f"{'Exposure max':<32}: {info['exposure_max'].to('m2 s'):.2e}",
            "",
            f"{'Number of total bins':<32}: {int(np.prod(self._geom.data_shape))}",
            f"{'Number of fit bins':<32}: {info['n_fit_bins']}",
            "",
            f"{'Fit statistic type':<32}: {self.stat_type}",
            f"{'Fit statistic value (-2 log(L))':<32}: {info['stat_sum']:.2f}",
            "",
        ]
        lines += _format_models_summary(self.models)
        lines += self._str_extra(info)
        text = "\n".join(lines) + "\n"
        if self.models is not None and len(self.models):
            text += "\n" + str(self.models)
        return text

    def _str_extra(self, info):
        return []

    # -- I/O --------------------------------------------------------------
    def to_hdulist(self, format="gadf"):
        """Single-file FITS layout of the dataset (see `gammalike.datasets.gadf`)."""
        if format != "gadf":
            raise ValueError(f"{type(self).__name__}.to_hdulist: unknown format {format!r}, expected 'gadf'")
        return spectrum_dataset_to_hdulist(self)

    @classmethod
    def from_hdulist(cls, hdulist, name=None, format="gadf"):
        """Dataset from the "gadf" FITS layout written by `to_hdulist`."""
        if format != "gadf":
            raise ValueError(f"{cls.__name__}.from_hdulist: unknown format {format!r}, expected 'gadf'")
        kwargs = spectrum_dataset_kwargs_from_hdulist(hdulist)
        if name is not None:
            kwargs["name"] = name
        if not cls._has_off:
            for key in ("counts_off", "acceptance", "acceptance_off"):
                kwargs.pop(key, None)
        return cls(**kwargs)

    # `write` (the `to_hdulist` layout to one FITS file) is `Dataset.write`

    @classmethod
    def read(cls, filename, format="gadf", name=None, **kwargs):
        """Read a file written by `write` ("gadf" layout)."""
        return cls._read_fits(filename, name=name, format=format)

    # -- plots ------------------------------------------------------------
    def plot_counts(self, ax=None, kwargs_counts=None, kwargs_background=None, **kwargs):
        """Counts and background versus reco energy."""
        return plots.plot_counts(self, ax=ax, kwargs_counts=kwargs_counts,
                                 kwargs_background=kwargs_background, **kwargs)

    def plot_excess(self, ax=None, kwargs_excess=None, kwargs_npred_signal=None, **kwargs):
        """Excess counts with errors and the predicted signal."""
        return plots.plot_excess(self, ax=ax, kwargs_excess=kwargs_excess,
                                 kwargs_npred_signal=kwargs_npred_signal, **kwargs)

    def plot_residuals_spectral(self, ax=None, method="diff", region=None, **kwargs):
        """Residuals versus reco energy (see `residuals`)."""
        return plots.plot_residuals_spectral(self, ax=ax, method=method, **kwargs)

    def plot_residuals(self, ax=None, method="diff", **kwargs):
        """Spectral residuals (1D datasets have no spatial residuals)."""
        return self.plot_residuals_spectral(ax=ax, method=method, **kwargs)

    def plot_fit(self, ax_spectrum=None, ax_residuals=None, kwargs_spectrum=None, kwargs_residuals=None):
        """Excess with predicted signal, and residuals below; returns both axes."""
        return plots.plot_fit(self, ax_spectrum=ax_spectrum, ax_residuals=ax_residuals,
                              kwargs_spectrum=kwargs_spectrum, kwargs_residuals=kwargs_residuals)

    def plot_masks(self, ax=None, kwargs_fit=None, kwargs_safe=None):
        """Shade the reco-energy ranges of mask_safe and mask_fit."""
        return plots.plot_masks(self, ax=ax, kwargs_fit=kwargs_fit, kwargs_safe=kwargs_safe)

    def peek(self, figsize=(16, 4)):
        """Counts and excess, exposure and energy dispersion side by side."""
        return plots.peek(self, figsize=figsize)


def _residuals(counts, npred, method):
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "diff":
            return counts - npred
        if method == "diff/model":
            return (counts - npred) / npred
        if method == "diff/sqrt(model)":
            return (counts - npred) / np.sqrt(npred)
    raise ValueError(
        f"Invalid residuals method {method!r}: expected 'diff', 'diff/model' or 'diff/sqrt(model)'"
    )


def _edisp_weights(dataset, unit):
    """Stacking weights of a dataset's kernel (float array in ``unit``): its
    `EDispKernel.exposure` if set, else the dataset exposure."""
    kernel_exposure = getattr(dataset.edisp, "exposure", None)
    if kernel_exposure is not None and dataset.exposure is not None and np.any(_values(dataset.exposure)):
        return np.asarray(u.Quantity(kernel_exposure).to_value(unit), dtype=float).reshape(-1)
    return _values(dataset.exposure) * u.Unit(dataset.exposure.unit).to(unit)


def _nan_to_zero(quantity):
    quantity = u.Quantity(quantity, "s")
    return quantity if np.isfinite(quantity.value) else u.Quantity(0.0, "s")


def _stack_gti(gti, other):
    if gti is None:
        return other
    if other is None:
        return gti
    if hasattr(gti, "stack"):
        new = gti.copy() if hasattr(gti, "copy") else gti
        result = new.stack(other)
        return new if result is None else result
    from astropy.table import vstack

    return vstack([getattr(gti, "table", gti), getattr(other, "table", other)])


def _stack_meta_table(table, other):
    if table is None:
        return other
    if other is None:
        return table
    from astropy.table import vstack

    return vstack([table, other])
