"""Tests of `TemplateSpatialModel`."""
import numpy as np
import pytest
from astropy import units as u

from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling.models import GaussianSpatialModel, Models, SpatialModel, TemplateSpatialModel


def _gaussian_map(sigmas=(0.2,), frame="galactic", unit=""):
    """Template of Gaussian images (one per energy if several sigmas), arbitrary scale."""
    axes = []
    if len(sigmas) > 1:
        axes = [MapAxis.from_energy_bounds("1 TeV", "100 TeV", nbin=len(sigmas), name="energy")]
    geom = WcsGeom.create(skydir=(0, 0), npix=(120, 100), binsz=0.02, frame=frame, axes=axes)
    planes = [
        GaussianSpatialModel(sigma=f"{s} deg", frame=frame).evaluate_geom(geom.to_image()).value[..., :, :]
        for s in sigmas
    ]
    data = 7.0 * np.array(planes).reshape(geom.data_shape)
    return Map.from_geom(geom, data=data, unit=unit)


def test_normalised_template_integrates_to_one():
    model = TemplateSpatialModel(_gaussian_map())
    assert model.map.unit == u.Unit("sr-1")
    assert not model.is_energy_dependent
    assert model.frame == "galactic"
    assert model.position.l.deg == pytest.approx(0, abs=0.02)
    # integrated on its own pixels: sums to 1 (normalised) and equals the source Gaussian
    m = model.integrate_geom(model.map.geom)
    assert m.data.sum() == pytest.approx(1, rel=1e-9, abs=0)
    ref = GaussianSpatialModel(sigma="0.2 deg", frame="galactic").integrate_image(model.map.geom)
    assert np.allclose(m.data, ref, atol=1e-3 * ref.max())
    # value at the centre: the Gaussian's peak 1 / (2 pi sigma^2) (the map is centred between pixels)
    value = model(0.01 * u.deg, 0.01 * u.deg)
    peak = 1 / (2 * np.pi * np.radians(0.2) ** 2) * np.exp(-0.5 * (0.01 ** 2 * 2) / 0.2 ** 2)
    assert value.unit == u.Unit("sr-1") and value.value == pytest.approx(peak, rel=1e-3, abs=0)
    assert model.evaluation_radius is None
    # copies are independent and plot
    copy = model.copy()
    assert np.array_equal(copy.map.data, model.map.data) and copy.map is not model.map
    import matplotlib.pyplot as plt

    ax = copy.plot()
    assert ax.images[0].get_array().shape == (100, 120)
    plt.close("all")


def test_template_on_other_geometries():
    model = TemplateSpatialModel(_gaussian_map())
    # coarser pixels in the icrs frame (oversampled interpolation), whole template inside
    centre = model.position.icrs
    geom = WcsGeom.create(skydir=centre, npix=60, binsz=0.05, frame="icrs")
    assert model.integrate_geom(geom).data.sum() == pytest.approx(1, abs=2e-3)
    # a geometry covering only the left half (lon > 0) of the template: half of the flux
    half = WcsGeom.create(skydir=(1.0, 0), npix=(100, 100), binsz=0.02, frame="galactic")
    assert model.integrate_geom(half).data.sum() == pytest.approx(0.5, abs=5e-3)
    # outside the template: 0
    far = WcsGeom.create(skydir=(20, 0), npix=10, binsz=0.02, frame="galactic")
    assert model.integrate_geom(far).data.sum() == 0


def test_energy_dependent_template():
    sigmas = (0.1, 0.2, 0.3)
    model = TemplateSpatialModel(_gaussian_map(sigmas))
    assert model.is_energy_dependent
    assert model.map.geom.axes.names == ["energy_true"]
    energy_axis = model.map.geom.axes["energy_true"]
    geom = WcsGeom.create(skydir=(0, 0), npix=(120, 100), binsz=0.02, frame="galactic", axes=[energy_axis])
    m = model.integrate_geom(geom)
    assert m.data.shape == (3, 100, 120)
    # every energy plane is normalised
    assert np.allclose(m.data.sum(axis=(1, 2)), 1, atol=1e-6)
    # the width grows with energy as the input sigmas
    values = model(0.01 * u.deg, 0.01 * u.deg, energy=energy_axis.center)
    assert values[0] > values[1] > values[2]
    with pytest.raises(ValueError, match="energy_true"):
        model.integrate_geom(geom.to_image())
    with pytest.raises(ValueError, match="energy"):
        model.evaluate(0.0, 0.0)


def test_not_normalised_keeps_unit():
    m = _gaussian_map(unit="cm-2 s-1 MeV-1 sr-1")
    model = TemplateSpatialModel(m, normalize=False)
    assert model.values_unit == u.Unit("cm-2 s-1 MeV-1 sr-1")
    integrated = model.integrate_geom(m.geom)
    assert integrated.unit == u.Unit("cm-2 s-1 MeV-1")
    # values times solid angle: the raw map's integral (7 x a unit Gaussian)
    assert integrated.data.sum() == pytest.approx(7.0, rel=1e-3, abs=0)


def test_read_write_and_yaml(tmp_path):
    path = tmp_path / "template.fits"
    _gaussian_map().write(path)
    model = TemplateSpatialModel.read(path)
    assert model.integrate_geom(model.map.geom).data.sum() == pytest.approx(1)
    data = model.to_dict()
    assert data == {"type": "TemplateSpatialModel", "filename": str(path), "normalize": True}
    new = SpatialModel.from_dict(data)
    assert isinstance(new, TemplateSpatialModel)
    assert np.allclose(new.map.data, model.map.data, atol=0)
    region = new.to_region()
    assert region.width.to_value("deg") == pytest.approx(2.4)


def test_lazy_yaml_and_missing_file():
    # the file is read only when the map is needed: YAML of other models loads regardless
    template = TemplateSpatialModel.from_dict({
        "type": "TemplateSpatialModel", "filename": "$GAMMAPY_DATA/x.fits", "normalize": False,
        "unit": "1 / (cm2 s MeV sr)"})
    data = template.to_dict()
    assert data["filename"] == "$GAMMAPY_DATA/x.fits"
    assert data["normalize"] is False
    assert u.Unit(data["unit"]) == u.Unit("cm-2 s-1 MeV-1 sr-1")
    assert len(template.parameters) == 0
    with pytest.raises(FileNotFoundError, match="x.fits"):
        template.map


@pytest.mark.requires_data
def test_diffuse_template_from_models_yaml(data_path):
    # gc_example_models.yaml: the Fermi diffuse model cut-out, not normalised, unit from YAML
    models = Models.read(data_path / "tests/models/gc_example_models.yaml")
    spatial = models["gll_iem_v06_cutout"].spatial_model
    assert isinstance(spatial, TemplateSpatialModel)
    assert spatial.is_energy_dependent
    assert spatial.values_unit == u.Unit("cm-2 s-1 MeV-1 sr-1")
    axis = MapAxis.from_energy_bounds("10 GeV", "1 TeV", nbin=3, name="energy_true")
    geom = WcsGeom.create(skydir=(0, 0), npix=(40, 20), binsz=0.1, frame="galactic", axes=[axis])
    m = spatial.integrate_geom(geom)
    assert m.unit == u.Unit("cm-2 s-1 MeV-1")
    assert np.all(m.data > 0)
    # a diffuse spectrum falls with energy
    assert m.data[0].sum() > m.data[1].sum() > m.data[2].sum()
