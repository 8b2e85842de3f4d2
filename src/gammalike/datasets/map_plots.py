"""Plots of `MapDataset`: residual images and spectra, and the `peek` overview.

Residual definitions (``method``): "diff" = counts - npred, "diff/model" =
(counts - npred) / npred, "diff/sqrt(model)" = (counts - npred) / sqrt(npred).
Only safe bins enter; spatial residuals are summed over the safe energy
bins and smoothed before the ratio is taken.
"""
import numpy as np
from astropy import units as u

from ..maps import Map

__all__ = ["plot_residuals_spatial", "plot_residuals_spectral", "plot_residuals", "peek"]


def _residuals(counts, npred, method):
    from .map import _residuals as residuals

    return residuals(counts, npred, method)


def _masked(dataset, m):
    """Float copy of a map with the unsafe bins set to zero."""
    data = np.asarray(m.data, dtype=float)
    if dataset.mask_safe is not None:
        data = data * np.asarray(dataset.mask_safe.data, dtype=bool)
    return m._init_copy(data=data)


def plot_residuals_spatial(dataset, ax=None, method="diff", smooth_kernel="gauss", smooth_radius="0.1 deg",
                           **kwargs):
    """Smoothed residual image (summed over the safe energy bins); returns the WCS axes."""
    counts = _masked(dataset, dataset.counts).sum_over_axes(keepdims=False)
    npred = _masked(dataset, dataset.npred()).sum_over_axes(keepdims=False)
    if smooth_radius is not None:
        counts = counts.smooth(width=smooth_radius, kernel=smooth_kernel)
        npred = npred.smooth(width=smooth_radius, kernel=smooth_kernel)
    values = _residuals(np.asarray(counts.data), np.asarray(npred.data), method)
    image = dataset.mask_safe_image
    if image is not None:
        values = np.where(np.asarray(image.data, dtype=bool), values, np.nan)
    residual = counts._init_copy(data=values, unit="")
    if method == "diff":
        kwargs.setdefault("vmax", np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1)
    kwargs.setdefault("cmap", "coolwarm")
    if "vmax" in kwargs:
        kwargs.setdefault("vmin", -kwargs["vmax"])
    ax = residual.plot(ax=ax, add_cbar=True, **kwargs)
    ax.set_title(f"Residuals ({method})")
    return ax


def plot_residuals_spectral(dataset, ax=None, method="diff", region=None, **kwargs):
    """Residuals per reco-energy bin, summed in ``region`` (whole map if None); returns the axes."""
    import matplotlib.pyplot as plt

    counts_map = _masked(dataset, dataset.counts)
    npred_map = _masked(dataset, dataset.npred())
    if region is None:
        counts = np.asarray(counts_map.data).sum(axis=(-2, -1))
        npred = np.asarray(npred_map.data).sum(axis=(-2, -1))
    else:
        counts = np.asarray(counts_map.to_region_nd_map(region, func=np.sum).data).reshape(-1)
        npred = np.asarray(npred_map.to_region_nd_map(region, func=np.sum).data).reshape(-1)
    residuals = _residuals(counts, npred, method)
    with np.errstate(invalid="ignore", divide="ignore"):
        error = {"diff": np.sqrt(counts), "diff/model": np.sqrt(counts) / npred,
                 "diff/sqrt(model)": np.sqrt(counts / npred)}[method]
    if dataset.mask_safe is not None:
        safe = np.asarray(dataset.mask_safe.data, dtype=bool).any(axis=(-2, -1))
        residuals = np.where(safe, residuals, np.nan)
    ax = plt.gca() if ax is None else ax
    axis = dataset.energy_axis
    center = axis.center.to_value("TeV")
    edges = axis.edges.to_value("TeV")
    kwargs.setdefault("fmt", "o")
    kwargs.setdefault("color", "black")
    ax.errorbar(center, residuals, xerr=(center - edges[:-1], edges[1:] - center), yerr=error, **kwargs)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel(f"Energy [{u.TeV}]")
    ax.set_ylabel(f"Residuals ({method})")
    finite = residuals[np.isfinite(residuals)]
    if finite.size:
        ymax = 1.05 * np.nanmax(np.abs(finite) + np.nan_to_num(error[np.isfinite(residuals)]))
        if ymax > 0:
            ax.set_ylim(-ymax, ymax)
    return ax


