"""Tests of Parameter and Parameters (expected values follow from the definitions)."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.modeling import Parameter, Parameters


def test_parameter_value_factor_scale():
    par = Parameter("amplitude", "3e-12 cm-2 s-1 TeV-1")
    assert par.unit == u.Unit("cm-2 s-1 TeV-1")
    assert par.value == pytest.approx(3e-12, rel=1e-6, abs=0)
    par.autoscale()
    # scale10: the fitter sees a number of order one
    assert par.scale == pytest.approx(1e-12, rel=1e-6, abs=0)
    assert par.factor == pytest.approx(3.0)
    assert par.value == pytest.approx(3e-12, rel=1e-6, abs=0)
    par.factor = 2
    assert par.quantity.to_value("cm-2 s-1 TeV-1") == pytest.approx(2e-12, rel=1e-6, abs=0)


def test_parameter_quantity_conversion_and_error():
    par = Parameter("reference", 1, unit="TeV")
    par.quantity = 500 * u.GeV
    assert par.value == pytest.approx(0.5)
    with pytest.raises(u.UnitConversionError, match="reference"):
        par.quantity = 1 * u.s


def test_parameter_value_in_cached_conversion():
    par = Parameter("amplitude", "1e-11 erg-1 cm-2 s-1")
    unit = u.Unit("cm-2 s-1 TeV-1")
    # 1 erg = 0.624151 TeV, so 1e-11 erg-1 = 1.60218e-11 TeV-1
    assert par.value_in(unit) == pytest.approx(1.602176634e-11, rel=1e-6, abs=0)
    par.value = 2e-11
    assert par.value_in(unit) == pytest.approx(2 * 1.602176634e-11, rel=1e-6, abs=0)
    with pytest.raises(u.UnitConversionError, match="amplitude"):
        par.value_in(u.Unit("s"))


def test_parameter_bounds_and_limits():
    par = Parameter("index", 2.0, min=1, max=3)
    assert par.check_limits()
    par.value = 4
    assert not par.check_limits()
    par.scale = 2
    assert par.factor_min == 0.5 and par.factor_max == 1.5
    assert np.isnan(Parameter("x", 1).min)


def test_parameter_update_from_dict():
    par = Parameter("amplitude", "1e-12 cm-2 s-1 TeV-1")
    par.update_from_dict({"value": 2e-12, "unit": "cm-2 s-1 TeV-1", "frozen": True, "min": 0})
    assert par.value == 2e-12 and par.frozen and par.min == 0
    with pytest.raises(u.UnitConversionError, match="amplitude"):
        par.update_from_dict({"value": 1, "unit": "deg"})


def test_parameters_unique_and_free():
    a = Parameter("a", 1)
    b = Parameter("b", 2, frozen=True)
    pars = Parameters([a, b, a])
    assert pars.names == ["a", "b", "a"]
    assert pars.unique_parameters.names == ["a", "b"]
    assert pars.free_parameters.names == ["a"]
    assert pars["b"] is b
    with pytest.raises(KeyError, match="c"):
        pars["c"]
    pars.unfreeze_all()
    assert len(pars.free_parameters) == 2
    pars.freeze_all()
    assert len(pars.free_parameters) == 0


def test_parameters_restore_status():
    a = Parameter("a", 1.0)
    pars = Parameters([a])
    with pars.restore_status():
        a.value = 5
        a.frozen = True
    assert a.value == 1.0 and not a.frozen


def test_parameters_table():
    pars = Parameters([Parameter("a", "1 TeV", error=0.1), Parameter("b", 2, frozen=True)])
    table = pars.to_table()
    assert list(table["name"]) == ["a", "b"]
    assert table["unit"][0] == "TeV"
    assert table["error"][0] == pytest.approx(0.1)
    assert list(table["frozen"]) == [False, True]
