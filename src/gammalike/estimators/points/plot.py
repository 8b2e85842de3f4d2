"""Plots of `FluxPoints`: errorbars with upper-limit arrows, likelihood profiles, light curves.

Spectra are drawn as Quantities on unit-aware axes with the units of
`gammalike.utils.plot_units` (shared with the spectral-model plots: energy
in TeV, dnde in cm-2 s-1 TeV-1, e2dnde and eflux in erg cm-2 s-1, flux in
cm-2 s-1).  An axes that already carries units (from a model plot, or
`astropy.visualization.quantity_support`) keeps them; ``energy_unit`` and
``flux_unit`` choose other units.  So flux points and models share axes
whatever the order of the calls, and the axes accept Quantity limits.
"""
import numpy as np
from astropy import units as u

from ...utils.plot_units import (
    DEFAULT_ENERGY_UNIT,
    default_sed_unit,
    quantity_axes,
    sed_label,
    setup_unit_axis,
    unit_label,
)
from .sed_type import SED_UNITS

__all__ = ["plot", "plot_flux_points", "plot_light_curve", "plot_ts_profiles", "plot_profiles"]


def _internal_unit(sed_type, energy_power):
    unit = SED_UNITS[sed_type]
    return unit * u.TeV ** energy_power if energy_power else unit


def _setup_axes(ax, sed_type, energy_power, energy_unit, flux_unit):
    """Units of the x (energy) and y axes of ``ax``; see `setup_unit_axis`."""
    x_unit = setup_unit_axis(ax.xaxis, energy_unit, DEFAULT_ENERGY_UNIT, what="energy")
    if flux_unit is None and getattr(ax.yaxis, "units", None) is None:
        flux_unit = default_sed_unit(sed_type, energy_power, x_unit)
    y_unit = setup_unit_axis(ax.yaxis, flux_unit, _internal_unit(sed_type, energy_power),
                             what=f"{sed_type} flux points")
    return x_unit, y_unit


def _values(fp, name, sed_type, e_ref, energy_power):
    """Quantity of a norm quantity in ``sed_type`` times ``e_ref**energy_power``."""
    values = fp._get(name, sed_type)
    result = u.Quantity(values, SED_UNITS[sed_type])
    if energy_power:
        result = result * e_ref ** energy_power
    return result


def _points(fp, sed_type, e_ref, energy_power, y_unit):
    """``(y, yerr_lo, yerr_hi, is_ul)`` float arrays in ``y_unit``; upper limits
    are drawn at the limit with an arrow of half its height (the usual
    convention on log axes)."""
    available = fp.available_quantities
    if "norm" not in available and "norm_ul" not in available:
        raise ValueError("FluxPoints.plot: no values (norm or upper limits) to plot")

    def values(name):
        return _values(fp, name, sed_type, e_ref, energy_power).to_value(y_unit)

    shape = fp._norm[next(iter(fp._norm))].shape
    y = values("norm") if "norm" in available else np.full(shape, np.nan)
    if "norm_errn" in available and "norm_errp" in available:
        yerr_lo, yerr_hi = values("norm_errn"), values("norm_errp")
    elif "norm_err" in available:
        yerr_lo = yerr_hi = values("norm_err")
    else:
        yerr_lo = yerr_hi = np.zeros(shape)
    is_ul = fp.is_ul.copy()
    if "norm_ul" in available:
        ul = values("norm_ul")
        is_ul &= np.isfinite(ul)
        y = np.where(is_ul, ul, y)
        yerr_lo = np.where(is_ul, 0.5 * ul, yerr_lo)
        yerr_hi = np.where(is_ul, 0.0, yerr_hi)
    else:
        is_ul[:] = False
    # clipped: a limit at ~0 (e.g. -1e-16) must not give a negative arrow length
    yerr = np.clip(np.array([np.nan_to_num(yerr_lo), np.nan_to_num(yerr_hi)]), 0, None)
    return y, yerr, is_ul


