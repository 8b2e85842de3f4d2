"""Ring background: OFF counts from a ring around every pixel (-> `MapDatasetOnOff`).

For each pixel, ``counts_off`` is the sum of the counts in a ring around it,
``acceptance_off`` the sum of the background template in the same ring, both
outside the exclusion regions, and ``acceptance`` the background template of
the pixel, so ``alpha * counts_off`` is the template scaled to the ring
counts.  The ring sums are one FFT convolution per energy plane
(`scipy.signal.fftconvolve`), not loops over pixels.
"""
import logging

import numpy as np
from astropy.coordinates import Angle

from ..core import Maker

__all__ = ["RingBackgroundMaker", "AdaptiveRingBackgroundMaker"]

log = logging.getLogger(__name__)


def ring_kernel(r_in, r_out, binsz_x, binsz_y=None):
    """Binary ring kernel: 1 for pixels whose centre lies at ``r_in <= r < r_out`` (deg) from the centre pixel.

    ``binsz_x`` / ``binsz_y`` are the pixel sizes (deg); the kernel has odd
    sizes so that its centre is a pixel centre.
    """
    binsz_y = binsz_x if binsz_y is None else binsz_y
    nx = int(np.ceil(r_out / binsz_x))
    ny = int(np.ceil(r_out / binsz_y))
    y, x = np.mgrid[-ny:ny + 1, -nx:nx + 1].astype(float)
    r = np.hypot(x * binsz_x, y * binsz_y)
    return ((r >= r_in) & (r < r_out)).astype(float)


def _convolve_planes(data, kernel):
    """FFT convolution of every plane (last two axes) with ``kernel`` (mode "same")."""
    from scipy.signal import fftconvolve

    kernel = kernel.reshape((1,) * (data.ndim - 2) + kernel.shape)
    return fftconvolve(data, kernel, mode="same", axes=(-2, -1))


def _exclusion_image(exclusion_mask, dataset):
    from .fov import FoVBackgroundMaker

    return FoVBackgroundMaker(exclusion_mask=exclusion_mask).make_exclusion_mask(dataset)


def _pixel_sizes(geom):
    scales = geom.pixel_scales.deg
    return float(scales[0]), float(scales[1])


def _ring_sums(counts, background, kernel):
    """(counts_off, acceptance_off) ring sums; FFT round-off removed (counts are integers)."""
    counts_off = np.rint(np.clip(_convolve_planes(counts, kernel), 0, None))
    acceptance_off = np.clip(_convolve_planes(background, kernel), 0, None)
    # FFT noise far below the smallest template value
    tiny = 1e-10 * max(float(np.max(background)) if background.size else 0.0, 0.0) * kernel.sum()
    acceptance_off = np.where(acceptance_off > tiny, acceptance_off, 0.0)
    return counts_off, acceptance_off


def _on_off_dataset(dataset, counts_off, acceptance, acceptance_off):
    from ...datasets.map_onoff import MapDatasetOnOff

    geom = dataset.counts.geom
    from ...maps import Map

    return MapDatasetOnOff(
        counts=dataset.counts, counts_off=Map.from_geom(geom, data=counts_off.astype(np.float32), dtype=np.float32),
        acceptance=Map.from_geom(geom, data=acceptance, dtype=float),
        acceptance_off=Map.from_geom(geom, data=acceptance_off, dtype=float),
        exposure=dataset.exposure, psf=dataset.psf, edisp=dataset.edisp, mask_safe=dataset.mask_safe,
        mask_fit=dataset.mask_fit, gti=dataset.gti, meta_table=dataset.meta_table, name=dataset.name,
        meta=dict(dataset.meta),
    )


def _inputs(dataset, exclusion_mask):
    if dataset.background is None:
        raise ValueError(f"Ring background: dataset {dataset.name!r} has no background map")
    counts = np.asarray(dataset.counts.data, dtype=float)
    background = np.asarray(dataset.npred_background().data, dtype=float)
    mask = _exclusion_image(exclusion_mask, dataset)[None, :, :]
    if dataset.mask_safe is not None:
        mask = mask & np.asarray(dataset.mask_safe.data, dtype=bool)
    return counts, background, mask


