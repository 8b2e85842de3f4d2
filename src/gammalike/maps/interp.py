"""Vectorised interpolation of map data at fractional pixel positions."""
import itertools

import numpy as np

__all__ = ["interp_data_by_pix"]

_TINY = np.finfo(float).tiny


def _scale(values, scale):
    if scale == "log":
        return np.log(np.clip(values, _TINY, None))
    if scale == "sqrt":
        return np.sqrt(np.clip(values, 0, None))
    if scale == "lin":
        return values
    raise ValueError(f"Unknown values_scale {scale!r}, expected 'lin', 'log' or 'sqrt'")


def _inverse_scale(values, scale):
    if scale == "log":
        out = np.exp(values)
        return np.where(out <= _TINY * 1.0001, 0.0, out)
    if scale == "sqrt":
        return np.square(values)
    return values


def interp_data_by_pix(data, pix, method="linear", fill_value=None, values_scale="lin"):
    """Interpolate an ndarray at fractional pixel positions.

    Pixel ``i`` is the centre of element ``i``; a point is inside the data if
    ``-0.5 <= p <= n - 0.5`` on every axis.

    Parameters
    ----------
    data : `~numpy.ndarray`
        Values.
    pix : list of array-like
        Pixel coordinates in data-axis order (one array per dimension, broadcastable).
    method : {"linear", "nearest"}
        Multilinear interpolation between pixel centres (extrapolated linearly
        in the outer half pixels) or nearest pixel.
    fill_value : float or None
        Value for points outside the data; None extrapolates (linear) or clips (nearest).
    values_scale : {"lin", "log", "sqrt"}
        Interpolate the values in this scale.

    Returns
    -------
    values : `~numpy.ndarray`
        Interpolated values, broadcast shape of ``pix``.
    """
    if len(pix) != data.ndim:
        raise ValueError(f"interp: got {len(pix)} pixel coordinates for {data.ndim}-dim data")
    pix = np.broadcast_arrays(*[np.asarray(p, dtype=float) for p in pix])
    shape = pix[0].shape if pix else ()
    outside = np.zeros(shape, dtype=bool)
    for p, n in zip(pix, data.shape):
        with np.errstate(invalid="ignore"):
            outside |= ~((p >= -0.5 - 1e-9) & (p <= n - 0.5 + 1e-9))

    if method == "nearest":
        idx = []
        for p, n in zip(pix, data.shape):
            i = np.floor(np.nan_to_num(p, nan=0.0) + 0.5).astype(int)
            idx.append(np.clip(i, 0, n - 1))
        values = data[tuple(idx)]
        if fill_value is not None:
            values = values.astype(np.result_type(values.dtype, float))
            values[outside] = fill_value
        return values
    if method != "linear":
        raise ValueError(f"interp: unknown method {method!r}, expected 'linear' or 'nearest'")

    values_data = _scale(np.asarray(data, dtype=float), values_scale)
    lower, weights, dims = [], [], []
    for d, (p, n) in enumerate(zip(pix, data.shape)):
        if n == 1:
            lower.append(np.zeros(shape, dtype=int))
            weights.append(None)
            continue
        p = np.nan_to_num(p, nan=0.0)
        i0 = np.clip(np.floor(p).astype(int), 0, n - 2)
        lower.append(i0)
        weights.append(p - i0)
        dims.append(d)

    result = np.zeros(shape, dtype=float)
    for corner in itertools.product((0, 1), repeat=len(dims)):
        idx = list(lower)
        w = np.ones(shape, dtype=float)
        for d, c in zip(dims, corner):
            idx[d] = lower[d] + c
            w = w * (weights[d] if c else 1.0 - weights[d])
        corner_values = values_data[tuple(idx)]
        # avoid 0 * inf = nan for log-scaled zeros when the weight is exactly 0
        result += np.where(w == 0, 0.0, w * corner_values)
    result = _inverse_scale(result, values_scale)
    nan_pix = np.zeros(shape, dtype=bool)
    for p in pix:
        nan_pix |= np.isnan(p)
    result[nan_pix] = np.nan
    if fill_value is not None:
        result[outside & ~nan_pix] = fill_value
    return result
