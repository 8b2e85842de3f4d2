"""Tests of spatial models: parameters, position, YAML, and analytic evaluation."""
import warnings

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammalike.modeling.models import (
    ConstantSpatialModel,
    DiskSpatialModel,
    GaussianSpatialModel,
    GeneralizedGaussianSpatialModel,
    PointSpatialModel,
    Shell2SpatialModel,
    ShellSpatialModel,
    SpatialModel,
    TemplateSpatialModel,
)
from gammalike.modeling.models.spatial import angular_separation_deg

ALL = [
    PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"),
    GaussianSpatialModel(lon_0="1 deg", lat_0="-0.5 deg", sigma="0.2 deg", frame="galactic"),
    GeneralizedGaussianSpatialModel(r_0="0.3 deg", eta=0.7),
    DiskSpatialModel(r_0="0.5 deg", e=0.3, phi="30 deg"),
    ShellSpatialModel(radius="0.5 deg", width="0.1 deg"),
    Shell2SpatialModel(r_0="0.5 deg", eta=0.3),
    ConstantSpatialModel(value="2 sr-1"),
]


def _solid_angle_integral(model, half_width):
    # integrate the surface brightness on a fine lon/lat grid around (0, 0)
    n = 801
    lon = np.linspace(-half_width, half_width, n)
    lat = np.linspace(-half_width, half_width, n)
    lon2, lat2 = np.meshgrid(lon, lat)
    values = model.evaluate(lon2, lat2, *model.parameter_values())
    d = np.radians(lon[1] - lon[0])
    return np.sum(values * np.cos(np.radians(lat2))) * d * d


@pytest.mark.parametrize("model", ALL, ids=lambda m: type(m).__name__)
def test_yaml_round_trip(model):
    data = model.to_dict()
    assert data["frame"] == model.frame
    new = SpatialModel.from_dict(data)
    assert type(new) is type(model)
    assert new.frame == model.frame
    assert np.array_equal(new.parameters.values, model.parameters.values)
    assert [p.unit for p in new.parameters] == [p.unit for p in model.parameters]


def test_position_and_frame():
    model = PointSpatialModel(lon_0="0.02 deg", lat_0="0.01 deg", frame="galactic")
    pos = model.position
    assert isinstance(pos, SkyCoord)
    assert pos.frame.name == "galactic"
    assert pos.l.deg == pytest.approx(0.02) and pos.b.deg == pytest.approx(0.01)
    # seed 002: lon_0 / lat_0 from SkyCoord ra / dec
    coord = SkyCoord(184.47 * u.deg, 30.12 * u.deg)
    model = PointSpatialModel(lon_0=coord.ra, lat_0=coord.dec, frame="icrs")
    assert model.lon_0.value == pytest.approx(184.47)
    # position setter transforms into the model frame
    model.position = SkyCoord(0 * u.deg, 0 * u.deg, frame="galactic")
    assert model.position.separation(SkyCoord(0 * u.deg, 0 * u.deg, frame="galactic")).deg < 1e-8
    assert model.lat_0.min == -90 and model.lat_0.max == 90


def test_gaussian_normalisation_and_value():
    model = GaussianSpatialModel(sigma="0.2 deg")
    # integral over the sky = 1 (small-angle normalisation)
    assert _solid_angle_integral(model, 2.0) == pytest.approx(1.0, rel=1e-3)
    # at one sigma the brightness falls by exp(-1/2)
    peak = model(0 * u.deg, 0 * u.deg)
    one_sigma = model(0.2 * u.deg, 0 * u.deg)
    assert (one_sigma / peak).value == pytest.approx(np.exp(-0.5), rel=1e-6)
    assert peak.unit == u.Unit("sr-1")
    elongated = GaussianSpatialModel(sigma="0.2 deg", e=0.6, phi="0 deg")
    assert _solid_angle_integral(elongated, 2.0) == pytest.approx(1.0, rel=1e-3)
    # major axis north (phi = 0): one sigma along lat, 0.8 sigma along lon
    ratio_north = elongated(0 * u.deg, 0.2 * u.deg) / elongated(0 * u.deg, 0 * u.deg)
    ratio_east = elongated(0.16 * u.deg, 0 * u.deg) / elongated(0 * u.deg, 0 * u.deg)
    assert ratio_north.value == pytest.approx(np.exp(-0.5), rel=1e-4)
    assert ratio_east.value == pytest.approx(np.exp(-0.5), rel=1e-4)


def test_disk_normalisation():
    model = DiskSpatialModel(r_0="0.5 deg")
    assert _solid_angle_integral(model, 0.7) == pytest.approx(1.0, rel=1e-2)
    assert model(0.6 * u.deg, 0 * u.deg).value == 0
    assert model(0.4 * u.deg, 0 * u.deg).value == pytest.approx(1 / (2 * np.pi * (1 - np.cos(np.radians(0.5)))))


def test_constant_and_template():
    model = ConstantSpatialModel(value="2 sr-1")
    assert np.all(model(np.zeros(3) * u.deg, np.ones(3) * u.deg).value == 2)
    assert model.position is None
    template = TemplateSpatialModel.from_dict({
        "type": "TemplateSpatialModel", "filename": "$GAMMAPY_DATA/x.fits", "normalize": False,
        "unit": "1 / (cm2 s MeV sr)"})
    data = template.to_dict()
    # filename kept unexpanded, normalize and unit preserved
    assert data["filename"] == "$GAMMAPY_DATA/x.fits"
    assert data["normalize"] is False
    assert u.Unit(data["unit"]) == u.Unit("cm-2 s-1 MeV-1 sr-1")
    assert len(template.parameters) == 0


def test_angular_separation():
    assert angular_separation_deg(0, 0, 90, 0) == pytest.approx(90)
    assert angular_separation_deg(10, 89.9, 190, 89.9) == pytest.approx(0.2)


def test_unknown_keyword_warns():
    # seed 000 passes r0= to GaussianSpatialModel; gammapy ignores it, we warn
    with pytest.warns(UserWarning, match="r0"):
        model = GaussianSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", r0="2.3e-02 deg", frame="galactic")
    assert model.sigma.value == 1.0


def test_unknown_frame():
    with pytest.raises(ValueError, match="frame"):
        PointSpatialModel(frame="altaz")
