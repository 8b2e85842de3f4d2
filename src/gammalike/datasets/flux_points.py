"""`FluxPointsDataset`: fit spectral models to flux points with a chi2 statistic.

The statistic compares the measured dnde at each reference energy with the
sum of the dnde of the dataset's sky models (their spectral part):

* ``stat_type="chi2"`` (default): ``((data - model) / dnde_err)**2``
  (`gammalike.stats.chi2`); points with only ``dnde_errn``/``dnde_errp``
  use their mean as the symmetric error.  This is what the reference
  implementation does: on the seed-000 LHAASO points (asymmetric errors)
  it reproduces the published statistic 21.442 and the joint fit total
  -12644.42, whereas the asymmetric form below gives 21.74 / -12642.23.
* ``stat_type="chi2-asymmetric"``: the lower error where the model lies
  below the data, the upper one otherwise (`gammalike.stats.chi2_flux_points`).

Bins outside ``mask_safe & mask_fit`` and upper limits (``is_ul``) are left
out of the statistic.  The data arrays are converted to floats (TeV,
cm-2 s-1 TeV-1) once at construction; ``stat_sum`` only does float math and
re-evaluates the models only when their parameter values changed.
"""
import logging

import numpy as np
from astropy import units as u

from ..estimators import FluxPoints
from ..estimators.points.io import read_flux_points_table, write_flux_points_table
from ..stats import chi2, chi2_flux_points
from ..utils import make_path

from .core import Dataset, make_name
from .evaluation import is_sky_model as _is_sky_model

__all__ = ["FluxPointsDataset"]

log = logging.getLogger(__name__)

STAT_TYPES = ("chi2", "chi2-asymmetric")
_MASK_COLUMNS = ("mask_fit", "mask_safe")


def _as_mask(mask, nbin, what):
    if mask is None:
        return None
    mask = np.asarray(getattr(mask, "data", mask), dtype=bool).reshape(-1)
    if mask.size != nbin:
        raise ValueError(f"FluxPointsDataset: {what} has {mask.size} entries, expected {nbin}")
    return mask


