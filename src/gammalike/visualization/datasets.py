"""Plots of several datasets together."""

__all__ = ["plot_spectrum_datasets_off_regions"]


def _off_regions(dataset):
    """Leaf sky regions of a dataset's OFF counts geometry (empty list if none)."""
    from regions import CompoundSkyRegion

    counts_off = getattr(dataset, "counts_off", None)
    region = getattr(getattr(counts_off, "geom", None), "region", None)
    if region is None:
        return []
    stack, leaves = [region], []
    while stack:
        reg = stack.pop()
        if isinstance(reg, CompoundSkyRegion):
            stack.extend([reg.region2, reg.region1])
        else:
            leaves.append(reg)
    return leaves


def plot_spectrum_datasets_off_regions(datasets, ax=None, prop_cycle=None, legend=None, legend_kwargs=None,
                                       **kwargs):
    """Draw the OFF regions of ON/OFF spectrum datasets, one colour per dataset.

    Parameters
    ----------
    datasets : list of `~gammalike.datasets.SpectrumDatasetOnOff`
        Datasets whose ``counts_off`` geometry holds the OFF regions (as made
        by `~gammalike.makers.ReflectedRegionsBackgroundMaker`).
    ax : `~astropy.visualization.wcsaxes.WCSAxes`, optional
        Axes to draw on (default: the current axes, which must be WCSAxes,
        e.g. the one returned by ``exclusion_mask.plot()``).
    prop_cycle : `~cycler.Cycler`, optional
        Colours per dataset (default: matplotlib's ``axes.prop_cycle``).
    legend : bool, optional
        Add a legend with the dataset names (default: if there are at most 10 datasets).
    legend_kwargs : dict, optional
        Options of ``ax.legend``.
    **kwargs
        Patch options of the region outlines (e.g. ``lw``, ``ls``).

    Returns
    -------
    ax : `~astropy.visualization.wcsaxes.WCSAxes`
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ax = plt.gca() if ax is None else ax
    if not hasattr(ax, "wcs"):
        raise TypeError(
            "plot_spectrum_datasets_off_regions: ax must be a WCSAxes (e.g. ax = exclusion_mask.plot())"
        )
    datasets = list(datasets)
    if prop_cycle is None:
        prop_cycle = plt.rcParams["axes.prop_cycle"]
    colors = [props.get("color", props.get("edgecolor")) for props in prop_cycle]
    colors = [c for c in colors if c is not None] or ["tab:blue"]
    if legend is None:
        legend = len(datasets) <= 10
    handles = []
    for idx, dataset in enumerate(datasets):
        color = colors[idx % len(colors)]
        style = dict(kwargs)
        style.setdefault("facecolor", "none")
        style.setdefault("edgecolor", color)
        for region in _off_regions(dataset):
            artist = region.to_pixel(ax.wcs).as_artist(**style)
            ax.add_artist(artist)
        handles.append(Patch(facecolor="none", edgecolor=style["edgecolor"], label=str(dataset.name)))
    if legend and handles:
        legend_kwargs = dict(legend_kwargs or {})
        legend_kwargs.setdefault("loc", "best")
        ax.legend(handles=handles, **legend_kwargs)
    return ax
