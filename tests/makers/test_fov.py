"""Tests of FoVBackgroundMaker (expected values: closed forms on synthetic maps)."""
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import MapDataset
from gammalike.makers.background.fov import FoVBackgroundMaker, _norm_newton
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.modeling.models import (
    FoVBackgroundModel, PointSpatialModel, PowerLawNormSpectralModel, PowerLawSpectralModel, SkyModel,
)

CENTER = SkyCoord(0, 0, unit="deg", frame="galactic")


@pytest.fixture
def dataset():
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2, name="energy")
    geom = WcsGeom.create(skydir=CENTER, width=2, binsz=0.1, frame="galactic", axes=[energy])
    ds = MapDataset.create(geom, name="test")
    ds.background = Map.from_geom(geom, data=np.full(geom.data_shape, 2.0))
    counts = np.full(geom.data_shape, 3.0)
    # a "source" in the centre: 100 extra counts per pixel within 0.3 deg
    inside = geom.to_image().separation(CENTER).deg < 0.3
    counts[:, inside] += 100
    ds.counts = Map.from_geom(geom, data=counts)
    ds.mask_safe = Map.from_geom(geom, data=np.ones(geom.data_shape, bool), dtype=bool)
    return ds


@pytest.fixture
def exclusion(dataset):
    geom = dataset.counts.geom.to_image()
    return ~geom.region_mask([CircleSkyRegion(CENTER, 0.4 * u.deg)])


def test_scale_outside_exclusion(dataset, exclusion):
    out = FoVBackgroundMaker(method="scale", exclusion_mask=exclusion).run(dataset)
    # outside the exclusion counts / background = 3 / 2 exactly
    assert np.isclose(out.background_model.spectral_model.norm.value, 1.5, atol=0)
    assert out.background_model.name == "test-bkg"
    assert dataset.models is None  # the input is untouched


def test_fit_equals_scale_for_flat_ratio(dataset, exclusion):
    out = FoVBackgroundMaker(method="fit", exclusion_mask=exclusion).run(dataset)
    norm = out.background_model.spectral_model.norm
    # Poisson ML of a single norm: sum(n) / sum(b) (closed form); error sqrt(N) / sum(b)
    assert np.isclose(norm.value, 1.5, rtol=1e-10, atol=0)
    mask = np.broadcast_to(exclusion.data, dataset.counts.data.shape)
    n = dataset.counts.data[mask].sum()
    assert np.isclose(norm.error, np.sqrt(n) / dataset.background.data[mask].sum(), rtol=1e-6, atol=0)


def test_without_exclusion_source_biases_norm(dataset):
    norm = FoVBackgroundMaker(method="scale").run(dataset).background_model.spectral_model.norm.value
    assert norm > 1.5


def test_sky_model_signal_is_subtracted(dataset, exclusion):
    ds = dataset.copy(name="test")
    ds.exposure = ds.exposure.copy(data=np.full(ds.exposure.data.shape, 1e10))
    model = SkyModel(PowerLawSpectralModel(amplitude="1e-12 cm-2 s-1 TeV-1"), PointSpatialModel(frame="galactic"),
                     name="src")
    ds.models = [model]
    signal = ds._npred_signal_array()
    out = FoVBackgroundMaker(method="scale").run(ds)
    mask = ds.mask_safe.data
    expected = (ds.counts.data - signal)[mask].sum() / ds.background.data[mask].sum()
    assert np.isclose(out.background_model.spectral_model.norm.value, expected, atol=0)
    assert out.models["src"] is model  # sky model kept


def test_existing_model_is_copied_and_tilt_fit(dataset, exclusion):
    ds = dataset.copy(name="test")
    energy = ds.counts.geom.axes["energy"].center.to_value("TeV")
    # background with a spectral tilt: counts = b * 1.2 * (E/1 TeV)^-0.3 per bin
    ds.counts = ds.counts.copy(data=np.rint(ds.background.data * 1000 * 1.2 * (energy ** -0.3)[:, None, None]))
    ds.background = ds.background.copy(data=ds.background.data * 1000)
    spectral = PowerLawNormSpectralModel()
    spectral.tilt.frozen = False
    bkg = FoVBackgroundModel(dataset_name="test", spectral_model=spectral)
    ds.models = [bkg]
    out = FoVBackgroundMaker(method="fit").run(ds)
    fitted = out.background_model.spectral_model
    assert np.isclose(fitted.tilt.value, 0.3, atol=0.01)
    assert np.isclose(fitted.norm.value, 1.2, rtol=0.01, atol=0)
    assert bkg.spectral_model.norm.value == 1.0  # the input model is not modified


def test_norm_newton_closed_form():
    rng = np.random.default_rng(1)
    template = rng.uniform(1, 5, 200)
    signal = rng.uniform(0, 1, 200)
    counts = rng.poisson(2 * template + signal).astype(float)
    norm, error = _norm_newton(counts, template, signal)
    # stationarity of the Poisson likelihood: sum(t) = sum(n t / (norm t + s))
    assert np.isclose(template.sum(), np.sum(counts * template / (norm * template + signal)), rtol=1e-10, atol=0)
    assert 0 < error < 0.1


def test_too_few_counts_masks_dataset(dataset):
    ds = dataset.copy(name="test")
    ds.counts = ds.counts.copy(data=np.zeros(ds.counts.data.shape))
    with pytest.warns(UserWarning, match="only 0 counts"):
        out = FoVBackgroundMaker(min_counts=10).run(ds)
    assert not out.mask_safe.data.any()


def test_invalid_options():
    with pytest.raises(ValueError, match="method"):
        FoVBackgroundMaker(method="banana")
    with pytest.raises(ValueError, match="spectral_model"):
        FoVBackgroundMaker(spectral_model="banana")
