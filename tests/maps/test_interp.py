"""Tests of gammalike.maps.interp (interp_data_by_pix)."""
import numpy as np
from numpy.testing import assert_allclose

from gammalike.maps.interp import interp_data_by_pix


def test_linear_exact_for_linear_data():
    # f(i, j) = 2 i + 3 j is reproduced exactly by multilinear interpolation
    i, j = np.indices((4, 5))
    data = 2.0 * i + 3.0 * j
    pix = [np.array([0.5, 2.25, 3.4]), np.array([1.5, 0.1, 4.4])]
    assert_allclose(interp_data_by_pix(data, pix), 2 * pix[0] + 3 * pix[1])


def test_fill_value_and_nearest():
    data = np.arange(6.0).reshape(2, 3)
    pix = [np.array([0.0, 5.0]), np.array([1.0, 1.0])]
    values = interp_data_by_pix(data, pix, fill_value=np.nan)
    assert values[0] == 1 and np.isnan(values[1])
    nearest = interp_data_by_pix(data, [np.array([0.6]), np.array([1.4])], method="nearest")
    assert nearest[0] == data[1, 1]


def test_log_scale_power_law():
    # a power law sampled on a log grid is linear in log-log: log interpolation
    # of the values along a log-spaced pixel axis is exact at the geometric midpoint
    energy = np.geomspace(1, 100, 5)
    data = energy ** -2.0
    values = interp_data_by_pix(data, [np.array([0.5])], values_scale="log")
    assert_allclose(values, np.sqrt(data[0] * data[1]))


def test_singleton_dimension():
    data = np.array([[[1.0]], [[3.0]]])
    values = interp_data_by_pix(data, [np.array([0.5]), np.array([0.0]), np.array([0.0])])
    assert_allclose(values, 2.0)
