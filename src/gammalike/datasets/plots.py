"""Plots of spectrum datasets (counts, excess, residuals, masks, fit summary).

Plain matplotlib on the datasets' float arrays; reco energy on a log x axis in TeV.
"""
import numpy as np

__all__ = [
    "plot_counts",
    "plot_excess",
    "plot_fit",
    "plot_masks",
    "plot_residuals_spectral",
    "peek",
]


def _values(m):
    return np.asarray(m.data).reshape(-1)


def _energy(dataset):
    axis = dataset.energy_axis
    edges = axis.edges.to_value("TeV")
    center = axis.center.to_value("TeV")
    return edges, center


def _gca(ax):
    import matplotlib.pyplot as plt

    return plt.gca() if ax is None else ax


def _format_energy_axis(ax, edges):
    ax.set_xscale("log")
    ax.set_xlabel("Energy [TeV]")
    ax.set_xlim(edges[0], edges[-1])


def _hist(ax, edges, values, **kwargs):
    """Step histogram of per-bin values."""
    return ax.stairs(values, edges, **kwargs)


def plot_counts(dataset, ax=None, kwargs_counts=None, kwargs_background=None, **kwargs):
    """Counts and background per reco-energy bin."""
    ax = _gca(ax)
    edges, _ = _energy(dataset)
    kwargs_counts = {"label": "Counts", **kwargs, **(kwargs_counts or {})}
    _hist(ax, edges, _values(dataset.counts), **kwargs_counts)
    background = dataset.background
    if background is not None:
        kwargs_background = {"label": "Background", "linestyle": "--", **kwargs, **(kwargs_background or {})}
        _hist(ax, edges, _values(background), **kwargs_background)
    _format_energy_axis(ax, edges)
    ax.set_ylabel("Counts")
    ax.legend(numpoints=1)
    return ax


def plot_excess(dataset, ax=None, kwargs_excess=None, kwargs_npred_signal=None, **kwargs):
    """Excess (counts minus background) with Poisson errors, and the predicted signal."""
    ax = _gca(ax)
    edges, center = _energy(dataset)
    counts = _values(dataset.counts)
    background = dataset.background
    bkg = _values(background) if background is not None else np.zeros_like(counts)
    excess = counts - bkg
    # error of counts - alpha * n_off: sqrt(n_on + alpha^2 n_off)
    alpha = _values(dataset.alpha) if hasattr(dataset, "alpha") and dataset.counts_off is not None else 0.0
    error = np.sqrt(counts + alpha * bkg)
    kwargs_excess = {"label": "Excess counts", "fmt": ".", "color": "black", **kwargs, **(kwargs_excess or {})}
    ax.errorbar(center, excess, yerr=error, xerr=(center - edges[:-1], edges[1:] - center), **kwargs_excess)
    kwargs_npred_signal = {"label": "Predicted signal counts", **kwargs, **(kwargs_npred_signal or {})}
    _hist(ax, edges, _values(dataset.npred_signal()), **kwargs_npred_signal)
    _format_energy_axis(ax, edges)
    ax.set_ylabel("Excess counts")
    ax.legend(numpoints=1)
    return ax


def plot_residuals_spectral(dataset, ax=None, method="diff", **kwargs):
    """Residuals per reco-energy bin with their errors."""
    ax = _gca(ax)
    edges, center = _energy(dataset)
    counts = _values(dataset.counts)
    npred = _values(dataset.npred())
    residuals = _values(dataset.residuals(method=method))
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "diff":
            yerr = np.sqrt(counts)
        elif method == "diff/sqrt(model)":
            yerr = np.ones_like(residuals)
        else:
            yerr = np.sqrt(counts) / npred
    mask = dataset.mask_safe
    if mask is not None:
        sel = _values(mask).astype(bool)
        residuals = np.where(sel, residuals, np.nan)
    kwargs = {"color": "black", "fmt": ".", **kwargs}
    ax.errorbar(center, residuals, yerr=yerr, xerr=(center - edges[:-1], edges[1:] - center), **kwargs)
    ax.axhline(0, color=kwargs["color"], lw=0.5)
    _format_energy_axis(ax, edges)
    label = {"diff": "Residuals (data - model)", "diff/model": "Residuals (data - model) / model",
             "diff/sqrt(model)": "Residuals (data - model) / sqrt(model)"}[method]
    ax.set_ylabel(label)
    finite = np.isfinite(residuals + yerr)
    if finite.any():
        ymax = 1.05 * np.nanmax(np.abs(residuals[finite]) + yerr[finite])
        if ymax > 0:
            ax.set_ylim(-ymax, ymax)
    return ax


