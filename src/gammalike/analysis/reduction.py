"""The data-reduction loop of `Analysis`: `~gammalike.makers.DatasetsMaker` with progress logging."""
import logging

log = logging.getLogger(__name__)

__all__ = ["reduce_observations"]

# makers whose run is routine enough to be logged at debug level only
_QUIET_MAKERS = ("SafeMaskMaker",)


class _LoggedMaker:
    """A maker that logs "Running <Maker>" (and, first in the chain, the observation) before running.

    Attribute access falls through to the wrapped maker, so `DatasetsMaker`
    still sees e.g. a `SafeMaskMaker`'s ``methods`` and ``offset_max``.
    """

    def __init__(self, maker, first=False):
        self.maker = maker
        self.first = first

    def __getattr__(self, name):
        if name in ("maker", "first") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.maker, name)

    def run(self, dataset, observation=None):
        if self.first:
            log.info(f"Computing dataset for observation {observation.obs_id}")
        tag = getattr(self.maker, "tag", type(self.maker).__name__)
        level = logging.DEBUG if tag in _QUIET_MAKERS else logging.INFO
        log.log(level, f"Running {tag}")
        return self.maker.run(dataset, observation)


def reduce_observations(reference, observations, makers, stack=True, n_jobs=1, cutout_width=None,
                        parallel_backend=None):
    """Reduce ``observations`` with ``makers`` onto (cut-outs of) ``reference``.

    Parameters
    ----------
    reference : `~gammalike.datasets.MapDataset` or `~gammalike.datasets.SpectrumDataset`
        Empty reference dataset (its name is the name of the stacked dataset).
    observations : `~gammalike.data.Observations`
        Observations.
    makers : list of makers
        Run in order for each observation.
    stack : bool
        Return one stacked dataset instead of one dataset per observation.
    n_jobs : int
        Worker processes.
    cutout_width : `~astropy.coordinates.Angle`, optional
        Width of the per-observation cut-out of a map geometry.
    parallel_backend : {"multiprocessing", "dask"}, optional
        Where the ``n_jobs`` jobs run.

    Returns
    -------
    datasets : `~gammalike.datasets.Datasets`
    """
    from ..makers.reduction import DatasetsMaker

    wrapped = [_LoggedMaker(maker, first=(idx == 0)) for idx, maker in enumerate(makers)]
    maker = DatasetsMaker(wrapped, stack_datasets=stack, n_jobs=n_jobs, cutout_mode="trim",
                          cutout_width=cutout_width, parallel_backend=parallel_backend)
    return maker.run(reference, observations)
