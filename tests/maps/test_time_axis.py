"""Tests of `TimeMapAxis` (expected values are plain date arithmetic)."""
import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table
from astropy.time import Time
from numpy.testing import assert_allclose

from gammalike.maps import TimeMapAxis

T0 = Time("2006-07-29T20:30", scale="utc")


def ten_minute_axis(n=3):
    return TimeMapAxis.from_time_intervals(
        [Time([T0 + i * 10 * u.min, T0 + (i + 1) * 10 * u.min]) for i in range(n)]
    )


def test_from_time_intervals():
    axis = ten_minute_axis()
    assert axis.nbin == 3 and len(axis) == 3 and axis.name == "time"
    assert axis.is_contiguous
    assert_allclose(axis.bin_width.to_value("min"), [10, 10, 10], rtol=1e-9)
    assert (axis.time_min[1] - (T0 + 10 * u.min)).to_value("s") == pytest.approx(0, abs=1e-6)
    assert (axis.time_mid[0] - (T0 + 5 * u.min)).to_value("s") == pytest.approx(0, abs=1e-6)
    assert_allclose(axis.edges.to_value("min"), [0, 10, 20, 30], atol=1e-7)


def test_mjd_bounds_in_tt():
    # 2006-07-29T20:30 UTC is 65.184 s later in TT (TAI - UTC = 33 s, TT - TAI = 32.184 s)
    lo, hi = ten_minute_axis().mjd_bounds("tt")
    assert lo[0] == pytest.approx(53945 + (20.5 * 3600 + 65.184) / 86400, abs=1e-10)
    assert_allclose(hi - lo, 10 / 1440, rtol=1e-9)


def test_gaps_overlaps_and_validation():
    axis = TimeMapAxis([0, 2, 2.5] * u.h, [1, 3, 4] * u.h, T0)
    assert not axis.is_contiguous
    with pytest.raises(ValueError, match="not contiguous"):
        axis.edges
    # a time in the gap belongs to no bin; in the overlap to the first one
    idx = axis.coord_to_idx(T0 + [0.5, 1.5, 2.7, 5.0] * u.h)
    assert idx.tolist() == [0, -1, 1, -1]
    assert axis.coord_to_idx(T0 + 1.5 * u.h, clip=True).tolist() == [0]
    with pytest.raises(ValueError, match="edges_max > edges_min"):
        TimeMapAxis([0, 1] * u.h, [1, 1] * u.h, T0)
    with pytest.raises(ValueError, match="sorted"):
        TimeMapAxis([1, 0] * u.h, [2, 0.5] * u.h, T0)
    with pytest.raises(u.UnitConversionError):
        TimeMapAxis([0, 1] * u.TeV, [1, 2] * u.TeV, T0)


def test_from_time_bounds_slice_squash():
    axis = TimeMapAxis.from_time_bounds(T0, T0 + 1 * u.h, nbin=6, unit="min")
    assert axis.nbin == 6 and axis.unit == u.min
    assert_allclose(axis.edges_min.to_value("min"), [0, 10, 20, 30, 40, 50])
    sub = axis.slice(slice(2, 4))
    assert sub.nbin == 2 and sub.edges_min[0].to_value("min") == pytest.approx(20)
    assert axis[1].nbin == 1
    squashed = axis.squash()
    assert squashed.nbin == 1 and squashed.bin_width[0].to_value("h") == pytest.approx(1)


def test_table_round_trip_and_equality():
    axis = ten_minute_axis()
    table = axis.to_table()
    assert table.meta["TIMESYS"] == "tt" and table.meta["TIMEUNIT"] == "d"
    read = TimeMapAxis.from_table(table)
    assert read.is_allclose(axis, atol=1e-3 * u.s)
    assert read == axis
    assert read != ten_minute_axis(2)
    with pytest.raises(KeyError, match="time_max"):
        TimeMapAxis.from_table(Table({"time_min": [1.0]}))


def test_from_gti_like_and_str():
    class FakeGTI:  # duck type of gammalike.data.GTI
        met_start = [0, 100] * u.s
        met_stop = [50, 200] * u.s
        time_ref = T0

    axis = TimeMapAxis.from_gti(FakeGTI())
    assert_allclose(axis.bin_width.to_value("s"), [50, 100], rtol=1e-9)
    assert "nbins      : 2" in str(axis) and "TimeMapAxis" in repr(axis)
    assert len(axis.as_plot_labels) == 2
