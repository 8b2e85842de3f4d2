"""`TSMapEstimator`: fit the amplitude of a test source at every pixel.

The test source is a `~gammalike.modeling.models.SkyModel` (default: a
point source with a power law of index 2).  Its *kernel* is built once per
energy bin at the map centre: the spatial model convolved with the dataset's
PSF there, weighted over true energy by spectrum x exposure x energy
dispersion, and cut to ``kernel_width``.  The source's counts at norm 1
(*flux to counts*) are computed at every pixel from the exposure there.  The
background is the dataset's full prediction (background with its fitted norm
plus all its sky models) and stays fixed.

The PSF kernel is normalised over its full extent before the cut, so the
kernel sums to the contained fraction and the fitted flux is the source's
total flux.  The fit itself, on all pixels at once, is
`gammalike.estimators.map.ts_fit` (the Cash fit of the norm kernel,
computed with FFT correlations and pair lists; tests check it against
`gammalike.estimators.norm_kernel`).  The maps come back as a
`~gammalike.estimators.FluxMaps` whose reference model is the test source,
so ``maps["flux"]`` is the integral flux of the test source in each energy
group.
"""
import logging

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle
from scipy import ndimage, signal

from ...maps import Map, WcsGeom
from ...utils.parallel import n_jobs_or_default, progress_bar
from ..core import Estimator
from .core import FluxMaps
from .dataset_images import edisp_weights, energy_groups, float_data, spectral_flux
from .ts_fit import fit_ts_images

__all__ = ["TSMapEstimator"]

log = logging.getLogger(__name__)


def _default_model():
    from ...modeling.models import PointSpatialModel, PowerLawSpectralModel, SkyModel

    return SkyModel(spatial_model=PointSpatialModel(), spectral_model=PowerLawSpectralModel(index=2),
                    name="ts-test-source")


def _odd(n):
    n = max(int(np.rint(n)), 1)
    return n if n % 2 else n + 1


def _binsz(geom):
    return float(np.min(np.abs(geom.wcs.wcs.cdelt)))


