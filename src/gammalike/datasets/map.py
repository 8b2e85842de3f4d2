"""`MapDataset`: counts cube with exposure, background, PSF and energy dispersion maps.

Predicted counts::

    npred = background * norm(E_reco)  +  sum over sky models of their counts

The background norm is the background model's norm spectral model
evaluated at the reco-energy bin centres (a `FoVBackgroundModel` among the
models); each sky model is evaluated by its own `MapEvaluator` (see
`gammalike.datasets.evaluator`), which caches the counts on the model's
parameter values and the PSF kernel / energy-dispersion matrix / cut-out on
the model position.  `stat_sum` works on float64 arrays only.

The class is assembled from parts in sibling modules: summary numbers and
printing (`.map_info`), cut-outs / slices / resampling (`.map_reshape`),
stacking (`.map_stack`) and the FITS layout (`.map_io`).
"""
import numpy as np
from astropy import units as u

from ..maps import Map, MapAxis, WcsGeom
from ..stats import cash
from .core import Dataset, _as_model_list, make_name
from .evaluation import is_background_model as _is_background_model
from .evaluation import is_sky_model as _is_sky_model
from .evaluator import MapEvaluator
from .map_info import MapDatasetInfoMixin
from .map_io import irf_map_classes, map_dataset_kwargs_from_hdulist, map_dataset_to_hdulist
from .map_reshape import MapDatasetReshapeMixin
from .map_stack import MapDatasetStackMixin
from .spectrum import _residuals  # the residual definitions of spectra; map_plots imports it from here

__all__ = ["MapDataset", "BINSZ_IRF_DEFAULT", "RAD_AXIS_DEFAULT", "MIGRA_AXIS_DEFAULT"]

#: Default pixel size of the IRF maps made by `MapDataset.create`
BINSZ_IRF_DEFAULT = 0.2 * u.deg
#: Default PSF radius axis of `MapDataset.create`
RAD_AXIS_DEFAULT = MapAxis.from_bounds(0, 0.5, nbin=50, unit="deg", name="rad")
#: Default migration axis of `MapDataset.create` (``migra_axis=True``)
MIGRA_AXIS_DEFAULT = MapAxis.from_bounds(0.2, 5, nbin=48, name="migra")


def _float(m):
    """Map data as float64 array (None stays None)."""
    return None if m is None else np.asarray(m.data, dtype=np.float64)


class MapDataset(MapDatasetInfoMixin, MapDatasetReshapeMixin, MapDatasetStackMixin, Dataset):
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

    def _has_sky_models(self):
        return any(_is_sky_model(m) for m in self.models or [])

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

    @classmethod
    def read(cls, filename, name=None, lazy=False, cache=True, format="gadf"):
        """Read a dataset FITS file (gammapy's MapDataset layout, also older releases').

        ``lazy`` and ``cache`` are accepted for compatibility; the file is read at once.
        """
        return cls._read_fits(filename, name=name, format=format)

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
