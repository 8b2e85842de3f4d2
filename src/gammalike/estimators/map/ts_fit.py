"""The per-pixel amplitude fit behind `TSMapEstimator`, on all pixels at once.

Problem
-------
At every pixel ``p`` a source of norm ``x`` adds ``x * s[e, p] * k[e, o]``
predicted counts to the bin ``p + o`` of plane ``e`` (an energy bin or
group): ``s`` is the source's counts at norm 1 (exposure x spectrum x energy
dispersion at ``p``) and ``k`` the kernel (spatial model convolved with the
PSF, summing to the contained fraction).  The background ``b`` (everything
else the dataset predicts) is fixed and the Cash statistic of the counts
``c`` over the kernel footprint is minimised in ``x``.  With
``F(x) = (stat(0) - stat(x)) / 2`` and ``u = s k / b``::

    F(x) = sum_{bins with counts} c log(1 + x u) - x K,   K = sum_{valid bins} s k

(bins without counts only contribute ``-x s k``), ``TS = 2 F(x_best)``.

Norm bounds: as in the norm kernel, predictions of bins with counts must
stay positive (an open bound, ``x_min``).  In addition no valid bin without
counts may be predicted negative counts: the norm has a closed *floor*
``max -b / (s k)`` over those bins.  This is the norm kernel's answer with
``norm_min`` at the floor (there, Cash would clip such a prediction at zero
and F would have kinks); like the norm kernel, an error crossing not reached
above the floor is reported at the floor.

How it is computed without a loop over pixels
---------------------------------------------
The footprint is split in a *core* (offsets where the kernel exceeds
`CORE_FRACTION` of its peak) and a *halo*.

- Core: the bins with counts in the core of every pixel are listed once as
  flat (pixel, bin) pairs; their terms are summed exactly with ``bincount``
  at every step (a loop over kernel offsets builds the lists, never one over
  pixels).
- Halo: ``u`` is small there, so ``log(1 + x u)`` is replaced by its series;
  summed over the halo this is a polynomial in ``x`` whose coefficients are
  correlations of images with powers of the kernel::

      H_n(p) = sum_e s[e, p]^n  (c / b^n  correlated with  k_halo^n)(p)

  -- `N_TERMS` FFT correlations for the whole map.
- ``K`` and the null statistic are correlations too.

All pixels then take safeguarded Halley steps together (cubic convergence,
bracketed; about 2.4 steps per pixel on the two-source field), the problem
shrinking to the pixels still iterating.

The halo series is trusted at a pixel only where it is provably accurate at
the solution (and at the error / upper-limit crossings): the largest
``|x u|`` over the halo bins with counts (``rho``, bounded with maximum
filters) must stay below `RHO_MAX`, and the truncation error
``rho^(N+1) / ((N+1)(1-rho)) * sum c`` plus a bound of the FFT round-off
below `TOLERANCE`.  The pixels that fail (next to bright sources, a few %),
and those whose result lies below an upper bound of the halo's floor, are
fitted again with the whole footprint as exact pairs and the exact floor.

`fit_footprints_norm_kernel` does the same fit on dense gathered footprints
through the norm kernel (`gammalike.estimators.norm_kernel`): slow, and the
reference the tests check this module against.
"""
import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage

from ...stats import TRUNCATION_VALUE, cash
from ..norm_kernel import cash_term, estimate_norm

__all__ = ["fit_ts_images", "fit_footprints_norm_kernel", "N_TERMS", "TOLERANCE", "RHO_MAX",
           "CORE_FRACTION"]

#: Number of terms of the halo series.
N_TERMS = 14
#: Largest |x s k / b| over the halo bins with counts for the series to be used.
RHO_MAX = 0.35
#: Largest error on F = TS / 2 accepted from the series (truncation + round-off).
TOLERANCE = 1e-6
#: Kernel offsets above this fraction of the peak form the exactly summed core.
CORE_FRACTION = 0.1
_EPS_FFT = 1e-15
_MAX_ITER = 50


