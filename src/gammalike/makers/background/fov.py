"""`FoVBackgroundMaker`: normalise a dataset's background template on the data outside exclusions.

The dataset's `~gammalike.modeling.models.FoVBackgroundModel` (created if
missing) gets its norm from the counts in the pixels that are safe, inside the
fit mask and outside the exclusion regions:

- ``method="scale"``: ``norm = (counts - npred_signal) / npred_background``
  summed over those pixels;
- ``method="fit"``: maximum likelihood (cash) of the background model's free
  parameters on those pixels, the sky models held fixed.  With only the norm
  free this is a one-parameter Newton solve (the likelihood is concave in the
  norm); otherwise `~gammalike.modeling.Fit` runs on a view of the dataset.
"""
import copy
import logging
import warnings

import numpy as np

from ..core import Maker

__all__ = ["FoVBackgroundMaker"]

log = logging.getLogger(__name__)


def _norm_newton(counts, template, signal, norm0=1.0, n_iter=50, rtol=1e-12):
    """Norm maximising the Poisson likelihood of ``counts`` for ``norm * template + signal``.

    Parameters
    ----------
    counts, template, signal : `~numpy.ndarray`
        1D float arrays (the selected bins).
    norm0 : float
        Start value.

    Returns
    -------
    norm, error : float
        Best norm and its 1 sigma error from the curvature of ``-2 log L``
        (``sum(n t**2 / mu**2)``).  NaN when there is nothing to fit.
    """
    keep = template > 0
    counts, template, signal = counts[keep], template[keep], signal[keep]
    if template.size == 0 or counts.sum() <= 0:
        return np.nan, np.nan
    norm = max(float(norm0), 1e-6) if np.isfinite(norm0) else 1.0
    # first guess from the scale method, then Newton steps on d(-logL)/dnorm = sum(t - n t / mu)
    excess = counts.sum() - signal.sum()
    if excess > 0:
        norm = excess / template.sum()
    for _ in range(n_iter):
        mu = norm * template + signal
        grad = np.sum(template - counts * template / mu)
        hess = np.sum(counts * template ** 2 / mu ** 2)
        if hess <= 0:
            break
        step = grad / hess
        new = norm - step
        if new <= 0:  # stay in the physical domain: halve towards zero
            new = norm / 2
        converged = abs(new - norm) <= rtol * max(abs(norm), 1e-12)
        norm = new
        if converged:
            break
    mu = norm * template + signal
    hess = np.sum(counts * template ** 2 / mu ** 2)
    error = 1 / np.sqrt(hess) if hess > 0 else np.nan
    return float(norm), float(error)


