"""The figures of the HTML report (`gammalike.visualization.report`).

Each ``*_figure`` function builds one `matplotlib.figure.Figure` without
pyplot (no global figure registry, no interactive backend: the figures are
rendered with the Agg canvas by `figure_to_png`), with labelled axes, units
and colour bars. The functions only read the objects they are given.
"""
import base64
import io
import sys

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

__all__ = [
    "new_figure",
    "figure_to_png",
    "figure_to_base64",
    "close_figure",
    "map_style",
    "sky_map_figure",
    "dataset_images",
    "spectrum_counts_figure",
    "sed_figure",
    "residuals_map_figure",
    "residual_significance_image",
    "residuals_spectrum_figure",
    "light_curve_figure",
    "correlation_figure",
]

#: Resolution of the embedded PNGs (a 7 inch wide figure is 700 pixels).
DPI = 100

#: Diverging colour map for signed quantities (excess, significance, residuals): white at zero.
CMAP_SIGNED = "RdBu_r"
#: Sequential colour map for positive quantities (counts, flux, exposure).
CMAP_POSITIVE = "viridis"


# ----------------------------------------------------------------------------- rendering
def new_figure(figsize=(7, 5)):
    """A `~matplotlib.figure.Figure` attached to an Agg canvas (not registered with pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def close_figure(fig):
    """Release ``fig``: close it in pyplot if pyplot manages it (figures of the caller)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)  # no-op for figures pyplot does not manage
    fig.clf()


