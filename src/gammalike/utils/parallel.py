"""Run a function over many inputs, serially or on a local process pool, with a progress bar.

`run_multiprocessing` is the one place where gammalike fans work out (data
reduction of many observations, estimators over many bins or time
intervals).  Results always come back in the order of the inputs, so a
caller that combines them in order gets bit-identical results with any
``n_jobs``.

The number of jobs defaults to `N_JOBS_DEFAULT` (1); the progress bar can be
switched off globally with `SHOW_PROGRESS_BAR` or per call.
"""
import logging
import os
from concurrent.futures import ProcessPoolExecutor

__all__ = ["run_multiprocessing", "N_JOBS_DEFAULT", "SHOW_PROGRESS_BAR", "progress_bar", "n_jobs_or_default"]

log = logging.getLogger(__name__)

#: number of jobs used when a caller passes ``n_jobs=None``
N_JOBS_DEFAULT = 1
#: show tqdm progress bars (set to False to silence them everywhere)
SHOW_PROGRESS_BAR = True


def n_jobs_or_default(n_jobs):
    """``n_jobs`` as a positive int (None -> `N_JOBS_DEFAULT`; -1 -> number of CPUs)."""
    if n_jobs is None:
        n_jobs = N_JOBS_DEFAULT
    n_jobs = int(n_jobs)
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or -1, got {n_jobs}")
    return n_jobs


def progress_bar(iterable=None, total=None, desc=None, disable=None):
    """A tqdm progress bar (a plain iterator when tqdm is missing or bars are switched off)."""
    if disable is None:
        disable = not SHOW_PROGRESS_BAR
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return _NoBar(iterable, total)
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)


class _NoBar:
    def __init__(self, iterable, total):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _init_worker(blas_threads):
    """Each worker gets its own BLAS thread budget (no oversubscription of the cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=blas_threads)


def _call_star(args):
    func, item, star = args
    return func(*item) if star else func(item)


def run_multiprocessing(func, inputs, n_jobs=None, desc=None, star=True, show_progress_bar=None,
                        callback=None, mp_context=None):
    """Apply ``func`` to every input, in order, with a progress bar.

    Parameters
    ----------
    func : callable
        Function to call; must be picklable (a module-level function or a
        bound method of a picklable object) when ``n_jobs > 1``.
    inputs : iterable
        Arguments: tuples unpacked into ``func(*item)`` if ``star``, else
        passed as ``func(item)``.
    n_jobs : int, optional
        Number of processes (None: `N_JOBS_DEFAULT`; 1: run in this process,
        no pickling; -1: all CPUs).
    desc : str, optional
        Progress bar label.
    star : bool
        Unpack each input as positional arguments.
    show_progress_bar : bool, optional
        Override `SHOW_PROGRESS_BAR`.
    callback : callable, optional
        Called with each result, in input order, as soon as it (and all the
        results before it) are available; the results are then not kept
        (returns None), which bounds the memory of long reductions.
    mp_context : str, optional
        Multiprocessing start method ("fork", "spawn", "forkserver").

    Returns
    -------
    results : list or None
        ``func`` applied to each input, in the order of the inputs (None when
        ``callback`` is given).
    """
    inputs = list(inputs)
    n_jobs = min(n_jobs_or_default(n_jobs), max(len(inputs), 1))
    disable = None if show_progress_bar is None else not show_progress_bar
    results = [] if callback is None else None

    def handle(result):
        if callback is None:
            results.append(result)
        else:
            callback(result)

    with progress_bar(total=len(inputs), desc=desc, disable=disable) as bar:
        if n_jobs == 1:
            for item in inputs:
                handle(func(*item) if star else func(item))
                bar.update(1)
            return results
        import multiprocessing

        context = multiprocessing.get_context(mp_context) if mp_context else None
        blas_threads = max(1, (os.cpu_count() or 1) // n_jobs)
        log.debug("run_multiprocessing: %d inputs on %d processes", len(inputs), n_jobs)
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(blas_threads,)) as executor:
            # map keeps the input order; results are consumed as they arrive in that order
            for result in executor.map(_call_star, [(func, item, star) for item in inputs]):
                handle(result)
                bar.update(1)
    return results