class FluxPointsDataset(Dataset):
    """Flux points and the models predicting them; chi2 statistic.

    Parameters
    ----------
    models : `~gammalike.modeling.models.SkyModel`, list or `DatasetModels`, optional
        Models; their spectral parts are summed.
    data : `~gammalike.estimators.FluxPoints`
        Flux points.
    mask_fit, mask_safe : array of bool, optional
        Bins used in the fit / bins safe to use (default: all).
    name : str, optional
        Dataset name.
    meta_table : `~astropy.table.Table`, optional
        Metadata.
    stat_type : {"chi2", "chi2-asymmetric"}
        Fit statistic.
    """

    tag = "FluxPointsDataset"

    def __init__(self, models=None, data=None, mask_fit=None, mask_safe=None, name=None,
                 meta_table=None, stat_type="chi2"):
        if not isinstance(data, FluxPoints):
            raise TypeError(
                f"FluxPointsDataset: data must be FluxPoints, got {type(data).__name__}"
            )
        if stat_type not in STAT_TYPES:
            raise ValueError(
                f"FluxPointsDataset: unknown stat_type {stat_type!r}, expected one of {STAT_TYPES}"
            )
        self._name = make_name(name)
        self.data = data
        nbin = data.nbin
        self.mask_fit = _as_mask(mask_fit, nbin, "mask_fit")
        self.mask_safe = _as_mask(mask_safe, nbin, "mask_safe")
        self.meta_table = meta_table
        self.stat_type = stat_type
        self._cache_key = None
        self._cache_dnde = None
        self.models = models

    # ------------------------------------------------------------------ basics
    @property
    def data(self):
        """Flux points (`~gammalike.estimators.FluxPoints`)."""
        return self._data

    @data.setter
    def data(self, data):
        self._data = data
        self._prepare_data()

    def _prepare_data(self):
        """Float arrays of the measurement (TeV, cm-2 s-1 TeV-1), computed once."""
        fp = self._data
        self._e_ref = fp._e_ref_tev
        self._dnde = fp._get("norm", "dnde")
        available = fp.available_quantities
        has_asym = "norm_errn" in available and "norm_errp" in available
        if has_asym:
            self._errn = fp._get("norm_errn", "dnde")
            self._errp = fp._get("norm_errp", "dnde")
        else:
            self._errn = self._errp = None
        if "norm_err" in available:
            self._err = fp._get("norm_err", "dnde")
        elif has_asym:
            self._err = 0.5 * (self._errn + self._errp)
        if self._err is None and not has_asym:
            raise ValueError(
                "FluxPointsDataset: the flux points have no errors (norm_err or "
                f"norm_errn/norm_errp needed for chi2); quantities: {available}"
            )
        self._fit_idx = None

    @property
    def data_shape(self):
        """Shape of the data (number of flux points,)."""
        return (self._data.nbin,)

    @property
    def mask(self):
        """``mask_safe & mask_fit`` (all True when neither is set)."""
        mask = np.ones(self._data.nbin, dtype=bool)
        if self.mask_safe is not None:
            mask &= self.mask_safe
        if self.mask_fit is not None:
            mask &= self.mask_fit
        return mask

    @property
    def _stat_mask(self):
        """Bins entering the statistic: mask, not an upper limit, finite data."""
        with np.errstate(invalid="ignore"):
            err = self._err if self._use_symmetric else np.minimum(self._errn, self._errp)
            good = np.isfinite(self._dnde) & np.isfinite(err) & (err > 0)
        return self.mask & ~self._is_ul & good

    @property
    def _use_symmetric(self):
        return self.stat_type == "chi2" or self._errn is None

    @property
    def _is_ul(self):
        # Read live: ``dataset.data.is_ul = ...`` after construction is honoured.
        return np.asarray(self._data.is_ul, dtype=bool)

    @property
    def gti(self):
        """GTI of the flux points (if any)."""
        return self._data.gti

    # ------------------------------------------------------------------ models
    # ``models`` (property and setter selecting by ``datasets_names``) comes
    # from `Dataset`; the setter calls `_reset_model_cache`.
    def _reset_model_cache(self):
        self._cache_key = None

    def _sky_models(self):
        models = self.models
        if models is None:
            return []
        return [m for m in models if _is_sky_model(m)]

    def _flux_pred_float(self):
        """Sum of the models' dnde at e_ref (floats, cm-2 s-1 TeV-1); cached on parameters."""
        models = self._sky_models()
        key = tuple((id(m), m.spectral_model.parameter_values()) for m in models)
        if key != self._cache_key:
            total = np.zeros(self._e_ref.shape)
            for model in models:
                total = total + _dnde_float(model.spectral_model, self._e_ref)
            self._cache_dnde = total
            self._cache_key = key
        return self._cache_dnde

    def flux_pred(self):
        """Predicted dnde at the reference energies (Quantity)."""
        return u.Quantity(self._flux_pred_float(), "cm-2 s-1 TeV-1")

    # ------------------------------------------------------------------ statistic
    def _stat_arrays(self, model, idx=None):
        sel = slice(None) if idx is None else idx
        data = self._dnde[sel]
        with np.errstate(invalid="ignore", divide="ignore"):
            if self._use_symmetric:
                return chi2(data, model[sel], self._err[sel])
            return chi2_flux_points(data, model[sel], self._errn[sel], self._errp[sel])

    def stat_array(self):
        """Chi2 contribution of every flux point (NaN for points without data)."""
        return self._stat_arrays(self._flux_pred_float())

    def stat_sum(self):
        """Total chi2 over the bins in the mask (upper limits excluded)."""
        key = self._mask_key()
        if self._fit_idx is None or self._fit_idx_key != key:
            self._fit_idx = np.flatnonzero(self._stat_mask)
            self._fit_idx_key = key
        return float(np.sum(self._stat_arrays(self._flux_pred_float(), self._fit_idx)))

    def _mask_key(self):
        # Masks and is_ul are small arrays the user may change: key on their content.
        return tuple(
            None if mask is None else np.asarray(mask, dtype=bool).tobytes()
            for mask in (self.mask_fit, self.mask_safe, self._is_ul)
        )

    def residuals(self, method="diff"):
        """Residuals of the data with respect to the models.

        Parameters
        ----------
        method : {"diff", "diff/model"}
            ``data - model`` (Quantity, cm-2 s-1 TeV-1) or ``(data - model) / model``.

        Returns
        -------
        residuals : `~astropy.units.Quantity` or `~numpy.ndarray`
        """
        model = self._flux_pred_float()
        diff = self._dnde - model
        if method == "diff":
            return u.Quantity(diff, "cm-2 s-1 TeV-1")
        if method == "diff/model":
            with np.errstate(invalid="ignore", divide="ignore"):
                return diff / model
        raise ValueError(
            f"FluxPointsDataset.residuals: unknown method {method!r}, expected 'diff' or 'diff/model'"
        )

    # ------------------------------------------------------------------ I/O
    @classmethod
    def read(cls, filename, name=None, format="gadf-sed", **kwargs):
        """Read from a flux points file, with its ``mask_fit``/``mask_safe`` columns.

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            FITS or ECSV file (GADF "SED" table, optional boolean mask columns).
        name : str, optional
            Dataset name (default: the file name without suffix).
        format : {"gadf-sed"}
            Table format.
        """
        path = make_path(filename)
        table, gti = read_flux_points_table(path, hdu=kwargs.pop("hdu", None))
        masks = {}
        for column in _MASK_COLUMNS:
            if column in table.colnames:
                values = table[column]
                if values.dtype.kind not in "biu":
                    raise ValueError(
                        f"{path}: column {column!r} must be boolean, got dtype {values.dtype}"
                    )
                # Masked entries (missing) are treated as excluded.
                masks[column] = np.array(np.ma.filled(np.ma.asarray(values).astype(bool), False))
                table.remove_column(column)
        data = FluxPoints.from_table(table, format=format, gti=gti, **kwargs)
        name = name if name is not None else path.name.split(".")[0]
        return cls(data=data, name=name, mask_fit=masks.get("mask_fit"),
                   mask_safe=masks.get("mask_safe"))

    def to_table(self):
        """Table of the flux points (initial sed type) with the mask columns."""
        table = self._data.to_table(sed_type=self._data.sed_type_init)
        nbin = self._data.nbin
        table["mask_fit"] = self.mask_fit if self.mask_fit is not None else np.ones(nbin, bool)
        table["mask_safe"] = self.mask_safe if self.mask_safe is not None else np.ones(nbin, bool)
        return table

    def write(self, filename, overwrite=False, **kwargs):
        """Write the flux points and the masks (FITS or ECSV by suffix)."""
        write_flux_points_table(self.to_table(), filename, gti=self._data.gti,
                                overwrite=overwrite)

    # ------------------------------------------------------------------ info
    def info_dict(self, in_safe_data_range=True):
        """Summary numbers of the dataset."""
        models = self.models
        if models is not None:
            parameters = models.parameters.unique_parameters
            n_parameters, n_free = len(parameters), len(parameters.free_parameters)
        else:
            n_parameters = n_free = 0
        return {
            "name": self.name,
            "n_points": int(self._data.nbin),
            "n_fit_bins": int(self._stat_mask.sum()),
            "stat_type": self.stat_type,
            "stat_sum": self.stat_sum(),
            "n_models": len(models) if models is not None else 0,
            "n_parameters": n_parameters,
            "n_free_parameters": n_free,
        }

    def __str__(self):
        info = self.info_dict()
        title = self.__class__.__name__
        width = 32
        rows = [
            title,
            "-" * len(title),
            "",
            f"  {'Name':<{width}}: {info['name']}",
            "",
            f"  {'Number of total flux points':<{width}}: {info['n_points']}",
            f"  {'Number of fit bins':<{width}}: {info['n_fit_bins']}",
            "",
            f"  {'Fit statistic type':<{width}}: {info['stat_type']}",
            f"  {'Fit statistic value (-2 log(L))':<{width}}: {info['stat_sum']:.2f}",
            "",
            f"  {'Number of models':<{width}}: {info['n_models']}",
            f"  {'Number of parameters':<{width}}: {info['n_parameters']}",
            f"  {'Number of free parameters':<{width}}: {info['n_free_parameters']}",
        ]
        text = "\n".join(rows) + "\n"
        if self.models is not None:
            text += "\n" + "\n".join("  " + line for line in str(self.models).splitlines()) + "\n"
        return text

    def __repr__(self):
        return f"{self.__class__.__name__}(name={self.name!r}, n_points={self._data.nbin})"

    # ------------------------------------------------------------------ plots
    def plot_fit(self, ax_spectrum=None, ax_residuals=None, kwargs_spectrum=None,
                 kwargs_residuals=None):
        """Flux points with the model (top) and residuals (bottom).

        Returns
        -------
        ax_spectrum, ax_residuals : `~matplotlib.axes.Axes`
        """
        return _plot_fit(self, ax_spectrum, ax_residuals, kwargs_spectrum, kwargs_residuals)

    def plot_spectrum(self, ax=None, kwargs_fp=None, kwargs_model=None):
        """Flux points and the total model spectrum (e2dnde by default)."""
        return _plot_spectrum(self, ax=ax, kwargs_fp=kwargs_fp, kwargs_model=kwargs_model)

    def plot_residuals(self, ax=None, method="diff", **kwargs):
        """Residuals with their errors versus energy ("diff" or "diff/model")."""
        return _plot_residuals(self, ax=ax, method=method, **kwargs)