def plot_residuals(dataset, ax_spatial=None, ax_spectral=None, kwargs_spatial=None, kwargs_spectral=None):
    """Spatial and spectral residuals side by side; returns ``(ax_spatial, ax_spectral)``."""
    import matplotlib.pyplot as plt

    if ax_spatial is None or ax_spectral is None:
        fig = plt.figure(figsize=(12, 4))
        if ax_spatial is None:
            ax_spatial = fig.add_subplot(1, 2, 1, projection=dataset.counts.geom.wcs)
        if ax_spectral is None:
            ax_spectral = fig.add_subplot(1, 2, 2)
    kwargs_spatial = dict(kwargs_spatial or {})
    kwargs_spectral = dict(kwargs_spectral or {})
    ax_spatial = plot_residuals_spatial(dataset, ax=ax_spatial, **kwargs_spatial)
    ax_spectral = plot_residuals_spectral(dataset, ax=ax_spectral, **kwargs_spectral)
    # show the spectral region on the image
    region = kwargs_spectral.get("region")
    if region is not None:
        try:
            pix = region.to_pixel(dataset.counts.geom.wcs)
            pix.plot(ax=ax_spatial, edgecolor="black", facecolor="none")
        except (AttributeError, ValueError, TypeError):
            pass
    return ax_spatial, ax_spectral


def _peek_image(dataset, m, reco=True):
    """Image of ``m``: reco-energy maps summed over the safe bins, NaN (drawn
    blank) outside the safe image so that unsafe pixels do not set the colour
    scale; true-energy maps (exposure) averaged over energy."""
    data = np.asarray(m.data, dtype=float)
    if reco and dataset.mask_safe is not None:
        data = data * np.asarray(dataset.mask_safe.data, dtype=bool)
    spectral_axes = tuple(range(data.ndim - 2))
    if spectral_axes:
        data = data.sum(axis=spectral_axes) if reco else data.mean(axis=spectral_axes)
    safe = dataset.mask_safe_image
    if safe is not None and reco:
        data = np.where(np.asarray(safe.data, dtype=bool).reshape(data.shape), data, np.nan)
    return Map.from_geom(m.geom.to_image(), data=data, unit=m.unit)


def peek(dataset, figsize=(12, 10)):
    """Counts, excess, exposure and background images in a 2x2 figure.

    Counts, excess and background are summed over the reco-energy bins (safe
    bins only; pixels without any safe bin are left blank), the exposure is
    the mean over true energy.  Counts and excess use a sqrt stretch, exposure
    and background a linear one over the range of the safe pixels.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    wcs = dataset.counts.geom.wcs
    exposure_unit = "" if dataset.exposure is None else dataset.exposure.unit.to_string("latex_inline")
    panels = [
        ("Counts", dataset.counts, True, "sqrt", "Counts"),
        ("Excess counts", dataset.excess, True, "sqrt", "Excess counts"),
        ("Exposure", dataset.exposure, False, "linear",
         f"Mean exposure over true energy [{exposure_unit}]"),
        ("Background", dataset.background, True, "linear", "Background counts"),
    ]
    axes = []
    for idx, (title, m, reco, stretch, label) in enumerate(panels):
        ax = fig.add_subplot(2, 2, idx + 1, projection=wcs)
        if m is not None:
            image = _peek_image(dataset, m, reco)
            image.plot(ax=ax, add_cbar=True, stretch=stretch, kwargs_colorbar={"label": label})
        else:
            ax.text(0.5, 0.5, f"no {title.lower()}", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title)
        axes.append(ax)
    # the colour bars reserve room for their labels inside each panel
    fig.subplots_adjust(wspace=0.2, hspace=0.15)
    return axes
