"""Model base class and the registry of model types.

A model class declares its parameters as class attributes::

    class PowerLawSpectralModel(SpectralModel):
        tag = ["PowerLawSpectralModel", "pl"]
        index = Parameter("index", 2.0)
        amplitude = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1", is_norm=True)
        reference = Parameter("reference", "1 TeV", frozen=True)

Each instance gets its own copies (or the `Parameter` objects passed to the
constructor, which are then shared).  The unit of each *class* default is the
model's internal unit: `ModelBase.parameter_values` returns floats in those
units for the evaluation hot path, with the unit conversion cached.
"""
import copy
import secrets
import string
import warnings

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..covariance import Covariance
from ..parameter import Parameter, Parameters

__all__ = ["ModelBase", "Registry", "MODEL_REGISTRY", "make_name", "parameters_table"]


class Registry:
    """Model classes keyed by the ``type`` names used in YAML files."""

    def __init__(self, family):
        self.family = family
        self._classes = {}

    def register(self, cls):
        for tag in _tags(cls):
            self._classes[tag] = cls
        return cls

    def get_cls(self, tag):
        try:
            return self._classes[tag]
        except KeyError:
            known = sorted({c.tag[0] if isinstance(c.tag, list) else c.tag for c in self._classes.values()})
            raise KeyError(
                f"Unknown {self.family} model type {tag!r}; known types: {', '.join(known)}"
            ) from None

    def __contains__(self, tag):
        return tag in self._classes

    @property
    def names(self):
        return sorted({_tags(c)[0] for c in self._classes.values()})


def _tags(cls):
    tag = cls.tag
    return list(tag) if isinstance(tag, (list, tuple)) else [tag]


#: One registry per model family: "spectral", "spatial", "temporal", "sky".
MODEL_REGISTRY = {name: Registry(name) for name in ("spectral", "spatial", "temporal", "sky")}


class ModelBase:
    """Base class of all models: parameters, copy, YAML dictionaries."""

    tag = None
    _family = None
    default_parameters = Parameters()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        pars = []
        names = set()
        # Parameters declared on the class (inherited ones first, then own).
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Parameter):
                    if name in names:
                        pars = [p for p in pars if p.name != name]
                    names.add(name)
                    pars.append(value)
        cls.default_parameters = Parameters(pars)
        cls._internal_units = tuple(p.unit for p in pars)
        if cls.tag is not None and cls._family is not None and not cls.__dict__.get("_abstract", False):
            MODEL_REGISTRY[cls._family].register(cls)

    def __init__(self, **kwargs):
        for default in self.default_parameters:
            name = default.name
            value = kwargs.pop(name, None)
            if isinstance(value, Parameter):
                if value.name != name:
                    value = copy.copy(value)
                    value._name = name
                par = value
            else:
                par = copy.copy(default)
                par._conversion = None
                if value is not None:
                    _set_parameter_value(par, value, self)
            self.__dict__[name] = par
        if kwargs:
            # gammapy silently ignores unknown keywords and seed 000 relies on it
            # (``GaussianSpatialModel(..., r0=...)``): warn instead of raising.
            warnings.warn(
                f"{self.__class__.__name__}: unknown argument(s) {sorted(kwargs)} ignored; "
                f"parameters are {self.default_parameters.names}",
                stacklevel=3,
            )
        self._covariance = None

    # -- parameters -----------------------------------------------------
    def _defaults(self):
        """Default parameters of this instance (class defaults unless overridden)."""
        return self.default_parameters

    @property
    def parameters(self):
        """Parameters of this model, in declaration order."""
        return Parameters([getattr(self, p.name) for p in self._defaults()])

    @property
    def parameters_unique_names(self):
        return self.parameters.names

    def parameter_values(self):
        """Parameter values as floats in the model's internal units (hot path)."""
        return tuple(
            getattr(self, p.name).value_in(unit)
            for p, unit in zip(self._defaults(), self._internal_units)
        )

    @property
    def covariance(self):
        """Covariance of this model's parameters."""
        if self._covariance is None or len(self._covariance.parameters) != len(self.parameters):
            self._covariance = Covariance(self.parameters)
        else:
            # Parameters may have been replaced (shared) since: keep the matrix, refresh the list.
            self._covariance.parameters = self.parameters
        return self._covariance

    @covariance.setter
    def covariance(self, covariance):
        if isinstance(covariance, Covariance):
            data = covariance.get_subcovariance(self.parameters) if covariance.parameters is not self.parameters else covariance.data
        else:
            data = np.asarray(covariance, dtype=float)
        self._covariance = Covariance(self.parameters, data)
        for par, var in zip(self.parameters, np.diag(self._covariance.data)):
            par.error = np.sqrt(max(var, 0.0))

    def freeze(self):
        """Freeze all parameters."""
        self.parameters.freeze_all()

    def unfreeze(self):
        """Unfreeze all parameters that are free by default."""
        for default, par in zip(self._defaults(), self.parameters):
            par.frozen = default.frozen

    @property
    def frozen(self):
        """Whether all parameters are frozen."""
        return all(p.frozen for p in self.parameters)

    def copy(self, **kwargs):
        """Deep copy; keyword arguments replace parameter values."""
        new = copy.deepcopy(self)
        for name, value in kwargs.items():
            _set_parameter_value(getattr(new, name), value, new)
        return new

    # -- serialisation --------------------------------------------------
    @property
    def type_name(self):
        return _tags(self.__class__)[0]

    def to_dict(self, full_output=False):
        """Dictionary for YAML: ``{"type": ..., "parameters": [...]}``."""
        pars = []
        for default, par in zip(self._defaults(), self.parameters):
            data = par.to_dict()
            # a parameter shared from another model may carry another name: the slot wins
            data["name"] = default.name
            if not full_output:
                # Keep YAML short: drop entries equal to the class default.
                if "frozen" not in data and default.frozen:
                    data["frozen"] = False
            pars.append(data)
        return {"type": self.type_name, "parameters": pars}

    @classmethod
    def from_dict(cls, data, **kwargs):
        """Create from a YAML dictionary (``type`` and ``parameters``)."""
        if "type" in data and data["type"] not in _tags(cls):
            cls = MODEL_REGISTRY[cls._family].get_cls(data["type"])
            # the concrete class may read more than parameters (templates, nodes...)
            return cls.from_dict(data, **kwargs)
        model = cls(**kwargs)
        model._update_parameters_from_dict(data.get("parameters", []))
        return model

    def _update_parameters_from_dict(self, pars):
        defaults = {p.name: p for p in self._defaults()}
        for item in pars:
            name = item.get("name")
            if name not in defaults:
                raise ValueError(
                    f"{self.type_name}: unknown parameter {name!r} in YAML; "
                    f"expected one of {list(defaults)}"
                )
            par = getattr(self, name)
            par.update_from_dict(item)
            # update_from_dict accepts any unit for a dimensionless default: the
            # model's internal unit is the reference, so check against it here.
            internal = defaults[name].unit
            if not par.unit.is_equivalent(internal):
                raise u.UnitConversionError(
                    f"{self.type_name}: parameter {name!r} has unit {par.unit!s}, "
                    f"which does not convert to {internal!s}"
                )

    # -- output ---------------------------------------------------------
    def __str__(self):
        table = self.parameters.to_table()
        return f"{self.__class__.__name__}\n\n" + "\n".join(str(table).splitlines())

    def __repr__(self):
        return f"{self.__class__.__name__}({', '.join(f'{p.name}={p.quantity}' for p in self.parameters)})"


