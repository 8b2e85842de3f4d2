"""Tests of gammalike.utils.threads."""
import pytest

from gammalike.utils.threads import limit_blas_threads, with_blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads():
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    return [i["num_threads"] for i in info]


def test_limit_blas_threads_restores():
    import numpy  # noqa: F401  (loads BLAS)

    before = _blas_threads()
    with limit_blas_threads(1):
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
    with limit_blas_threads(None):
        assert _blas_threads() == before


def test_with_blas_threads_decorator():
    class Thing:
        blas_threads = 1

        @with_blas_threads
        def threads(self):
            return _blas_threads()

    assert all(n == 1 for n in Thing().threads())
