"""Stacking of `MapDataset` objects: `stack` (in place) and `to_masked`.

`MapDatasetStackMixin` is mixed into `~gammalike.datasets.MapDataset`.
Counts and background are summed over the safe bins, exposures where the
other dataset is safe, and the PSF / energy-dispersion maps are averaged with
their exposures as weights (``IRFMap.stack``), on the IRF maps' own (coarse)
pixels.
"""
import copy
import logging

import numpy as np

__all__ = ["MapDatasetStackMixin"]

log = logging.getLogger(__name__)


class MapDatasetStackMixin:
    """`stack` and `to_masked` of `~gammalike.datasets.MapDataset`."""

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

    def stack(self, other, nan_to_num=True):
        """Add ``other`` into this dataset, in place.

        Counts and background outside each dataset's safe mask are dropped;
        exposures are summed where the other dataset has safe pixels; PSF and
        energy-dispersion maps are stacked with their exposures as weights
        (delegated to the IRF maps' ``stack``); safe masks are OR-ed; fit
        masks are OR-ed if both exist (else dropped); GTIs and meta tables are
        concatenated.  ``other`` may be a pixel-aligned cut-out of this dataset.
        """
        # only MapDataset (and its subclasses) mix this class in
        if not isinstance(other, MapDatasetStackMixin):
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
            mine = copy.deepcopy(mine)
            # an energy-dispersion kernel is weighted per reco-energy bin: bins outside a
            # dataset's safe mask must not receive its migrations, so that the stacked
            # prediction is the sum of the masked predictions; other IRFs per pixel
            per_reco_bin = key == "edisp" and "energy" in mine.edisp_map.geom.axes.names
            if per_reco_bin and self.mask_safe is not None:
                mine.edisp_map = mine.edisp_map.copy(data=mine.edisp_map.data * _safe_on_irf_grid(self, mine)[None])
            weights = None
            if other.mask_safe is not None:
                weights = _safe_on_irf_grid(other, theirs)
                if not per_reco_bin:
                    weights = weights.max(axis=0)
            mine.stack(theirs, weights=weights)
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


def _safe_on_irf_grid(dataset, irf):
    """Safe mask of ``dataset`` on the pixels of the IRF map ``irf``, shape (n_reco, ny, nx):
    1 where an IRF pixel contains a safe pixel of that reco-energy bin."""
    irf_map = getattr(irf, "psf_map", None) or getattr(irf, "edisp_map", None)
    geom_irf = irf_map.geom.to_image()
    mask = np.asarray(dataset.mask_safe.data, dtype=bool)
    lon, lat = _lonlat(dataset.mask_safe.geom.to_image(), geom_irf.frame)
    x, y = geom_irf.wcs.wcs_world2pix(lon.ravel(), lat.ravel(), 0)
    ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
    nx, ny = geom_irf.npix
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    k, pix = np.nonzero(mask.reshape(mask.shape[0], -1) & inside)
    out = np.zeros((mask.shape[0], ny, nx))
    out[k, iy[pix], ix[pix]] = 1.0
    return out


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
