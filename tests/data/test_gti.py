"""Tests of GTI."""
import pytest
import astropy.units as u
from astropy.time import Time
from numpy.testing import assert_allclose

from gammalike.data import GTI


def test_create_union_select():
    ref = Time("2010-01-01T00:00:00", scale="tt")
    gti = GTI.create([0, 50, 200] * u.s, [100, 150, 300] * u.s, reference_time=ref)
    assert_allclose(gti.time_sum.to_value("s"), 300)
    union = gti.union()
    # [0, 100] and [50, 150] overlap -> [0, 150]; [200, 300] stays
    assert_allclose(union.met_start.value, [0, 200])
    assert_allclose(union.met_stop.value, [150, 300])
    sel = union.select_time(Time([ref + 100 * u.s, ref + 250 * u.s]))
    assert_allclose(sel.time_sum.to_value("s"), 50 + 50)
    assert sel.time_start[0] == ref + 100 * u.s
    assert gti.time_ref == ref


def test_stack_and_round_trip(tmp_path):
    ref1 = Time("2010-01-01T00:00:00", scale="tt")
    ref2 = ref1 + 1000 * u.s
    a = GTI.create([0] * u.s, [10] * u.s, reference_time=ref1)
    b = GTI.create([0] * u.s, [20] * u.s, reference_time=ref2)
    stacked = GTI.from_stack([a, b])
    assert_allclose(stacked.met_start.value, [0, 1000])
    assert_allclose(stacked.time_sum.value, 30)
    filename = tmp_path / "gti.fits"
    stacked.write(filename)
    back = GTI.read(filename)
    assert_allclose(back.met_stop.value, [10, 1020])
    assert abs((back.time_ref - ref1).to_value("s")) < 1e-6
    assert "Number of GTIs: 2" in str(back)


def test_bad_interval():
    with pytest.raises(ValueError, match="STOP < START"):
        from astropy.table import Table

        GTI(Table({"START": [10.0], "STOP": [5.0]}))
