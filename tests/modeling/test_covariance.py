"""Tests of Covariance."""
import numpy as np
import pytest

from gammalike.modeling import Covariance, Parameter, Parameters


def test_covariance_sub_and_correlation():
    a, b, c = Parameter("a", 1, error=1), Parameter("b", 1, error=2), Parameter("c", 1)
    data = np.array([[1.0, 0.5, 0], [0.5, 4.0, 0], [0, 0, 9.0]])
    covar = Covariance(Parameters([a, b, c]), data)
    sub = covar.get_subcovariance([b, c])
    assert np.array_equal(sub, [[4.0, 0], [0, 9.0]])
    # correlation = cov / (sigma_a sigma_b) = 0.5 / (1 * 2)
    assert covar.correlation[0, 1] == pytest.approx(0.25)


def test_covariance_set_subcovariance_shared_parameter():
    a, b = Parameter("a", 1), Parameter("b", 1)
    big = Covariance(Parameters([a, b, a]))
    small = Covariance(Parameters([a]), [[2.0]])
    big.set_subcovariance(small)
    # both occurrences of the shared parameter receive the variance
    assert big.data[0, 0] == 2.0 and big.data[2, 2] == 2.0 and big.data[0, 2] == 2.0
    assert big.data[1, 1] == 0.0


def test_covariance_shape_error():
    with pytest.raises(ValueError, match="does not match"):
        Covariance(Parameters([Parameter("a", 1)]), np.zeros((2, 2)))
