"""`DatasetsMaker`: run a chain of makers over many observations, serially or on a process pool.

For each observation the reference dataset is cut out around the pointing
(WCS geometries, when a cut-out width is known), every maker runs in turn,
and the result is either kept (one dataset per observation) or stacked into
the reference.  Observations are reduced in worker processes when
``n_jobs > 1``.  Without stacking, the datasets come back in the order of the
observations.  With stacking, each worker reduces one contiguous share of the
observations and stacks it into an empty copy of the reference, and only
these ``n_jobs`` partial stacks are pickled back (not one 3D dataset per
observation) and stacked in share order: the observations enter the sums in
the serial order, only grouped differently (identical counts and masks,
float sums equal to rounding).
"""
import logging

import numpy as np
from astropy.coordinates import Angle

from .core import Maker

__all__ = ["DatasetsMaker"]

log = logging.getLogger(__name__)


class DatasetsMaker(Maker):
    """Reduce observations with a chain of makers, optionally stacking and in parallel.

    Parameters
    ----------
    makers : list of `Maker`
        Makers run in order for each observation, each as
        ``dataset = maker.run(dataset, observation)`` (e.g. `MapDatasetMaker`,
        `SafeMaskMaker`, `FoVBackgroundMaker`).
    stack_datasets : bool
        Stack the per-observation datasets into the reference (True), or
        return them as `~gammalike.datasets.Datasets` (named by obs_id).
    n_jobs : int, optional
        Processes used (None: `gammalike.utils.parallel.N_JOBS_DEFAULT`; -1: all CPUs).
        With ``stack_datasets`` and an empty reference, each process stacks a
        contiguous share of the observations and returns one partial stack.
        Starting processes costs ~0.5 s: a few observations are reduced
        faster serially.
    cutout_mode : {"trim", "partial"}
        Mode of the per-observation cut-out of the reference geometry.
    cutout_width : `~astropy.coordinates.Angle` or str, optional
        Width of the cut-out around each pointing (default: twice the
        ``offset_max`` of a `SafeMaskMaker` using "offset-max"; no cut-out
        if there is none).
    parallel_backend : {"multiprocessing", "dask"}, optional
        Where the ``n_jobs`` jobs run (None:
        `gammalike.utils.parallel.BACKEND_DEFAULT`): local processes, or dask
        -- the workers of the active `dask.distributed` client (a cluster)
        if there is one.
    """

    tag = "DatasetsMaker"

    def __init__(self, makers, stack_datasets=True, n_jobs=None, cutout_mode="trim", cutout_width=None,
                 parallel_backend=None):
        makers = list(makers)
        for maker in makers:
            if not callable(getattr(maker, "run", None)):
                raise TypeError(f"DatasetsMaker: {maker!r} is not a maker (no run method)")
        if cutout_mode not in ("trim", "partial"):
            raise ValueError(f"DatasetsMaker: cutout_mode must be 'trim' or 'partial', got {cutout_mode!r}")
        from ..utils.parallel import backend_or_default, n_jobs_or_default

        if n_jobs is not None:
            n_jobs_or_default(n_jobs)  # validate
        self.parallel_backend = None if parallel_backend is None else backend_or_default(parallel_backend)
        self.makers = makers
        self.stack_datasets = bool(stack_datasets)
        self.n_jobs = n_jobs
        self.cutout_mode = cutout_mode
        self.cutout_width = None if cutout_width is None else Angle(cutout_width)

    @property
    def offset_max(self):
        """``offset_max`` of the first `SafeMaskMaker` with the "offset-max" method (or None)."""
        for maker in self.makers:
            if "offset-max" in getattr(maker, "methods", ()) and getattr(maker, "offset_max", None) is not None:
                return Angle(maker.offset_max)
        return None

    def _cutout_width(self):
        if self.cutout_width is not None:
            return self.cutout_width
        offset_max = self.offset_max
        return None if offset_max is None else 2 * offset_max

    def _reference_for(self, dataset, observation, name):
        """The reference dataset, cut out around the observation's pointing if possible."""
        width = self._cutout_width()
        geom = dataset.counts.geom if dataset.counts is not None else None
        if width is None or geom is None or not hasattr(geom, "cutout"):
            return dataset.copy(name=name)
        position = observation.get_pointing_icrs()
        frame = getattr(geom, "frame", None)
        if frame in ("icrs", "galactic"):
            # once here rather than once per map of the dataset inside `cutout`
            position = position.transform_to(frame)
        try:
            return dataset.cutout(position=position, width=width, mode=self.cutout_mode, name=name)
        except ValueError:
            # the observation does not overlap the geometry: reduce on the full reference (empty result)
            log.warning("DatasetsMaker: observation %s does not overlap the dataset geometry", observation.obs_id)
            return dataset.copy(name=name)

    def make_dataset(self, dataset, observation):
        """Run all makers for one observation on (a cut-out of) ``dataset``."""
        for maker in self.makers:
            dataset = maker.run(dataset, observation)
        return dataset

    def _task(self, dataset, observation):
        # MapDataset.stack applies each dataset's background model itself
        return self.make_dataset(dataset, observation)

    def _stack_chunk(self, observations, dataset, progress=None):
        """Reduce ``observations`` (in order) and stack them into a copy of ``dataset`` (worker side)."""
        stacked = dataset.copy(name=dataset.name)
        for obs in observations:
            name = str(obs.obs_id) if obs.obs_id is not None else None
            stacked = _stack_into(stacked, self.make_dataset(self._reference_for(dataset, obs, name), obs))
            if progress is not None:
                progress()
        return stacked

    def run(self, dataset, observations, datasets=None):
        """Reduce all observations.

        Parameters
        ----------
        dataset : `~gammalike.datasets.MapDataset` or `~gammalike.datasets.SpectrumDataset`
            Reference dataset (geometry, axes; e.g. ``MapDataset.create(...)``).
        observations : `~gammalike.data.Observations` or list of `~gammalike.data.Observation`
            Observations.
        datasets : `~gammalike.datasets.Datasets`, optional
            Datasets to append the results to (``stack_datasets=False``).

        Returns
        -------
        datasets : `~gammalike.datasets.Datasets`
            One stacked dataset (named like the reference) or one dataset per observation.
        """
        from ..datasets import Datasets
        from ..utils.parallel import n_jobs_or_default, run_in_chunks, run_multiprocessing

        observations = list(observations)
        if not observations:
            raise ValueError("DatasetsMaker.run: no observations")
        backend = self.parallel_backend
        n_jobs = min(n_jobs_or_default(self.n_jobs, backend), len(observations))
        if self.stack_datasets and n_jobs > 1 and _is_blank(dataset):
            partials = run_in_chunks(self._stack_chunk, observations, n_jobs=n_jobs, desc="Data reduction",
                                     args=(dataset,), parallel_backend=backend)
            stacked = dataset.copy(name=dataset.name)
            for partial in partials:
                stacked = _stack_into(stacked, partial)
            return Datasets([stacked])

        inputs = []
        for obs in observations:
            name = str(obs.obs_id) if obs.obs_id is not None else None
            inputs.append((self._reference_for(dataset, obs, name), obs))

        if self.stack_datasets:
            stacked = [dataset.copy(name=dataset.name)]

            def add(result):
                stacked[0] = _stack_into(stacked[0], result)

            run_multiprocessing(self._task, inputs, n_jobs=n_jobs, desc="Data reduction", callback=add,
                                parallel_backend=backend)
            return Datasets(stacked)

        results = run_multiprocessing(self._task, inputs, n_jobs=n_jobs, desc="Data reduction",
                                      parallel_backend=backend)
        out = Datasets() if datasets is None else datasets
        for result in results:
            out.append(result)
        return out