# ----------------------------------------------------------------------------- correlations
def _batched_correlate(images, kernels):
    """``out[i, p] = sum_o kernels[i, o] images[i, p + o]`` (zero outside), all i at once by FFT.

    The transform length only has to exceed ``n + k // 2`` on each axis for
    the wrapped-around terms to land in the zero padding; the kernels'
    transforms skip their empty rows (a pruned 2D FFT).
    """
    n, ny, nx = images.shape
    ky, kx = kernels.shape[-2:]
    hy, hx = ky // 2, kx // 2
    shape = (sp_fft.next_fast_len(ny + hy, real=True), sp_fft.next_fast_len(nx + hx, real=True))
    fi = sp_fft.rfft2(images, s=shape)
    # correlation = convolution with the flipped kernel, centred: its centre goes to index 0
    flipped = kernels[:, ::-1, ::-1]
    fk = sp_fft.rfft(flipped, n=shape[1], axis=-1)  # only the ky non-empty rows
    # shift the centre to index 0 (phase ramps) so that the output needs no offset
    phase_x = np.exp(2j * np.pi * hx * np.arange(fk.shape[-1]) / shape[1])
    fk = fk * phase_x
    fk = sp_fft.fft(fk, n=shape[0], axis=-2)
    phase_y = np.exp(2j * np.pi * hy * np.arange(shape[0]) / shape[0])
    fk = fk * phase_y[:, None]
    return sp_fft.irfft2(fi * fk, s=shape)[:, :ny, :nx]


def _max_correlate(weights, kernel):
    """Upper bound of ``max_o kernel[o] * weights[p + o]`` (non-negative inputs).

    The footprint is split into square rings (Chebyshev distance from the
    centre); on each ring the kernel is bounded by its largest value there or
    farther out, and the weights by a (separable, fast) maximum filter over
    the square enclosing the ring.  Exact for a kernel that decreases
    outwards, an upper bound always.
    """
    ky, kx = kernel.shape
    hy, hx = ky // 2, kx // 2
    h_max = max(hy, hx)
    oy, ox = np.mgrid[-hy:hy + 1, -hx:hx + 1]
    cheb = np.maximum(np.abs(oy), np.abs(ox))
    levels = [h for h in (0, 1, 2, 3, 5, 8, 12, 18, 27, 40) if h < h_max] + [h_max + 1]
    out = np.zeros(weights.shape)
    for lo, hi in zip(levels[:-1], levels[1:]):
        k_bound = float(kernel[cheb >= lo].max())
        if k_bound <= 0:
            break
        size = (2 * min(hi - 1, hy) + 1, 2 * min(hi - 1, hx) + 1)
        filtered = ndimage.maximum_filter(weights, size=size, mode="constant", cval=0.0)
        np.maximum(out, k_bound * filtered, out=out)
    return out


def _min_ratio(values, kernel):
    """Lower bound of ``min_o values[p + o] / kernel[o]`` over offsets with kernel > 0 (inf if none).

    Same square-ring decomposition as `_max_correlate`: on each ring the
    kernel is bounded by its largest value there or farther out.
    """
    ky, kx = kernel.shape
    hy, hx = ky // 2, kx // 2
    h_max = max(hy, hx)
    oy, ox = np.mgrid[-hy:hy + 1, -hx:hx + 1]
    cheb = np.maximum(np.abs(oy), np.abs(ox))
    levels = [h for h in (0, 1, 2, 3, 5, 8, 12, 18, 27, 40) if h < h_max] + [h_max + 1]
    out = np.full(values.shape, np.inf)
    for lo, hi in zip(levels[:-1], levels[1:]):
        k_bound = float(kernel[cheb >= lo].max())
        if k_bound <= 0:
            break
        size = (2 * min(hi - 1, hy) + 1, 2 * min(hi - 1, hx) + 1)
        filtered = ndimage.minimum_filter(values, size=size, mode="constant", cval=np.inf)
        np.minimum(out, filtered / k_bound, out=out)
    return out


# ----------------------------------------------------------------------------- the objective
class _Series:
    """The halo polynomial: coefficients of F, F', F'' in powers of x from moments (N, m)."""

    def __init__(self, moments):
        n_terms = moments.shape[0]
        n = np.arange(1, n_terms + 1)[:, None]
        sign = np.where(n % 2 == 1, 1.0, -1.0)
        self.c_f = sign * moments / n               # x^n,     n = 1..N
        self.c_d1 = sign * moments                  # x^(n-1), n = 1..N
        self.c_d2 = (sign * (n - 1) * moments)[1:]  # x^(n-2), n = 2..N
        self.c_d3 = (sign * (n - 1) * (n - 2) * moments)[2:]  # x^(n-3), n = 3..N
        self.n_terms = n_terms

    def subset(self, idx):
        new = object.__new__(_Series)
        new.c_f, new.c_d1, new.c_d2, new.c_d3 = (self.c_f[:, idx], self.c_d1[:, idx], self.c_d2[:, idx],
                                                 self.c_d3[:, idx])
        new.n_terms = self.n_terms
        return new

    def _powers(self, x):
        powers = np.empty((self.n_terms + 1, x.size))
        powers[0] = 1.0
        for n in range(1, self.n_terms + 1):
            np.multiply(powers[n - 1], x, out=powers[n])
        return powers

    def value(self, x):
        return np.einsum("nm,nm->m", self.c_f, self._powers(x)[1:])

    def derivatives(self, x, third=False):
        powers = self._powers(x)
        d1 = np.einsum("nm,nm->m", self.c_d1, powers[:-1])
        d2 = np.einsum("nm,nm->m", self.c_d2, powers[:-2])
        if not third:
            return d1, d2
        return d1, d2, np.einsum("nm,nm->m", self.c_d3, powers[:-3])