def _set_parameter_value(par, value, model):
    """Set a parameter from a Quantity, string or float given to a constructor."""
    if isinstance(value, str):
        value = u.Quantity(value)
    if isinstance(value, u.Quantity):
        if not value.unit.is_equivalent(par.unit) and par.unit != u.dimensionless_unscaled:
            raise u.UnitConversionError(
                f"{model.__class__.__name__}: parameter {par.name!r} given in {value.unit!s}, "
                f"which does not convert to {par.unit!s}"
            )
        # The user's unit is kept, so that printing and YAML show what was given.
        par.unit = value.unit
        par.value = float(value.value)
    else:
        par.value = float(value)


def make_name():
    """Random 8-character model name (letters and digits), as gammapy does."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def components_of(model):
    """``(kind, component)`` pairs of a model: its ``_components()`` (sky models), or
    the model itself, labelled by its family."""
    if hasattr(model, "_components"):
        return list(model._components())
    return [(model._family or "model", model)]


def parameters_table(models):
    """Table of all parameters of several named models (``to_parameters_table``).

    A parameter object appearing more than once (shared between models) gets
    the same non-empty ``link`` label on each of its rows.
    """
    rows = []
    counts = {}
    for model in models:
        for kind, component in components_of(model):
            for par in component.parameters:
                counts[id(par)] = counts.get(id(par), 0) + 1
    for model in models:
        for kind, component in components_of(model):
            for par in component.parameters:
                link = f"{par.name}@{id(par) & 0xFFFFFFFF:08x}" if counts[id(par)] > 1 else ""
                rows.append(
                    (str(getattr(model, "name", None)), kind, par.name, par.value, par.unit.to_string("fits"), par.error,
                     par.min, par.max, par.frozen, par.is_norm, link)
                )
    names = ["model", "type", "name", "value", "unit", "error", "min", "max", "frozen", "is_norm", "link"]
    table = Table(rows=rows or None, names=names,
                  dtype=[str, str, str, float, str, float, float, float, bool, bool, str])
    table["value"].format = ".4e"
    for col in ("error", "min", "max"):
        table[col].format = ".3e"
    return table
