"""Summary numbers and the printed summary of a `MapDataset`.

`MapDatasetInfoMixin` is mixed into `~gammalike.datasets.MapDataset`: it
reads the dataset's maps, masks and predicted counts (``_npred_*_array``,
``_mask_array``, ``mask_safe_image``) and GTI, and returns plain numbers
(`info_dict`) or text (``str(dataset)``).  `info_rates` is shared with
`~gammalike.datasets.SpectrumDataset.info_dict`.
"""
import numpy as np
from astropy import units as u

from ..stats import CashCountsStatistic
from .core import _format_models_summary

__all__ = ["MapDatasetInfoMixin"]


def _masked_sum(m, mask):
    """Sum of a map's data as float64 over ``mask`` (NaN without the map)."""
    if m is None:
        return np.nan
    return float(np.asarray(m.data, dtype=np.float64)[mask].sum())


def info_rates(info, livetime):
    """``counts_rate``, ``background_rate`` and ``excess_rate`` of an `info_dict`:
    its counts, background and excess divided by ``livetime`` (NaN / inf where
    the live time is NaN or 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {f"{key}_rate": info[key] / livetime for key in ("counts", "background", "excess")}


class MapDatasetInfoMixin:
    """`livetime`, `info_dict` and ``__str__`` of `~gammalike.datasets.MapDataset`."""

    @property
    def livetime(self):
        """Live time: the exposure's "livetime" meta, else the GTI sum (Quantity, s)."""
        meta = getattr(self.exposure, "meta", None) or {}
        if "livetime" in meta:
            return u.Quantity(meta["livetime"], "s")
        return self._ontime()

    def _ontime(self):
        if self.gti is None or not hasattr(self.gti, "time_sum"):
            return u.Quantity(np.nan, "s")
        return u.Quantity(self.gti.time_sum, "s")

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
        counts = _masked_sum(self.counts, mask)
        background = _masked_sum(self.background, mask)
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
        info.update(info_rates(info, livetime))
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