def figure_to_png(fig, dpi=DPI):
    """PNG bytes of ``fig`` rendered with the Agg canvas (the figure is left open)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def figure_to_base64(fig, dpi=DPI, close=True):
    """Base64 text of the PNG of ``fig``; the figure is closed afterwards unless ``close=False``."""
    try:
        return base64.b64encode(figure_to_png(fig, dpi=dpi)).decode("ascii")
    finally:
        if close:
            close_figure(fig)


# ----------------------------------------------------------------------------- sky maps
def _image(m, additive):
    """2D float image of a map: summed (additive quantities) or the single bin of its non-spatial axes."""
    data = np.asarray(m.data, dtype=float)
    if data.ndim > 2:
        if additive:
            data = np.nansum(data.reshape((-1,) + data.shape[-2:]), axis=0)
        else:
            flat = data.reshape((-1,) + data.shape[-2:])
            if flat.shape[0] != 1:
                raise ValueError(
                    f"report: the map has {flat.shape[0]} non-spatial bins; give a 2D image "
                    "(e.g. an estimator run with one energy group) for a non-additive quantity"
                )
            data = flat[0]
    return data


def _energy_label(m):
    axes = getattr(m.geom, "axes", [])
    for axis in axes:
        if axis.name in ("energy", "energy_true"):
            lo, hi = axis.edges[0].to_value("TeV"), axis.edges[-1].to_value("TeV")
            return f"{lo:.3g} – {hi:.3g} TeV"
    return None


def map_style(name, m):
    """Default plot style of a report map from its name: colour map, stretch, symmetry, label.

    Returns
    -------
    style : dict
        ``cmap``, ``stretch`` ("linear" or "sqrt"), ``symmetric`` (colour
        scale centred on zero), ``additive`` (sum over energy bins),
        ``label`` (colour-bar label with unit) and ``smooth`` (None).
    """
    key = name.lower()
    unit = m.unit.to_string() if m.unit != u.dimensionless_unscaled else ""
    style = dict(cmap=CMAP_POSITIVE, stretch="linear", symmetric=False, additive=True, smooth=None,
                 label=f"{name} [{unit}]" if unit else name, vmax=None)
    if any(word in key for word in ("sig", "sqrt_ts", "ts map", "ts_map", "tsmap")):
        style.update(cmap=CMAP_SIGNED, symmetric=True, additive=False,
                     label="Significance [σ]" if "sig" in key else "√TS [σ]")
    elif key in ("ts",) or key.endswith(" ts"):
        style.update(additive=False, label="TS")
    elif "excess" in key or "resid" in key:
        style.update(cmap=CMAP_SIGNED, symmetric=True, label=f"Excess counts{f' [{unit}]' if unit else ''}")
    elif "counts" in key or "npred" in key or "background" in key:
        style.update(stretch="sqrt", label=f"Counts{f' [{unit}]' if unit else ''}")
    elif "flux" in key or "exposure" in key:
        style.update(additive="flux" not in key)
    return style


def _marker_positions(models):
    """(name, SkyCoord) of every model with a sky position."""
    out = []
    for model in models or []:
        spatial = getattr(model, "spatial_model", None)
        if spatial is None:
            continue
        try:
            position = spatial.position
        except (AttributeError, NotImplementedError, ValueError):
            continue
        if isinstance(position, SkyCoord):
            out.append((model.name, position))
    return out


def _mark_sources(ax, geom, models):
    """Open circles and labels at the model positions inside the image."""
    ny, nx = geom.data_shape[-2:]
    for name, position in _marker_positions(models):
        try:
            x, y = position.to_pixel(geom.wcs)
        except (ValueError, TypeError):
            continue
        x, y = float(x), float(y)
        if not (-0.5 <= x <= nx - 0.5 and -0.5 <= y <= ny - 0.5):
            continue
        # open circles: the source itself stays visible
        ax.plot(x, y, marker="o", ms=22, mew=2.4, mfc="none", color="black")
        ax.plot(x, y, marker="o", ms=22, mew=1.2, mfc="none", color="white")
        text = ax.text(x + 0.045 * nx, y + 0.035 * ny, name, color="black", fontsize=9)
        try:
            from matplotlib import patheffects

            text.set_path_effects([patheffects.withStroke(linewidth=2.5, foreground="white")])
        except ImportError:  # pragma: no cover
            pass


def sky_map_figure(name, m, models=None, title=None, style=None, figsize=(6.4, 5.2)):
    """One sky image (WCS axes, colour bar with label, model positions marked).

    Parameters
    ----------
    name : str
        Name of the quantity (sets the default style, see `map_style`).
    m : `~gammalike.maps.WcsNDMap`
        Map; non-spatial axes are summed for additive quantities.
    models : iterable of models, optional
        Sky models whose positions are marked.
    title : str, optional
        Panel title (default: ``name`` and the energy range).
    style : dict, optional
        Overrides of `map_style` (``cmap``, ``stretch``, ``symmetric``,
        ``additive``, ``label``, ``smooth`` (angle), ``vmax``).
    """
    merged = map_style(name, m)
    merged.update(style or {})
    data = _image(m, merged["additive"])
    image = m.geom.to_image() if hasattr(m.geom, "to_image") else m.geom
    if merged.get("smooth") is not None:
        from ..maps import Map

        smooth = Map.from_geom(image, data=np.nan_to_num(data), unit=m.unit).smooth(
            width=merged["smooth"], kernel="gauss")
        data = np.where(np.isfinite(data), np.asarray(smooth.data, dtype=float), np.nan)
    fig = new_figure(figsize)
    ax = fig.add_subplot(projection=image.wcs)
    norm, extend = _image_norm(data, merged)
    cmap = _cmap_with_bad(merged["cmap"])
    im = ax.imshow(np.ma.masked_invalid(data), origin="lower", interpolation="nearest", cmap=cmap, norm=norm)
    cbar = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.05, extend=extend)
    _plain_ticks(cbar, norm)
    cbar.set_label(merged["label"])
    _format_sky_axes(ax, image)
    _mark_sources(ax, image, models)
    energy = _energy_label(m)
    ax.set_title(title or (f"{name} ({energy})" if energy else name))
    return fig


def _robust_sigma(values):
    """Noise level of an image: 1.4826 x the median absolute deviation."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values)))) if values.size else 0.0


