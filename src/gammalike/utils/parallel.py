"""Run a function over many inputs, serially or on a local process pool, with a progress bar.

`run_multiprocessing` is the one place where gammalike fans work out (data
reduction of many observations, estimators over many bins or time
intervals).  Results always come back in the order of the inputs, so a
caller that combines them in order gets bit-identical results with any
``n_jobs``.

`run_in_chunks` hands each process one contiguous share of the inputs and
gets one result per share back: for reductions whose per-input results are
large but combine into one (stacking datasets), so that only ``n_jobs``
results are pickled back.  Workers report progress per input through a
queue, so the progress bar still counts inputs.

The number of jobs defaults to `N_JOBS_DEFAULT` (1); the progress bar can be
switched off globally with `SHOW_PROGRESS_BAR` or per call.

Where the jobs run is the *parallel backend* (`BACKEND_DEFAULT`, or
``parallel_backend`` per call):

- "multiprocessing": a pool of ``n_jobs`` local processes;
- "dask" (``pip install gammalike[dask]``): the active `dask.distributed`
  client when there is one -- a cluster of many machines, whose workers then
  do the work (``n_jobs=-1``: as many jobs as the cluster has worker
  threads) -- else dask's local process scheduler with ``n_jobs`` workers.

``n_jobs=1`` always runs in this process.
"""
import importlib.util
import logging
import os
from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "run_multiprocessing", "run_in_chunks", "split_in_chunks", "N_JOBS_DEFAULT", "SHOW_PROGRESS_BAR",
    "BACKEND_DEFAULT", "BACKENDS", "progress_bar", "n_jobs_or_default", "backend_or_default",
]

log = logging.getLogger(__name__)

#: number of jobs used when a caller passes ``n_jobs=None``
N_JOBS_DEFAULT = 1
#: show tqdm progress bars (set to False to silence them everywhere)
SHOW_PROGRESS_BAR = True
#: the parallel backends
BACKENDS = ("multiprocessing", "dask")
#: parallel backend used when a caller passes ``parallel_backend=None``
BACKEND_DEFAULT = "multiprocessing"


def backend_or_default(parallel_backend=None):
    """The parallel backend to use (None -> `BACKEND_DEFAULT`), checked."""
    backend = BACKEND_DEFAULT if parallel_backend is None else parallel_backend
    if backend not in BACKENDS:
        raise ValueError(f"parallel_backend must be one of {list(BACKENDS)}, got {backend!r}")
    if backend == "dask" and importlib.util.find_spec("dask") is None:
        raise ImportError("parallel_backend='dask' needs dask: pip install 'gammalike[dask]'")
    return backend


