"""Units and labels of SED plots, shared by spectral-model and flux-point plots.

Every spectral plot (``SpectralModel.plot`` / ``plot_error``,
``FluxPoints.plot`` / ``plot_ts_profiles``) draws astropy Quantities on
unit-aware matplotlib axes (`astropy.visualization.quantity_support`).
The first plot on an axes fixes its units: energy in `DEFAULT_ENERGY_UNIT`
and the SED in `DEFAULT_SED_UNITS` (times ``energy_unit**energy_power``)
unless the caller asks for others; later plots on the same axes are
converted to those units, so models and flux points always agree, and the
axes accept Quantity limits afterwards (``ax.set_xlim([0.01, 3e3] * u.TeV)``).

The defaults are those gammapy users know: dnde in cm-2 s-1 TeV-1, e2dnde
and eflux in erg cm-2 s-1, flux in cm-2 s-1, energy in TeV.
"""
import contextlib

from astropy import units as u

__all__ = [
    "DEFAULT_ENERGY_UNIT",
    "DEFAULT_SED_UNITS",
    "SED_LABELS",
    "default_sed_unit",
    "sed_label",
    "unit_label",
    "setup_unit_axis",
    "quantity_axes",
]

#: Default unit of the energy (x) axis of SED plots.
DEFAULT_ENERGY_UNIT = u.Unit("TeV")

#: Default unit of the y axis per sed type ("norm" / "likelihood": dimensionless).
DEFAULT_SED_UNITS = {
    "dnde": u.Unit("cm-2 s-1 TeV-1"),
    "e2dnde": u.Unit("erg cm-2 s-1"),
    "flux": u.Unit("cm-2 s-1"),
    "eflux": u.Unit("erg cm-2 s-1"),
    "norm": u.dimensionless_unscaled,
    "likelihood": u.dimensionless_unscaled,
}

#: Y-axis label (without unit) per sed type.
SED_LABELS = {
    "dnde": "dN/dE",
    "e2dnde": r"$E^2\,$dN/dE",
    "flux": "Flux",
    "eflux": "Energy flux",
    "norm": "Norm",
    "likelihood": "Norm",
}


def default_sed_unit(sed_type, energy_power=0, energy_unit=DEFAULT_ENERGY_UNIT):
    """Default y unit: ``DEFAULT_SED_UNITS[sed_type] * energy_unit**energy_power``."""
    if sed_type not in DEFAULT_SED_UNITS:
        raise ValueError(f"sed_type must be one of {tuple(DEFAULT_SED_UNITS)}, got {sed_type!r}")
    unit = DEFAULT_SED_UNITS[sed_type]
    if energy_power:
        unit = unit * u.Unit(energy_unit) ** energy_power
    return unit


def unit_label(unit):
    """LaTeX rendering of a unit for an axis label ("" for dimensionless)."""
    unit = u.Unit(unit)
    if unit == u.dimensionless_unscaled:
        return ""
    return unit.to_string("latex_inline")


def sed_label(sed_type, energy_power=0, unit=None):
    """Axis label such as ``"$E^2\\,$dN/dE [erg s-1 cm-2]"``."""
    label = SED_LABELS[sed_type]
    if energy_power:
        label = rf"$E^{{{energy_power}}}\,\times\,$" + label
    text = unit_label(unit) if unit is not None else ""
    return f"{label} [{text}]" if text else label


def _axis_unit(axis):
    unit = getattr(axis, "units", None)
    return unit if isinstance(unit, u.UnitBase) else None


def _axis_converter(axis):
    getter = getattr(axis, "get_converter", None)  # matplotlib >= 3.10
    return getter() if getter is not None else getattr(axis, "converter", None)


_CONVERTER = []  # one shared astropy converter, created on first use


def _quantity_converter(ax):
    """The astropy converter to use for ``ax``: the one its axes already have,
    else the registered one, else a shared instance.  Reusing one instance
    avoids matplotlib's "updating to a potentially incompatible converter"
    warning on every plot."""
    from astropy.visualization.units import MplQuantityConverter
    from matplotlib import units as munits

    for axis in (ax.xaxis, ax.yaxis):
        converter = _axis_converter(axis)
        if isinstance(converter, MplQuantityConverter):
            return converter
    registered = munits.registry.get(u.Quantity)
    if isinstance(registered, MplQuantityConverter):
        return registered
    if not _CONVERTER:
        converter = MplQuantityConverter()  # registers itself: undo that
        if registered is None:
            del munits.registry[u.Quantity]
        else:
            munits.registry[u.Quantity] = registered
        _CONVERTER.append(converter)
    return _CONVERTER[0]


@contextlib.contextmanager
def quantity_axes(ax):
    """Context in which ``ax`` accepts Quantities (like `quantity_support`)."""
    from matplotlib import units as munits

    converter = _quantity_converter(ax)
    missing = u.Quantity not in munits.registry
    previous = munits.registry.get(u.Quantity)
    munits.registry[u.Quantity] = converter
    try:
        yield
    finally:
        if missing:
            munits.registry.pop(u.Quantity, None)
        else:
            munits.registry[u.Quantity] = previous


def setup_unit_axis(axis, unit=None, default=None, what="values"):
    """Give a matplotlib axis astropy units and return the unit it ends up with.

    Parameters
    ----------
    axis : `~matplotlib.axis.Axis`
        ``ax.xaxis`` or ``ax.yaxis``.
    unit : `~astropy.units.Unit`, optional
        Unit asked for by the caller: it replaces the axis unit (lines already
        drawn as Quantities are converted by matplotlib).
    default : `~astropy.units.Unit`
        Unit of an axis that has none yet.  An axis that already has a unit
        keeps it; it must be convertible to ``default``.
    what : str
        Name of the plotted quantity, for the error message.

    Returns
    -------
    unit : `~astropy.units.Unit`
    """
    current = _axis_unit(axis)
    target = u.Unit(unit) if unit is not None else (current if current is not None else u.Unit(default))
    if default is not None and not target.is_equivalent(default):
        raise u.UnitConversionError(
            f"plot: the axis unit {target} does not convert to the unit of the {what} "
            f"({u.Unit(default)}); use a new axes or pass a matching unit"
        )
    with quantity_axes(axis.axes):
        # installs the astropy converter on an axis without one
        axis.update_units(u.Quantity(1.0, target))
    if _axis_unit(axis) != target:
        axis.set_units(target)
    return target