def _image_norm(data, style):
    """Colour normalisation and colour-bar ``extend`` of an image.

    Signed quantities get a symmetric scale, white at zero, linear within
    ``linthresh`` (5 for significances, else three times the noise level)
    and logarithmic beyond when the peak is far above it, so that a bright
    source does not wash out a faint one. Positive quantities are clipped at
    the 99.8th percentile when the brightest pixels are far above it.
    """
    from astropy.visualization import ImageNormalize, LinearStretch, SqrtStretch
    from matplotlib.colors import Normalize, SymLogNorm

    finite = data[np.isfinite(data)]
    if style["symmetric"]:
        vmax = style.get("vmax") or (float(np.max(np.abs(finite))) if finite.size else 1.0)
        vmax = vmax if vmax > 0 else 1.0
        linthresh = style.get("linthresh")
        if linthresh is None:
            significance = "σ" in style["label"]
            linthresh = 5.0 if significance else 3 * _robust_sigma(finite)
        if linthresh > 0 and vmax > 4 * linthresh:
            return SymLogNorm(linthresh=linthresh, linscale=1.0, vmin=-vmax, vmax=vmax, base=10), "neither"
        return Normalize(vmin=-vmax, vmax=vmax), "neither"
    vmin = float(finite.min()) if finite.size else 0.0
    extend = "neither"
    if style.get("vmax"):
        vmax = float(style["vmax"])
    elif finite.size:
        vmax = float(finite.max())
        clip = float(np.percentile(finite, 99.8))
        if clip > vmin and vmax > 2 * clip:
            vmax, extend = clip, "max"
    else:
        vmax = 1.0
    if style["stretch"] == "sqrt":
        vmin = max(vmin, 0.0)
    if vmax <= vmin:
        vmax = vmin + 1.0
    stretch = SqrtStretch() if style["stretch"] == "sqrt" else LinearStretch()
    return ImageNormalize(vmin=vmin, vmax=vmax, stretch=stretch, clip=False), extend


def _plain_ticks(cbar, norm):
    """Colour-bar ticks as plain numbers (0, ±linthresh, ±1, 10, 100 ... on a symmetric-log scale)."""
    from matplotlib.colors import SymLogNorm
    from matplotlib.ticker import FuncFormatter

    if isinstance(norm, SymLogNorm):
        linthresh, vmax = float(norm.linthresh), float(norm.vmax)
        values = [linthresh] + [10.0**k for k in range(-3, 6) if linthresh < 10.0**k <= vmax]
        # keep ticks at least a factor 2 apart from the linear threshold
        values = [linthresh] + [v for v in values[1:] if v >= 2 * linthresh]
        ticks = sorted({0.0, *values, *(-v for v in values)})
        cbar.set_ticks(ticks)
    cbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    cbar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))


def _cmap_with_bad(name):
    """Copy of a colour map drawing NaN (masked / outside the safe region) in light grey."""
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad="0.85")


def _format_sky_axes(ax, geom):
    frame = getattr(geom, "frame", "icrs")
    labels = ("Galactic longitude", "Galactic latitude") if frame == "galactic" else (
        "Right ascension", "Declination")
    ax.coords[0].set_axislabel(labels[0])
    ax.coords[1].set_axislabel(labels[1])
    ax.coords[0].set_major_formatter("d.d")
    ax.coords[1].set_major_formatter("d.d")
    ny, nx = geom.data_shape[-2:]
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)


def _safe_images(dataset, m):
    """Sum over the safe energy bins of a map of ``dataset`` (2D float array)."""
    data = np.asarray(m.data, dtype=float)
    if dataset.mask_safe is not None:
        data = data * np.asarray(dataset.mask_safe.data, dtype=bool)
    return np.sum(data, axis=0)


def _outside_safe(dataset):
    if dataset.mask_safe is None:
        return np.zeros(dataset.counts.geom.data_shape[-2:], dtype=bool)
    return ~np.asarray(dataset.mask_safe.data, dtype=bool).any(axis=0)


def _disk_significance(counts, mu, geom, radius):
    """Cash (Li & Ma, known background) significance of the counts in disks of ``radius``.

    ``sign(n - mu) sqrt(2 (n ln(n / mu) - n + mu))`` with ``n`` and ``mu`` the
    counts and the prediction summed over the pixels whose centres lie in the disk.
    """
    from scipy.ndimage import convolve

    from ..stats import CashCountsStatistic

    binsz = float(np.min(np.abs(geom.wcs.wcs.cdelt)))
    r = u.Quantity(radius, "deg").value / binsz
    n = int(np.ceil(r))
    yy, xx = np.mgrid[-n:n + 1, -n:n + 1]
    kernel = (xx**2 + yy**2 <= r**2).astype(float)
    # direct sums (small kernel): exact where counts equal the prediction, unlike an FFT
    n_on = np.clip(np.rint(convolve(counts, kernel, mode="constant", cval=0.0)), 0, None)
    mu_bkg = np.clip(convolve(mu, kernel, mode="constant", cval=0.0), 1e-10, None)
    ts = np.clip(np.asarray(CashCountsStatistic(n_on=n_on, mu_bkg=mu_bkg).ts, dtype=float), 0, None)
    return np.sign(n_on - mu_bkg) * np.sqrt(ts)


