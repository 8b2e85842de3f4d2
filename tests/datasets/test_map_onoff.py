"""Tests of MapDatasetOnOff (expected values: closed forms of the W statistic and sums)."""
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import MapDataset
from gammalike.datasets.core import DATASET_REGISTRY
from gammalike.datasets.map_onoff import MapDatasetOnOff
from gammalike.maps import Map, MapAxis, WcsGeom
from gammalike.stats import wstat

CENTER = SkyCoord(83.63, 22.01, unit="deg")


@pytest.fixture
def onoff():
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2, name="energy")
    geom = WcsGeom.create(skydir=CENTER, width=1, binsz=0.1, axes=[energy])
    ds = MapDatasetOnOff.create(geom, name="onoff")
    rng = np.random.default_rng(0)
    ds.counts = Map.from_geom(geom, data=rng.poisson(5, geom.data_shape).astype(float))
    ds.counts_off = Map.from_geom(geom, data=rng.poisson(40, geom.data_shape).astype(float))
    ds.acceptance = Map.from_geom(geom, data=np.ones(geom.data_shape), dtype=float)
    ds.acceptance_off = Map.from_geom(geom, data=np.full(geom.data_shape, 10.0), dtype=float)
    ds.mask_safe = Map.from_geom(geom, data=np.ones(geom.data_shape, bool), dtype=bool)
    return ds


def test_registered_type():
    assert DATASET_REGISTRY.get_cls("MapDatasetOnOff") is MapDatasetOnOff


def test_alpha_background_and_stat(onoff):
    assert np.allclose(onoff.alpha.data, 0.1, atol=0)
    np.testing.assert_allclose(onoff.background.data, 0.1 * onoff.counts_off.data)
    expected = wstat(onoff.counts.data, onoff.counts_off.data, 0.1, 0.0).sum()
    assert np.isclose(onoff.stat_sum(), expected, atol=0)
    # without signal the profiled background is (n_on + n_off) alpha / (1 + alpha)
    mu = onoff.npred_background().data
    np.testing.assert_allclose(mu, (onoff.counts.data + onoff.counts_off.data) * 0.1 / 1.1)


def test_info_dict_and_str(onoff):
    info = onoff.info_dict()
    assert info["counts_off"] == onoff.counts_off.data.sum()
    assert np.isclose(info["alpha"], 0.1, atol=0)
    assert np.isclose(info["acceptance_off"], 10 * info["acceptance"], atol=0)
    assert "Total counts_off" in str(onoff)


def test_stack_keeps_background(onoff):
    other = onoff.copy(name="other")
    other.acceptance_off = other.acceptance_off.copy(data=np.full(other.counts.data.shape, 5.0))
    expected_bkg = onoff.background.data + other.background.data
    stacked = onoff.to_masked(name="stacked")
    stacked.stack(other)
    np.testing.assert_allclose(stacked.counts_off.data, onoff.counts_off.data + other.counts_off.data)
    np.testing.assert_allclose(stacked.background.data, expected_bkg, rtol=1e-6)
    np.testing.assert_allclose(stacked.counts.data, 2 * onoff.counts.data)


def test_to_spectrum_dataset(onoff):
    region = CircleSkyRegion(CENTER, 0.25 * u.deg)
    spec = onoff.to_spectrum_dataset(region)
    inside = onoff.counts.geom.to_image().region_mask([region]).data
    np.testing.assert_allclose(spec.counts.data.ravel(), onoff.counts.data[:, inside].sum(axis=1))
    np.testing.assert_allclose(spec.counts_off.data.ravel(), onoff.counts_off.data[:, inside].sum(axis=1))
    np.testing.assert_allclose(spec.background.data.ravel(), onoff.background.data[:, inside].sum(axis=1), rtol=1e-6)


def test_to_image_and_cutout(onoff):
    image = onoff.to_image()
    assert image.counts.data.shape[0] == 1
    np.testing.assert_allclose(image.background.data[0], onoff.background.data.sum(axis=0), rtol=1e-6)
    cut = onoff.cutout(CENTER, width=0.5 * u.deg)
    assert cut.counts_off.data.shape[-2:] == (5, 5)
    assert isinstance(cut, MapDatasetOnOff)


def test_write_read_roundtrip(onoff, tmp_path):
    path = tmp_path / "onoff.fits"
    onoff.write(path)
    with pytest.raises(OSError):
        onoff.write(path)
    back = MapDatasetOnOff.read(path)
    for key in ("counts", "counts_off", "acceptance", "acceptance_off"):
        np.testing.assert_allclose(getattr(back, key).data, getattr(onoff, key).data)
    assert back.name == "onoff"
    assert np.isclose(back.stat_sum(), onoff.stat_sum(), atol=0)


def test_from_map_dataset(onoff):
    base = onoff.to_map_dataset(name="base")
    assert isinstance(base, MapDataset)
    again = MapDatasetOnOff.from_map_dataset(base, acceptance=1, acceptance_off=10, name="again")
    np.testing.assert_allclose(again.counts_off.data, onoff.counts_off.data, rtol=1e-6)


def test_background_cannot_be_set(onoff):
    with pytest.raises(AttributeError, match="counts_off"):
        onoff.background = onoff.counts
