"""Control of BLAS threading around many small array operations."""
import functools
from contextlib import contextmanager

__all__ = ["limit_blas_threads", "with_blas_threads"]


@contextmanager
def limit_blas_threads(n_threads):
    """Limit the BLAS thread pool to ``n_threads`` inside the block.

    A likelihood evaluation is many small matrix products; waking BLAS worker
    threads for each costs more than it saves (about 30 % of a seed-000 fit
    on two cores).  ``None`` leaves the pool alone.
    """
    if n_threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it, BLAS keeps its own setting
        yield
        return
    with threadpool_limits(limits=n_threads, user_api="blas"):
        yield


def with_blas_threads(method):
    """Decorator for methods of objects with a ``blas_threads`` attribute."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with limit_blas_threads(getattr(self, "blas_threads", None)):
            return method(self, *args, **kwargs)

    return wrapper
