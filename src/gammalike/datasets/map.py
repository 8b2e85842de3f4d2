"""`MapDataset`: counts cube with exposure, background, PSF and energy dispersion maps.

Predicted counts::

    npred = background * norm(E_reco)  +  sum over sky models of their counts

The background norm is the background model's norm spectral model
evaluated at the reco-energy bin centres (a `FoVBackgroundModel` among the
models); each sky model is evaluated by its own `MapEvaluator` (see
`gammalike.datasets.evaluator`), which caches the counts on the model's
parameter values and the PSF kernel / energy-dispersion matrix / cut-out on
the model position.  `stat_sum` works on float64 arrays only.
"""
import logging

import numpy as np
from astropy import units as u
from astropy.io import fits

from ..maps import Map, MapAxis, WcsGeom
from ..stats import CashCountsStatistic, cash
from ..utils import make_path, write_atomic
from .core import Dataset, _as_model_list, _format_models_summary, make_name
from ..irf.edisp_kernel import edisp_matrix_at
from .evaluator import MapEvaluator
from .map_io import irf_map_classes, map_dataset_kwargs_from_hdulist, map_dataset_to_hdulist

__all__ = ["MapDataset", "BINSZ_IRF_DEFAULT", "RAD_AXIS_DEFAULT", "MIGRA_AXIS_DEFAULT"]

log = logging.getLogger(__name__)

#: Default pixel size of the IRF maps made by `MapDataset.create`
BINSZ_IRF_DEFAULT = 0.2 * u.deg
#: Default PSF radius axis of `MapDataset.create`
RAD_AXIS_DEFAULT = MapAxis.from_bounds(0, 0.5, nbin=50, unit="deg", name="rad")
#: Default migration axis of `MapDataset.create` (``migra_axis=True``)
MIGRA_AXIS_DEFAULT = MapAxis.from_bounds(0.2, 5, nbin=48, name="migra")

_EXPOSURE_UNIT = u.Unit("cm2 s")


def _is_background_model(model):
    return type(model).__name__ in ("FoVBackgroundModel", "BackgroundModel")


def _is_sky_model(model):
    return hasattr(model, "spectral_model") and not _is_background_model(model)


def _float(m):
    """Map data as float64 array (None stays None)."""
    return None if m is None else np.asarray(m.data, dtype=np.float64)


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


