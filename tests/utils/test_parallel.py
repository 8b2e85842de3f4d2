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


def test_process_pool_identical_to_serial():
    inputs = [(seed,) for seed in range(6)]
    serial = run_multiprocessing(_random_sum, inputs, n_jobs=1)
    pooled = run_multiprocessing(_random_sum, inputs, n_jobs=2)
    assert serial == pooled  # same floats, same order


def test_callback_receives_results_in_order():
    seen = []
    out = run_multiprocessing(_square_plus, [(i, 0) for i in range(5)], n_jobs=2, callback=seen.append)
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
def test_run_in_chunks_results_and_progress(monkeypatch, n_jobs):
    bars = []

    def make_bar(**kwargs):
        bars.append(_RecordingBar())
        return bars[-1]

    monkeypatch.setattr(parallel, "progress_bar", make_bar)
    results = parallel.run_in_chunks(_chunk_sum, list(range(7)), n_jobs=n_jobs, args=(10,))
    # one result per chunk, in chunk order: [0..3] and [4..6] for two jobs
    expected = [sum(range(7)) + 70] if n_jobs == 1 else [0 + 1 + 2 + 3 + 40, 4 + 5 + 6 + 30]
    assert results == expected
    # the bar counts inputs (reported from the workers), not chunks
    assert bars[0].count == 7


def test_run_in_chunks_raises_worker_errors():
    with pytest.raises(TypeError):
        parallel.run_in_chunks(_chunk_sum, [1, "a", 3, 4], n_jobs=2, args=(0,))