def _dask_client():
    """The active `dask.distributed` client, or None."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client
        return None


def n_jobs_or_default(n_jobs, parallel_backend=None):
    """``n_jobs`` as a positive int (None -> `N_JOBS_DEFAULT`; -1 -> number of CPUs,
    or of the worker threads of the active dask client with ``parallel_backend="dask"``)."""
    if n_jobs is None:
        n_jobs = N_JOBS_DEFAULT
    n_jobs = int(n_jobs)
    if n_jobs == -1:
        client = _dask_client() if backend_or_default(parallel_backend) == "dask" else None
        n_jobs = sum(client.nthreads().values()) if client is not None else os.cpu_count() or 1
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


#: progress queue of a worker process started by `run_in_chunks`
_PROGRESS_QUEUE = None


def _init_worker(blas_threads, progress_queue=None):
    """Each worker gets its own BLAS thread budget (no oversubscription of the cores)."""
    global _PROGRESS_QUEUE
    _PROGRESS_QUEUE = progress_queue
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=blas_threads)


def _report_progress(n=1):
    """Tell the parent process that ``n`` more inputs are done (worker side of `run_in_chunks`)."""
    if _PROGRESS_QUEUE is not None:
        _PROGRESS_QUEUE.put(n)


def _call_chunk(func, chunk, args):
    return func(chunk, *args, progress=_report_progress)


def _dask_map(func, items, n_jobs, done):
    """``func(item)`` for every item on dask, yielded in input order.

    ``done(k)`` is called when item ``k`` is finished (drives the progress bar).
    """
    client = _dask_client()
    if client is not None:
        # the inputs go to the workers directly, not inside the task graph
        data = client.scatter(list(items))
        futures = client.map(func, data, pure=False)
        for k, (future, datum) in enumerate(zip(futures, data)):
            result = future.result()
            future.release()  # the cluster forgets both: memory bounded by the caller
            datum.release()
            done(k)
            yield result
        return
    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(func, pure=False)(item) for item in items]
    index = {task.key: k for k, task in enumerate(tasks)}

    class _Done(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if key in index:
                done(index[key])

    log.debug("dask: %d tasks on the local process scheduler, %d workers", len(tasks), n_jobs)
    with _Done():
        results = dask.compute(*tasks, scheduler="processes", num_workers=n_jobs)
    yield from results


def split_in_chunks(inputs, n_chunks):
    """``inputs`` cut into ``n_chunks`` contiguous lists whose lengths differ by at most one.

    The split depends only on ``len(inputs)`` and ``n_chunks`` (deterministic):
    combining the chunk results in chunk order visits the inputs in their order.
    """
    inputs = list(inputs)
    n_chunks = max(1, min(int(n_chunks), len(inputs)))
    size, extra = divmod(len(inputs), n_chunks)
    chunks, start = [], 0
    for k in range(n_chunks):
        stop = start + size + (1 if k < extra else 0)
        chunks.append(inputs[start:stop])
        start = stop
    return chunks


def run_in_chunks(func, inputs, n_jobs=None, desc=None, args=(), show_progress_bar=None, mp_context=None,
                  parallel_backend=None):
    """Call ``func(chunk, *args, progress=...)`` on ``n_jobs`` contiguous chunks of ``inputs``.

    Parameters
    ----------
    func : callable
        ``func(chunk, *args, progress)`` processes the list ``chunk`` and
        calls ``progress()`` after each input (drives the progress bar);
        picklable when ``n_jobs > 1``.
    inputs : iterable
        Inputs, split with `split_in_chunks`.
    n_jobs : int, optional
        Number of processes and chunks (None: `N_JOBS_DEFAULT`; -1: all CPUs);
        with 1, ``func`` runs once on all inputs in this process.
    desc : str, optional
        Progress bar label.
    args : tuple
        Extra positional arguments of ``func`` (pickled once per chunk).
    show_progress_bar : bool, optional
        Override `SHOW_PROGRESS_BAR`.
    mp_context : str, optional
        Multiprocessing start method.
    parallel_backend : {"multiprocessing", "dask"}, optional
        Where the chunks run (None: `BACKEND_DEFAULT`); with dask the progress
        bar advances by whole chunks.

    Returns
    -------
    results : list
        One result per chunk, in chunk order.
    """
    inputs = list(inputs)
    backend = backend_or_default(parallel_backend)
    n_jobs = min(n_jobs_or_default(n_jobs, backend), max(len(inputs), 1))
    disable = None if show_progress_bar is None else not show_progress_bar
    chunks = split_in_chunks(inputs, n_jobs)
    with progress_bar(total=len(inputs), desc=desc, disable=disable) as bar:
        if n_jobs == 1:
            return [func(chunk, *args, progress=lambda n=1: bar.update(n)) for chunk in chunks]
        if backend == "dask":
            items = [(func, chunk, tuple(args)) for chunk in chunks]
            return list(_dask_map(_call_chunk_star, items, n_jobs, lambda k: bar.update(len(chunks[k]))))
        import multiprocessing
        import queue as queue_module
        from concurrent.futures import wait, FIRST_COMPLETED

        context = multiprocessing.get_context(mp_context) if mp_context else multiprocessing.get_context()
        progress_queue = context.Queue()
        blas_threads = max(1, (os.cpu_count() or 1) // n_jobs)
        log.debug("run_in_chunks: %d inputs in %d chunks", len(inputs), len(chunks))
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(blas_threads, progress_queue)) as executor:
            futures = [executor.submit(_call_chunk, func, chunk, tuple(args)) for chunk in chunks]
            pending, done = set(futures), 0
            while pending:
                _, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                # once all chunks succeeded, wait for the last progress messages still in the pipe
                settle = not pending and not any(f.exception() is not None for f in futures)
                while True:
                    try:
                        n = progress_queue.get(timeout=0.5) if settle and done < len(inputs) \
                            else progress_queue.get_nowait()
                    except queue_module.Empty:
                        break
                    done += n
                    bar.update(n)
            results = [future.result() for future in futures]
        progress_queue.close()
    return results


def _call_star(args):
    func, item, star = args
    return func(*item) if star else func(item)


def _call_chunk_star(args):
    return _call_chunk(*args)


def run_multiprocessing(func, inputs, n_jobs=None, desc=None, star=True, show_progress_bar=None,
                        callback=None, mp_context=None, parallel_backend=None):
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
    parallel_backend : {"multiprocessing", "dask"}, optional
        Where the calls run when ``n_jobs > 1`` (None: `BACKEND_DEFAULT`).

    Returns
    -------
    results : list or None
        ``func`` applied to each input, in the order of the inputs (None when
        ``callback`` is given).
    """
    inputs = list(inputs)
    backend = backend_or_default(parallel_backend)
    n_jobs = min(n_jobs_or_default(n_jobs, backend), max(len(inputs), 1))
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
        if backend == "dask":
            items = [(func, item, star) for item in inputs]
            for result in _dask_map(_call_star, items, n_jobs, lambda k: bar.update(1)):
                handle(result)
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
