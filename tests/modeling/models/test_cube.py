"""Tests of SkyModel and FoVBackgroundModel."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.modeling.models import (
    ExpCutoffPowerLawSpectralModel,
    FoVBackgroundModel,
    GaussianSpatialModel,
    LinearTemporalModel,
    PiecewiseNormSpectralModel,
    PointSpatialModel,
    PowerLaw2SpectralModel,
    PowerLawNormSpectralModel,
    PowerLawSpectralModel,
    SkyModel,
)


def _sky_model(name="src"):
    return SkyModel(
        spectral_model=PowerLawSpectralModel(index=2.5),
        spatial_model=GaussianSpatialModel(lon_0="1 deg", lat_0="2 deg", sigma="0.1 deg"),
        temporal_model=LinearTemporalModel(),
        name=name,
    )


def test_sky_model_parameters_order_and_components():
    model = _sky_model()
    # gammapy order: spectral, spatial, temporal
    assert model.parameters.names == ["index", "amplitude", "reference", "lon_0", "lat_0", "sigma",
                                      "e", "phi", "alpha", "beta", "t_ref"]
    assert [kind for kind, _ in model._components()] == ["spectral", "spatial", "temporal"]
    assert model.parameters_unique_names[3] == "src.spatial.lon_0"
    assert model.position.ra.deg == pytest.approx(1)


def test_sky_model_name_auto_and_copy():
    model = SkyModel(spectral_model=PowerLawSpectralModel())
    assert isinstance(model.name, str) and len(model.name) == 8
    other = SkyModel(spectral_model=PowerLawSpectralModel())
    assert other.name != model.name
    named = _sky_model("crab")
    copy = named.copy(name="crab-2")
    assert copy.name == "crab-2"
    assert copy.spectral_model.index is not named.spectral_model.index
    assert named.copy().name != "crab"


def test_sky_model_freeze_unfreeze():
    model = _sky_model()
    model.freeze("spatial")
    assert model.spatial_model.frozen and not model.spectral_model.frozen
    model.freeze()
    assert model.frozen
    model.unfreeze()
    # back to the defaults: reference and e/phi stay frozen
    assert not model.spectral_model.index.frozen
    assert model.spectral_model.reference.frozen
    assert model.spatial_model.e.frozen


def test_sky_model_covariance_distribution():
    model = SkyModel(spectral_model=PowerLawSpectralModel(),
                     spatial_model=PointSpatialModel(), name="x")
    data = np.diag([0.01, 1e-26, 0.0, 4e-4, 9e-4])
    data[0, 1] = data[1, 0] = 1e-15
    model.covariance = data
    assert np.allclose(model.covariance.data, data, atol=0)
    assert np.allclose(model.spectral_model.covariance.data, data[:3, :3], atol=0)
    assert model.spatial_model.lat_0.error == pytest.approx(0.03)
    assert model.spectral_model.index.error == pytest.approx(0.1)


def test_sky_model_yaml_round_trip():
    model = _sky_model()
    model.datasets_names = ["a", "b"]
    data = model.to_dict()
    assert data["type"] == "SkyModel"
    assert set(data) == {"name", "type", "datasets_names", "spectral", "spatial", "temporal"}
    new = SkyModel.from_dict(data)
    assert new.name == "src" and new.datasets_names == ["a", "b"]
    assert np.array_equal(new.parameters.values, model.parameters.values)
    assert type(new.temporal_model) is LinearTemporalModel


def test_sky_model_str_seed_004_layout():
    model = SkyModel(
        spectral_model=PowerLaw2SpectralModel(amplitude="1e-12 cm-2 s-1", index=2, emin="0.1 TeV",
                                              emax="10 TeV"),
        spatial_model=PointSpatialModel(lon_0="0.02 deg", lat_0="0.01 deg", frame="galactic"),
        name="GC-1",
    )
    model.spectral_model.index.frozen = True
    text = str(model)
    lines = text.splitlines()
    assert lines[0] == "SkyModel"
    assert "  Name                      : GC-1" in lines
    assert "  Datasets names            : None" in lines
    assert "  Spectral model type       : PowerLaw2SpectralModel" in lines
    assert "  Spatial  model type       : PointSpatialModel" in lines
    assert "    index                 (frozen):      2.000" in lines
    assert "    lon_0                         :      0.020   +/-    0.00 deg" in lines
    assert any(line.startswith("    amplitude                     :   1.00e-12   +/- 0.0e+00") for line in lines)


def test_sky_model_type_checks():
    with pytest.raises(TypeError, match="spectral_model"):
        SkyModel(spectral_model=PointSpatialModel())
    with pytest.raises(TypeError, match="spatial_model"):
        SkyModel(spectral_model=PowerLawSpectralModel(), spatial_model=PowerLawSpectralModel())


def test_fov_background_model():
    model = FoVBackgroundModel(dataset_name="stacked")
    assert model.name == "stacked-bkg"
    assert model.datasets_names == ["stacked"]
    assert isinstance(model.spectral_model, PowerLawNormSpectralModel)
    assert model.parameters.names == ["norm", "tilt", "reference"]
    data = model.to_dict()
    assert data["type"] == "FoVBackgroundModel" and data["datasets_names"] == ["stacked"]
    new = FoVBackgroundModel.from_dict(data)
    assert new.name == "stacked-bkg"
    text = str(model)
    assert "  Name                      : stacked-bkg" in text
    assert "  Datasets names            : ['stacked']" in text
    # seed 002: piecewise norm background
    piecewise = PiecewiseNormSpectralModel(energy=[1, 2, 4] * u.TeV, norms=np.ones(3))
    bkg = FoVBackgroundModel(dataset_name="stacked", spectral_model=piecewise)
    assert bkg.parameters.names == ["norm_0", "norm_1", "norm_2"]
    assert isinstance(FoVBackgroundModel.from_dict(bkg.to_dict()).spectral_model, PiecewiseNormSpectralModel)
    with pytest.raises(TypeError, match="norm"):
        FoVBackgroundModel(dataset_name="x", spectral_model=ExpCutoffPowerLawSpectralModel())


def test_old_background_model_layout():
    # seed 001's Fermi file: type BackgroundModel, parameters directly under the component
    data = {
        "name": "background",
        "type": "BackgroundModel",
        "parameters": [
            {"name": "norm", "value": 0.95, "unit": "", "min": 0.0},
            {"name": "tilt", "value": 0.0, "unit": "", "frozen": True},
            {"name": "reference", "value": 1.0, "unit": "TeV", "frozen": True},
        ],
    }
    model = FoVBackgroundModel.from_dict(data)
    assert model.name == "background" and model.datasets_names is None
    assert model.spectral_model.norm.value == 0.95 and model.spectral_model.norm.min == 0
    data["datasets_names"] = ["Fermi-LAT"]
    model = FoVBackgroundModel.from_dict(data)
    assert model.name == "Fermi-LAT-bkg"