class _Problem:
    """F(x) of many pixels: exact (pixel, bin-with-counts) pairs plus an optional halo series.

    Parameters
    ----------
    pairs : tuple
        ``(rows, c, b, t)``: pixel index (0..n-1), counts, background and
        template ``s k`` of each pair.
    n : int
        Number of pixels.
    k_sum : `~numpy.ndarray`
        Linear term ``K`` per pixel.
    series : `_Series`, optional
        Halo polynomial per pixel.
    x_min : `~numpy.ndarray`, optional
        Open domain bound per pixel: predictions of the bins with counts
        vanish there (default -inf).
    x_floor : `~numpy.ndarray`, optional
        Closed lower bound per pixel: below it a bin without counts would be
        predicted negative counts (default -inf).  F is concave, so the
        bounded maximum is the free one clipped at the floor.
    """

    def __init__(self, pairs, n, k_sum, series=None, x_min=None, x_floor=None):
        self.rows, self.c, self.b, self.t = pairs
        self.n = n
        self.k_sum = k_sum
        self.series = series
        self._zero_bkg = bool(np.any(self.b <= 0))
        self.x_min = np.full(n, -np.inf) if x_min is None else x_min
        self.x_floor = np.full(n, -np.inf) if x_floor is None else x_floor
        self.has_counts = np.bincount(self.rows, minlength=n) > 0

    def derivatives(self, x, third=False):
        """First and second (and third if ``third``) derivatives of F at x (per pixel)."""
        mu = x[self.rows]
        mu *= self.t
        mu += self.b
        rt = self.c * self.t
        rt /= mu
        d1 = np.bincount(self.rows, weights=rt, minlength=self.n) - self.k_sum
        r2 = rt * rt
        r2 /= self.c
        d2 = -np.bincount(self.rows, weights=r2, minlength=self.n)
        if third:
            r2 *= rt
            r2 /= self.c
            d3 = 2 * np.bincount(self.rows, weights=r2, minlength=self.n)
        if self.series is not None:
            if third:
                s1, s2, s3 = self.series.derivatives(x, third=True)
                d3 = d3 + s3
            else:
                s1, s2 = self.series.derivatives(x)
            d1 = d1 + s1
            d2 = d2 + s2
        return (d1, d2, d3) if third else (d1, d2)

    def value(self, x):
        """F(x) = (stat(0) - stat(x)) / 2."""
        xt = x[self.rows] * self.t
        if self._zero_bkg:
            # counts on zero background: the Cash statistic truncates the prediction at 1e-25
            b = np.maximum(self.b, TRUNCATION_VALUE)
            terms = self.c * np.log(np.maximum(self.b + xt, TRUNCATION_VALUE) / b)
        else:
            terms = self.c * np.log1p(xt / self.b)
        f = np.bincount(self.rows, weights=terms, minlength=self.n) - x * self.k_sum
        if self.series is not None:
            f += self.series.value(x)
        return f

    def _restrict(self, keep):
        """The problem of the pixels ``keep`` (bool, shape (n,)) only: (problem, pair mask)."""
        pair_keep = keep[self.rows]
        new = object.__new__(_Problem)
        index = np.cumsum(keep) - 1  # new row number of each kept pixel
        new.rows = index[self.rows[pair_keep]]
        new.c, new.b, new.t = self.c[pair_keep], self.b[pair_keep], self.t[pair_keep]
        new.n = int(keep.sum())
        new.k_sum = self.k_sum[keep]
        new.series = None if self.series is None else self.series.subset(keep)
        new._zero_bkg = self._zero_bkg
        new.x_min = self.x_min[keep]
        new.has_counts = self.has_counts[keep]
        new.x_floor = self.x_floor[keep]
        return new

    def fit(self, x_start, tol=1e-3):
        """Safeguarded Halley / Newton maximum of the concave F: (x, F, F'', niter, success).

        A pixel stops when the squared Newton decrement ``lambda^2 = F'^2 / -F''``
        is below ``tol``; its last step is still applied.  ``-F`` is
        self-concordant (a sum of ``-c log(b + x t)`` with ``c >= 1`` plus
        linear terms), so even a plain Newton step leaves ``F`` within
        ``(lambda / (1 - lambda))^4 ~ tol^2`` of its maximum; the Halley step
        does better (TS within 1e-11 of a 1e-9 tolerance fit on the
        two-source field).  The problem shrinks to the pixels still iterating
        whenever they are fewer than half of it.
        """
        lo, hi = self.x_min.copy(), np.full(self.n, np.inf)
        # start inside the domain (lo < 0 unless counts sit on zero background)
        with np.errstate(invalid="ignore"):
            inner = np.where(lo < 0, 0.5 * lo, lo + 1.0 + np.abs(lo))
        x = np.where(x_start > lo, x_start, np.where(np.isfinite(lo), inner, 0.0))
        niter = np.zeros(self.n, int)
        active = self.has_counts.copy()
        sub, idx = self, np.arange(self.n)  # the shrinking problem and its pixels
        for _ in range(_MAX_ITER):
            xi = x[idx]
            d1, d2, d3 = sub.derivatives(xi, third=True)
            niter[idx] += 1
            lo_i = np.where(d1 > 0, xi, lo[idx])
            hi_i = np.where(d1 < 0, xi, hi[idx])
            lo[idx], hi[idx] = lo_i, hi_i
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                step = np.where(d2 < 0, -d1 / d2, np.nan)
                # Halley's correction (cubic convergence), only where it is a mild one
                halley = 1.0 + 0.5 * step * d3 / d2
                halley = np.where((halley > 0.5) & (halley < 2.0), halley, 1.0)
                new = xi + step / halley
                inside = (new > lo_i) & (new < hi_i)
                fallback = np.where(np.isfinite(hi_i), 0.5 * (lo_i + hi_i), xi + 2 * np.abs(xi - lo_i) + 1)
                decrement = d1 * step
                done = ((decrement < tol) & np.isfinite(step)) | (d1 == 0)
                done |= (hi_i - lo_i) <= 1e-12 * (1 + np.abs(xi))
                # a bracket end may equal x once converged: then the (tiny) step is skipped
                x[idx] = np.where(inside, new, np.where(done, xi, fallback))
            still = ~done
            active[idx[done]] = False
            if not still.any():
                break
            if still.sum() < 0.5 * idx.size:
                sub = sub._restrict(still)
                idx = idx[still]
        x = np.maximum(x, self.x_floor)  # concave F: the bounded maximum
        _, d2 = self.derivatives(x)
        f = self.value(x)
        success = self.has_counts & ~active
        return np.where(self.has_counts, x, np.nan), f, d2, niter, success

    def crossing(self, x_best, f_best, delta, direction, scale, rtol=1e-9):
        """x beyond x_best (direction +1 / -1) with F = f_best - delta / 2 (NaN if none).

        Safeguarded Newton on the concave ``g = F - target`` (monotonic on the
        search side), shrinking to the pixels still iterating as `fit` does.
        """
        target = f_best - 0.5 * delta
        if direction > 0:
            lo, hi = x_best.copy(), np.full(self.n, np.inf)
        else:
            lo, hi = self.x_min.copy(), x_best.copy()
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        x = x_best + direction * np.sqrt(delta) * scale
        if direction < 0:
            fallback = 0.5 * (np.where(np.isfinite(lo), lo, x_best - scale) + x_best)
            x = np.where((x > lo) & (x < hi), x, fallback)
        active = np.isfinite(x_best)
        if direction < 0:
            active &= ~(x_best <= self.x_floor)
        sub, idx = self._restrict(active), np.flatnonzero(active)
        for _ in range(_MAX_ITER):
            if idx.size == 0:
                break
            xi = x[idx]
            g = sub.value(xi) - target[idx]
            d1, _ = sub.derivatives(xi)
            beyond = g < 0
            lo_i, hi_i = lo[idx], hi[idx]
            if direction > 0:
                hi_i = np.where(beyond, xi, hi_i)
                lo_i = np.where(beyond, lo_i, xi)
            else:
                lo_i = np.where(beyond, xi, lo_i)
                hi_i = np.where(beyond, hi_i, xi)
            lo[idx], hi[idx] = lo_i, hi_i
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                new = xi - g / d1
                inside = (new > lo_i) & (new < hi_i)
                far = xi + direction * (2 * np.abs(xi - x_best[idx]) + scale[idx])
                fallback = np.where(np.isfinite(hi_i) & np.isfinite(lo_i), 0.5 * (lo_i + hi_i), far)
                done = np.abs(g) < rtol * max(delta, 1.0)
                if direction < 0:
                    # as the norm kernel: a crossing beyond the floor is reported at the floor
                    done |= (xi <= sub.x_floor) & ~beyond
            x[idx] = np.where(done, xi, np.where(inside, new, fallback))
            if direction < 0:
                x[idx] = np.maximum(x[idx], np.where(done, -np.inf, sub.x_floor))
            active[idx[done]] = False
            still = ~done
            if not still.any():
                break
            if still.sum() < 0.5 * idx.size:
                sub = sub._restrict(still)
                idx = idx[still]
        if direction < 0:
            x = np.where(x_best <= self.x_floor, np.nan, x)
        return np.where(active | ~np.isfinite(x_best), np.nan, x)