class FoVBackgroundMaker(Maker):
    """Normalise the background model of a `~gammalike.datasets.MapDataset` outside exclusion regions.

    Parameters
    ----------
    method : {"scale", "fit"}
        Ratio of the sums, or likelihood fit of the background model.
    exclusion_mask : `~gammalike.maps.WcsNDMap` of bool, optional
        True where the data can be used (False in exclusion regions).  It is
        looked up at the dataset's pixel centres (nearest pixel); pixels
        outside the mask's geometry are used.
    spectral_model : str or `~gammalike.modeling.models.SpectralModel`
        Norm model of the background model created when the dataset has none:
        "pl-norm" (`PowerLawNormSpectralModel`, tilt frozen),
        "piecewise-norm" (`PiecewiseNormSpectralModel` with one norm per
        reco-energy bin) or a norm spectral model instance (copied).
    min_counts : int
        Minimum counts (minus predicted signal) in the used pixels; below it the
        dataset's safe mask is set to False and a warning issued.
    min_npred_background : float
        Minimum predicted background in the used pixels (same consequence).
    fit : `~gammalike.modeling.Fit`, optional
        Fitter for ``method="fit"`` when more than the norm is free (default ``Fit()``).
    """

    tag = "FoVBackgroundMaker"
    available_methods = ("fit", "scale")

    def __init__(self, method="scale", exclusion_mask=None, spectral_model="pl-norm", min_counts=0,
                 min_npred_background=0, fit=None):
        if method not in self.available_methods:
            raise ValueError(
                f"FoVBackgroundMaker: method must be one of {list(self.available_methods)}, got {method!r}"
            )
        if isinstance(spectral_model, str):
            if spectral_model not in ("pl-norm", "piecewise-norm"):
                raise ValueError(
                    "FoVBackgroundMaker: spectral_model must be 'pl-norm', 'piecewise-norm' or a norm "
                    f"spectral model, got {spectral_model!r}"
                )
        elif not getattr(spectral_model, "is_norm_spectral_model", False):
            raise TypeError(
                "FoVBackgroundMaker: spectral_model must be a norm spectral model "
                f"(e.g. PowerLawNormSpectralModel), got {type(spectral_model).__name__}"
            )
        if exclusion_mask is not None and not hasattr(exclusion_mask, "geom"):
            raise TypeError(
                f"FoVBackgroundMaker: exclusion_mask must be a boolean Map, got {type(exclusion_mask).__name__}"
            )
        self.method = method
        self.exclusion_mask = exclusion_mask
        self.spectral_model = spectral_model
        self.min_counts = min_counts
        self.min_npred_background = min_npred_background
        self.fit = fit

    # ------------------------------------------------------------------ helpers
    def make_default_fov_background_model(self, dataset):
        """New `FoVBackgroundModel` of ``dataset`` with the configured spectral model."""
        from ...modeling.models import FoVBackgroundModel, PiecewiseNormSpectralModel, PowerLawNormSpectralModel

        if self.spectral_model == "pl-norm":
            spectral = PowerLawNormSpectralModel()
        elif self.spectral_model == "piecewise-norm":
            energy = dataset.counts.geom.axes["energy"].center
            spectral = PiecewiseNormSpectralModel(energy=energy, norms=np.ones(energy.size))
        else:
            spectral = self.spectral_model.copy()
        return FoVBackgroundModel(dataset_name=dataset.name, spectral_model=spectral)

    def make_exclusion_mask(self, dataset):
        """Boolean image on the dataset's spatial grid: True where pixels can be used."""
        geom = dataset.counts.geom.to_image()
        if self.exclusion_mask is None:
            return np.ones(geom.data_shape[-2:], dtype=bool)
        mask = self.exclusion_mask
        data = np.asarray(mask.data, dtype=bool)
        if data.ndim > 2:
            data = data.reshape((-1,) + data.shape[-2:]).all(axis=0)
        mgeom = mask.geom.to_image()
        if mgeom.data_shape[-2:] == geom.data_shape[-2:] and mgeom.is_allclose(geom):
            return data
        ny, nx = geom.data_shape[-2:]
        y, x = np.mgrid[0:ny, 0:nx]
        lon, lat = geom.wcs.wcs_pix2world(x, y, 0)
        if mgeom.frame != geom.frame:
            from ..map import _lonlat_to_frame

            lon, lat = _lonlat_to_frame(lon, lat, geom.frame, mgeom.frame)
        px, py = mgeom.wcs.wcs_world2pix(lon, lat, 0)
        ix, iy = np.floor(px + 0.5).astype(int), np.floor(py + 0.5).astype(int)
        mnx, mny = mgeom.npix
        inside = (ix >= 0) & (ix < mnx) & (iy >= 0) & (iy < mny)
        out = np.ones((ny, nx), dtype=bool)
        out[inside] = data[iy[inside], ix[inside]]
        return out

    @staticmethod
    def _with_background_model(dataset, model):
        """Shallow copy of the dataset whose models are its sky models plus ``model``."""
        from ...datasets.map import _is_background_model

        new = copy.copy(dataset)
        state = new.__dict__
        if "_evaluators" in state:
            state["_evaluators"] = {}
        others = [m for m in (dataset.models or []) if not _is_background_model(m)]
        new.models = others + [model]
        return new

    def _used_mask(self, dataset):
        mask = dataset._mask_array() if hasattr(dataset, "_mask_array") else None
        shape = dataset.counts.data.shape
        mask = np.ones(shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return mask & self.make_exclusion_mask(dataset)[None, :, :]

    def _reject(self, dataset, what, value, minimum):
        warnings.warn(
            f"FoVBackgroundMaker failed for dataset {dataset.name!r}: only {value:.6g} {what} outside the "
            f"exclusion mask (minimum {minimum}); setting its safe mask to False",
            UserWarning, stacklevel=3,
        )
        from ...maps import Map

        dataset.mask_safe = Map.from_geom(dataset.counts.geom, data=np.zeros(dataset.counts.data.shape, bool),
                                          dtype=bool)
        return dataset

    # ------------------------------------------------------------------ run
    def run(self, dataset, observation=None):
        """Dataset (shallow copy) with its background model normalised.

        Parameters
        ----------
        dataset : `~gammalike.datasets.MapDataset`
            Dataset with counts and background.
        observation : `~gammalike.data.Observation`, optional
            Not used (makers share the ``run(dataset, observation)`` signature).

        Returns
        -------
        dataset : `~gammalike.datasets.MapDataset`
            New dataset object sharing the maps; its models are the input's sky
            models plus a (copied) background model with the new norm.
        """
        if dataset.background is None:
            raise ValueError(f"FoVBackgroundMaker: dataset {dataset.name!r} has no background map")
        model = dataset.background_model
        model = self.make_default_fov_background_model(dataset) if model is None else model.copy()
        dataset = self._with_background_model(dataset, model)

        mask = self._used_mask(dataset)
        counts = np.asarray(dataset.counts.data, dtype=float)
        signal = dataset._npred_signal_array()
        background = dataset._npred_background_array()
        n_counts = float((counts - signal)[mask].sum())
        n_bkg = float(background[mask].sum())
        if n_counts <= self.min_counts:
            return self._reject(dataset, "counts", n_counts, self.min_counts)
        if n_bkg <= self.min_npred_background:
            return self._reject(dataset, "predicted background counts", n_bkg, self.min_npred_background)

        if self.method == "scale":
            self._scale(dataset, model, n_counts, n_bkg)
        else:
            self._fit(dataset, model, mask, counts, signal)
        return dataset

    @staticmethod
    def _norm_parameter(model, dataset):
        names = model.spectral_model.parameters.names
        if "norm" not in names:
            raise ValueError(
                f"FoVBackgroundMaker: method 'scale' needs a background spectral model with a 'norm' "
                f"parameter (dataset {dataset.name!r}, model {type(model.spectral_model).__name__})"
            )
        return model.spectral_model.parameters["norm"]

    def _scale(self, dataset, model, n_counts, n_bkg):
        norm = self._norm_parameter(model, dataset)
        value = norm.value * n_counts / n_bkg
        norm.value = value
        # Poisson error of the counts ratio
        norm.error = value / np.sqrt(n_counts) if n_counts > 0 else np.nan
        log.debug("FoVBackgroundMaker: %s norm scaled to %.6g", dataset.name, value)

    def _fit(self, dataset, model, mask, counts, signal):
        free = [p for p in model.parameters if not p.frozen]
        names = [p.name for p in free]
        if names == ["norm"]:
            norm = model.spectral_model.parameters["norm"]
            # npred_background is linear in the norm: template = background * norm-model / norm
            template = dataset._npred_background_array() / norm.value if norm.value != 0 else None
            if template is None:
                norm.value = 1.0
                template = dataset._npred_background_array()
            value, error = _norm_newton(counts[mask], template[mask], signal[mask], norm0=norm.value)
            if not np.isfinite(value):
                warnings.warn(f"FoVBackgroundMaker: fit failed for dataset {dataset.name!r}; norm unchanged",
                              UserWarning, stacklevel=3)
                return
            norm.value = value
            norm.error = error
            return
        self._fit_general(dataset, model, mask)

    def _fit_general(self, dataset, model, mask):
        """`Fit` of the free background parameters, sky model parameters frozen meanwhile."""
        from ...modeling import Fit
        from ...maps import Map

        fit = self.fit if self.fit is not None else Fit()
        sky_parameters = [p for m in dataset.models if m is not model for p in m.parameters]
        frozen = [p.frozen for p in sky_parameters]
        mask_fit = dataset.mask_fit
        try:
            for p in sky_parameters:
                p.frozen = True
            dataset.mask_fit = Map.from_geom(dataset.counts.geom, data=mask, dtype=bool)
            result = fit.run(datasets=[dataset])
        finally:
            for p, f in zip(sky_parameters, frozen):
                p.frozen = f
            dataset.mask_fit = mask_fit
        if not getattr(result, "success", True):
            warnings.warn(f"FoVBackgroundMaker: fit did not converge for dataset {dataset.name!r}",
                          UserWarning, stacklevel=3)