def plot_fit(dataset, ax_spectrum=None, ax_residuals=None, kwargs_spectrum=None, kwargs_residuals=None):
    """Excess and predicted signal on top, residuals below; returns (ax_spectrum, ax_residuals)."""
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    if ax_spectrum is None or ax_residuals is None:
        fig = plt.figure(figsize=(9, 7))
        grid = GridSpec(7, 1, figure=fig)
        ax_spectrum = fig.add_subplot(grid[:5, 0])
        ax_residuals = fig.add_subplot(grid[5:, 0], sharex=ax_spectrum)
    plot_excess(dataset, ax=ax_spectrum, **(kwargs_spectrum or {}))
    # the residuals panel below carries the energy axis; the label is hidden
    # (not just emptied) so that later calls such as plot_masks(ax=ax_spectrum)
    # setting it again do not draw it under the residuals' panel
    ax_spectrum.xaxis.label.set_visible(False)
    ax_spectrum.tick_params(axis="x", which="both", labelbottom=False)
    plot_residuals_spectral(dataset, ax=ax_residuals, **(kwargs_residuals or {}))
    return ax_spectrum, ax_residuals


def _true_ranges(mask):
    """(start, stop) index pairs of the runs of True values."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    diff = np.diff(padded)
    return list(zip(np.nonzero(diff == 1)[0], np.nonzero(diff == -1)[0]))


def plot_masks(dataset, ax=None, kwargs_fit=None, kwargs_safe=None):
    """Shade the reco-energy ranges where mask_safe / mask_fit are True."""
    ax = _gca(ax)
    edges, _ = _energy(dataset)
    kwargs_fit = {"label": "Mask fit", "color": "tab:green", "alpha": 0.2, "hatch": "\\\\", **(kwargs_fit or {})}
    kwargs_safe = {"label": "Mask safe", "color": "black", "alpha": 0.1, **(kwargs_safe or {})}
    for mask, kwargs in ((dataset.mask_fit, kwargs_fit), (dataset.mask_safe, kwargs_safe)):
        if mask is None:
            continue
        for idx, (start, stop) in enumerate(_true_ranges(_values(mask).astype(bool))):
            kw = dict(kwargs)
            if idx > 0:
                kw.pop("label", None)
            ax.axvspan(edges[start], edges[stop], **kw)
    _format_energy_axis(ax, edges)
    ax.legend()
    return ax


def peek(dataset, figsize=(16, 4)):
    """Counts / excess, exposure and energy dispersion of a dataset."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=figsize)
    ax = axes[0]
    ax.set_title("Counts")
    plot_counts(dataset, ax=ax)
    plot_masks(dataset, ax=ax)

    ax = axes[1]
    ax.set_title("Exposure")
    if dataset.exposure is not None:
        edges = dataset.energy_axis_true.edges.to_value("TeV")
        _hist(ax, edges, _values(dataset.exposure))
        ax.set_xscale("log")
        ax.set_xlabel("True energy [TeV]")
        ax.set_ylabel(f"Exposure [{dataset.exposure.unit}]")

    ax = axes[2]
    ax.set_title("Energy dispersion")
    if dataset.edisp is not None:
        dataset.edisp.plot_matrix(ax=ax, add_cbar=True)
    plt.tight_layout()
    return axes
