"""Plots of `FluxPoints`: errorbars with upper-limit arrows, likelihood profiles.

Both plots draw plain floats in the units of the spectral-model plots
(`gammalike.modeling.models.spectral_plot`: energy in TeV, dnde in
cm-2 s-1 TeV-1, e2dnde and eflux in TeV cm-2 s-1, flux in cm-2 s-1), so flux
points and models share axes whatever the order of the calls.  An axis that
already carries astropy units (plots made under
`astropy.visualization.quantity_support`) keeps them; ``energy_unit`` and
``flux_unit`` choose other units.
"""
import numpy as np
from astropy import units as u

from .sed_type import SED_UNITS

__all__ = ["plot_flux_points", "plot_light_curve", "plot_ts_profiles"]

#: Default y units of the plots: the internal units, as the model plots use.
PLOT_UNITS = dict(SED_UNITS)


def _axis_unit(axis, default, physical_type_of):
    """The unit already set on a matplotlib axis, if convertible, else ``default``."""
    unit = getattr(axis, "units", None)
    if isinstance(unit, u.UnitBase) and unit.is_equivalent(physical_type_of):
        return unit
    return default


def _y_unit(ax, sed_type, energy_power, energy_unit, flux_unit):
    internal = SED_UNITS[sed_type] * u.Unit(energy_unit) ** energy_power
    if flux_unit is not None:
        return u.Unit(flux_unit)
    default = PLOT_UNITS[sed_type] * u.Unit(energy_unit) ** energy_power
    return _axis_unit(ax.yaxis, default, internal)


def _values(fp, name, sed_type, e_ref, energy_power):
    """Quantity of a norm quantity in ``sed_type`` times ``e_ref**energy_power``."""
    values = fp._get(name, sed_type)
    result = u.Quantity(values, SED_UNITS[sed_type])
    if energy_power:
        result = result * e_ref ** energy_power
    return result


def plot_flux_points(fp, ax=None, sed_type=None, energy_power=0, energy_unit=None,
                     flux_unit=None, **kwargs):
    """Errorbar plot of flux points (see `FluxPoints.plot`)."""
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    sed_type = sed_type or fp.sed_type_plot_default
    available = fp.available_quantities
    if "norm" not in available and "norm_ul" not in available:
        raise ValueError("FluxPoints.plot: no values (norm or upper limits) to plot")

    x_unit = u.Unit(energy_unit) if energy_unit else _axis_unit(ax.xaxis, u.TeV, u.TeV)
    e_ref = fp.energy_ref.to(x_unit)
    y_unit = _y_unit(ax, sed_type, energy_power, x_unit, flux_unit)
    nbin = fp.nbin
    nan = u.Quantity(np.full(nbin, np.nan), y_unit)

    y = _values(fp, "norm", sed_type, e_ref, energy_power).to(y_unit) if "norm" in available else nan
    if "norm_errn" in available and "norm_errp" in available:
        yerr_lo = _values(fp, "norm_errn", sed_type, e_ref, energy_power).to(y_unit)
        yerr_hi = _values(fp, "norm_errp", sed_type, e_ref, energy_power).to(y_unit)
    elif "norm_err" in available:
        yerr_lo = yerr_hi = _values(fp, "norm_err", sed_type, e_ref, energy_power).to(y_unit)
    else:
        yerr_lo = yerr_hi = u.Quantity(np.zeros(nbin), y_unit)

    is_ul = fp.is_ul.copy()
    if "norm_ul" in available:
        ul = _values(fp, "norm_ul", sed_type, e_ref, energy_power).to(y_unit)
        is_ul &= np.isfinite(ul.value)
        y = np.where(is_ul, ul, y)
        # Arrow of half the limit's height on a log axis (the usual convention).
        yerr_lo = np.where(is_ul, 0.5 * ul, yerr_lo)
        yerr_hi = np.where(is_ul, 0 * ul, yerr_hi)
    else:
        is_ul[:] = False

    if fp.has_energy_bounds:
        xerr = (e_ref - fp.energy_min.to(x_unit), fp.energy_max.to(x_unit) - e_ref)
    else:
        xerr = None

    kwargs.setdefault("marker", "+")
    kwargs.setdefault("markersize", 4)
    kwargs.setdefault("linestyle", "None")
    yerr = np.array([np.nan_to_num(yerr_lo.to_value(y_unit)), np.nan_to_num(yerr_hi.to_value(y_unit))])
    if xerr is not None:
        xerr = np.array([xerr[0].to_value(x_unit), xerr[1].to_value(x_unit)])
    ax.errorbar(e_ref.to_value(x_unit), y.to_value(y_unit), xerr=xerr, yerr=yerr, uplims=is_ul,
                **kwargs)
    ax.set_xscale("log")
    ax.set_yscale("log" if sed_type != "likelihood" else "linear")
    ax.set_xlabel(f"Energy [{_label(x_unit)}]")
    ax.set_ylabel(f"{_y_label(sed_type, energy_power)} [{_label(y_unit)}]")
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
    available = fp.available_quantities
    if "norm" not in available and "norm_ul" not in available:
        raise ValueError("FluxPoints.plot: no values (norm or upper limits) to plot")
    time_axis = fp.time_axis
    x_unit = u.Unit(energy_unit) if energy_unit else u.TeV
    e_ref = fp.energy_ref.to(x_unit)[:, None]
    y_unit = u.Unit(flux_unit) if flux_unit else PLOT_UNITS[sed_type] * x_unit ** energy_power
    shape = (fp.nbin, time_axis.nbin)

    def values(name):
        return _values(fp, name, sed_type, e_ref, energy_power).to_value(y_unit)

    nan = np.full(shape, np.nan)
    y = values("norm") if "norm" in available else nan
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
        # clipped: a limit at ~0 (e.g. -1e-16) must not give a negative arrow length
        yerr = np.clip(np.array([np.nan_to_num(yerr_lo[idx]), np.nan_to_num(yerr_hi[idx])]), 0, None)
        ax.errorbar(x, y[idx], xerr=half, yerr=yerr, uplims=is_ul[idx], **opts)
    if time_format == "iso":
        from matplotlib import dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(xlabel)
    unit_label = _label(y_unit)
    ax.set_ylabel(_y_label(sed_type, energy_power) + (f" [{unit_label}]" if unit_label else ""))
    if labels is not None:
        ax.legend()
    return ax


