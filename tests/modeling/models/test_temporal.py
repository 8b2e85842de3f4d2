"""Tests of temporal models (expected values from their formulas)."""
import numpy as np
import pytest
from astropy.table import Table
from astropy.time import Time

from gammalike.modeling.models import (
    ConstantTemporalModel,
    ExpDecayTemporalModel,
    GaussianTemporalModel,
    LightCurveTemplateTemporalModel,
    LinearTemporalModel,
    PowerLawTemporalModel,
    SineTemporalModel,
    TemporalModel,
)

T_REF = 55555.0


def test_values():
    t = np.array([T_REF, T_REF + 2.0])
    assert np.allclose(ConstantTemporalModel()(t), 1, atol=0)
    assert np.allclose(LinearTemporalModel(alpha=1, beta="0.5 d-1", t_ref=T_REF)(t), [1, 2], atol=0)
    assert np.allclose(ExpDecayTemporalModel(t0="2 d", t_ref=T_REF)(t), [1, np.exp(-1)], atol=0)
    assert np.allclose(GaussianTemporalModel(t_ref=T_REF, sigma="2 d")(t), [1, np.exp(-0.5)], atol=0)
    assert np.allclose(PowerLawTemporalModel(alpha=2, t_ref=T_REF, t0="1 d")(t), [0, 4], atol=0)
    sine = SineTemporalModel(amp=0.5, omega=f"{np.pi / 4} rad / d", t_ref=T_REF)
    assert np.allclose(sine(t), [1, 1.5], atol=0)
    # Time input: same as MJD floats
    assert np.allclose(ExpDecayTemporalModel(t0="2 d", t_ref=T_REF)(Time(t, format="mjd")), [1, np.exp(-1)], atol=0)


def test_light_curve_template(tmp_path):
    table = Table({"TIME": [55555.0, 55556.0, 55557.0], "NORM": [1.0, 3.0, 2.0]})
    filename = tmp_path / "lc.fits"
    table.write(filename)
    model = LightCurveTemplateTemporalModel.read(filename)
    # linear interpolation, zero outside
    assert np.allclose(model(np.array([55555.5, 55556.5, 55600.0])), [2.0, 2.5, 0.0], atol=0)
    new = TemporalModel.from_dict(model.to_dict())
    assert np.allclose(new(np.array([55555.5])), [2.0], atol=0)


@pytest.mark.parametrize("cls", [LinearTemporalModel, ExpDecayTemporalModel, GaussianTemporalModel,
                                 PowerLawTemporalModel, SineTemporalModel, ConstantTemporalModel])
def test_yaml_round_trip(cls):
    model = cls()
    new = TemporalModel.from_dict(model.to_dict())
    assert type(new) is cls
    assert np.array_equal(new.parameters.values, model.parameters.values)