# ---------------------------------------------------------------------------- helpers
def _dnde_float(spectral_model, energy):
    if hasattr(spectral_model, "dnde_float"):
        return spectral_model.dnde_float(energy)
    return u.Quantity(spectral_model(energy * u.TeV)).to_value("cm-2 s-1 TeV-1")


# ---------------------------------------------------------------------------- plots
def _plot_spectrum(dataset, ax=None, kwargs_fp=None, kwargs_model=None):
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    kwargs_fp = dict(kwargs_fp or {})
    kwargs_model = dict(kwargs_model or {})
    sed_type = kwargs_fp.setdefault("sed_type", "e2dnde")
    kwargs_fp.setdefault("label", "Flux points")
    dataset.data.plot(ax=ax, **kwargs_fp)
    models = dataset._sky_models()
    if models:
        fp = dataset.data
        energy_bounds = u.Quantity([fp.energy_min[0], fp.energy_max[-1]])
        kwargs_model.setdefault("sed_type", sed_type)
        kwargs_model.setdefault("energy_bounds", energy_bounds)
        kwargs_model.setdefault("label", "Model")
        spectral = models[0].spectral_model
        for model in models[1:]:
            spectral = spectral + model.spectral_model
        spectral.plot(ax=ax, **kwargs_model)
        kwargs_band = {k: v for k, v in kwargs_model.items() if k in ("sed_type", "energy_bounds")}
        try:
            spectral.plot_error(ax=ax, **kwargs_band)
        except (AttributeError, ValueError, NotImplementedError, np.linalg.LinAlgError):
            log.debug("No model error band for dataset %s", dataset.name)
    ax.legend()
    return ax