def plot(fp, ax=None, sed_type=None, energy_power=0, axis_name=None, time_format="iso", **kwargs):
    """`FluxPoints.plot`: spectra against energy, light curves against time."""
    if axis_name is None:
        axis_name = "time" if fp._time_axis is not None else "energy"
    if axis_name == "time":
        fp._require_time_axis("plot(axis_name='time')")
        return plot_light_curve(fp, ax=ax, sed_type=sed_type, energy_power=energy_power,
                                time_format=time_format, **kwargs)
    if axis_name != "energy":
        raise ValueError(f"FluxPoints.plot: axis_name must be 'energy' or 'time', got {axis_name!r}")
    if fp._time_axis is not None:
        if fp._time_axis.nbin != 1:
            raise ValueError(
                "FluxPoints.plot(axis_name='energy'): a light curve with "
                f"{fp._time_axis.nbin} time bins; select one with `slice_by_time_idx`"
            )
        fp = fp.slice_by_time_idx(0)
    return plot_flux_points(fp, ax=ax, sed_type=sed_type, energy_power=energy_power, **kwargs)


def plot_flux_points(fp, ax=None, sed_type=None, energy_power=0, energy_unit=None,
                     flux_unit=None, **kwargs):
    """Errorbar plot of flux points against energy (see `FluxPoints.plot`)."""
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    sed_type = sed_type or fp.sed_type_plot_default
    x_unit, y_unit = _setup_axes(ax, sed_type, energy_power, energy_unit, flux_unit)
    e_ref = fp.energy_ref.to(x_unit)
    y, yerr, is_ul = _points(fp, sed_type, e_ref, energy_power, y_unit)
    xerr = None
    if fp.has_energy_bounds:
        xerr = u.Quantity([e_ref - fp.energy_min.to(x_unit), fp.energy_max.to(x_unit) - e_ref])

    kwargs.setdefault("marker", "+")
    kwargs.setdefault("markersize", 4)
    kwargs.setdefault("linestyle", "None")
    with quantity_axes(ax):
        ax.errorbar(e_ref, u.Quantity(y, y_unit), xerr=xerr, yerr=u.Quantity(yerr, y_unit),
                    uplims=is_ul, **kwargs)
    ax.set_xscale("log")
    ax.set_yscale("log" if sed_type != "likelihood" else "linear")
    ax.set_xlabel(f"Energy [{unit_label(x_unit)}]")
    ax.set_ylabel(sed_label(sed_type, energy_power, y_unit))
    return ax


def plot_light_curve(fp, ax=None, sed_type=None, energy_power=0, time_format="iso",
                     flux_unit=None, energy_unit=None, **kwargs):
    """Errorbar plot of a light curve against time, one series per energy bin.

    Time bins are drawn at their middle with x errors spanning the bin;
    upper limits (``is_ul``) as arrows down from the limit.  The x axis is in
    matplotlib dates (UTC) for ``time_format="iso"``, in MJD (TT) for "mjd".
    (See `FluxPoints.plot`.)
    """
    import matplotlib.pyplot as plt

    if time_format not in ("iso", "mjd"):
        raise ValueError(f"FluxPoints.plot: time_format must be 'iso' or 'mjd', got {time_format!r}")
    ax = plt.gca() if ax is None else ax
    sed_type = sed_type or fp.sed_type_plot_default
    time_axis = fp.time_axis
    x_unit = u.Unit(energy_unit) if energy_unit else DEFAULT_ENERGY_UNIT
    e_ref = fp.energy_ref.to(x_unit)[:, None]
    y_unit = u.Unit(flux_unit) if flux_unit else default_sed_unit(sed_type, energy_power, x_unit)
    y, yerr, is_ul = _points(fp, sed_type, e_ref, energy_power, y_unit)

    if time_format == "iso":
        from matplotlib import dates as mdates

        x = mdates.date2num(time_axis.time_mid.utc.to_datetime())
        xlabel = "Time [UTC]"
    else:
        x = 0.5 * np.add(*time_axis.mjd_bounds("tt"))
        xlabel = "Time [MJD]"
    half = 0.5 * time_axis.bin_width.to_value("d")  # matplotlib dates are in days too

    kwargs.setdefault("marker", "+")
    kwargs.setdefault("markersize", 4)
    kwargs.setdefault("linestyle", "None")
    labels = None
    if fp.nbin > 1 and "label" not in kwargs:
        labels = [f"{lo:.3g} - {hi:.3g} {x_unit.to_string()}"
                  for lo, hi in zip(fp.energy_min.to_value(x_unit), fp.energy_max.to_value(x_unit))]
    for idx in range(fp.nbin):
        opts = dict(kwargs)
        if labels is not None:
            opts["label"] = labels[idx]
        ax.errorbar(x, y[idx], xerr=half, yerr=yerr[:, idx], uplims=is_ul[idx], **opts)
    if time_format == "iso":
        from matplotlib import dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(sed_label(sed_type, energy_power, y_unit))
    if labels is not None:
        ax.legend()
    return ax


