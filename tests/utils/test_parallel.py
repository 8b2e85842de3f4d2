"""Tests of gammalike.utils.parallel (expected values: the functions applied directly)."""
import numpy as np
import pytest

from gammalike.utils import parallel
from gammalike.utils.parallel import n_jobs_or_default, run_multiprocessing


def _square_plus(x, y):
    return x * x + y


def _random_sum(seed):
    return float(np.random.default_rng(seed).normal(size=1000).sum())


def test_serial_keeps_order_and_unpacks():
    assert run_multiprocessing(_square_plus, [(1, 1), (2, 0), (3, -1)], n_jobs=1, desc="t") == [2, 4, 8]


def test_star_false_passes_items():
    assert run_multiprocessing(abs, [-1, -2, 3], n_jobs=1, star=False) == [1, 2, 3]


def test_pool_identical_to_serial(parallel_backend, monkeypatch):
    inputs = [(seed,) for seed in range(6)]
    serial = run_multiprocessing(_random_sum, inputs, n_jobs=1)
    pooled = run_multiprocessing(_random_sum, inputs, n_jobs=2, parallel_backend=parallel_backend)
    assert serial == pooled  # same floats, same order
    # the module default switches every caller at once
    monkeypatch.setattr(parallel, "BACKEND_DEFAULT", parallel_backend)
    assert run_multiprocessing(_random_sum, inputs, n_jobs=2) == serial


def test_callback_receives_results_in_order(parallel_backend):
    seen = []
    out = run_multiprocessing(_square_plus, [(i, 0) for i in range(5)], n_jobs=2, callback=seen.append,
                              parallel_backend=parallel_backend)
    assert out is None
    assert seen == [0, 1, 4, 9, 16]


def test_n_jobs_validation(monkeypatch):
    monkeypatch.setattr(parallel, "N_JOBS_DEFAULT", 3)
    assert n_jobs_or_default(None) == 3
    assert n_jobs_or_default(-1) >= 1
    with pytest.raises(ValueError, match="n_jobs"):
        n_jobs_or_default(0)


def test_progress_bar_can_be_disabled(monkeypatch, capsys):
    monkeypatch.setattr(parallel, "SHOW_PROGRESS_BAR", False)
    run_multiprocessing(_square_plus, [(1, 2)], n_jobs=1, desc="silent")
    assert "silent" not in capsys.readouterr().err


def _chunk_sum(chunk, offset, progress=None):
    total = 0
    for x in chunk:
        total += x + offset
        progress()
    return total


class _RecordingBar:
    def __init__(self):
        self.count = 0

    def update(self, n=1):
        self.count += n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_split_in_chunks_contiguous_and_balanced():
    assert parallel.split_in_chunks(range(7), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert parallel.split_in_chunks([1, 2], 5) == [[1], [2]]
    assert parallel.split_in_chunks([1, 2, 3], 1) == [[1, 2, 3]]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_run_in_chunks_results_and_progress(monkeypatch, n_jobs, parallel_backend):
    bars = []

    def make_bar(**kwargs):
        bars.append(_RecordingBar())
        return bars[-1]

    monkeypatch.setattr(parallel, "progress_bar", make_bar)
    results = parallel.run_in_chunks(_chunk_sum, list(range(7)), n_jobs=n_jobs, args=(10,),
                                     parallel_backend=parallel_backend)
    # one result per chunk, in chunk order: [0..3] and [4..6] for two jobs
    expected = [sum(range(7)) + 70] if n_jobs == 1 else [0 + 1 + 2 + 3 + 40, 4 + 5 + 6 + 30]
    assert results == expected
    # the bar counts inputs (reported from the workers; with dask, whole chunks at a time)
    assert bars[0].count == 7


def test_run_in_chunks_raises_worker_errors():
    with pytest.raises(TypeError):
        parallel.run_in_chunks(_chunk_sum, [1, "a", 3, 4], n_jobs=2, args=(0,))


def test_unknown_backend():
    with pytest.raises(ValueError, match=r"parallel_backend must be one of \['multiprocessing', 'dask'\]"):
        run_multiprocessing(_square_plus, [(1, 1)], n_jobs=2, parallel_backend="ray")


def test_dask_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(parallel.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"pip install 'gammalike\[dask\]'"):
        run_multiprocessing(_square_plus, [(1, 1)], n_jobs=2, parallel_backend="dask")


@pytest.fixture(scope="module")
def dask_cluster():
    """A two-worker dask.distributed cluster (stands in for a cluster of machines)."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


def test_dask_distributed_client(dask_cluster):
    assert parallel._dask_client() is dask_cluster
    assert n_jobs_or_default(-1, "dask") == 2  # the cluster's worker threads
    inputs = [(seed,) for seed in range(6)]
    serial = run_multiprocessing(_random_sum, inputs, n_jobs=1)
    assert run_multiprocessing(_random_sum, inputs, n_jobs=-1, parallel_backend="dask") == serial
    results = parallel.run_in_chunks(_chunk_sum, list(range(7)), n_jobs=2, args=(10,), parallel_backend="dask")
    assert results == [0 + 1 + 2 + 3 + 40, 4 + 5 + 6 + 30]
    with pytest.raises(TypeError):
        run_multiprocessing(_square_plus, [(1, 1), ("a", 1)], n_jobs=2, parallel_backend="dask")