def dataset_images(dataset, correlation_radius=0.1 * u.deg):
    """Counts, excess and significance images of a `MapDataset` over its safe energy bins.

    The significance is that of the counts in a disk of ``correlation_radius``
    against the summed predicted background (``npred_background``, known
    without error: Cash statistic, ``sign(n - b) sqrt(2 (n ln(n/b) - n + b))``).

    Returns
    -------
    maps : dict of str -> `~gammalike.maps.WcsNDMap`
        "counts", "excess" and "significance" images (NaN outside the safe region).
    """
    from ..maps import Map

    image = dataset.counts.geom.to_image()
    counts = _safe_images(dataset, dataset.counts)
    background = _safe_images(dataset, dataset.npred_background())
    outside = _outside_safe(dataset)
    significance = _disk_significance(counts, background, image, correlation_radius)
    maps = {}
    for name, data in (("counts", counts), ("excess", counts - background), ("significance", significance)):
        maps[name] = Map.from_geom(image, data=np.where(outside, np.nan, data))
    return maps


def residual_significance_image(dataset, correlation_radius=0.1 * u.deg):
    """Significance of the counts against the full model (sources + background) in disks.

    Close to a standard normal noise image where the model describes the
    data; sources missing from the model show up as positive blobs.
    """
    from ..maps import Map

    image = dataset.counts.geom.to_image()
    counts = _safe_images(dataset, dataset.counts)
    npred = _safe_images(dataset, dataset.npred())
    data = _disk_significance(counts, npred, image, correlation_radius)
    return Map.from_geom(image, data=np.where(_outside_safe(dataset), np.nan, data))


# ----------------------------------------------------------------------------- spectra
def spectrum_counts_figure(dataset):
    """1D dataset: counts and background (left), excess and predicted signal (right)."""
    fig = new_figure((11, 4.2))
    ax_counts = fig.add_subplot(1, 2, 1)
    ax_excess = fig.add_subplot(1, 2, 2)
    dataset.plot_counts(ax=ax_counts)
    ax_counts.set_yscale("log")
    ax_counts.set_title(f"{dataset.name}: counts")
    has_models = bool(getattr(dataset, "models", None))
    if has_models:
        dataset.plot_excess(ax=ax_excess)
    else:
        dataset.plot_excess(ax=ax_excess, kwargs_npred_signal=dict(alpha=0))
    ax_excess.set_title(f"{dataset.name}: excess")
    _symlog_if_wide(ax_excess)
    _shade_unsafe(ax_counts, dataset)
    _shade_unsafe(ax_excess, dataset)
    fig.tight_layout()
    return fig


def _symlog_if_wide(ax, max_ratio=30):
    """Symmetric-log y axis when the values span more than ``max_ratio`` (steep spectra).

    Linear near zero (|y| < 1 count), so negative excesses stay visible.
    """
    values = []
    for line in ax.lines:
        values.append(np.asarray(line.get_ydata(), dtype=float))
    for container in ax.containers:
        try:
            values.append(np.asarray(container.datavalues, dtype=float))
        except AttributeError:
            pass
    for collection in ax.collections:
        try:
            for path in collection.get_paths():
                values.append(np.asarray(path.vertices[:, 1], dtype=float))
        except AttributeError:
            pass
    values = np.abs(np.concatenate([v.ravel() for v in values])) if values else np.array([])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size and values.max() / max(np.percentile(values, 10), 1.0) > max_ratio:
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=min(ax.get_ylim()[0], 0))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def _shade_unsafe(ax, dataset):
    """Grey bands over the reco-energy bins outside the safe mask."""
    mask = getattr(dataset, "mask_safe", None)
    if mask is None:
        return
    data = np.asarray(mask.data, dtype=bool)
    safe = data.reshape(data.shape[0], -1).any(axis=1)
    edges = dataset.counts.geom.axes["energy"].edges.to_value("TeV")
    for lo, hi, ok in zip(edges[:-1], edges[1:], safe):
        if not ok:
            ax.axvspan(lo, hi, color="0.85", zorder=0, lw=0)