def _stack_into(stacked, other):
    """Stack ``other`` into ``stacked`` and return the stack.

    A background maker may turn each dataset ON/OFF (reflected regions, ring):
    the stack then becomes ON/OFF too, starting from the blank reference with
    zero OFF counts, instead of silently dropping the OFF counts.
    """
    if getattr(other, "counts_off", None) is not None and not hasattr(stacked, "counts_off"):
        if not _is_blank(stacked):
            raise TypeError(
                f"DatasetsMaker: cannot stack the ON/OFF dataset {other.name!r} into {stacked.name!r}, a "
                f"{type(stacked).__name__} with content of its own; give an empty reference dataset"
            )
        stacked = _blank_on_off(stacked, type(other))
    stacked.stack(other)
    return stacked


def _blank_on_off(dataset, cls):
    """An ON/OFF copy of the blank ``dataset``: zero OFF counts and acceptances."""
    counts_off = dataset.counts.copy()
    counts_off.data = np.zeros(counts_off.data.shape)
    acceptance = counts_off.copy()
    if hasattr(cls, "from_spectrum_dataset"):
        return cls.from_spectrum_dataset(dataset=dataset, acceptance=acceptance, acceptance_off=acceptance.copy(),
                                         counts_off=counts_off, name=dataset.name)
    return cls.from_map_dataset(dataset, acceptance=acceptance, acceptance_off=acceptance.copy(),
                                counts_off=counts_off, name=dataset.name)


def _is_blank(dataset):
    """True if stacking into ``dataset`` keeps nothing of its own content.

    `stack` drops the counts, background and exposure outside a dataset's
    safe mask, but keeps its IRF maps' exposure: a dataset with no safe bin
    and zero IRF exposures (as `MapDataset.create` / `SpectrumDataset.create`
    make) can start any number of partial stacks without being counted twice.
    """
    mask = getattr(dataset, "mask_safe", None)
    if mask is None or np.any(np.asarray(getattr(mask, "data", mask))):
        return False
    for key in ("psf", "edisp"):
        irf = getattr(dataset, key, None)
        exposure = getattr(irf, "exposure_map", None) if irf is not None else None
        if exposure is None and irf is not None:
            exposure = getattr(irf, "exposure", None)
        if exposure is not None and np.any(np.asarray(getattr(exposure, "data", exposure))):
            return False
    return True
