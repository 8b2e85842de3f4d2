"""Plots of spectral models: SED conversions and error bands.

The plots draw Quantities on unit-aware axes; units, defaults and labels
come from `gammalike.utils.plot_units`, shared with the flux-point plots
(energy in TeV; dnde in cm-2 s-1 TeV-1, e2dnde and eflux in erg cm-2 s-1,
flux in cm-2 s-1 unless ``yunits`` / ``xunits`` say otherwise or the axes
already carry units).
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

__all__ = ["plot_spectrum", "plot_spectrum_error", "sed_values"]

SED_TYPES = ("dnde", "e2dnde", "flux", "eflux", "norm")

#: An error band's lower edge below this fraction of the model value (or
#: below zero) runs off the bottom of the log axis without extending the
#: y limits: a band consistent with zero must not squash the plot.
BAND_LIMIT_FRACTION = 0.1


def _energy_grid(energy_bounds, n_points):
    if energy_bounds is None:
        raise TypeError("plot: energy_bounds (e.g. [0.1, 100] * u.TeV) is required")
    bounds = u.Quantity(energy_bounds)
    if bounds.shape != (2,):
        raise ValueError(f"plot: energy_bounds must hold two energies, got shape {bounds.shape}")
    if not bounds.unit.is_equivalent(u.TeV):
        raise u.UnitConversionError(f"plot: energy_bounds unit {bounds.unit} is not an energy")
    emin, emax = bounds.to_value("TeV")
    return np.geomspace(emin, emax, int(n_points) + 1)


def sed_values(model, energy_edges, sed_type="dnde", energy_power=0, with_error=False):
    """SED of ``model`` at the geometric centres of ``energy_edges`` (TeV floats).

    ``flux`` and ``eflux`` are integrals over the bins; ``dnde`` and
    ``e2dnde`` are evaluated at the centres.  The result is multiplied by
    ``E**energy_power``.

    Returns
    -------
    energy : `~astropy.units.Quantity`
        Bin centres.
    values : `~astropy.units.Quantity`
        SED values; with ``with_error`` an array ``(value, error)`` of shape (2, n).
    """
    if sed_type not in SED_TYPES:
        raise ValueError(f"sed_type must be one of {SED_TYPES}, got {sed_type!r}")
    emin, emax = energy_edges[:-1], energy_edges[1:]
    center = np.sqrt(emin * emax)
    energy = u.Quantity(center, "TeV")
    emin_q, emax_q = u.Quantity(emin, "TeV"), u.Quantity(emax, "TeV")
    if sed_type in ("dnde", "norm"):
        values = model.evaluate_error(energy) if with_error else model(energy)
    elif sed_type == "e2dnde":
        values = (model.evaluate_error(energy) if with_error else model(energy)) * energy ** 2
    elif sed_type == "flux":
        values = model.integral_error(emin_q, emax_q) if with_error else model.integral(emin_q, emax_q)
    else:
        values = (model.energy_flux_error(emin_q, emax_q) if with_error
                  else model.energy_flux(emin_q, emax_q))
    if energy_power:
        values = values * energy ** energy_power
    return energy, values


def _plot_sed_type(model, sed_type):
    """Norm models (dimensionless, e.g. `PowerLawNormSpectralModel`) are drawn as "norm"."""
    return "norm" if getattr(model, "is_norm_spectral_model", False) else sed_type


def _prepare(energy_bounds, ax, sed_type, energy_power, n_points, kwargs):
    """Resolve keywords and units; returns ``(ax, edges, xunit, yunit)``."""
    import matplotlib.pyplot as plt

    # gammapy's older keyword names
    if energy_bounds is None and "energy_range" in kwargs:
        energy_bounds = kwargs.pop("energy_range")
    kwargs.pop("energy_range", None)
    if "flux_unit" in kwargs and "yunits" not in kwargs:
        kwargs["yunits"] = kwargs.pop("flux_unit")
    if "energy_unit" in kwargs and "xunits" not in kwargs:
        kwargs["xunits"] = kwargs.pop("energy_unit")
    yunits = kwargs.pop("yunits", None)
    xunits = kwargs.pop("xunits", None)
    if sed_type not in SED_TYPES:
        raise ValueError(f"sed_type must be one of {SED_TYPES}, got {sed_type!r}")
    edges = _energy_grid(energy_bounds, n_points)
    ax = plt.gca() if ax is None else ax
    xunit = setup_unit_axis(ax.xaxis, xunits, DEFAULT_ENERGY_UNIT, what="energy")
    # the SED's own unit: what the values convert to (E**energy_power in TeV)
    sed_unit = default_sed_unit(sed_type, energy_power, "TeV")
    if yunits is None and getattr(ax.yaxis, "units", None) is None:
        yunits = default_sed_unit(sed_type, energy_power, xunit)
    yunit = setup_unit_axis(ax.yaxis, yunits, sed_unit, what=f"{sed_type} SED")
    return ax, edges, xunit, yunit


def _finish(ax, sed_type, energy_power, xunit, yunit):
    ax.set_xscale("log", nonpositive="clip")
    ax.set_yscale("log", nonpositive="clip")
    ax.set_xlabel(f"Energy [{unit_label(xunit)}]")
    ax.set_ylabel(sed_label(sed_type, energy_power, yunit))
    return ax


def plot_spectrum(model, energy_bounds=None, ax=None, sed_type="dnde", energy_power=0,
                  n_points=100, **kwargs):
    """Plot ``model`` between ``energy_bounds`` on log-log, unit-aware axes.

    Parameters
    ----------
    model : `SpectralModel`
    energy_bounds : `~astropy.units.Quantity`
        ``[emin, emax]`` (``energy_range`` accepted too).
    ax : `~matplotlib.axes.Axes`, optional
    sed_type : {"dnde", "e2dnde", "flux", "eflux"}
    energy_power : int
        Multiply by ``E**energy_power``.
    n_points : int
        Number of energies (log spaced).
    yunits, xunits : `~astropy.units.Unit`, optional
        Units of the y and x axes (``flux_unit`` / ``energy_unit`` accepted
        too).  Default: the units the axes already have, else those of
        `gammalike.utils.plot_units` (e2dnde in erg cm-2 s-1, energy in TeV).
    **kwargs
        Passed to `~matplotlib.axes.Axes.plot`.

    Returns
    -------
    ax : `~matplotlib.axes.Axes`
    """
    sed_type = _plot_sed_type(model, sed_type)
    ax, edges, xunit, yunit = _prepare(energy_bounds, ax, sed_type, energy_power, n_points, kwargs)
    energy, values = sed_values(model, edges, sed_type, energy_power)
    with np.errstate(invalid="ignore"), quantity_axes(ax):
        ax.plot(energy.to(xunit), values.to(yunit), **kwargs)
    return _finish(ax, sed_type, energy_power, xunit, yunit)


def plot_spectrum_error(model, energy_bounds=None, ax=None, sed_type="dnde", energy_power=0,
                        n_points=100, **kwargs):
    """Plot the 1-sigma band of ``model`` from its covariance (``fill_between``).

    Same arguments as `plot_spectrum`; ``facecolor`` defaults to "black" and
    ``alpha`` to 0.2.  Where the band's lower edge falls below
    `BAND_LIMIT_FRACTION` times the model value (a band reaching zero) it runs
    off the bottom of the axes but does not extend the y limits.
    """
    sed_type = _plot_sed_type(model, sed_type)
    ax, edges, xunit, yunit = _prepare(energy_bounds, ax, sed_type, energy_power, n_points, kwargs)
    kwargs.setdefault("facecolor", "black")
    kwargs.setdefault("alpha", 0.2)
    kwargs.setdefault("linewidth", 0)
    energy, values = sed_values(model, edges, sed_type, energy_power, with_error=True)
    value, error = values.to_value(yunit)
    x = energy.to_value(xunit)
    lower, upper = value - error, value + error

    ignore, limits = ax.ignore_existing_data_limits, ax.dataLim.frozen()
    with np.errstate(invalid="ignore"), quantity_axes(ax):
        ax.fill_between(u.Quantity(x, xunit), u.Quantity(lower, yunit), u.Quantity(upper, yunit),
                        **kwargs)
    # data limits from the band, with its lower edge floored (see docstring)
    ax.dataLim.set_points(limits.get_points())
    ax.ignore_existing_data_limits = ignore
    with np.errstate(invalid="ignore"):
        floor = np.where(lower > BAND_LIMIT_FRACTION * value, lower, BAND_LIMIT_FRACTION * value)
    finite = np.isfinite(floor) & np.isfinite(upper) & (floor > 0)
    if finite.any():
        ax.update_datalim(np.column_stack([np.r_[x[finite], x[finite]],
                                           np.r_[floor[finite], upper[finite]]]))
        ax.autoscale_view()
    return _finish(ax, sed_type, energy_power, xunit, yunit)