def _label(unit):
    return unit.to_string("latex_inline") if unit != u.dimensionless_unscaled else ""


def _y_label(sed_type, energy_power):
    names = {"dnde": "dN/dE", "e2dnde": "E^2 dN/dE", "flux": "Flux", "eflux": "Energy flux",
             "likelihood": "Norm"}
    label = names[sed_type]
    if energy_power:
        label = f"E^{energy_power} {label}" if sed_type == "dnde" else f"E^{energy_power} x {label}"
    return label


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


def plot_ts_profiles(fp, ax=None, sed_type=None, add_cbar=True, energy_unit=None,
                     flux_unit=None, ngrid=400, **kwargs):
    """Image of ``stat_scan - min(stat_scan)`` per energy bin (see `FluxPoints.plot_ts_profiles`)."""
    import matplotlib.pyplot as plt

    if "stat_scan" not in fp.available_quantities or "norm_scan" not in fp.available_quantities:
        raise ValueError("FluxPoints.plot_ts_profiles: needs likelihood profiles "
                         "(stat_scan and norm_scan)")
    ax = plt.gca() if ax is None else ax
    sed_type = sed_type or fp.sed_type_plot_default
    x_unit = u.Unit(energy_unit) if energy_unit else _axis_unit(ax.xaxis, u.TeV, u.TeV)
    y_unit = _y_unit(ax, sed_type, 0, x_unit, flux_unit)

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
    mesh = ax.pcolormesh(x_edges.to_value(x_unit), y_edges, z.T, shading="flat", **kwargs)
    ax.set_xscale("log")
    ax.set_yscale("log" if log_y else "linear")
    ax.set_xlabel(f"Energy [{_label(x_unit)}]")
    ax.set_ylabel(f"{_y_label(sed_type, 0)} [{_label(y_unit)}]")
    if add_cbar:
        label = "fit statistic difference"
        ax.figure.colorbar(mesh, ax=ax, label=label)
    return ax