class RingBackgroundMaker(Maker):
    """OFF counts in a ring around every pixel.

    Parameters
    ----------
    r_in : `~astropy.coordinates.Angle` or str
        Inner ring radius.
    width : `~astropy.coordinates.Angle` or str
        Ring width.
    exclusion_mask : `~gammalike.maps.WcsNDMap` of bool, optional
        True where pixels may enter the ring (False in exclusion regions).

    Examples
    --------
    >>> maker = RingBackgroundMaker(r_in="0.5 deg", width="0.3 deg", exclusion_mask=mask)  # doctest: +SKIP
    >>> dataset_on_off = maker.run(dataset.to_image())  # doctest: +SKIP
    """

    tag = "RingBackgroundMaker"

    def __init__(self, r_in, width, exclusion_mask=None):
        self.r_in = Angle(r_in)
        self.width = Angle(width)
        if self.r_in.deg < 0 or self.width.deg <= 0:
            raise ValueError(f"RingBackgroundMaker: need r_in >= 0 and width > 0, got {self.r_in}, {self.width}")
        self.exclusion_mask = exclusion_mask

    def kernel(self, geom):
        """Ring kernel (array of 0 / 1) on the pixel grid of ``geom``."""
        bx, by = _pixel_sizes(geom)
        r_out = self.r_in.deg + self.width.deg
        return ring_kernel(self.r_in.deg, r_out, bx, by)

    def run(self, dataset, observation=None):
        """`~gammalike.datasets.MapDatasetOnOff` with ring OFF counts.

        Parameters
        ----------
        dataset : `~gammalike.datasets.MapDataset`
            Dataset with counts and a background template (its background
            model's norm is applied).
        observation : ignored
        """
        counts, background, mask = _inputs(dataset, self.exclusion_mask)
        kernel = self.kernel(dataset.counts.geom)
        counts_off, acceptance_off = _ring_sums(counts * mask, background * mask, kernel)
        return _on_off_dataset(dataset, counts_off, background, acceptance_off)


class AdaptiveRingBackgroundMaker(Maker):
    """Ring background whose ring grows until ``alpha`` falls below a threshold.

    Rings are tried from ``r_in`` outwards in steps of ``stepsize`` up to
    ``r_out_max``: with ``method="fixed_width"`` the ring keeps its width and
    moves out, with ``method="fixed_r_in"`` it keeps ``r_in`` and widens.  Each
    pixel takes the first ring where ``acceptance / acceptance_off <=
    threshold_alpha`` (the last ring if none does).

    Parameters
    ----------
    r_in, width, r_out_max, stepsize : `~astropy.coordinates.Angle` or str
        Ring geometry.
    threshold_alpha : float
        Target maximum alpha.
    method : {"fixed_width", "fixed_r_in"}
        How the ring grows.
    exclusion_mask : `~gammalike.maps.WcsNDMap` of bool, optional
        True where pixels may enter the ring.
    """

    tag = "AdaptiveRingBackgroundMaker"

    def __init__(self, r_in="0.22 deg", width="0.1 deg", r_out_max="2 deg", stepsize="0.02 deg",
                 threshold_alpha=0.1, method="fixed_width", exclusion_mask=None):
        if method not in ("fixed_width", "fixed_r_in"):
            raise ValueError(f"AdaptiveRingBackgroundMaker: method must be 'fixed_width' or 'fixed_r_in', got {method!r}")
        self.r_in = Angle(r_in)
        self.width = Angle(width)
        self.r_out_max = Angle(r_out_max)
        self.stepsize = Angle(stepsize)
        if self.stepsize.deg <= 0 or self.width.deg <= 0:
            raise ValueError("AdaptiveRingBackgroundMaker: width and stepsize must be > 0")
        if self.r_out_max.deg < self.r_in.deg + self.width.deg:
            raise ValueError("AdaptiveRingBackgroundMaker: r_out_max must be >= r_in + width")
        self.threshold_alpha = float(threshold_alpha)
        self.method = method
        self.exclusion_mask = exclusion_mask

    def kernels(self, geom):
        """List of ring kernels, from the smallest ring outwards."""
        bx, by = _pixel_sizes(geom)
        n_steps = int(np.floor((self.r_out_max.deg - self.r_in.deg - self.width.deg) / self.stepsize.deg + 1e-9)) + 1
        kernels = []
        for k in range(n_steps):
            if self.method == "fixed_width":
                r_in = self.r_in.deg + k * self.stepsize.deg
                r_out = r_in + self.width.deg
            else:
                r_in = self.r_in.deg
                r_out = r_in + self.width.deg + k * self.stepsize.deg
            kernels.append(ring_kernel(r_in, r_out, bx, by))
        return kernels

    def run(self, dataset, observation=None):
        """`~gammalike.datasets.MapDatasetOnOff` with per-pixel adaptive ring OFF counts."""
        counts, background, mask = _inputs(dataset, self.exclusion_mask)
        counts_off = acceptance_off = None
        done = np.zeros(counts.shape, dtype=bool)
        for kernel in self.kernels(dataset.counts.geom):
            off_k, acc_off_k = _ring_sums(counts * mask, background * mask, kernel)
            if counts_off is None:
                counts_off, acceptance_off = off_k.copy(), acc_off_k.copy()
            take = ~done
            counts_off = np.where(take, off_k, counts_off)
            acceptance_off = np.where(take, acc_off_k, acceptance_off)
            with np.errstate(invalid="ignore", divide="ignore"):
                alpha = np.where(acc_off_k > 0, background / acc_off_k, np.inf)
            done |= alpha <= self.threshold_alpha
            if done.all():
                break
        return _on_off_dataset(dataset, counts_off, background, acceptance_off)
