"""Value types of the analysis configuration: quantities with checked units, times, parameters.

Each type is an ``Annotated`` pydantic type: a plain validator that turns a
string such as ``"0.1 TeV"`` (or a `~astropy.units.Quantity`) into a
Quantity of the right physical type, and a serializer that writes it back as
``"0.1 TeV"``, so a configuration survives a YAML round trip.
"""
import re
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle
from astropy.time import Time
from pydantic import PlainSerializer, PlainValidator

__all__ = [
    "AngleType", "PositiveAngleType", "EnergyType", "TimeType", "ParametersType",
    "PathType", "quantity_to_str",
]

# a number followed by something: the strings in parameter dicts that are quantities
_QUANTITY_STRING = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[A-Za-z]")


def quantity_to_str(value):
    """``"0.1 TeV"`` for a scalar Quantity (``"8.0 deg"`` for 8 deg), lists for arrays."""
    if value is None:
        return None
    value = u.Quantity(value)
    unit = value.unit.to_string()
    if value.isscalar:
        return f"{float(value.value)} {unit}".strip()
    return [f"{float(v)} {unit}".strip() for v in np.ravel(value.value)]


def _quantity(value, physical_type, example, cls=u.Quantity):
    """Parse ``value`` into a Quantity of ``physical_type`` or raise a ValueError saying why."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"expected {physical_type} such as {example!r}, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, u.Quantity):
        raise ValueError(f"{value!r} has no unit: expected {physical_type} such as {example!r}")
    try:
        quantity = u.Quantity(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot read {value!r} as {physical_type} such as {example!r} ({exc})") from None
    if quantity.unit == u.dimensionless_unscaled:
        raise ValueError(f"{value!r} has no unit: expected {physical_type} such as {example!r}")
    reference = u.Quantity(example).unit
    if not quantity.unit.is_equivalent(reference):
        raise ValueError(
            f"{value!r} is not {physical_type}: unit {quantity.unit} cannot convert to {reference}"
        )
    if not quantity.isscalar:
        raise ValueError(f"expected one {physical_type} such as {example!r}, got {value!r}")
    return cls(quantity)


def _validate_angle(value):
    return _quantity(value, "an angle", "0.1 deg", cls=Angle)


def _validate_positive_angle(value):
    angle = _validate_angle(value)
    if angle is not None and not angle.to_value("deg") > 0:
        raise ValueError(f"must be a positive angle, got {quantity_to_str(angle)}")
    return angle


def _validate_energy(value):
    energy = _quantity(value, "an energy", "1 TeV")
    if energy is not None and not energy.to_value("TeV") > 0:
        raise ValueError(f"must be a positive energy, got {quantity_to_str(energy)}")
    return energy


def _validate_time(value):
    if value is None:
        return None
    if isinstance(value, Time):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 0:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        raise ValueError(
            f"{value!r}: a bare number is ambiguous as a time; give an ISO date such as "
            "'2006-07-29T20:30:00' or an astropy Time"
        )
    try:
        return Time(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot read {value!r} as a time such as '2006-07-29T20:30:00' ({exc})") from None


def _time_to_str(value):
    if value is None:
        return None
    if value.isscalar:
        return value.utc.isot
    return [t.utc.isot for t in value.ravel()]


def _validate_parameters(value):
    """A dict of keyword arguments; strings such as ``"2.5 deg"`` become Quantities."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of keyword arguments, got {value!r}")
    parsed = {}
    for key, item in value.items():
        if isinstance(item, str) and _QUANTITY_STRING.match(item):
            try:
                item = u.Quantity(item)
            except (TypeError, ValueError):
                pass
        parsed[str(key)] = item
    return parsed


def _dump_item(item):
    if isinstance(item, u.Quantity):
        return quantity_to_str(item)
    if isinstance(item, Time):
        return _time_to_str(item)
    if isinstance(item, Path):
        return str(item)
    if isinstance(item, np.generic):
        return item.item()
    if isinstance(item, np.ndarray):
        return item.tolist()
    if isinstance(item, (list, tuple)):
        return [_dump_item(v) for v in item]
    if isinstance(item, dict):
        return {k: _dump_item(v) for k, v in item.items()}
    return item


def _dump_parameters(value):
    return {key: _dump_item(item) for key, item in (value or {}).items()}


def _validate_path(value):
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        if str(value).strip() == "":
            raise ValueError("empty path")
        return Path(value)
    raise ValueError(f"expected a path, got {value!r}")


_str_or_none = PlainSerializer(lambda v: None if v is None else str(v), return_type=Any)

AngleType = Annotated[Any, PlainValidator(_validate_angle),
                      PlainSerializer(quantity_to_str, return_type=Any)]
PositiveAngleType = Annotated[Any, PlainValidator(_validate_positive_angle),
                              PlainSerializer(quantity_to_str, return_type=Any)]
EnergyType = Annotated[Any, PlainValidator(_validate_energy),
                       PlainSerializer(quantity_to_str, return_type=Any)]
TimeType = Annotated[Any, PlainValidator(_validate_time), PlainSerializer(_time_to_str, return_type=Any)]
ParametersType = Annotated[Any, PlainValidator(_validate_parameters),
                           PlainSerializer(_dump_parameters, return_type=Any)]
PathType = Annotated[Any, PlainValidator(_validate_path), _str_or_none]
