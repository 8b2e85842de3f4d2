"""Tests of RingBackgroundMaker / AdaptiveRingBackgroundMaker (expected values: closed forms)."""
import numpy as np
import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammalike.datasets import MapDataset
from gammalike.datasets.map_onoff import MapDatasetOnOff
from gammalike.makers.background.ring import AdaptiveRingBackgroundMaker, RingBackgroundMaker, ring_kernel
from gammalike.maps import Map, MapAxis, WcsGeom

CENTER = SkyCoord(0, 0, unit="deg", frame="galactic")


@pytest.fixture
def dataset():
    energy = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=1, name="energy")
    geom = WcsGeom.create(skydir=CENTER, width=4, binsz=0.05, frame="galactic", axes=[energy])
    ds = MapDataset.create(geom, name="ring")
    ds.background = Map.from_geom(geom, data=np.full(geom.data_shape, 0.5))
    ds.counts = Map.from_geom(geom, data=np.ones(geom.data_shape))
    ds.mask_safe = Map.from_geom(geom, data=np.ones(geom.data_shape, bool), dtype=bool)
    return ds


def test_ring_kernel_counts_pixels():
    kernel = ring_kernel(0.5, 0.8, 0.05)
    y, x = np.mgrid[-16:17, -16:17] * 0.05
    r = np.hypot(x, y)
    assert kernel.shape == (33, 33)
    assert kernel.sum() == np.sum((r >= 0.5) & (r < 0.8))
    assert kernel[16, 16] == 0


def test_uniform_field(dataset):
    maker = RingBackgroundMaker(r_in="0.5 deg", width="0.3 deg")
    out = maker.run(dataset)
    assert isinstance(out, MapDatasetOnOff)
    n_ring = maker.kernel(dataset.counts.geom).sum()
    # central pixel: the whole ring inside the map -> counts_off = n_ring, alpha = 0.5 / (0.5 n_ring)
    c = 40
    assert out.counts_off.data[0, c, c] == n_ring
    assert np.isclose(out.alpha.data[0, c, c], 1 / n_ring, atol=0)
    # background = alpha * counts_off = 1 (the counts level) where the ring is complete
    assert np.isclose(out.background.data[0, c, c], 1.0, atol=0)
    assert np.allclose(out.acceptance.data, 0.5, atol=0)


def test_exclusion_removes_source(dataset):
    counts = dataset.counts.data.copy()
    inside = dataset.counts.geom.to_image().separation(CENTER).deg < 0.2
    counts[:, inside] += 50
    dataset.counts = dataset.counts.copy(data=counts)
    exclusion = ~dataset.counts.geom.to_image().region_mask([CircleSkyRegion(CENTER, 0.3 * u.deg)])
    out = RingBackgroundMaker(r_in="0.1 deg", width="0.5 deg", exclusion_mask=exclusion).run(dataset)
    # the OFF estimate ignores the source: background stays 1 count per pixel near the source
    assert np.isclose(out.background.data[0, 40, 40], 1.0, atol=0)
    out_no_excl = RingBackgroundMaker(r_in="0.1 deg", width="0.5 deg").run(dataset)
    assert out_no_excl.background.data[0, 40, 40] > 1.0


def test_adaptive_ring_reaches_alpha(dataset):
    maker = AdaptiveRingBackgroundMaker(r_in="0.1 deg", width="0.05 deg", r_out_max="1.5 deg", stepsize="0.05 deg",
                                        threshold_alpha=0.02)
    out = maker.run(dataset)
    alpha = out.alpha.data[0, 40, 40]
    assert alpha <= 0.02
    # a fixed thin ring would have a larger alpha
    fixed = RingBackgroundMaker(r_in="0.1 deg", width="0.05 deg").run(dataset)
    assert fixed.alpha.data[0, 40, 40] > 0.02


def test_invalid():
    with pytest.raises(ValueError, match="width"):
        RingBackgroundMaker(r_in="0.5 deg", width="0 deg")
    with pytest.raises(ValueError, match="method"):
        AdaptiveRingBackgroundMaker(method="banana")
