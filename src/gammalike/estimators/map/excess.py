"""`ExcessMapEstimator`: correlated excess and its significance at every pixel.

Counts and the null-hypothesis prediction are summed over a top-hat disk
(the *correlation circle*) around every pixel and compared with the counts
statistics of `gammalike.stats`:

- `~gammalike.datasets.MapDataset`: ``n_on = sum counts``,
  ``mu_bkg = sum npred`` (background with its fitted norm plus the other
  sky models of the dataset) -> `~gammalike.stats.CashCountsStatistic`;
- `MapDatasetOnOff`: ``n_on = sum counts``, ``n_off = sum counts_off``
  (summed over the disk if ``correlate_off``), ``alpha = sum acceptance /
  sum acceptance_off`` (same disk sums), other models as ``mu_sig`` ->
  `~gammalike.stats.WStatCountsStatistic` (Li & Ma 1983, eq. 17).

Everything is computed on all pixels and energy groups at once.  The flux
is the excess divided by the counts that a point source of the reference
spectrum (default: power law of index 2) at the pixel would give (exposure x
spectrum x energy dispersion; no PSF containment correction), so the norm
maps are "excess in the correlation circle in units of the reference
source".
"""
import numpy as np
from astropy import units as u
from astropy.coordinates import Angle

from ...maps import Map
from ...stats import CashCountsStatistic, WStatCountsStatistic
from ..core import Estimator
from .core import FluxMaps
from .dataset_images import (
    correlate,
    disk_kernel,
    energy_groups,
    float_data,
    group_sum,
    reference_counts,
)

__all__ = ["ExcessMapEstimator"]


def _default_spectral_model():
    from ...modeling.models import PowerLawSpectralModel

    return PowerLawSpectralModel(index=2)


def _mask(dataset):
    """mask_safe & mask_fit as float array of the counts' shape (ones if none)."""
    shape = dataset.counts.data.shape
    mask = np.ones(shape, bool)
    for name in ("mask_safe", "mask_fit"):
        m = getattr(dataset, name, None)
        if m is not None:
            mask &= np.asarray(m.data, dtype=bool)
    return mask


