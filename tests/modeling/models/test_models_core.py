"""Tests of ModelBase and the registry as used by the model classes."""
import pytest
from astropy import units as u

from gammalike.modeling.models import MODEL_REGISTRY, PowerLawSpectralModel, SpectralModel
from gammalike.modeling.models.core import make_name


def test_registry_lookup_and_error():
    assert MODEL_REGISTRY["spectral"].get_cls("pl") is PowerLawSpectralModel
    assert MODEL_REGISTRY["spectral"].get_cls("PowerLawSpectralModel") is PowerLawSpectralModel
    with pytest.raises(KeyError, match="Unknown spectral model type 'Foo'.*PowerLawSpectralModel"):
        SpectralModel.from_dict({"type": "Foo"})


def test_from_dict_unit_checks():
    data = {"type": "PowerLawSpectralModel",
            "parameters": [{"name": "index", "value": 2.0, "unit": "deg"}]}
    # dimensionless default: any unit is accepted by Parameter.update_from_dict,
    # the model checks against its internal unit
    with pytest.raises(u.UnitConversionError, match="index"):
        SpectralModel.from_dict(data)
    data = {"type": "PowerLawSpectralModel",
            "parameters": [{"name": "reference", "value": 2.0, "unit": "s"}]}
    with pytest.raises(u.UnitConversionError, match="reference"):
        SpectralModel.from_dict(data)
    data = {"type": "PowerLawSpectralModel", "parameters": [{"name": "gamma", "value": 2.0}]}
    with pytest.raises(ValueError, match="gamma"):
        SpectralModel.from_dict(data)


def test_constructor_unit_error():
    with pytest.raises(u.UnitConversionError, match="amplitude"):
        PowerLawSpectralModel(amplitude="1e-12 deg")


def test_parameters_are_per_instance():
    a, b = PowerLawSpectralModel(), PowerLawSpectralModel()
    a.index.value = 3
    assert b.index.value == 2
    assert PowerLawSpectralModel.default_parameters["index"].value == 2


def test_make_name():
    names = {make_name() for _ in range(50)}
    assert len(names) == 50 and all(len(n) == 8 and n.isalnum() for n in names)
