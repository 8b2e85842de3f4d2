"""Model parameters and parameter lists.

A `Parameter` stores its value as ``factor * scale``: the fitter only ever
sees ``factor`` (a number of order one once `Parameters.autoscale` ran), the
user sees ``value`` and ``quantity``.  One Parameter object shared by several
models is one free parameter of a fit.
"""
import copy
import itertools

import numpy as np
from astropy import units as u
from astropy.table import Table

__all__ = ["Parameter", "Parameters"]


def _to_unit(unit):
    if isinstance(unit, u.UnitBase):
        return unit
    return u.Unit("" if unit is None else unit)


class Parameter:
    """A model parameter.

    Parameters
    ----------
    name : str
        Name.
    value : float, str or `~astropy.units.Quantity`
        Value; a Quantity or a string such as ``"1e-12 cm-2 s-1 TeV-1"`` also sets the unit.
    unit : str or `~astropy.units.Unit`
        Unit of ``value``, ``min``, ``max`` and ``error``.
    scale : float
        ``value = factor * scale``; chosen by `autoscale` so that the fitter
        works on numbers of order one.
    min, max : float
        Bounds (NaN: unbounded), in ``unit``.
    frozen : bool
        Excluded from fits.
    error : float
        Symmetric error, in ``unit``.
    is_norm : bool
        Whether the parameter is an amplitude the model is linear in.
    interp : {"lin", "log", "sqrt"}
        Spacing used for scans.
    scale_method : {"scale10", "factor1", None}
        How `autoscale` picks ``scale``.
    """

    __slots__ = (
        "_name", "_factor", "_scale", "_unit", "_min", "_max", "frozen", "_error",
        "is_norm", "interp", "scale_method", "scan_n_values", "scan_n_sigma",
        "scan_min", "scan_max", "scan_values", "_conversion",
    )

    def __init__(
        self, name, value, unit="", scale=1, min=np.nan, max=np.nan, frozen=False,
        error=0, is_norm=False, interp="lin", scale_method="scale10",
        scan_n_values=11, scan_n_sigma=2, scan_min=None, scan_max=None,
        scan_values=None,
    ):
        if not isinstance(name, str):
            raise TypeError(f"Parameter name must be a str, got {name!r}")
        self._name = name
        self._conversion = None
        self._scale = float(scale)
        if isinstance(value, str):
            value = u.Quantity(value)
        if isinstance(value, u.Quantity):
            self._unit = value.unit
            self._factor = float(value.value) / self._scale
        else:
            self._unit = _to_unit(unit)
            self._factor = float(value) / self._scale
        self.min = min
        self.max = max
        self.frozen = bool(frozen)
        self.error = error
        self.is_norm = bool(is_norm)
        self.interp = interp
        self.scale_method = scale_method
        self.scan_n_values = scan_n_values
        self.scan_n_sigma = scan_n_sigma
        self.scan_min = scan_min
        self.scan_max = scan_max
        self.scan_values = scan_values

    # -- value handling -------------------------------------------------
    @property
    def name(self):
        """Name (read only: models look parameters up by it)."""
        return self._name

    @property
    def factor(self):
        """Value divided by scale: what the fitter varies."""
        return self._factor

    @factor.setter
    def factor(self, val):
        self._factor = float(val)

    @property
    def scale(self):
        """Scale: ``value = factor * scale``."""
        return self._scale

    @scale.setter
    def scale(self, val):
        value = self.value
        self._scale = float(val)
        self._factor = value / self._scale

    @property
    def value(self):
        """Value as a float, in ``unit``."""
        return self._factor * self._scale

    @value.setter
    def value(self, val):
        if isinstance(val, (u.Quantity, str)):
            self.quantity = val
            return
        self._factor = float(val) / self._scale

    @property
    def unit(self):
        """Unit of value, min, max and error."""
        return self._unit

    @unit.setter
    def unit(self, val):
        self._unit = _to_unit(val)
        self._conversion = None

    @property
    def quantity(self):
        """Value as a Quantity."""
        return u.Quantity(self.value, self._unit)

    @quantity.setter
    def quantity(self, val):
        val = u.Quantity(val)
        if not self._unit.is_equivalent(val.unit):
            raise u.UnitConversionError(
                f"Parameter {self.name!r}: unit {val.unit!s} does not convert to {self._unit!s}"
            )
        self._factor = float(val.to_value(self._unit)) / self._scale

    def value_in(self, unit):
        """Value converted to ``unit``, as a float (conversion cached).

        Models call this in their evaluation hot path: the unit conversion
        factor is computed once per (parameter unit, target unit) pair.
        """
        conv = self._conversion
        if conv is None or conv[0] is not unit:
            try:
                factor = self._unit.to(unit)
            except u.UnitConversionError as exc:
                raise u.UnitConversionError(
                    f"Parameter {self.name!r}: unit {self._unit!s} does not convert to {unit!s}"
                ) from exc
            conv = self._conversion = (unit, factor)
        return self._factor * self._scale * conv[1]

    @property
    def min(self):
        """Lower bound, in ``unit`` (NaN: none)."""
        return self._min

    @min.setter
    def min(self, val):
        self._min = self._bound(val, "min")

    @property
    def max(self):
        """Upper bound, in ``unit`` (NaN: none)."""
        return self._max

    @max.setter
    def max(self, val):
        self._max = self._bound(val, "max")

    def _bound(self, val, what):
        if val is None:
            return np.nan
        if isinstance(val, (u.Quantity, str)):
            val = u.Quantity(val)
            if not self._unit.is_equivalent(val.unit):
                raise u.UnitConversionError(
                    f"Parameter {self.name!r}: {what} unit {val.unit!s} does not convert to {self._unit!s}"
                )
            val = val.to_value(self._unit)
        return float(val)

    @property
    def factor_min(self):
        """Lower bound divided by scale."""
        return self._min / self._scale

    @property
    def factor_max(self):
        """Upper bound divided by scale."""
        return self._max / self._scale

    @property
    def error(self):
        """Symmetric error, in ``unit``."""
        return self._error

    @error.setter
    def error(self, val):
        if isinstance(val, u.Quantity):
            val = val.to_value(self._unit)
        self._error = float(val)

    @property
    def factor_error(self):
        """Error divided by scale."""
        return self._error / self._scale

    def autoscale(self):
        """Choose ``scale`` so that ``factor`` is of order one."""
        value = self.value
        if self.scale_method == "scale10":
            if value != 0 and np.isfinite(value):
                power = int(np.floor(np.log10(np.abs(value))))
                self.scale = 10.0 ** power
            else:
                self.scale = 1.0
        elif self.scale_method == "factor1":
            self.scale = value if value != 0 else 1.0
        elif self.scale_method is not None:
            raise ValueError(
                f"Parameter {self.name!r}: scale_method must be 'scale10', 'factor1' or None, "
                f"got {self.scale_method!r}"
            )

    def check_limits(self):
        """Whether the value lies within [min, max] (NaN bounds are open)."""
        value = self.value
        return not (value < self._min or value > self._max)

    @property
    def scan_values_default(self):
        """Values for a likelihood scan: ``scan_values`` or a grid around the value."""
        if self.scan_values is not None:
            return np.asarray(self.scan_values, dtype=float)
        error = self._error if self._error > 0 else abs(self.value) * 0.1 or 1.0
        lo = self.scan_min if self.scan_min is not None else self.value - self.scan_n_sigma * error
        hi = self.scan_max if self.scan_max is not None else self.value + self.scan_n_sigma * error
        if self.interp == "log" and lo > 0:
            return np.geomspace(lo, hi, self.scan_n_values)
        return np.linspace(lo, hi, self.scan_n_values)

    def copy(self):
        """Independent copy."""
        return copy.copy(self)

    def update_from_dict(self, data):
        """Update value, unit, bounds, frozen and error from a YAML dictionary."""
        if "unit" in data:
            unit = _to_unit(data["unit"])
            if not (self._unit == u.dimensionless_unscaled and unit == u.dimensionless_unscaled):
                if not unit.is_equivalent(self._unit) and self._unit != u.dimensionless_unscaled:
                    raise u.UnitConversionError(
                        f"Parameter {self.name!r}: unit {unit!s} does not convert to {self._unit!s}"
                    )
            self.unit = unit
        if "value" in data:
            self._scale = 1.0
            self._factor = float(data["value"])
        for key in ("min", "max", "error", "interp", "scale_method", "is_norm"):
            if key in data:
                setattr(self, key, data[key])
        if "frozen" in data:
            self.frozen = bool(data["frozen"])

    def to_dict(self):
        """Dictionary for YAML serialisation."""
        data = {"name": self.name, "value": self.value, "unit": self._unit.to_string("fits")}
        if data["unit"] == "":
            data["unit"] = ""
        if np.isfinite(self._error) and self._error != 0:
            data["error"] = self._error
        if np.isfinite(self._min):
            data["min"] = self._min
        if np.isfinite(self._max):
            data["max"] = self._max
        if self.frozen:
            data["frozen"] = True
        if self.interp != "lin":
            data["interp"] = self.interp
        if self.is_norm:
            data["is_norm"] = True
        return data

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(name={self.name!r}, value={self.value!r}, "
            f"factor={self._factor!r}, scale={self._scale!r}, unit={self._unit.to_string()!r}, "
            f"min={self._min!r}, max={self._max!r}, frozen={self.frozen!r}, id={hex(id(self))})"
        )