def _plot_residuals(dataset, ax=None, method="diff", **kwargs):
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    fp = dataset.data
    residuals = dataset.residuals(method=method)
    values = u.Quantity(residuals).value
    model = dataset._flux_pred_float()
    if dataset._errn is None:
        err_lo = err_hi = dataset._err
    else:
        err_lo, err_hi = dataset._errn, dataset._errp
    if method == "diff/model":
        with np.errstate(invalid="ignore", divide="ignore"):
            err_lo, err_hi = err_lo / model, err_hi / model
    mask = dataset.mask & ~dataset._is_ul
    e_ref = fp.energy_ref.to_value("TeV")
    xerr = None
    if fp.has_energy_bounds:
        xerr = np.array([e_ref - fp.energy_min.to_value("TeV"), fp.energy_max.to_value("TeV") - e_ref])
        xerr = xerr[:, mask]
    kwargs.setdefault("marker", "+")
    kwargs.setdefault("linestyle", "None")
    kwargs.setdefault("color", "black")
    ax.errorbar(e_ref[mask], values[mask], xerr=xerr,
                yerr=np.array([err_lo[mask], err_hi[mask]]), **kwargs)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xscale("log")
    ax.set_yscale("linear")
    ax.set_xlabel("Energy [TeV]")
    label = "Residuals\n(data - model)" if method == "diff" else "Residuals\n(data - model) / model"
    unit = " [cm-2 s-1 TeV-1]" if method == "diff" else ""
    ax.set_ylabel(label + unit)
    finite = np.isfinite(values[mask])
    if finite.any():
        ymax = 1.2 * np.nanmax(np.abs(values[mask][finite]) + np.nan_to_num(err_hi[mask][finite]))
        ax.set_ylim(-ymax, ymax)
    return ax


def _plot_fit(dataset, ax_spectrum=None, ax_residuals=None, kwargs_spectrum=None,
              kwargs_residuals=None):
    import matplotlib.pyplot as plt

    if ax_spectrum is None or ax_residuals is None:
        fig = plt.figure(figsize=(8, 7))
        grid = fig.add_gridspec(2, 1, height_ratios=[3, 1], hspace=0.08)
        ax_spectrum = fig.add_subplot(grid[0])
        ax_residuals = fig.add_subplot(grid[1], sharex=ax_spectrum)
    kwargs_spectrum = dict(kwargs_spectrum or {})
    kwargs_residuals = dict(kwargs_residuals or {})
    # Relative residuals read best under a log-log spectrum.
    kwargs_residuals.setdefault("method", "diff/model")
    _plot_spectrum(dataset, ax=ax_spectrum, **kwargs_spectrum)
    _plot_residuals(dataset, ax=ax_residuals, **kwargs_residuals)
    ax_spectrum.set_xlabel("")
    ax_spectrum.tick_params(labelbottom=False)
    return ax_spectrum, ax_residuals
