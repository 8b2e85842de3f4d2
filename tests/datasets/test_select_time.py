"""Tests of `Dataset.select_time` and `Datasets.select_time` (GTI-based selection)."""
import numpy as np
import pytest
from astropy import units as u
from astropy.time import Time

from gammalike.data import GTI
from gammalike.datasets import Datasets
from gammalike.data.gti import gti_time_range

T0 = Time("2006-07-29T20:30", scale="utc")


def with_gti(dataset, start, stop):
    dataset.gti = GTI.create(Time([start]), Time([stop]), reference_time=Time("2001-01-01", scale="tt"))
    return dataset


@pytest.fixture
def datasets(make_spectrum_dataset, make_onoff_dataset):
    return Datasets([
        with_gti(make_spectrum_dataset(name="a"), T0, T0 + 10 * u.min),
        with_gti(make_onoff_dataset(name="b"), T0 + 10 * u.min, T0 + 20 * u.min),
        with_gti(make_onoff_dataset(name="c"), T0 + 15 * u.min, T0 + 25 * u.min),
    ])


def test_gti_time_range(datasets):
    start, stop = gti_time_range(datasets["a"].gti)
    assert start == pytest.approx(T0.tt.mjd, abs=1e-10)
    assert (stop - start) * 1440 == pytest.approx(10, rel=1e-9, abs=0)
    empty = GTI.create(Time([T0]), Time([T0])).select_time(Time([T0 + 1 * u.h, T0 + 2 * u.h]))
    assert gti_time_range(empty) is None
    # a GADF table is accepted as well
    assert gti_time_range(datasets["a"].gti.table) == pytest.approx((start, stop), abs=1e-10)


def test_datasets_select_time(datasets):
    assert Datasets.select_time(datasets, T0, T0 + 20 * u.min).names == ["a", "b"]
    assert datasets.select_time(T0 + 10 * u.min, T0 + 30 * u.min).names == ["b", "c"]
    # c straddles the bound at 20 min: not selected
    assert datasets.select_time(T0 + 10 * u.min, T0 + 20 * u.min).names == ["b"]
    # the datasets themselves are returned, not copies
    assert datasets.select_time(T0, T0 + 10 * u.min)[0] is datasets["a"]
    # atol: an interval stopping 0.5 s early still holds "a" with atol = 1 s
    assert datasets.select_time(T0, T0 + 10 * u.min - 0.5 * u.s).names == []
    assert datasets.select_time(T0, T0 + 10 * u.min - 0.5 * u.s, atol="1 s").names == ["a"]
    datasets["a"].gti = None
    with pytest.raises(ValueError, match="'a' has no GTI"):
        datasets.select_time(T0, T0 + 10 * u.min)


def test_dataset_select_time(datasets):
    b = datasets["b"]
    inside = b.select_time(T0, T0 + 20 * u.min, name="b-inside")
    assert inside.name == "b-inside" and inside is not b
    assert np.array_equal(inside.counts.data, b.counts.data)
    assert inside.stat_sum() == pytest.approx(b.stat_sum())
    # outside: a copy that contributes nothing (all-False safe mask)
    outside = b.select_time(T0 + 1 * u.h, T0 + 2 * u.h)
    assert not np.any(outside.mask_safe.data)
    assert outside.stat_sum() == 0
    with pytest.raises(ValueError, match="straddles"):
        datasets["c"].select_time(T0, T0 + 20 * u.min)
    with pytest.raises(TypeError, match="astropy Time"):
        b.select_time("2006-07-29", T0)


def test_map_dataset_select_time():
    from gammalike.datasets import MapDataset
    from gammalike.maps import MapAxis, WcsGeom

    axis = MapAxis.from_energy_bounds("1 TeV", "10 TeV", nbin=2)
    geom = WcsGeom.create(npix=(5, 4), binsz=0.1, axes=[axis])
    dataset = with_gti(MapDataset.create(geom, name="map"), T0, T0 + 10 * u.min)
    inside = dataset.select_time(T0 - 1 * u.min, T0 + 11 * u.min, name="inside")
    assert isinstance(inside, MapDataset) and inside.name == "inside"
    outside = dataset.select_time(T0 + 1 * u.h, T0 + 2 * u.h)
    assert outside.mask_safe.data.shape == (2, 4, 5) and not outside.mask_safe.data.any()