def _interp_rows(x, f, grid):
    """Linear interpolation of each row ``(x[i], f[i])`` at ``grid`` (NaN outside).

    Vectorized over rows; ``x`` rows must increase.
    """
    nscan = x.shape[1]
    idx = (x[:, :, None] <= grid[None, None, :]).sum(axis=1) - 1  # (nbin, ngrid)
    inside = (idx >= 0) & (idx < nscan - 1) | (grid[None, :] == x[:, -1:])
    idx = np.clip(idx, 0, nscan - 2)
    x0 = np.take_along_axis(x, idx, axis=1)
    x1 = np.take_along_axis(x, idx + 1, axis=1)
    f0 = np.take_along_axis(f, idx, axis=1)
    f1 = np.take_along_axis(f, idx + 1, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = f0 + (grid[None, :] - x0) * (f1 - f0) / (x1 - x0)
    return np.where(inside, values, np.nan)


def plot_profiles(fp, ax=None, sed_type=None, add_cbar=True, **kwargs):
    """`FluxPoints.plot_ts_profiles` (a light curve: only with a single time bin)."""
    if fp._time_axis is not None:
        if fp._time_axis.nbin != 1:
            raise ValueError("FluxPoints.plot_ts_profiles: a light curve has one profile per time "
                             "bin; select one with `slice_by_time_idx`")
        fp = fp.slice_by_time_idx(0)
    return plot_ts_profiles(fp, ax=ax, sed_type=sed_type, add_cbar=add_cbar, **kwargs)


def plot_ts_profiles(fp, ax=None, sed_type=None, add_cbar=True, energy_unit=None,
                     flux_unit=None, ngrid=400, **kwargs):
    """Image of ``stat_scan - min(stat_scan)`` per energy bin (see `FluxPoints.plot_ts_profiles`)."""
    import matplotlib.pyplot as plt

    if "stat_scan" not in fp.available_quantities or "norm_scan" not in fp.available_quantities:
        raise ValueError("FluxPoints.plot_ts_profiles: needs likelihood profiles "
                         "(stat_scan and norm_scan)")
    ax = plt.gca() if ax is None else ax
    sed_type = sed_type or fp.sed_type_plot_default
    x_unit, y_unit = _setup_axes(ax, sed_type, 0, energy_unit, flux_unit)

    scan = u.Quantity(fp._get("norm_scan", sed_type), SED_UNITS[sed_type]).to_value(y_unit)
    stat = np.asarray(fp._other["stat_scan"], dtype=float)
    filled = np.where(np.isfinite(stat), stat, np.inf)
    dstat = stat - filled.min(axis=1, keepdims=True)  # all-NaN rows (failed fits) stay NaN
    order = np.argsort(scan, axis=1)
    scan = np.take_along_axis(scan, order, axis=1)
    dstat = np.take_along_axis(dstat, order, axis=1)

    finite = scan[np.isfinite(scan)]
    positive = finite[finite > 0]
    log_y = sed_type != "likelihood" and positive.size > 1
    if log_y:
        y_edges = np.geomspace(positive.min(), positive.max(), ngrid + 1)
        y_center = np.sqrt(y_edges[1:] * y_edges[:-1])
    else:
        y_edges = np.linspace(finite.min(), finite.max(), ngrid + 1)
        y_center = 0.5 * (y_edges[1:] + y_edges[:-1])
    z = _interp_rows(scan, dstat, y_center)  # (nbin, ngrid)

    # Bin edges of the axis (interpolated half-way between nodes for node axes).
    x_edges = fp.energy_axis.edges.to(x_unit)
    kwargs.setdefault("cmap", "Blues")
    kwargs.setdefault("vmin", 0)
    kwargs.setdefault("vmax", 25)
    with quantity_axes(ax):
        mesh = ax.pcolormesh(x_edges, u.Quantity(y_edges, y_unit), z.T, shading="flat", **kwargs)
    ax.set_xscale("log")
    ax.set_yscale("log" if log_y else "linear")
    ax.set_xlabel(f"Energy [{unit_label(x_unit)}]")
    ax.set_ylabel(sed_label(sed_type, 0, y_unit))
    if add_cbar:
        ax.figure.colorbar(mesh, ax=ax, label="Fit statistic difference")
    return ax
