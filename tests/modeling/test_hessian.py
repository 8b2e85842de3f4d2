"""Tests of gammalike.modeling.hessian (closed-form quadratic statistics)."""
import numpy as np
import pytest

from gammalike.modeling.hessian import numerical_hessian, refine_covariance

# -2 log L of a correlated Gaussian: covariance C, so the Hessian is 2 C^-1
COVARIANCE = np.array([[1.0, 0.99 * 0.3], [0.99 * 0.3, 0.09]])
X0 = np.array([2.0, -1.0])


def stat(x):
    d = np.asarray(x) - X0
    return 5.0 + d @ np.linalg.solve(COVARIANCE, d)


def test_numerical_hessian_quadratic():
    hessian, nfev = numerical_hessian(stat, X0, steps=np.array([0.1, 0.1]))
    np.testing.assert_allclose(hessian, 2 * np.linalg.inv(COVARIANCE), rtol=1e-6, atol=0)
    assert nfev > 0


def test_exact_covariance_confirmed_cheaply():
    matrix, nfev, status, edm, step = refine_covariance(stat, X0, COVARIANCE)
    assert status == "confirmed"
    assert nfev == 2 * 2 + 1  # 2n axis points + the centre
    np.testing.assert_array_equal(matrix, COVARIANCE)
    assert edm == pytest.approx(0, abs=1e-12)  # at the minimum
    np.testing.assert_allclose(step, 0, atol=1e-6)


def test_distance_to_minimum():
    # away from the minimum by d: stat - min = d^T C^-1 d, what a Newton step gains
    d = np.array([0.3, 0.02])
    check = refine_covariance(stat, X0 + d, COVARIANCE)
    assert check.status == "confirmed"
    assert check.edm == pytest.approx(d @ np.linalg.solve(COVARIANCE, d), rel=1e-6, abs=0)
    # the Newton step of a quadratic lands on the minimum
    np.testing.assert_allclose(X0 + d + check.newton_step, X0, rtol=0, atol=1e-8)


@pytest.mark.parametrize("scale", [0.25, 4.0])
def test_wrong_covariance_refined(scale):
    # a covariance wrong along the 0.99-correlated valley (as a poor HESSE gives) is measured again
    wrong = COVARIANCE.copy()
    wrong[0, 0] *= scale
    wrong[0, 1] = wrong[1, 0] = 0.9 * np.sqrt(wrong[0, 0] * wrong[1, 1])
    matrix, _, status, _, _ = refine_covariance(stat, X0, wrong)
    assert status == "refined"
    np.testing.assert_allclose(matrix, COVARIANCE, rtol=1e-6, atol=1e-9)


def test_wrong_covariance_not_confirmed_on_quartic():
    # with a quartic term a covariance 100x too large must not pass as confirmed
    def quartic(x):
        return stat(x) + 50 * (x[0] - X0[0]) ** 4

    matrix, _, status, _, _ = refine_covariance(quartic, X0, 100 * COVARIANCE)
    assert status in ("unconfirmed", "refined")
    assert matrix[0, 0] < 2 * COVARIANCE[0, 0]