def sed_figure(name, spectral_model, flux_points=None, energy_bounds=None, sed_type="e2dnde", truth=None):
    """SED of one source: best-fit model, its 1σ band, the flux points (and a reference model).

    Parameters
    ----------
    name : str
        Source name (title).
    spectral_model : spectral model, optional
        Best-fit model (its covariance gives the band).
    flux_points : `~gammalike.estimators.FluxPoints`, optional
        Flux points (upper limits as arrows).
    energy_bounds : `~astropy.units.Quantity`, optional
        Energy range (default: the flux points' range, else 0.1 - 100 TeV).
    sed_type : str
        "e2dnde" (default), "dnde", "flux" or "eflux".
    truth : spectral model, optional
        Model drawn dashed as "simulated" (demo).
    """
    fig = new_figure((7, 5))
    ax = fig.add_subplot()
    if energy_bounds is None:
        if flux_points is not None:
            energy_bounds = u.Quantity([flux_points.energy_min[0], flux_points.energy_max[-1]])
        else:
            energy_bounds = [0.1, 100] * u.TeV
    energy_bounds = u.Quantity(energy_bounds).to("TeV")
    kwargs = dict(energy_bounds=energy_bounds, ax=ax, sed_type=sed_type)
    if spectral_model is not None:
        try:
            spectral_model.plot_error(facecolor="tab:blue", alpha=0.25, **kwargs)
        except Exception:  # noqa: BLE001 - no covariance: model line only
            pass
        spectral_model.plot(color="tab:blue", lw=2, label="Best-fit model (1σ band)", **kwargs)
    if truth is not None:
        truth.plot(color="black", ls="--", lw=1.2, label="Simulated (true) model", **kwargs)
    if flux_points is not None:
        flux_points.plot(ax=ax, sed_type=sed_type, color="tab:red", marker="o", markersize=5,
                         label="Flux points (arrows: upper limits)", energy_unit="TeV")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # the SED plots give the axes astropy units (gammalike.utils.plot_units)
    ax.set_xlim(energy_bounds if ax.xaxis.units is not None else energy_bounds.value)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=9, framealpha=0.85)
    ax.set_title(f"Spectral energy distribution: {name}")
    _limit_decades(ax)
    return fig


def _limit_decades(ax, max_decades=5):
    """Keep the y range of a log plot to ``max_decades`` below its top (upper-limit arrows, bands)."""
    lo, hi = ax.get_ylim()
    if lo > 0 and hi / lo > 10 ** (max_decades + 0.5):
        ax.set_ylim(hi / 10**max_decades, hi)


# ----------------------------------------------------------------------------- residuals
def residuals_map_figure(dataset, correlation_radius=0.1 * u.deg, method="diff/sqrt(model)", models=None):
    """3D dataset: residual significance image (left) and spectral residuals (right).

    The image is `residual_significance_image` (counts against the full
    model in disks of ``correlation_radius``); the spectrum sums the safe
    pixels of the map in each reco-energy bin.
    """
    from ..datasets.map_plots import plot_residuals_spectral

    fig = new_figure((12.5, 4.8))
    image = residual_significance_image(dataset, correlation_radius)
    geom = image.geom
    ax_spatial = fig.add_subplot(1, 2, 1, projection=geom.wcs)
    ax_spectral = fig.add_subplot(1, 2, 2)
    style = dict(map_style("significance", image), label="Residual significance [σ]")
    data = np.asarray(image.data, dtype=float)
    norm, extend = _image_norm(data, style)
    im = ax_spatial.imshow(np.ma.masked_invalid(data), origin="lower", interpolation="nearest",
                           cmap=_cmap_with_bad(CMAP_SIGNED), norm=norm)
    cbar = fig.colorbar(im, ax=ax_spatial, shrink=0.9, pad=0.05, extend=extend)
    _plain_ticks(cbar, norm)
    cbar.set_label(style["label"])
    _format_sky_axes(ax_spatial, geom)
    _mark_sources(ax_spatial, geom, models)
    radius = u.Quantity(correlation_radius, "deg").value
    ax_spatial.set_title(f"Data vs model ({radius:g}° circles)", fontsize=11)
    plot_residuals_spectral(dataset, ax=ax_spectral, method=method)
    ax_spectral.set_title("Spectral residuals (safe pixels summed)", fontsize=11)
    ax_spectral.set_xlabel("Energy [TeV]")
    ax_spectral.set_ylabel("(data − model) / √model")
    ax_spectral.grid(True, alpha=0.3)
    fig.subplots_adjust(wspace=0.3)
    return fig