class TSMapEstimator(Estimator):
    """TS, significance and flux maps of a test source fitted at every pixel.

    Parameters
    ----------
    model : `~gammalike.modeling.models.SkyModel`, optional
        Test source (default: point source, power law of index 2); its
        position is ignored (the kernel is built at the map centre).
    kernel_width : `~astropy.coordinates.Angle` or str, optional
        Full width of the kernel footprint (default: the diameter containing
        99 % of the PSF at the lowest energy, plus the source extent).
    downsampling_factor : int, optional
        Fit on a dataset with ``factor`` x ``factor`` pixels merged, then
        interpolate the maps back to the original pixels.
    n_sigma, n_sigma_ul : float
        Error width and upper-limit level.
    threshold : float, optional
        Pixels whose TS estimate (score test) is below it are not fitted (NaN).
    selection_optional : None, "all" or list of {"errn-errp", "ul"}
        Optional maps.
    energy_edges : `~astropy.units.Quantity`, optional
        Edges of the energy groups (default: one group over the dataset).
    sum_over_energy_groups : bool
        Sum the reco bins of a group before the fit (False: fit one norm
        jointly over the bins of the group, each with its own kernel).
    n_jobs : int, optional
        Threads fitting the energy groups in parallel (None: the
        `gammalike.utils.parallel` default; the pixels of one group are
        always fitted at once, vectorized).  Results are identical to the
        serial run.
    """

    tag = "TSMapEstimator"
    _available_selection_optional = ("errn-errp", "ul")

    def __init__(self, model=None, kernel_width=None, downsampling_factor=None, n_sigma=1, n_sigma_ul=2,
                 threshold=None, selection_optional=None, energy_edges=None, sum_over_energy_groups=True,
                 n_jobs=None):
        self.model = model if model is not None else _default_model()
        if getattr(self.model, "spectral_model", None) is None:
            raise ValueError("TSMapEstimator: model must be a SkyModel with a spectral model")
        self.kernel_width = None if kernel_width is None else Angle(kernel_width)
        if self.kernel_width is not None and not self.kernel_width.deg > 0:
            raise ValueError(f"TSMapEstimator: kernel_width must be positive, got {kernel_width}")
        if downsampling_factor is not None:
            downsampling_factor = int(downsampling_factor)
            if downsampling_factor < 1:
                raise ValueError(f"TSMapEstimator: downsampling_factor must be >= 1, got {downsampling_factor}")
        self.downsampling_factor = downsampling_factor
        self.n_sigma = n_sigma
        self.n_sigma_ul = n_sigma_ul
        self.threshold = None if threshold is None else float(threshold)
        self.selection_optional = selection_optional
        self.energy_edges = None if energy_edges is None else u.Quantity(energy_edges)
        self.sum_over_energy_groups = bool(sum_over_energy_groups)
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ kernel
    def _kernel_npix(self, dataset, binsz, energy_true):
        if self.kernel_width is not None:
            return _odd(self.kernel_width.deg / binsz)
        width = 0.0
        if dataset.psf is not None:
            center = dataset.counts.geom.center_skydir
            radius = dataset.psf.containment_radius(0.99, energy_true, position=center)
            width = 2 * float(np.nanmax(radius.deg))
        extent = getattr(self.model.spatial_model, "evaluation_radius", None)
        if extent is not None:
            width += 2 * float(Angle(extent).deg)
        return _odd(max(width / binsz, 3))

    def _spatial_image(self, geom, center, npix):
        """Fraction of the test source per pixel of an (npix, npix) grid centred on ``center``."""
        spatial = self.model.spatial_model
        image = np.zeros((npix, npix))
        if spatial is None or type(spatial).__name__ == "PointSpatialModel":
            image[npix // 2, npix // 2] = 1.0
            return image
        model = spatial.copy()
        model.position = center
        kgeom = WcsGeom.create(skydir=center, binsz=_binsz(geom), npix=(npix, npix), frame=geom.frame,
                               proj=geom.projection)
        values = model.integrate_geom(kgeom)
        return np.asarray(getattr(values, "data", values), dtype=float).reshape(npix, npix)

    def _true_kernels(self, dataset, geom, npix):
        """Kernel per true-energy bin (n_true, npix, npix): spatial model convolved with the PSF."""
        center = geom.center_skydir
        exposure_geom = dataset.exposure.geom
        n_true = exposure_geom.axes["energy_true"].nbin
        psf = None
        if dataset.psf is not None:
            kernel = dataset.psf.get_psf_kernel(geom=exposure_geom, position=center)
            psf = np.asarray(getattr(kernel, "data", kernel), dtype=float)
            if psf.ndim == 2:
                psf = np.broadcast_to(psf, (n_true,) + psf.shape)
        extent = 0
        radius = getattr(self.model.spatial_model, "evaluation_radius", None)
        if radius is not None and np.isfinite(Angle(radius).deg):
            extent = int(np.ceil(Angle(radius).deg / _binsz(geom)))
        n_spatial = _odd(max(npix, 2 * extent + 1))
        image = self._spatial_image(geom, center, n_spatial)
        if psf is None:
            full = np.broadcast_to(image, (n_true,) + image.shape)
        else:
            full = signal.fftconvolve(image[None], psf, mode="full", axes=(-2, -1))
            full = np.clip(full, 0, None)
        cy, cx = full.shape[-2] // 2, full.shape[-1] // 2
        h = npix // 2
        out = np.zeros((n_true, npix, npix))
        # crop (or zero-pad) to the kernel footprint, centred
        y0, x0 = max(cy - h, 0), max(cx - h, 0)
        y1, x1 = min(cy + h + 1, full.shape[-2]), min(cx + h + 1, full.shape[-1])
        out[:, h - (cy - y0):h + (y1 - cy), h - (cx - x0):h + (x1 - cx)] = full[:, y0:y1, x0:x1]
        return out

    def _kernels(self, dataset, geom, pdf, exposure_center, flux):
        """Kernel per reco bin (n_reco, npix, npix), summing to the contained fraction."""
        binsz = _binsz(geom)
        axis_true = dataset.exposure.geom.axes["energy_true"]
        npix = self._kernel_npix(dataset, binsz, axis_true.center)
        true_kernels = self._true_kernels(dataset, geom, npix)
        weights = pdf * (flux * exposure_center)[:, None]  # (n_true, n_reco)
        norm = weights.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = np.where(norm > 0, weights / np.where(norm > 0, norm, 1.0), 0.0)
        return np.tensordot(weights, true_kernels, axes=(0, 0))

    # ------------------------------------------------------------------ inputs
    def _inputs(self, dataset, used):
        """counts, background, valid of the used reco bins (n_used, ny, nx), exposure, pdf, flux."""
        if dataset.exposure is None:
            raise ValueError(f"TSMapEstimator: dataset {dataset.name!r} has no exposure")
        geom = dataset.counts.geom
        valid = np.ones(geom.data_shape, bool)
        for name in ("mask_safe", "mask_fit"):
            m = getattr(dataset, name, None)
            if m is not None:
                valid &= np.asarray(m.data, dtype=bool)
        valid = valid[used]
        counts = float_data(dataset.counts)[used] * valid
        if getattr(dataset, "counts_off", None) is not None:
            # ON/OFF: the measured background alpha * n_off (not the profiled one) plus the models
            null = float_data(dataset.background) + float_data(dataset.npred_signal())
        else:
            null = float_data(dataset.npred())
        background = null[used] * valid
        exposure = float_data(dataset.exposure) * _exposure_scale(dataset.exposure)
        pdf = edisp_weights(dataset)
        flux = _model_flux(self.model, dataset)
        return counts, background, valid, exposure, pdf, flux

    def run(self, dataset):
        """TS maps of a `~gammalike.datasets.MapDataset`.

        The null hypothesis is the dataset's prediction: background (with its
        fitted norm) plus its sky models; for a `MapDatasetOnOff` the
        background is ``alpha * counts_off``.  Bins outside ``mask_safe &
        mask_fit`` are not used.

        Returns
        -------
        maps : `~gammalike.estimators.FluxMaps`
            ts, sqrt_ts, norm, norm_err (+ norm_errn, norm_errp, norm_ul if
            selected), npred_excess, stat, stat_null, niter, success; flux
            views through the test source's spectrum.
        """
        if getattr(dataset, "counts", None) is None:
            raise ValueError(f"TSMapEstimator: dataset {getattr(dataset, 'name', '')!r} has no counts")
        geom = dataset.counts.geom
        # groups of reco bins; without summing, the bins of a group are fitted jointly
        matrix, axis = energy_groups(geom.axes["energy"], self.energy_edges)
        used = np.flatnonzero(matrix.sum(axis=0) > 0)
        matrix = matrix[:, used]
        counts, background, valid, exposure, pdf, flux = self._inputs(dataset, used)
        ny, nx = geom.data_shape[-2:]
        iy, ix = ny // 2, nx // 2
        exposure_center = exposure[:, iy, ix]
        kernels = self._kernels(dataset, geom, pdf[:, used], exposure_center, flux)
        # source counts per used reco bin at the map centre: weights of the reco kernels in a group
        scale_center = (pdf[:, used] * (flux * exposure_center)[:, None]).sum(axis=0)
        factor = self.downsampling_factor or 1

        def group_inputs(g):
            sel = np.flatnonzero(matrix[g] > 0)
            weights = pdf[:, used[sel]] * flux[:, None]  # (n_true, n_sel)
            v = valid[sel]
            if self.sum_over_energy_groups:
                c = counts[sel].sum(axis=0)[None]
                b = background[sel].sum(axis=0)[None]
                if bool(np.all(v == v[:1])):
                    s = (np.tensordot(weights.sum(axis=1), exposure, axes=(0, 0)) * v[0])[None]
                else:
                    s = np.sum(np.tensordot(weights, exposure, axes=(0, 0)) * v, axis=0)[None]
                w_k = scale_center[sel] / max(scale_center[sel].sum(), 1e-300)
                k = np.tensordot(w_k, kernels[sel], axes=(0, 0))[None]
                v = v.any(axis=0)[None]
            else:
                c, b, k = counts[sel], background[sel], kernels[sel]
                s = np.tensordot(weights, exposure, axes=(0, 0)) * v
            if factor > 1:
                c, b, v, s = _downsample(c, b, v, s, factor)
                k = _downsample_kernel(k, factor)
            return c, b, v, s, k

        def fit_group(g):
            return fit_ts_images(*group_inputs(g), n_sigma=self.n_sigma, n_sigma_ul=self.n_sigma_ul,
                                 selection_optional=self.selection_optional, threshold=self.threshold)

        groups = range(matrix.shape[0])
        n_jobs = min(n_jobs_or_default(self.n_jobs), len(groups))
        if n_jobs > 1:
            # numpy releases the GIL in the heavy array operations: threads suffice, and
            # every group is computed by the same code as in the serial loop
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                results = list(progress_bar(pool.map(fit_group, groups), total=len(groups),
                                            desc="TS map energy groups"))
        else:
            results = [fit_group(g) for g in progress_bar(groups, desc="TS map energy groups")]
        for g, result in enumerate(results):
            log.debug("TS map group %d: %d pixels refitted with the whole footprint", g,
                      int(result["refit"].sum()))
        names = [k for k in results[0] if k != "refit"]
        image_geom = geom.to_image().to_cube([axis])
        maps = {}
        for name in names:
            data = np.stack([r[name] for r in results])
            if factor > 1:
                data = _upsample(data, factor, (ny, nx), order=0 if name in ("success", "niter") else 1)
            if name == "success":
                maps[name] = Map.from_geom(image_geom, data=data.astype(bool), dtype=bool)
            else:
                maps[name] = Map.from_geom(image_geom, data=data, dtype=float)
        meta = {"n_sigma": self.n_sigma, "n_sigma_ul": self.n_sigma_ul}
        return FluxMaps(maps, reference_model=self.model, meta=meta, gti=getattr(dataset, "gti", None))


def _model_flux(model, dataset):
    """Integral flux of the test source per true-energy bin of the exposure (cm-2 s-1)."""
    edges = dataset.exposure.geom.axes["energy_true"].edges.to_value("TeV")
    return spectral_flux(model.spectral_model, edges[:-1], edges[1:])


def _exposure_scale(exposure):
    unit = u.Unit(exposure.unit)
    return 1.0 if unit == u.dimensionless_unscaled else unit.to("cm2 s")


def _block_sum(data, factor):
    n, ny, nx = data.shape
    py, px = (-ny) % factor, (-nx) % factor
    data = np.pad(data, ((0, 0), (0, py), (0, px)))
    return data.reshape(n, (ny + py) // factor, factor, (nx + px) // factor, factor).sum(axis=(2, 4))


def _downsample(counts, background, valid, scale, factor):
    """Merge factor x factor pixels: counts and background summed per block, the source counts
    of a block the mean over its valid pixels, valid if any pixel is (pads the upper edges)."""
    n_valid = _block_sum(valid.astype(float), factor)
    scale = _block_sum(scale, factor) / np.maximum(n_valid, 1)
    return _block_sum(counts, factor), _block_sum(background, factor), n_valid > 0, scale


def _downsample_kernel(kernel, factor):
    """Kernel on factor x factor blocks for a source anywhere in the centre block.

    The fine kernel is placed at each of the ``factor**2`` fine positions of
    the centre block, summed over blocks, and the results averaged (odd size
    kept, centre block in the middle).
    """
    n, ky, kx = kernel.shape
    hy, hx = ky // 2, kx // 2
    by, bx = -(-(hy + factor) // factor), -(-(hx + factor) // factor)
    size_y, size_x = (2 * by + 1) * factor, (2 * bx + 1) * factor
    out = np.zeros((n, 2 * by + 1, 2 * bx + 1))
    for dy in range(factor):  # loop over the factor**2 sub-positions, not pixels
        for dx in range(factor):
            padded = np.zeros((n, size_y, size_x))
            py, px = by * factor + dy - hy, bx * factor + dx - hx
            padded[:, py:py + ky, px:px + kx] = kernel
            out += padded.reshape(n, 2 * by + 1, factor, 2 * bx + 1, factor).sum(axis=(2, 4))
    return out / factor ** 2


def _upsample(data, factor, shape, order=1):
    """Interpolate (n, my, mx) block maps back to (n, ny, nx) pixels (block centres as nodes)."""
    ny, nx = shape
    yy = (np.arange(ny) + 0.5) / factor - 0.5
    xx = (np.arange(nx) + 0.5) / factor - 0.5
    gy, gx = np.meshgrid(yy, xx, indexing="ij")
    out = np.empty((data.shape[0], ny, nx))
    for i in range(data.shape[0]):  # loop over energy groups
        plane = np.asarray(data[i], dtype=float)
        nan = ~np.isfinite(plane)
        filled = np.where(nan, 0.0, plane)
        out[i] = ndimage.map_coordinates(filled, [gy, gx], order=order, mode="nearest")
        if nan.any():
            near = ndimage.map_coordinates(nan.astype(float), [gy, gx], order=0, mode="nearest")
            out[i][near > 0] = np.nan
    return out