class Parameters:
    """An ordered list of `Parameter` objects.

    Indexing by name returns the first parameter of that name.
    """

    def __init__(self, parameters=None):
        if parameters is None:
            parameters = []
        elif isinstance(parameters, Parameters):
            parameters = parameters._parameters
        self._parameters = list(parameters)

    # -- list protocol --------------------------------------------------
    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, item):
        if isinstance(item, str):
            return item in self.names
        return any(item is par for par in self._parameters)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._parameters[key]
        if isinstance(key, slice):
            return self.__class__(self._parameters[key])
        if isinstance(key, str):
            for par in self._parameters:
                if par.name == key:
                    return par
            raise KeyError(f"No parameter named {key!r}; parameters are {self.names}")
        if isinstance(key, Parameter):
            return key
        raise TypeError(f"Invalid parameter key: {key!r}")

    def index(self, par):
        """Position of a parameter (by identity, or first of that name)."""
        if isinstance(par, str):
            return self.names.index(par)
        for idx, other in enumerate(self._parameters):
            if other is par:
                return idx
        raise ValueError(f"{par!r} is not in this list")

    def __add__(self, other):
        if isinstance(other, Parameters):
            return Parameters(self._parameters + other._parameters)
        raise TypeError(f"Cannot add Parameters and {type(other).__name__}")

    @classmethod
    def from_stack(cls, parameters_list):
        """Concatenate several parameter lists."""
        return cls(list(itertools.chain.from_iterable(parameters_list)))

    # -- views ----------------------------------------------------------
    @property
    def names(self):
        """Parameter names."""
        return [par.name for par in self._parameters]

    @property
    def values(self):
        """Values as a float array."""
        return np.array([par.value for par in self._parameters], dtype=float)

    @values.setter
    def values(self, values):
        values = np.asarray(values, dtype=float)
        if len(values) != len(self):
            raise ValueError(f"Expected {len(self)} values, got {len(values)}")
        for par, val in zip(self._parameters, values):
            par.value = val

    @property
    def errors(self):
        """Errors as a float array."""
        return np.array([par.error for par in self._parameters], dtype=float)

    @property
    def min(self):
        return np.array([par.min for par in self._parameters], dtype=float)

    @property
    def max(self):
        return np.array([par.max for par in self._parameters], dtype=float)

    @property
    def unique_parameters(self):
        """Parameters with duplicates (the same object twice) removed, order kept."""
        seen = set()
        unique = []
        for par in self._parameters:
            if id(par) not in seen:
                seen.add(id(par))
                unique.append(par)
        return self.__class__(unique)

    @property
    def free_parameters(self):
        """Unique parameters that are not frozen."""
        return self.__class__([par for par in self.unique_parameters if not par.frozen])

    @property
    def free_unique_parameters(self):
        return self.free_parameters

    @property
    def norm_parameters(self):
        """Parameters flagged ``is_norm``."""
        return self.__class__([par for par in self._parameters if par.is_norm])

    def select(self, name=None, frozen=None, is_norm=None):
        """Sub-list matching all the given criteria."""
        pars = self._parameters
        if name is not None:
            pars = [p for p in pars if p.name == name]
        if frozen is not None:
            pars = [p for p in pars if p.frozen == frozen]
        if is_norm is not None:
            pars = [p for p in pars if p.is_norm == is_norm]
        return self.__class__(pars)

    # -- fitter interface -----------------------------------------------
    def autoscale(self):
        """Autoscale every parameter."""
        for par in self._parameters:
            par.autoscale()

    def set_parameter_factors(self, factors):
        """Set factors of all parameters in order (used by the fitter)."""
        for par, factor in zip(self._parameters, factors):
            par._factor = float(factor)

    def check_limits(self):
        """Names of parameters outside their bounds."""
        return [par.name for par in self._parameters if not par.check_limits()]

    def freeze_all(self):
        """Freeze every parameter."""
        for par in self._parameters:
            par.frozen = True

    def unfreeze_all(self):
        """Unfreeze every parameter."""
        for par in self._parameters:
            par.frozen = False

    def restore_status(self, restore_values=True):
        """Context manager restoring values and frozen states on exit."""
        return _RestoreStatus(self, restore_values)

    # -- output ---------------------------------------------------------
    def to_table(self):
        """Table with columns type?, name, value, unit, error, min, max, frozen, is_norm."""
        rows = [
            (p.name, p.value, p.unit.to_string("fits"), p.error, p.min, p.max, p.frozen, p.is_norm)
            for p in self._parameters
        ]
        table = Table(
            rows=rows or None,
            names=["name", "value", "unit", "error", "min", "max", "frozen", "is_norm"],
            dtype=[str, float, str, float, float, float, bool, bool],
        )
        for col in ("value", "error", "min", "max"):
            table[col].format = ".3e"
        return table

    def to_dict(self):
        return [par.to_dict() for par in self._parameters]

    def copy(self):
        """Deep copy (shared parameters stay shared within the copy)."""
        return copy.deepcopy(self)

    def __str__(self):
        return "\n".join(str(self.to_table()).splitlines())

    def __repr__(self):
        return f"{self.__class__.__name__}({self.names})"


class _RestoreStatus:
    def __init__(self, parameters, restore_values):
        self.parameters = parameters
        self.restore_values = restore_values

    def __enter__(self):
        self._state = [
            (p, p.factor, p.scale, p.frozen) for p in self.parameters
        ]
        return self

    def __exit__(self, *exc):
        for par, factor, scale, frozen in self._state:
            if self.restore_values:
                par._scale = scale
                par._factor = factor
            par.frozen = frozen
        return False