def residuals_spectrum_figure(dataset):
    """1D dataset: excess with the predicted signal (top) and residuals (bottom)."""
    from matplotlib.gridspec import GridSpec

    fig = new_figure((7, 6))
    grid = GridSpec(7, 1, figure=fig, hspace=0.1)
    ax_spectrum = fig.add_subplot(grid[:5, 0])
    ax_residuals = fig.add_subplot(grid[5:, 0], sharex=ax_spectrum)
    dataset.plot_fit(ax_spectrum=ax_spectrum, ax_residuals=ax_residuals,
                     kwargs_residuals=dict(method="diff/sqrt(model)"))
    ax_spectrum.set_title(f"{dataset.name}: fit")
    _symlog_if_wide(ax_spectrum)
    ax_residuals.grid(True, alpha=0.3)
    _shade_unsafe(ax_spectrum, dataset)
    _shade_unsafe(ax_residuals, dataset)
    return fig


# ----------------------------------------------------------------------------- light curve, covariance
def light_curve_figure(light_curve, sed_type="flux"):
    """Light curve: flux per time bin (one series per energy band) with errors and upper limits."""
    fig = new_figure((9, 4.5))
    ax = fig.add_subplot()
    light_curve.plot(ax=ax, sed_type=sed_type, axis_name="time", marker="o")
    ax.set_yscale("linear")
    ax.grid(True, alpha=0.3)
    title = "Light curve"
    if getattr(light_curve, "has_energy_bounds", False) and light_curve.nbin == 1:
        lo, hi = light_curve.energy_min[0].to_value("TeV"), light_curve.energy_max[-1].to_value("TeV")
        title += f" ({lo:.3g} – {hi:.3g} TeV)"
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=9, framealpha=0.85)
    fig.autofmt_xdate()
    return fig


def correlation_figure(models, max_parameters=30):
    """Correlation matrix of the free parameters (None if there are none or too many)."""
    parameters = [p for p in models.parameters if not p.frozen]
    if not 1 < len(parameters) <= max_parameters:
        return None
    covariance = models.covariance
    names = []
    index = []
    all_parameters = list(covariance.parameters) if hasattr(covariance, "parameters") else list(models.parameters)
    for model in models:
        for par in model.parameters:
            if par.frozen:
                continue
            for i, p in enumerate(all_parameters):
                if p is par:
                    names.append(f"{model.name}.{par.name}")
                    index.append(i)
                    break
    if len(index) < 2:
        return None
    matrix = np.asarray(covariance.data if hasattr(covariance, "data") else covariance, dtype=float)
    matrix = matrix[np.ix_(index, index)]
    sigma = np.sqrt(np.diag(matrix))
    if not np.all(sigma > 0):
        return None
    correlation = matrix / np.outer(sigma, sigma)
    size = 2.5 + 0.38 * len(index)
    fig = new_figure((size + 1.2, size))
    ax = fig.add_subplot()
    im = ax.imshow(correlation, cmap=CMAP_SIGNED, vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    if len(index) <= 14:
        for (i, j), value in np.ndenumerate(correlation):
            ax.text(j, i, f"{value:.2f}".replace("-0.00", "0.00"), ha="center", va="center", fontsize=7,
                    color="white" if abs(value) > 0.6 else "black")
    cbar = fig.colorbar(im, ax=ax, shrink=0.85)
    cbar.set_label("Correlation coefficient")
    ax.set_title("Correlation of the free parameters")
    return fig