class ExcessMapEstimator(Estimator):
    """Significance, excess and flux maps in correlation circles.

    Parameters
    ----------
    correlation_radius : `~astropy.coordinates.Angle` or str
        Radius of the top-hat disk (pixels whose centre lies within it).
    n_sigma : float
        Width of the asymmetric errors.
    n_sigma_ul : float
        Level of the upper limits.
    selection_optional : None, "all" or list of {"errn-errp", "ul"}
        Optional maps.
    energy_edges : `~astropy.units.Quantity`, optional
        Edges of the energy groups (default: one group over the whole dataset).
    correlate_off : bool
        Sum the OFF counts and acceptances over the disk too (ON/OFF datasets).
    spectral_model : spectral model, optional
        Reference spectrum of the flux maps (default: power law of index 2).
    sum_over_energy_groups : bool
        Sum the reco bins of a group (False: one output bin per reco bin).
    """

    tag = "ExcessMapEstimator"
    _available_selection_optional = ("errn-errp", "ul")

    def __init__(self, correlation_radius="0.1 deg", n_sigma=1, n_sigma_ul=2, selection_optional=None,
                 energy_edges=None, correlate_off=True, spectral_model=None, sum_over_energy_groups=True):
        radius = Angle(correlation_radius)
        if not radius.deg > 0:
            raise ValueError(f"ExcessMapEstimator: correlation_radius must be positive, got {correlation_radius}")
        self.correlation_radius = radius
        self.n_sigma = n_sigma
        self.n_sigma_ul = n_sigma_ul
        self.selection_optional = selection_optional
        self.energy_edges = None if energy_edges is None else u.Quantity(energy_edges)
        self.correlate_off = bool(correlate_off)
        self.spectral_model = spectral_model if spectral_model is not None else _default_spectral_model()
        self.sum_over_energy_groups = bool(sum_over_energy_groups)

    def _kernel(self, geom):
        binsz = float(np.min(np.abs(geom.wcs.wcs.cdelt)))
        return disk_kernel(self.correlation_radius.deg / binsz)

    def run(self, dataset):
        """Excess maps of a `MapDataset` or `MapDatasetOnOff`.

        Returns
        -------
        maps : `~gammalike.estimators.FluxMaps`
            counts, background, npred, npred_excess, sqrt_ts, ts, norm, norm_err
            (+ norm_errn, norm_errp, norm_ul if selected; alpha, counts_off for
            ON/OFF), one energy bin per group.
        """
        if getattr(dataset, "counts", None) is None:
            raise ValueError(f"ExcessMapEstimator: dataset {getattr(dataset, 'name', '')!r} has no counts")
        geom = dataset.counts.geom
        matrix, axis = energy_groups(geom.axes["energy"], self.energy_edges, self.sum_over_energy_groups)
        mask = _mask(dataset).astype(float)
        kernel = self._kernel(geom)

        def summed(cube):
            return group_sum(matrix, cube * mask)

        valid = summed(np.ones(mask.shape)) > 0
        n_on = correlate(summed(float_data(dataset.counts)), kernel)
        out = {"counts": n_on}
        if getattr(dataset, "counts_off", None) is not None:
            stat, extra, ok = self._onoff_statistic(dataset, summed, kernel, n_on, valid)
            valid &= ok
            out.update(extra)
        else:
            mu_bkg = correlate(summed(float_data(dataset.npred())), kernel)
            out["background"] = correlate(summed(float_data(dataset.npred_background())), kernel)
            out["npred"] = mu_bkg
            valid &= mu_bkg > 0
            stat = CashCountsStatistic(n_on[valid], mu_bkg[valid])
        result = self._fill(stat, valid)
        out.update({k: v for k, v in result.items() if not k.startswith("norm")})
        out["npred_excess"] = n_on - out["npred"]
        if getattr(dataset, "exposure", None) is not None:
            ref = summed(reference_counts(dataset, self.spectral_model))
            with np.errstate(divide="ignore", invalid="ignore"):
                ref = np.where(ref > 0, ref, np.nan)
            for key, value in result.items():
                if key.startswith("norm"):
                    out[key] = value / ref
        image_geom = geom.to_image().to_cube([axis])
        maps = {}
        for key, value in out.items():
            data = np.where(valid, value, np.nan)
            maps[key] = Map.from_geom(image_geom, data=data, dtype=float)
        from ...modeling.models import SkyModel

        meta = {"n_sigma": self.n_sigma, "n_sigma_ul": self.n_sigma_ul,
                "correlation_radius": f"{self.correlation_radius.deg} deg"}
        return FluxMaps(maps, reference_model=SkyModel(spectral_model=self.spectral_model, name="reference"),
                        meta=meta, gti=getattr(dataset, "gti", None))

    def _onoff_statistic(self, dataset, summed, kernel, n_on, valid):
        """(WStatCountsStatistic on the valid pixels, extra maps, pixels with a defined alpha)."""
        counts_off = summed(float_data(dataset.counts_off))
        acc_on = correlate(summed(float_data(dataset.acceptance)), kernel)
        acc_off = summed(float_data(dataset.acceptance_off))
        if self.correlate_off:
            n_off = correlate(counts_off, kernel)
            acc_off = correlate(acc_off, kernel)
        else:
            n_off = counts_off
        ok = acc_off > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(ok, acc_on / np.where(ok, acc_off, 1.0), 0.0)
        mu_sig = np.zeros_like(n_on)
        if getattr(dataset, "models", None) and hasattr(dataset, "npred_signal"):
            mu_sig = correlate(summed(float_data(dataset.npred_signal())), kernel)
        background = alpha * n_off
        sel = valid & ok
        stat = WStatCountsStatistic(n_on[sel], n_off[sel], alpha[sel], mu_sig[sel])
        extra = {"background": background, "npred": background + mu_sig, "alpha": alpha,
                 "counts_off": n_off}
        return stat, extra, ok

    def _fill(self, stat, valid):
        """sqrt_ts, ts and the excess with its errors (as "norm*", in counts) on all pixels."""
        out = {}

        def full(values):
            arr = np.full(valid.shape, np.nan)
            arr[valid] = values
            return arr

        out["sqrt_ts"] = full(stat.sqrt_ts)
        out["ts"] = full(stat.ts)
        out["norm"] = full(stat.n_sig)
        out["norm_err"] = full(stat.error)
        if "errn-errp" in self.selection_optional:
            out["norm_errn"] = full(-stat.compute_errn(self.n_sigma))
            out["norm_errp"] = full(stat.compute_errp(self.n_sigma))
        if "ul" in self.selection_optional:
            out["norm_ul"] = full(stat.compute_upper_limit(self.n_sigma_ul))
        return out