def _pairs(pixels, counts, background, scale, kernel, offsets_mask, zero_valid=None):
    """Pairs (rows, c, b, t) of the bins with counts at the selected kernel offsets of ``pixels``.

    Also returns ``x_min`` per pixel, the lowest norm keeping every prediction
    with counts positive (``max -b / t`` over the bins with counts), and, if
    ``zero_valid`` (bool, like ``counts``) is given, the floor ``max -b / t``
    over the valid bins without counts.

    Many pixels: the pairs are built from the list of bins with counts, one
    kernel offset at a time (a loop over offsets: a bin at ``q`` pairs with
    the pixel ``q - o``; within one offset every pixel appears at most once,
    so the per-pixel maxima are plain scatters).  Few pixels: the footprints
    are gathered by flat indices.
    """
    n_pl, ny, nx = counts.shape
    ky, kx = kernel.shape[-2:]
    hy, hx = ky // 2, kx // 2
    planes, oys, oxs = np.nonzero(offsets_mask)
    k_off = kernel[planes, oys, oxs]
    n_pix = pixels.size
    s_pix = scale.reshape(n_pl, -1)[:, pixels]  # (n_pl, n_pix)
    if n_pix > 0.3 * ny * nx:
        row_of = np.full(ny * nx, -1)
        row_of[pixels] = np.arange(n_pix)
        x_min = np.full(n_pix, -np.inf)
        floor = np.full(n_pix, -np.inf)
        parts = []
        lists = []
        for e in range(n_pl):  # loop over energy planes: the bins with (and without) counts
            by, bx = np.nonzero(counts[e] > 0)
            flat = by * nx + bx
            zy = zx = None
            if zero_valid is not None:
                zy, zx = np.nonzero(zero_valid[e] & ~(counts[e] > 0))
            lists.append((by, bx, counts[e].ravel()[flat], background[e].ravel()[flat], zy, zx,
                          None if zy is None else background[e].ravel()[zy * nx + zx]))
        for e, oy, ox, k in zip(planes, oys, oxs, k_off):  # loop over offsets, not pixels
            by, bx, c_bins, b_bins, zy, zx, b_zero = lists[e]
            # the pixel whose footprint has this bin at offset (oy - hy, ox - hx)
            py, px = by - (oy - hy), bx - (ox - hx)
            inside = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
            rows = row_of[(py * nx + px)[inside]]
            keep = rows >= 0
            rows = rows[keep]
            c_sel, b_sel = c_bins[inside][keep], b_bins[inside][keep]
            t = s_pix[e][rows] * k
            parts.append((rows, c_sel, b_sel, t))
            with np.errstate(divide="ignore", invalid="ignore"):
                x_min[rows] = np.maximum(x_min[rows], np.where(t > 0, -b_sel / t, -np.inf))
            if zy is not None:
                py, px = zy - (oy - hy), zx - (ox - hx)
                inside = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
                rows0 = row_of[(py * nx + px)[inside]]
                keep = rows0 >= 0
                rows0 = rows0[keep]
                t0 = s_pix[e][rows0] * k
                with np.errstate(divide="ignore", invalid="ignore"):
                    floor[rows0] = np.maximum(floor[rows0], np.where(t0 > 0, -b_zero[inside][keep] / t0, -np.inf))
        rows, c, b, t = (np.concatenate(v) for v in zip(*parts))
    else:
        big_y, big_x = ny + 2 * hy, nx + 2 * hx
        pad = ((0, 0), (hy, hy), (hx, hx))
        c_pad, b_pad = np.pad(counts, pad).ravel(), np.pad(background, pad).ravel()
        iy, ix = np.unravel_index(pixels, (ny, nx))
        base = iy * big_x + ix  # footprint corner of each pixel in a padded plane
        offsets = planes * big_y * big_x + oys * big_x + oxs
        index = offsets[:, None] + base[None, :]
        c_fp = c_pad[index]
        t_fp = s_pix[planes] * k_off[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(t_fp > 0, -b_pad[index] / t_fp, -np.inf)
        has = c_fp > 0
        x_min = np.where(has, bound, -np.inf).max(axis=0) if k_off.size else np.full(n_pix, -np.inf)
        if zero_valid is not None:
            zero_fp = np.pad(zero_valid, pad).ravel()[index] & ~has
            floor = np.where(zero_fp, bound, -np.inf).max(axis=0) if k_off.size else np.full(n_pix, -np.inf)
        cols, rows = np.nonzero(has)
        flat = index[cols, rows]
        c, b, t = c_pad[flat], b_pad[flat], t_fp[cols, rows]
    x_min = np.where(np.isnan(x_min), -np.inf, x_min)
    if zero_valid is not None:
        return (rows, c, b, t), x_min, np.where(np.isnan(floor), -np.inf, floor)
    return (rows, c, b, t), x_min


def _solve(problem, x_start, selection, n_sigma, n_sigma_ul):
    """Best fit, errors and upper limits of a `_Problem`: dict of arrays."""
    x, f, d2, niter, success = problem.fit(x_start)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm_err = np.sqrt(-1.0 / d2)
    out = {"norm": x, "f": f, "norm_err": norm_err, "niter": niter, "success": success}
    if "errn-errp" in selection:
        out["x_errn"] = problem.crossing(x, f, n_sigma ** 2, -1, norm_err)
        out["x_errp"] = problem.crossing(x, f, n_sigma ** 2, +1, norm_err)
    if "ul" in selection:
        out["x_ul"] = problem.crossing(x, f, n_sigma_ul ** 2, +1, norm_err)
    return out


def _series_error(x, r_halo, c_halo, fft_err, n_terms):
    """Bound on the error of the halo series at x (truncation + round-off)."""
    rho = np.abs(x) * r_halo
    with np.errstate(over="ignore", invalid="ignore"):
        trunc = rho ** (n_terms + 1) / ((n_terms + 1) * np.clip(1 - rho, 1e-12, None)) * c_halo
        orders = np.arange(1, n_terms + 1)[:, None]
        round_off = np.sum(np.abs(x)[None] ** orders * fft_err / orders, axis=0)
    error = trunc + round_off
    return np.where(np.isfinite(x), error, 0.0), rho


# ----------------------------------------------------------------------------- public
def fit_ts_images(counts, background, valid, scale, kernel, n_sigma=1, n_sigma_ul=2,
                  selection_optional=(), threshold=None, n_terms=N_TERMS):
    """Fit the norm of a kernel-shaped source at every pixel (see the module doc).

    Parameters
    ----------
    counts, background : `~numpy.ndarray`, shape (n_planes, ny, nx)
        Counts and fixed predicted counts (0 where not valid).
    valid : `~numpy.ndarray` of bool, shape (n_planes, ny, nx)
        Bins used in the statistic.
    scale : `~numpy.ndarray`, shape (n_planes, ny, nx)
        Source counts at norm 1 for a source on each pixel.
    kernel : `~numpy.ndarray`, shape (n_planes, ky, kx)
        Fraction of the source counts per footprint offset (odd, centred).
    n_sigma, n_sigma_ul : float
        Error width and upper-limit level.
    selection_optional : iterable of {"errn-errp", "ul"}
        Optional results.
    threshold : float, optional
        Pixels whose score-test TS estimate ``F'(0)^2 / -F''(0)`` is below it
        are not fitted (NaN).
    n_terms : int
        Terms of the halo series.

    Returns
    -------
    result : dict of `~numpy.ndarray` (ny, nx)
        norm, norm_err, ts, sqrt_ts, stat, stat_null, npred_excess, niter,
        success, and norm_errn, norm_errp, norm_ul if selected; "refit": the
        pixels fitted with the whole footprint.  NaN where not fitted.
    """
    counts = np.asarray(counts, dtype=np.float64)
    background = np.asarray(background, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    scale = np.asarray(scale, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    selection = set(selection_optional or ())
    n_pl, ny, nx = counts.shape
    counts = np.where(valid, counts, 0.0)
    background = np.where(valid, background, 0.0)
    support = kernel > 0
    peak = kernel.reshape(n_pl, -1).max(axis=1)[:, None, None]
    core = kernel >= CORE_FRACTION * peak
    halo_kernel = np.where(core, 0.0, kernel)

    # ---------------------------------------------------------------- correlations
    has_counts = counts > 0
    good_bkg = background > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(has_counts & good_bkg, 1.0 / np.where(good_bkg, background, 1.0), 0.0)
    # counts on zero background can only be summed exactly (in the core)
    bad_bins = (has_counts & ~good_bkg).astype(float)
    any_bad = bool(bad_bins.any())
    stat_bins = np.where(valid, cash(counts, np.where(valid, background, 1.0)), 0.0)
    images, kernels = [], []
    image, kpow = counts, np.ones_like(kernel)
    for _ in range(n_terms):
        image = image * w
        kpow = kpow * halo_kernel
        images.append(image)
        kernels.append(kpow)
    halo_support = (~core & support).astype(float)
    images += [valid.astype(float), stat_bins, counts] + ([bad_bins] if any_bad else [])
    kernels += [kernel, support.astype(float), halo_support] + ([halo_support] if any_bad else [])
    n_extra = len(images) - n_terms
    images = np.concatenate(images)
    kernels = np.concatenate(kernels)
    corr = _batched_correlate(images, kernels).reshape(n_terms + n_extra, n_pl, ny, nx)
    powers = np.cumprod(np.broadcast_to(scale, (n_terms,) + scale.shape), axis=0)
    moments = np.sum(powers * corr[:n_terms], axis=1).reshape(n_terms, -1)
    k_sum = np.sum(scale * corr[n_terms], axis=0).ravel()
    stat_null = np.sum(corr[n_terms + 1], axis=0).ravel()
    c_halo = np.clip(np.sum(corr[n_terms + 2], axis=0), 0, None).ravel()
    if any_bad:
        bad_halo = (np.sum(corr[n_terms + 3], axis=0) > 0.5).ravel()
    else:
        bad_halo = np.zeros(ny * nx, bool)
    # round-off bound of each moment: eps * |image|_2 * |kernel|_2 per plane (times s^n)
    norms_i = np.sqrt(np.sum(images.reshape(n_terms + n_extra, n_pl, -1)[:n_terms] ** 2, axis=-1))
    norms_k = np.sqrt(np.sum(kernels.reshape(n_terms + n_extra, n_pl, -1)[:n_terms] ** 2, axis=-1))
    fft_err = _EPS_FFT * np.sum(powers * (norms_i * norms_k)[:, :, None, None], axis=1).reshape(n_terms, -1)
    r_halo = np.zeros((ny, nx))
    for e in range(n_pl):  # loop over energy planes, not pixels
        r_halo = np.maximum(r_halo, scale[e] * _max_correlate(w[e], halo_kernel[e]))
    r_halo = r_halo.ravel()

    # The norm is bounded below where a valid bin without counts would be predicted
    # negative counts (the "floor"): exact over the core (from `_pairs`), and an upper
    # bound of the halo's floor from a minimum filter of b / k; pixels whose result
    # lies below that bound are refitted with the exact floor of the whole footprint.
    with np.errstate(divide="ignore", invalid="ignore"):
        zero_bins = np.where(valid & ~has_counts, background, np.inf)
        ratios = np.stack([_min_ratio(zero_bins[e], halo_kernel[e]) / scale[e] for e in range(n_pl)])
    floor_halo = np.where(np.isnan(ratios), np.inf, ratios).min(axis=0).ravel() * -1.0

    fitted = valid.any(axis=0).ravel() & (scale.sum(axis=0).ravel() > 0) & (k_sum > 0)
    pixels = np.flatnonzero(fitted)

    # ---------------------------------------------------------------- core pairs + halo series
    pairs, x_min, floor_core = _pairs(pixels, counts, background, scale, kernel, core & support,
                                      zero_valid=valid)
    series = _Series(moments[:, pixels])
    problem = _Problem(pairs, pixels.size, k_sum[pixels], series, x_min, floor_core)
    if threshold is not None:
        d1, d2 = problem.derivatives(np.zeros(pixels.size))
        with np.errstate(divide="ignore", invalid="ignore"):
            ts_score = np.where(d2 < 0, d1 ** 2 / -d2, 0.0)
        keep = ts_score >= threshold
        fitted[pixels[~keep]] = False
        pixels = pixels[keep]
        problem = problem._restrict(keep)
    # start: one Newton step from 0 is computed inside the fit
    res = _solve(problem, np.zeros(pixels.size), selection, n_sigma, n_sigma_ul)
    # is the halo series accurate at every point used, and the halo floor below them?
    ok = ~bad_halo[pixels]
    for key in ("norm", "x_errn", "x_errp", "x_ul"):
        if key in res:
            err, rho = _series_error(res[key], r_halo[pixels], c_halo[pixels], fft_err[:, pixels], n_terms)
            ok &= (rho < RHO_MAX) & (err < TOLERANCE)
            with np.errstate(invalid="ignore"):
                ok &= ~(res[key] <= floor_halo[pixels])
    if "x_errn" in res:
        # a lower crossing reported at the core floor may lie above the halo's floor
        ok &= ~(res["x_errn"] <= problem.x_floor)
    refit = pixels[~ok]
    if refit.size:
        pairs, x_min, floor = _pairs(refit, counts, background, scale, kernel, support, zero_valid=valid)
        full = _Problem(pairs, refit.size, k_sum[refit], x_min=x_min, x_floor=floor)
        res_full = _solve(full, res["norm"][~ok], selection, n_sigma, n_sigma_ul)
        for key, value in res_full.items():
            res[key][~ok] = value

    # ---------------------------------------------------------------- maps
    def to_image(values, fill=np.nan):
        out = np.full(ny * nx, fill)
        out[pixels] = values
        return out.reshape(ny, nx)

    norm = res["norm"]
    ts = 2 * res["f"]
    out = {
        "norm": to_image(norm),
        "norm_err": to_image(res["norm_err"]),
        "ts": to_image(ts),
        "niter": to_image(res["niter"].astype(float)),
        "success": to_image(res["success"], fill=False).astype(bool),
    }
    with np.errstate(invalid="ignore"):
        out["sqrt_ts"] = np.where(out["norm"] < 0, -1.0, 1.0) * np.sqrt(np.clip(out["ts"], 0, None))
    out["stat_null"] = to_image(stat_null[pixels])
    out["stat"] = out["stat_null"] - out["ts"]
    out["npred_excess"] = to_image(norm * k_sum[pixels])
    if "x_errn" in res:
        out["norm_errn"] = to_image(norm - res["x_errn"])
        out["norm_errp"] = to_image(res["x_errp"] - norm)
    if "x_ul" in res:
        out["norm_ul"] = to_image(res["x_ul"])
    refit_image = np.zeros(ny * nx, bool)
    refit_image[refit] = True
    out["refit"] = refit_image.reshape(ny, nx)
    return out


def fit_footprints_norm_kernel(pixels, counts, background, valid, scale, kernel, n_sigma=1, n_sigma_ul=2,
                               selection_optional=()):
    """The same fit on gathered dense footprints through the norm kernel (a slow cross-check).

    Parameters are those of `fit_ts_images` plus ``pixels`` (flat pixel
    indices); returns the dict of `~gammalike.estimators.norm_kernel.estimate_norm`.
    """
    n_pl, ny, nx = counts.shape
    ky, kx = kernel.shape[-2:]
    hy, hx = ky // 2, kx // 2
    iy, ix = np.unravel_index(pixels, (ny, nx))
    pad = ((0, 0), (hy, hy), (hx, hx))
    oy, ox = np.mgrid[0:ky, 0:kx]
    yy = iy[:, None] + oy.ravel()[None, :]
    xx = ix[:, None] + ox.ravel()[None, :]

    def gather(images):
        padded = np.pad(np.asarray(images, dtype=float), pad)
        return np.concatenate([padded[e][yy, xx] for e in range(n_pl)], axis=1)

    c, b = gather(counts), gather(background)
    m = gather(valid.astype(float)) > 0
    s = scale[:, iy, ix]
    t = np.concatenate([s[e][:, None] * kernel[e].ravel()[None, :] for e in range(n_pl)], axis=1)
    # the floor: no valid bin without counts predicted negative (see `fit_ts_images`)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(m & (c <= 0) & (t > 0), -b / t, -np.inf)
    norm_min = bound.max(axis=1)
    return estimate_norm(cash_term(c, t, background=b, mask=m), n_sigma=n_sigma, n_sigma_ul=n_sigma_ul,
                         selection_optional=sorted(selection_optional or ()), norm_min=norm_min)