class MapDataset(Dataset):
    """Counts cube in reconstructed energy with its reduced IRFs (cash statistic).

    Parameters
    ----------
    models : `~gammalike.modeling.models.Models`, list or model, optional
        Sky models and the dataset's `FoVBackgroundModel`.
    counts : `~gammalike.maps.WcsNDMap`
        Counts (axis "energy").
    exposure : `~gammalike.maps.WcsNDMap`
        Exposure (axis "energy_true"), on the counts' spatial grid.
    background : `~gammalike.maps.WcsNDMap`, optional
        Predicted background counts (same geometry as counts).
    psf : `~gammalike.irf.PSFMap`, optional
        Reduced PSF.
    edisp : `~gammalike.irf.EDispKernelMap` or `~gammalike.irf.EDispMap`, optional
        Energy dispersion (None: perfect reconstruction).
    mask_safe, mask_fit : `~gammalike.maps.WcsNDMap` of bool or bool array, optional
        Bins used in the statistic (``mask_safe & mask_fit``).
    gti : `~gammalike.data.GTI`, optional
        Good time intervals.
    meta_table : `~astropy.table.Table`, optional
        Observation summary.
    name : str, optional
        Dataset name (random if None).
    meta : dict, optional
        Extra metadata.

    Notes
    -----
    The caches assume the maps are replaced, not edited in place: after
    changing ``dataset.exposure.data`` (or the PSF / edisp maps) in place call
    `reset_data_cache`.  Counts, background and masks are read on every
    `stat_sum` call, so editing them in place is safe.
    """

    tag = "MapDataset"
    stat_type = "cash"
    # setting one of these drops the evaluators (geometry, kernels, exposure cut-outs)
    _cache_inputs = ("exposure", "psf", "edisp")

    def __init__(self, models=None, counts=None, exposure=None, background=None, psf=None,
                 edisp=None, mask_safe=None, mask_fit=None, gti=None, meta_table=None, name=None,
                 meta=None):
        self._name = make_name(name)
        self._evaluators = {}
        self.counts = counts
        self.exposure = exposure
        self.background = background
        self.psf = psf
        self.edisp = edisp
        self.mask_safe = mask_safe
        self.mask_fit = mask_fit
        self.gti = gti
        self.meta_table = meta_table
        self.meta = dict(meta or {})
        self.models = models

    def __getstate__(self):
        # evaluators hold the models: copies rebuild them
        state = dict(self.__dict__)
        state["_evaluators"] = {}
        return state

    def _as_mask(self, value, what):
        if value is None:
            return None
        if isinstance(value, Map):
            if value.data.dtype != bool:
                value = value._init_copy(data=np.asarray(value.data) != 0, unit="")
            return value
        geom = self._geom
        if geom is None:
            raise ValueError(f"{self.name}: set counts before {what} given as an array")
        return Map.from_geom(geom, data=np.asarray(value, dtype=bool), dtype=bool)

    def reset_data_cache(self):
        """Forget the evaluators' cached kernels, cut-outs and counts."""
        self.__dict__["_evaluators"] = {}

    # ------------------------------------------------------------------ models
    def _assign_models(self, models, warn):
        for model in _as_model_list(models):
            # old-style background models name no dataset: the first map dataset claims them
            if _is_background_model(model) and getattr(model, "datasets_names", None) is None:
                model.datasets_names = [self.name]
        super()._assign_models(models, warn)
        self.__dict__["_evaluators"] = {}

    @property
    def background_model(self):
        """The dataset's `FoVBackgroundModel` (None if there is none)."""
        for model in self.models or []:
            if _is_background_model(model):
                names = getattr(model, "datasets_names", None)
                if names is None or self.name in names:
                    return model
        return None

    @property
    def evaluators(self):
        """`MapEvaluator` per sky-model name (created on demand)."""
        evaluators = {}
        if self.models is None or self.exposure is None:
            return evaluators
        cache = self._evaluators
        for model in self.models:
            if not _is_sky_model(model):
                continue
            evaluator = cache.get(id(model))
            if evaluator is None or evaluator.model is not model:
                evaluator = MapEvaluator(model, exposure=self.exposure, psf=self.psf, edisp=self.edisp,
                                         energy_axis=self._geom.axes["energy"])
                cache[id(model)] = evaluator
            evaluators[model.name] = evaluator
        return evaluators

    # ------------------------------------------------------------------ geometry
    @property
    def _geom(self):
        for name in ("counts", "background", "mask_safe", "mask_fit"):
            m = self.__dict__.get(name)
            if m is not None:
                return m.geom
        return None

    @property
    def geoms(self):
        """Geometries: "geom", "geom_exposure", "geom_psf", "geom_edisp" (those present)."""
        geoms = {"geom": self._geom}
        if self.exposure is not None:
            geoms["geom_exposure"] = self.exposure.geom
        if self.psf is not None:
            geoms["geom_psf"] = self.psf.psf_map.geom
        if self.edisp is not None:
            geoms["geom_edisp"] = self.edisp.edisp_map.geom
        return geoms

    @property
    def data_shape(self):
        return self._geom.data_shape

    @property
    def energy_axis(self):
        return self._geom.axes["energy"]

    @property
    def energy_axis_true(self):
        return None if self.exposure is None else self.exposure.geom.axes["energy_true"]

    def _mask_array(self):
        """``mask_safe & mask_fit`` as a bool array, or None."""
        safe = None if self.mask_safe is None else np.asarray(self.mask_safe.data, dtype=bool)
        fit = None if self.mask_fit is None else np.asarray(self.mask_fit.data, dtype=bool)
        if safe is None:
            return fit
        if fit is None:
            return safe
        return safe & fit

    def _image(self, m):
        if m is None:
            return None
        data = np.asarray(m.data, dtype=bool).any(axis=tuple(range(m.data.ndim - 2)))
        return Map.from_geom(m.geom.to_image(), data=data, dtype=bool)

    @property
    def mask_image(self):
        """Spatial mask: pixels with at least one fitted bin (None without masks)."""
        mask = self.mask
        return self._image(mask)

    @property
    def mask_safe_image(self):
        """Spatial mask: pixels with at least one safe bin (None without mask_safe)."""
        return self._image(self.mask_safe)

    @property
    def mask_fit_image(self):
        return self._image(self.mask_fit)

    # ------------------------------------------------------------------ predicted counts
    def _npred_signal_array(self, model_names=None):
        total = np.zeros(self._geom.data_shape)
        for name, evaluator in self.evaluators.items():
            if model_names is not None and name not in model_names:
                continue
            (ys, xs), npred = evaluator.compute_npred()
            if npred is not None:
                total[:, ys, xs] += npred
        return total

    def _npred_background_array(self):
        if self.background is None:
            return np.zeros(self._geom.data_shape)
        background = _float(self.background)
        model = self.background_model
        if model is None:
            return background
        energy = self._geom.axes["energy"].center.to_value("TeV")
        norm = model.spectral_model.dnde_float(energy)
        values = background * np.reshape(norm, (-1, 1, 1))
        spatial = getattr(model, "spatial_model", None)
        if spatial is not None:
            values = values * np.asarray(spatial.integrate_geom(self._geom.to_image()).data)
        return values

    def _npred_array(self):
        return self._npred_background_array() + self._npred_signal_array()

    def stat_sum(self):
        """Cash statistic summed over ``mask_safe & mask_fit`` (the fit's hot path)."""
        counts = np.asarray(self.counts.data)
        npred = self._npred_array()
        mask = self._mask_array()
        if mask is not None:
            counts, npred = counts[mask], npred[mask]
        return float(np.sum(cash(counts, npred)))

    def stat_array(self):
        """Per-bin cash statistic (float array of the counts' shape)."""
        return cash(_float(self.counts), self._npred_array())

    def _to_map(self, data, unit=""):
        return Map.from_geom(self._geom, data=data, unit=unit, dtype=np.asarray(data).dtype)

    def npred_signal(self, model_names=None, stack=True):
        """Predicted signal counts: one map (``stack``) or a dict model name -> map."""
        if not stack:
            names = list(self.evaluators)
            if model_names is not None:
                names = [n for n in names if n in model_names]
            return {n: self._to_map(self._npred_signal_array([n])) for n in names}
        return self._to_map(self._npred_signal_array(model_names))

    def npred_background(self):
        """Predicted background counts (map)."""
        return self._to_map(self._npred_background_array())

    def npred(self):
        """Predicted counts, background plus signal (map)."""
        return self._to_map(self._npred_array())

    @property
    def excess(self):
        """Counts minus background (map)."""
        bkg = 0.0 if self.background is None else _float(self.background)
        return self._to_map(_float(self.counts) - bkg)

    def residuals(self, method="diff", **kwargs):
        """Residual map ``counts - npred`` (or divided by npred / sqrt(npred)).

        Parameters
        ----------
        method : {"diff", "diff/model", "diff/sqrt(model)"}
            Residual type.
        **kwargs : dict
            If given, passed to `~gammalike.maps.WcsNDMap.smooth` applied to
            counts and npred first (e.g. ``kernel="gauss", width="0.1 deg"``).
        """
        counts, npred = self.counts.copy(data=_float(self.counts)), self.npred()
        if kwargs:
            counts, npred = counts.smooth(**kwargs), npred.smooth(**kwargs)
        return self._to_map(_residuals(_float(counts), _float(npred), method))

    def fake(self, random_state="random-seed"):
        """Replace the counts by a Poisson draw of npred."""
        if isinstance(random_state, (int, np.integer)) or random_state is None:
            rng = np.random.default_rng(random_state)
        elif random_state == "random-seed":
            rng = np.random.default_rng()
        else:
            rng = random_state
        self.counts = self._to_map(rng.poisson(self._npred_array()).astype(np.float32))

    # ------------------------------------------------------------------ info
    @property
    def livetime(self):
        meta = getattr(self.exposure, "meta", None) or {}
        if "livetime" in meta:
            return u.Quantity(meta["livetime"], "s")
        return self._ontime()

    def _ontime(self):
        if self.gti is None or not hasattr(self.gti, "time_sum"):
            return u.Quantity(np.nan, "s")
        return u.Quantity(self.gti.time_sum, "s")

    def _has_sky_models(self):
        return any(_is_sky_model(m) for m in self.models or [])

    def info_dict(self, in_safe_data_range=True):
        """Summary numbers (summed over the safe bins if ``in_safe_data_range``).

        Keys: name, counts, excess, sqrt_ts, background, npred, npred_background,
        npred_signal, exposure_min, exposure_max, livetime, ontime, counts_rate,
        background_rate, excess_rate, n_bins, n_fit_bins, stat_type, stat_sum.
        """
        shape = self._geom.data_shape
        mask = np.ones(shape, dtype=bool)
        if in_safe_data_range and self.mask_safe is not None:
            mask = np.asarray(self.mask_safe.data, dtype=bool)
        counts = float(_float(self.counts)[mask].sum()) if self.counts is not None else np.nan
        background = float(_float(self.background)[mask].sum()) if self.background is not None else np.nan
        info = {"name": self.name, "counts": counts, "excess": counts - background}
        info["sqrt_ts"] = float(CashCountsStatistic(counts, background).sqrt_ts)
        info["background"] = background
        npred_background = self._npred_background_array()
        npred_signal = self._npred_signal_array()
        info["npred"] = float((npred_background + npred_signal)[mask].sum())
        info["npred_background"] = float(npred_background[mask].sum())
        info["npred_signal"] = float(npred_signal[mask].sum()) if self._has_sky_models() else np.nan
        info["exposure_min"], info["exposure_max"] = self._exposure_range()
        livetime = self.livetime
        info["livetime"] = livetime
        info["ontime"] = self._ontime()
        with np.errstate(invalid="ignore", divide="ignore"):
            info["counts_rate"] = counts / livetime
            info["background_rate"] = background / livetime
            info["excess_rate"] = info["excess"] / livetime
        info["n_bins"] = int(np.prod(shape))
        fit_mask = self._mask_array()
        info["n_fit_bins"] = int(fit_mask.sum()) if fit_mask is not None else int(np.prod(shape))
        info["stat_type"] = self.stat_type
        has_models = self.models is not None and len(self.models) > 0
        info["stat_sum"] = self.stat_sum() if (has_models and self.counts is not None) else np.nan
        return info

    def _exposure_range(self):
        if self.exposure is None:
            nan = u.Quantity(np.nan, "m2 s")
            return nan, nan
        values = np.asarray(self.exposure.data, dtype=float)
        image = self.mask_safe_image
        if image is not None and image.data.any():
            values = values[..., image.data]
        values = values[values > 0]
        unit = u.Unit(self.exposure.unit)
        if values.size == 0:
            return u.Quantity(0.0, unit), u.Quantity(0.0, unit)
        return u.Quantity(values.min(), unit), u.Quantity(values.max(), unit)

    def __str__(self):
        info = self.info_dict()
        title = self.__class__.__name__

        def line(label, value=""):
            return f"  {label:<32}: {value}"

        lines = [title, "-" * len(title), "", line("Name", self.name), ""]
        lines += [
            line("Total counts", f"{info['counts']:.0f}"),
            line("Total background counts", f"{info['background']:.2f}"),
            line("Total excess counts", f"{info['excess']:.2f}"),
            "",
            line("Predicted counts", f"{info['npred']:.2f}"),
            line("Predicted background counts", f"{info['npred_background']:.2f}"),
            line("Predicted excess counts", f"{info['npred_signal']:.2f}"),
            "",
            line("Exposure min", f"{info['exposure_min'].to('m2 s'):.2e}"),
            line("Exposure max", f"{info['exposure_max'].to('m2 s'):.2e}"),
            "",
            line("Number of total bins", info["n_bins"]),
            line("Number of fit bins", info["n_fit_bins"]),
            "",
            line("Fit statistic type", self.stat_type),
            line("Fit statistic value (-2 log(L))", f"{info['stat_sum']:.2f}"),
            "",
        ]
        lines += ["  " + text for text in _format_models_summary(self.models)]
        text = "\n".join(lines) + "\n"
        if self.models is not None and len(self.models):
            text += "\n" + str(self.models)
        return text

    # ------------------------------------------------------------------ constructors
    @classmethod
    def create(cls, geom, energy_axis_true=None, migra_axis=None, rad_axis=None, binsz_irf=None,
               reference_time="2000-01-01", name=None, meta_table=None, reco_psf=False, **kwargs):
        """Empty dataset: zero counts, background and exposure, nothing safe, IRF maps on a coarser grid.

        Parameters
        ----------
        geom : `~gammalike.maps.WcsGeom`
            Counts geometry (axis "energy").
        energy_axis_true : `~gammalike.maps.MapAxis`, optional
            True-energy axis (default: the reco axis renamed "energy_true").
        migra_axis : `~gammalike.maps.MapAxis`, optional
            If given, the energy dispersion is an `EDispMap` over this axis;
            otherwise an `EDispKernelMap` (axes energy, energy_true).
        rad_axis : `~gammalike.maps.MapAxis`, optional
            PSF radius axis (default `RAD_AXIS_DEFAULT`).
        binsz_irf : `~astropy.units.Quantity` or float (deg), optional
            Pixel size of the IRF maps (default `BINSZ_IRF_DEFAULT`).
        reference_time : str or `~astropy.time.Time`
            Reference time of the (empty) GTI.
        name : str, optional
            Dataset name.
        meta_table : `~astropy.table.Table`, optional
            Observation summary.
        """
        PSFMap, EDispKernelMap, EDispMap = irf_map_classes()
        energy_axis = geom.axes["energy"]
        if energy_axis_true is None:
            energy_axis_true = energy_axis.copy(name="energy_true")
        rad_axis = RAD_AXIS_DEFAULT if rad_axis is None else rad_axis
        binsz_irf = u.Quantity(BINSZ_IRF_DEFAULT if binsz_irf is None else binsz_irf, "deg").to_value("deg")
        image = geom.to_image()
        width = u.Quantity(geom.width).to_value("deg").ravel()
        geom_irf = WcsGeom.create(skydir=geom.center_skydir, binsz=binsz_irf, width=(width[0], width[-1]),
                                  frame=geom.frame, proj=geom.projection)
        counts = Map.from_geom(geom, unit="")
        background = Map.from_geom(geom, unit="")
        exposure = Map.from_geom(image.to_cube([energy_axis_true]), unit="m2 s")
        mask_safe = Map.from_geom(geom, dtype=bool)
        psf = PSFMap.from_geom(geom_irf.to_cube([rad_axis, energy_axis_true]))
        if migra_axis is not None:
            edisp = EDispMap.from_geom(geom_irf.to_cube([migra_axis, energy_axis_true]))
        else:
            edisp = EDispKernelMap.from_geom(geom_irf.to_cube([energy_axis, energy_axis_true]))
        gti = None
        try:
            from ..data import GTI

            gti = GTI.create([] * u.s, [] * u.s, reference_time=reference_time)
        except Exception:  # an empty GTI is optional metadata
            gti = None
        kwargs.update(counts=counts, exposure=exposure, background=background, psf=psf, edisp=edisp,
                      mask_safe=mask_safe, gti=gti, name=name, meta_table=meta_table)
        return cls(**kwargs)

    def copy(self, name=None):
        """Deep copy with a new name (random if None); models are not copied."""
        return super().copy(name=name)

    def to_masked(self, name=None, nan_to_num=True):
        """Copy with counts and background outside the safe mask set to zero, and the
        exposure outside the safe image set to zero (the start of `Datasets.stack_reduce`).

        The copy has no models: its background includes this dataset's
        background model, as in `stack`.
        """
        new = self.copy(name=name)
        new.background = self._background_for_stacking()
        mask = self.mask_safe
        if mask is not None:
            m = np.asarray(mask.data, dtype=bool)
            for key in ("counts", "background"):
                value = getattr(new, key)
                if value is not None:
                    data = np.nan_to_num(value.data) if nan_to_num else value.data
                    setattr(new, key, value._init_copy(data=(data * m).astype(value.data.dtype)))
            if new.exposure is not None:
                image = np.asarray(self.mask_safe_image.data)
                data = np.nan_to_num(new.exposure.data) if nan_to_num else new.exposure.data
                new.exposure = new.exposure._init_copy(data=data * image)
        return new

    # ------------------------------------------------------------------ stacking
    def stack(self, other, nan_to_num=True):
        """Add ``other`` into this dataset, in place.

        Counts and background outside each dataset's safe mask are dropped;
        exposures are summed where the other dataset has safe pixels; PSF and
        energy-dispersion maps are stacked with their exposures as weights
        (delegated to the IRF maps' ``stack``); safe masks are OR-ed; fit
        masks are OR-ed if both exist (else dropped); GTIs and meta tables are
        concatenated.  ``other`` may be a pixel-aligned cut-out of this dataset.
        """
        if not isinstance(other, MapDataset):
            raise TypeError(f"{self.name}: cannot stack a {type(other).__name__} into a MapDataset")
        if not self.energy_axis.is_allclose(other.energy_axis):
            raise ValueError(f"Cannot stack {other.name!r} into {self.name!r}: reco energy axes differ")
        mask_self = self.mask_safe
        mask_other = other.mask_safe
        # A background model (e.g. a fitted FoV norm) belongs to its dataset:
        # what is stacked is the predicted background, and the stacked
        # dataset keeps no background model of its own.
        self_background = self._background_for_stacking()
        other_background = other._background_for_stacking()
        if self.background_model is not None:
            self.models = [m for m in self.models if m is not self.background_model] or None
        self.background = self_background
        for key in ("counts", "background"):
            mine = getattr(self, key)
            theirs = other_background if key == "background" else getattr(other, key)
            if mine is None or theirs is None:
                if key == "background":
                    object.__setattr__(self, key, None)
                continue
            mine = mine.copy(data=np.asarray(mine.data, dtype=np.float64))
            if mask_self is not None:
                mine.data = mine.data * mask_self.data
            mine.stack(theirs, weights=mask_other, nan_to_num=nan_to_num)
            setattr(self, key, mine.copy(data=mine.data.astype(getattr(self, key).data.dtype)))
        if self.exposure is not None and other.exposure is not None:
            exposure = self.exposure.copy()
            if mask_self is not None:
                exposure.data = exposure.data * self.mask_safe_image.data
            weights = None
            if mask_other is not None:
                weights = np.broadcast_to(other.mask_safe_image.data, other.exposure.data.shape)
            exposure.stack(other.exposure, weights=weights, nan_to_num=nan_to_num)
            self.exposure = exposure
        for key in ("psf", "edisp"):
            mine, theirs = getattr(self, key), getattr(other, key)
            if mine is None or theirs is None:
                continue
            if getattr(mine, "exposure_map", None) is None or getattr(theirs, "exposure_map", None) is None:
                # without exposures there is nothing to weight with: keep this dataset's IRF
                log.warning(f"{self.name}: {key} of {other.name!r} not stacked (no exposure map)")
                continue
            mine = _copy(mine)
            mine.stack(theirs, weights=self._irf_weights(other, mine))
            setattr(self, key, mine)
        if mask_self is not None and mask_other is not None:
            safe = mask_self.copy(data=np.asarray(mask_self.data, dtype=np.uint8))
            safe.stack(mask_other.copy(data=np.asarray(mask_other.data, dtype=np.uint8)))
            self.mask_safe = safe.data > 0
        if self.mask_fit is not None and other.mask_fit is not None:
            fit = self.mask_fit.copy(data=np.asarray(self.mask_fit.data, dtype=np.uint8))
            fit.stack(other.mask_fit.copy(data=np.asarray(other.mask_fit.data, dtype=np.uint8)))
            self.mask_fit = fit.data > 0
        else:
            self.mask_fit = None
        from .spectrum import _stack_gti, _stack_meta_table

        self.gti = _stack_gti(self.gti, other.gti)
        self.meta_table = _stack_meta_table(self.meta_table, other.meta_table)

    def _background_for_stacking(self):
        """Background map with the background model applied (the map itself without a model)."""
        if self.background is None or self.background_model is None:
            return self.background
        npred = self.npred_background()
        return self.background.copy(data=np.asarray(npred.data, dtype=self.background.data.dtype))

    @staticmethod
    def _irf_weights(other, irf):
        """1 where an IRF-map pixel contains a safe pixel of ``other`` (image on the IRF grid)."""
        irf_map = getattr(irf, "psf_map", None) or getattr(irf, "edisp_map", None)
        geom_irf = irf_map.geom.to_image()
        if other.mask_safe is None:
            return None
        image = other.mask_safe_image
        lon, lat = _lonlat(image.geom, geom_irf.frame)
        sel = np.asarray(image.data, dtype=bool)
        weights = np.zeros(geom_irf.data_shape)
        if sel.any():
            x, y = geom_irf.wcs.wcs_world2pix(lon[sel], lat[sel], 0)
            ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
            nx, ny = geom_irf.npix
            ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
            weights[iy[ok], ix[ok]] = 1.0
        return Map.from_geom(geom_irf, data=weights)

    # ------------------------------------------------------------------ reshaping
    def _new(self, name=None, **kwargs):
        init = dict(counts=self.counts, exposure=self.exposure, background=self.background,
                    psf=self.psf, edisp=self.edisp, mask_safe=self.mask_safe, mask_fit=self.mask_fit,
                    gti=self.gti, meta_table=self.meta_table, meta=dict(self.meta))
        init.update(kwargs)
        return self.__class__(name=name, **init)

    def cutout(self, position, width, mode="trim", name=None):
        """Dataset cut out around ``position`` (all maps; IRF maps with their own pixels).

        Parameters
        ----------
        position : `~astropy.coordinates.SkyCoord`
            Centre.
        width : Angle, Quantity or pair
            Size of the cut-out.
        mode : {"trim", "partial"}
            See `~gammalike.maps.WcsGeom.cutout`.
        name : str, optional
            Name of the new dataset.
        """
        kwargs = {}
        for key in ("counts", "exposure", "background", "mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                fill = False if key.startswith("mask") else 0.0
                kwargs[key] = m.cutout(position=position, width=width, mode=mode, fill_value=fill)
        for key in ("psf", "edisp"):
            irf = getattr(self, key)
            if irf is not None and hasattr(irf, "cutout"):
                kwargs[key] = irf.cutout(position=position, width=width, mode=mode)
        return self._new(name=name, **kwargs)

    def slice_by_idx(self, slices, name=None):
        """Sub-dataset over index ranges of the non-spatial axes.

        Parameters
        ----------
        slices : dict
            Axis name ("energy", "energy_true") -> slice.
        """
        def cut(m):
            if m is None:
                return None
            sub = {k: v for k, v in slices.items() if k in m.geom.axes.names}
            return m.slice_by_idx(sub) if sub else m.copy()

        kwargs = {key: cut(getattr(self, key)) for key in ("counts", "background", "mask_safe", "mask_fit",
                                                            "exposure")}
        PSFMap, EDispKernelMap, EDispMap = irf_map_classes()
        if self.psf is not None:
            kwargs["psf"] = PSFMap(cut(self.psf.psf_map), cut(self.psf.exposure_map))
        if self.edisp is not None:
            edisp_cls = type(self.edisp)
            kwargs["edisp"] = edisp_cls(cut(self.edisp.edisp_map), cut(self.edisp.exposure_map))
        return self._new(name=name, **kwargs)

    def slice_by_energy(self, energy_min=None, energy_max=None, name=None):
        """Sub-dataset with the reco-energy bins inside ``[energy_min, energy_max]``."""
        edges = self.energy_axis.edges.to_value("TeV")
        lo = edges[0] if energy_min is None else u.Quantity(energy_min).to_value("TeV")
        hi = edges[-1] if energy_max is None else u.Quantity(energy_max).to_value("TeV")
        inside = np.nonzero((edges[:-1] >= lo * (1 - 1e-6)) & (edges[1:] <= hi * (1 + 1e-6)))[0]
        if inside.size == 0:
            raise ValueError(f"{self.name}: no reco-energy bin inside [{lo:.4g}, {hi:.4g}] TeV")
        return self.slice_by_idx({"energy": slice(inside[0], inside[-1] + 1)}, name=name)

    def resample_energy_axis(self, energy_axis, name=None):
        """Dataset with the reco-energy bins merged into ``energy_axis`` (edges a subset).

        Counts and background are summed over the safe bins, masks OR-ed, and
        the energy-dispersion kernel's reco axis summed with the safe bins as
        weights; true-energy maps are kept.
        """
        energy_axis = energy_axis.copy(name="energy")
        weights = None if self.mask_safe is None else np.asarray(self.mask_safe.data, dtype=float)
        kwargs = {}
        for key in ("counts", "background"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.resample_axis(energy_axis, weights=weights)
        for key in ("mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.resample_axis(energy_axis, ufunc=np.logical_or)
        if self.edisp is not None:
            kwargs["edisp"] = self._resample_edisp(energy_axis)
        return self._new(name=name, **kwargs)

    def _resample_edisp(self, energy_axis):
        edisp = self.edisp
        edisp_map = edisp.edisp_map
        if "energy" not in edisp_map.geom.axes.names:
            return edisp  # EDispMap (migra): reco binning is chosen at evaluation
        weights = None
        if self.mask_safe is not None:
            # reco bins with any safe pixel, along the kernel's reco axis
            safe = np.asarray(self.mask_safe.data, dtype=bool).any(axis=(-2, -1)).astype(float)
            shape = [1] * edisp_map.data.ndim
            shape[edisp_map.geom.axes.index_data("energy")] = safe.size
            weights = safe.reshape(shape)
        new_map = edisp_map.resample_axis(energy_axis, weights=weights)
        return type(edisp)(new_map, getattr(edisp, "exposure_map", None))

    def to_image(self, name=None):
        """Dataset with one reco-energy bin (see `resample_energy_axis`)."""
        return self.resample_energy_axis(self.energy_axis.squash(), name=name)

    def downsample(self, factor, axis_name=None, name=None):
        """Downsample spatially (``axis_name`` None) or along the reco-energy axis.

        Counts and background are summed (over safe bins), exposure averaged,
        masks OR-ed; PSF and energy-dispersion maps are kept.
        """
        if axis_name is not None:
            if axis_name != "energy":
                raise ValueError(f"MapDataset.downsample: axis_name must be None or 'energy', got {axis_name!r}")
            return self.resample_energy_axis(self.energy_axis.downsample(factor), name=name)
        weights = self.mask_safe
        kwargs = {}
        for key in ("counts", "background"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.downsample(factor, preserve_counts=True, weights=weights)
        if self.exposure is not None:
            kwargs["exposure"] = self.exposure.downsample(factor, preserve_counts=False)
        for key in ("mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.downsample(factor)
        return self._new(name=name, **kwargs)

    def pad(self, pad_width, mode="constant", name=None):
        """Dataset padded by ``pad_width`` pixels (masks padded with False)."""
        kwargs = {}
        for key in ("counts", "exposure", "background", "mask_safe", "mask_fit"):
            m = getattr(self, key)
            if m is not None:
                kwargs[key] = m.pad(pad_width, mode=mode, cval=False if key.startswith("mask") else 0)
        return self._new(name=name, **kwargs)

    def to_spectrum_dataset(self, on_region, containment_correction=False, name=None):
        """`SpectrumDataset` of the sums inside ``on_region``.

        Counts and background are summed over the safe pixels in the region,
        the exposure is the mean exposure of the region pixels (times the PSF
        containment in the region if ``containment_correction``, circular
        regions only), the energy dispersion is taken at the region centre.
        """
        from ..irf import EDispKernel
        from ..maps.region import parse_region, region_center
        from .spectrum import SpectrumDataset

        region = parse_region(on_region)
        kwargs = {"name": name, "gti": self.gti, "meta_table": self.meta_table}
        weights = self.mask_safe
        if self.counts is not None:
            kwargs["counts"] = self.counts.to_region_nd_map(region, func=np.sum, weights=weights)
        if self.background is not None:
            kwargs["background"] = self.background.to_region_nd_map(region, func=np.sum, weights=weights)
        if self.mask_safe is not None:
            kwargs["mask_safe"] = self.mask_safe.to_region_nd_map(region, func=np.any)
        if self.mask_fit is not None:
            kwargs["mask_fit"] = self.mask_fit.to_region_nd_map(region, func=np.any)
        center = region_center(region)
        if self.exposure is not None:
            exposure = self.exposure.to_region_nd_map(region, func=np.mean)
            if containment_correction:
                exposure = exposure * self._containment(region, center)[:, np.newaxis, np.newaxis]
            if "livetime" in self.exposure.meta:
                exposure.meta["livetime"] = self.exposure.meta["livetime"]
            kwargs["exposure"] = exposure
            pdf = edisp_matrix_at(self.edisp, center, self.energy_axis, self.energy_axis_true)
            kwargs["edisp"] = EDispKernel(axes=[self.energy_axis_true, self.energy_axis], data=pdf)
        return SpectrumDataset(**kwargs)

    def _containment(self, region, center):
        radius = getattr(region, "radius", None)
        if radius is None:
            raise ValueError("to_spectrum_dataset: containment_correction needs a circular region")
        if self.psf is None:
            raise ValueError("to_spectrum_dataset: containment_correction needs a PSF")
        energy = self.energy_axis_true.center
        value = self.psf.containment(rad=u.Quantity(radius), energy_true=energy, position=center)
        return np.asarray(getattr(value, "value", value), dtype=float).reshape(-1)

    # ------------------------------------------------------------------ I/O
    def to_hdulist(self, format="gadf"):
        """FITS layout of the dataset (see `gammalike.datasets.map_io`)."""
        if format != "gadf":
            raise ValueError(f"{type(self).__name__}.to_hdulist: unknown format {format!r}, expected 'gadf'")
        return map_dataset_to_hdulist(self)

    @classmethod
    def from_hdulist(cls, hdulist, name=None, format="gadf"):
        """Dataset from the "gadf" FITS layout (files of older releases included)."""
        if format != "gadf":
            raise ValueError(f"{cls.__name__}.from_hdulist: unknown format {format!r}, expected 'gadf'")
        kwargs = map_dataset_kwargs_from_hdulist(hdulist, filename=getattr(hdulist, "filename", lambda: "")())
        if name is not None:
            kwargs["name"] = name
        return cls(**kwargs)

    def write(self, filename, overwrite=False, format="gadf", checksum=False):
        """Write to one FITS file (atomic; refuses to overwrite unless ``overwrite``)."""
        hdulist = self.to_hdulist(format=format)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp, checksum=checksum)

    @classmethod
    def read(cls, filename, name=None, lazy=False, cache=True, format="gadf"):
        """Read a MapDataset FITS file.

        ``lazy`` and ``cache`` are accepted for compatibility; the file is read at once.
        """
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"{cls.__name__}.read: file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            try:
                return cls.from_hdulist(hdulist, name=name, format=format)
            except KeyError as exc:
                raise KeyError(f"{path}: {exc.args[0]}") from None

    # ------------------------------------------------------------------ plots
    def plot_residuals_spatial(self, ax=None, method="diff", smooth_kernel="gauss", smooth_radius="0.1 deg",
                               **kwargs):
        """Image of the smoothed residuals summed over the safe energy bins."""
        from .map_plots import plot_residuals_spatial

        return plot_residuals_spatial(self, ax=ax, method=method, smooth_kernel=smooth_kernel,
                                      smooth_radius=smooth_radius, **kwargs)

    def plot_residuals_spectral(self, ax=None, method="diff", region=None, **kwargs):
        """Residuals versus reco energy, summed in ``region`` (whole map if None)."""
        from .map_plots import plot_residuals_spectral

        return plot_residuals_spectral(self, ax=ax, method=method, region=region, **kwargs)

    def plot_residuals(self, ax_spatial=None, ax_spectral=None, kwargs_spatial=None, kwargs_spectral=None):
        """Spatial and spectral residuals side by side; returns both axes."""
        from .map_plots import plot_residuals

        return plot_residuals(self, ax_spatial=ax_spatial, ax_spectral=ax_spectral,
                              kwargs_spatial=kwargs_spatial, kwargs_spectral=kwargs_spectral)

    def peek(self, figsize=(12, 10)):
        """Counts, excess, exposure and background images."""
        from .map_plots import peek

        return peek(self, figsize=figsize)


def _copy(obj):
    import copy

    return copy.deepcopy(obj)


def _lonlat(geom, frame):
    """Pixel-centre longitudes and latitudes (deg) of an image geometry in ``frame``."""
    from astropy.coordinates import SkyCoord

    ny, nx = geom.data_shape[-2:]
    y, x = np.mgrid[0:ny, 0:nx]
    lon, lat = geom.wcs.wcs_pix2world(x, y, 0)
    if frame != geom.frame:
        coord = SkyCoord(lon, lat, unit="deg", frame=geom.frame).transform_to(frame)
        lon, lat = coord.spherical.lon.deg, coord.spherical.lat.deg
    return lon, lat
