"""Plots of spectral models: SED conversions and error bands."""
import numpy as np
from astropy import units as u

__all__ = ["plot_spectrum", "plot_spectrum_error", "sed_values"]

SED_TYPES = ("dnde", "e2dnde", "flux", "eflux", "norm")

_LABELS = {
    "dnde": "dN/dE",
    "e2dnde": "E² dN/dE",
    "flux": "Flux",
    "eflux": "Energy flux",
    "norm": "Norm",
}


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


def _prepare(model, energy_bounds, ax, sed_type, energy_power, n_points, kwargs):
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
    xunits = u.Unit(kwargs.pop("xunits", "TeV"))
    ax = plt.gca() if ax is None else ax
    edges = _energy_grid(energy_bounds, n_points)
    return ax, edges, yunits, xunits


def _finish(ax, energy, yunit, sed_type, energy_power, xunits):
    ax.set_xscale("log", nonpositive="clip")
    ax.set_yscale("log", nonpositive="clip")
    ax.set_xlabel(f"Energy [{xunits.to_string('latex_inline')}]")
    label = _LABELS.get(sed_type, sed_type)
    if energy_power:
        label = f"E^{energy_power} {label}"
    ax.set_ylabel(f"{label} [{yunit.to_string('latex_inline')}]")
    return ax


def _convert(values, yunits):
    if yunits is None:
        return values
    yunits = u.Unit(yunits)
    try:
        return values.to(yunits)
    except u.UnitConversionError as exc:
        raise u.UnitConversionError(
            f"plot: yunits {yunits} does not match the SED unit {values.unit}"
        ) from exc


def plot_spectrum(model, energy_bounds=None, ax=None, sed_type="dnde", energy_power=0,
                  n_points=100, **kwargs):
    """Plot ``model`` between ``energy_bounds`` on log-log axes.

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
        Units of the plotted quantity and of energy.
    **kwargs
        Passed to `~matplotlib.axes.Axes.plot`.

    Returns
    -------
    ax : `~matplotlib.axes.Axes`
    """
    ax, edges, yunits, xunits = _prepare(model, energy_bounds, ax, sed_type, energy_power,
                                         n_points, kwargs)
    energy, values = sed_values(model, edges, sed_type, energy_power)
    values = _convert(values, yunits)
    with np.errstate(invalid="ignore"):
        ax.plot(energy.to_value(xunits), values.value, **kwargs)
    return _finish(ax, energy, values.unit, sed_type, energy_power, xunits)


def plot_spectrum_error(model, energy_bounds=None, ax=None, sed_type="dnde", energy_power=0,
                        n_points=100, **kwargs):
    """Plot the 1-sigma band of ``model`` from its covariance (``fill_between``).

    Same arguments as `plot_spectrum`; ``facecolor`` defaults to "black" and
    ``alpha`` to 0.2.
    """
    ax, edges, yunits, xunits = _prepare(model, energy_bounds, ax, sed_type, energy_power,
                                         n_points, kwargs)
    kwargs.setdefault("facecolor", "black")
    kwargs.setdefault("alpha", 0.2)
    kwargs.setdefault("linewidth", 0)
    energy, values = sed_values(model, edges, sed_type, energy_power, with_error=True)
    values = _convert(values, yunits)
    value, error = values.value
    ax.fill_between(energy.to_value(xunits), value - error, value + error, **kwargs)
    return _finish(ax, energy, values.unit, sed_type, energy_power, xunits)
