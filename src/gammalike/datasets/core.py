"""Dataset base class, the `Datasets` container and the registry of dataset types.

A dataset holds reduced data and the models evaluated on them; it knows how
to compute its fit statistic.  `Datasets` is the list a `~gammalike.modeling.Fit`
runs on: the same model objects are set on all datasets, so a parameter
shared by several datasets is one free parameter of the joint fit.
"""
import abc
import copy
import importlib
import logging
import uuid

import numpy as np
import yaml
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from ..data.gti import gti_time_range
from ..modeling.models import DatasetModels, Models
from ..modeling.parameter import Parameters
from ..utils import make_path, write_atomic

__all__ = ["Dataset", "Datasets", "DATASET_REGISTRY", "DatasetRegistry"]

log = logging.getLogger(__name__)


class DatasetRegistry:
    """Dataset classes keyed by the ``type`` names of the datasets YAML.

    Classes register themselves when defined (`Dataset.__init_subclass__`);
    types defined in modules not imported yet are imported on first lookup.
    """

    # type name -> module (relative to gammalike.datasets) defining it
    _modules = {
        "SpectrumDataset": ".spectrum",
        "SpectrumDatasetOnOff": ".spectrum_onoff",
        "FluxPointsDataset": ".flux_points",
        "MapDataset": ".map",
        "MapDatasetOnOff": ".map_onoff",
    }

    def __init__(self):
        self._classes = {}

    def register(self, cls):
        self._classes[cls.tag] = cls
        return cls

    def get_cls(self, tag):
        """Class for a YAML ``type`` name; raises `ValueError` for unknown / unavailable types."""
        if tag not in self._classes and tag in self._modules:
            try:
                importlib.import_module(self._modules[tag], package=__package__)
            except ImportError as exc:
                raise ValueError(
                    f"Dataset type {tag!r} is not available in this version of gammalike ({exc})"
                ) from None
        try:
            return self._classes[tag]
        except KeyError:
            raise ValueError(
                f"Unknown dataset type {tag!r}; known types: {', '.join(self.names)}"
            ) from None

    @property
    def names(self):
        return sorted(set(self._classes) | set(self._modules))

    def __contains__(self, tag):
        return tag in self._classes


#: Registry of dataset types (YAML ``type`` name -> class).
DATASET_REGISTRY = DatasetRegistry()


def make_name(name=None):
    """``name`` as a str, or a short random name (8 hex digits) if None."""
    if name is None:
        return uuid.uuid4().hex[:8]
    return str(name)


def _as_model_list(models):
    """A list of model objects from a model, a list of models, Models or DatasetModels."""
    if models is None:
        return []
    if isinstance(models, (Models, DatasetModels)):
        return list(models)
    if isinstance(models, (list, tuple)):
        out = []
        for item in models:
            out.extend(_as_model_list(item))
        return out
    return [models]


# -- time selection ---------------------------------------------------------
def _mjd_tt(time, what):
    from astropy.time import Time

    if not isinstance(time, Time):
        raise TypeError(f"select_time: {what} must be astropy Time, got {type(time).__name__}")
    if time.size != 1:
        raise ValueError(f"select_time: {what} must be a single time, got {time.size}")
    return float(np.ravel(time.tt.mjd)[0])


def _time_overlap(gti, time_min, time_max, atol):
    """How a GTI relates to ``[time_min, time_max]``: "inside", "outside", "partial" or "none".

    All values are float MJD (TT); ``atol`` in days.  "none" means there is no
    GTI; an empty GTI lies "outside" every interval.
    """
    if gti is None:
        return "none"
    bounds = gti_time_range(gti)
    if bounds is None:
        return "outside"
    start, stop = bounds
    if start >= time_min - atol and stop <= time_max + atol:
        return "inside"
    if stop <= time_min + atol or start >= time_max - atol:
        return "outside"
    return "partial"


class Dataset(abc.ABC):
    """Base class of all datasets.

    Subclasses set ``tag`` (their YAML ``type`` name) and ``stat_type`` and
    implement `stat_array`; `stat_sum` sums it over `mask`.
    """

    tag = None
    stat_type = None
    _registered = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.tag is not None and cls.__dict__.get("_registered", True):
            DATASET_REGISTRY.register(cls)

    #: attributes whose assignment invalidates what is prepared from the data
    _cache_inputs = ()

    def __setattr__(self, key, value):
        if key in ("mask_safe", "mask_fit"):
            value = self._as_mask(value, key)
        object.__setattr__(self, key, value)
        if key in self._cache_inputs:
            self.reset_data_cache()

    def _as_mask(self, value, what):
        """The mask in the dataset's own representation (subclasses convert arrays)."""
        return value

    def reset_data_cache(self):
        """Forget arrays prepared from the data (call after editing maps in place)."""

    # -- name -------------------------------------------------------------
    @property
    def name(self):
        """Dataset name (used by models' ``datasets_names``)."""
        return self._name

    @staticmethod
    def _check_name(name):
        return make_name(name)

    @property
    def type_name(self):
        return self.tag

    # -- models -----------------------------------------------------------
    @property
    def models(self):
        """Models of this dataset (`~gammalike.modeling.models.DatasetModels` or None)."""
        return getattr(self, "_models", None)

    @models.setter
    def models(self, models):
        self._assign_models(models, warn=True)

    def _assign_models(self, models, warn):
        """Keep the models meant for this dataset (``datasets_names`` None or naming it)."""
        selected, ignored = [], []
        for model in _as_model_list(models):
            names = getattr(model, "datasets_names", None)
            (selected if names is None or self.name in names else ignored).append(model)
        if warn and ignored:
            # e.g. FoVBackgroundModel(dataset_name="stacked") on a dataset named otherwise
            log.warning(
                "Dataset %r: models %s are meant for datasets %s and are ignored",
                self.name, [getattr(m, "name", m) for m in ignored],
                sorted({n for m in ignored for n in m.datasets_names}),
            )
        self._models = DatasetModels(selected) if models is not None else None
        self._reset_model_cache()

    def _reset_model_cache(self):
        """Forget cached model evaluations (models changed)."""

    @property
    def parameters(self):
        """Parameters of the models (empty if none)."""
        if self.models is None:
            return Parameters()
        return self.models.parameters

    # -- masks ------------------------------------------------------------
    @property
    def mask(self):
        """Combined mask ``mask_safe & mask_fit`` (None if neither is set)."""
        mask_safe, mask_fit = self.mask_safe, self.mask_fit
        if mask_safe is None:
            return mask_fit
        if mask_fit is None:
            return mask_safe
        return mask_safe & mask_fit

    # -- statistic --------------------------------------------------------
    @abc.abstractmethod
    def stat_array(self):
        """Per-bin fit statistic."""

    def stat_sum(self):
        """Total fit statistic over the bins in `mask`."""
        stat = self.stat_array()
        stat = np.asarray(getattr(stat, "data", stat))
        mask = self.mask
        if mask is not None:
            stat = stat[np.asarray(getattr(mask, "data", mask), dtype=bool)]
        return float(np.sum(stat, dtype=float))

    # -- copies -----------------------------------------------------------
    def copy(self, name=None):
        """Deep copy with a new name (random if None); the copy has no models.

        Models are bound to dataset names, so they are not carried over.
        """
        models = getattr(self, "_models", None)
        self._models = None
        try:
            new = copy.deepcopy(self)
        finally:
            self._models = models
        new._name = make_name(name)
        new.models = None
        return new

    # -- time selection ---------------------------------------------------
    def select_time(self, time_min, time_max, name=None, atol="1e-6 d"):
        """The part of the dataset taken between ``time_min`` and ``time_max``.

        A reduced dataset cannot be split in time, so this works on its GTI
        as a whole: a dataset whose GTI lies inside the interval (within
        ``atol``) is returned as a copy; one whose GTI lies outside is
        returned as a copy with an all-False safe mask (it contributes nothing
        to fits or stacks).  To split observations into shorter intervals,
        select the time on the observations before the reduction
        (``observations.select_time(time_intervals)``).

        Parameters
        ----------
        time_min, time_max : `~astropy.time.Time`
            Interval.
        name : str, optional
            Name of the new dataset (random if None).
        atol : `~astropy.units.Quantity` or str
            Tolerance on the interval bounds.

        Returns
        -------
        dataset : `Dataset`
            New dataset without models (as `copy`).

        Raises
        ------
        ValueError
            If the dataset has no GTI, or its GTI straddles a bound of the interval.
        """
        lo, hi = _mjd_tt(time_min, "time_min"), _mjd_tt(time_max, "time_max")
        atol_d = u.Quantity(atol).to_value("d")
        overlap = _time_overlap(getattr(self, "gti", None), lo, hi, atol_d)
        if overlap == "none":
            raise ValueError(f"Dataset {self.name!r}: no GTI, cannot select a time interval")
        if overlap == "partial":
            raise ValueError(
                f"Dataset {self.name!r}: its GTI straddles the interval "
                f"[{time_min.utc.isot}, {time_max.utc.isot}] UTC; reduced data cannot be split in "
                "time - select the time on the observations before the reduction"
            )
        new = self.copy(name=name)
        if overlap == "outside":
            shape = np.shape(getattr(new.counts, "data", new.counts))
            new.mask_safe = np.zeros(shape, dtype=bool)
        return new

    # -- FITS files ------------------------------------------------------
    def write(self, filename, overwrite=False, format="gadf", checksum=False):
        """Write the `to_hdulist` layout to one FITS file (atomic; refuses to overwrite unless ``overwrite``)."""
        hdulist = self.to_hdulist(format=format)
        with write_atomic(filename, overwrite=overwrite) as tmp:
            hdulist.writeto(tmp, checksum=checksum)

    @classmethod
    def _read_fits(cls, filename, name=None, format="gadf"):
        """``cls.from_hdulist`` of one FITS file; a missing file or HDU is reported with its path."""
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"{cls.__name__}.read: file not found: {path}")
        with fits.open(path, memmap=False) as hdulist:
            try:
                return cls.from_hdulist(hdulist, name=name, format=format)
            except KeyError as exc:
                raise KeyError(f"{path}: {exc.args[0]}") from None

    def _yaml_filename(self):
        """File name used by `Datasets.write` for this dataset."""
        return f"{self.name}.fits"

    def to_dict(self):
        """Entry of the datasets YAML."""
        return {"name": self.name, "type": self.tag, "filename": self._yaml_filename()}

    def __str__(self):
        return f"{self.__class__.__name__}\n{'-' * len(self.__class__.__name__)}\n\n  Name : {self.name}\n"


def _format_models_summary(models):
    """Number of models / parameters / free parameters lines of a dataset print."""
    if models is None:
        n_models, n_pars, n_free = 0, 0, 0
    else:
        pars = models.parameters.unique_parameters
        n_models, n_pars, n_free = len(models), len(pars), len(pars.free_parameters)
    return [
        f"{'Number of models':<32}: {n_models}",
        f"{'Number of parameters':<32}: {n_pars}",
        f"{'Number of free parameters':<32}: {n_free}",
    ]


class Datasets:
    """A list of datasets, fitted jointly.

    Parameters
    ----------
    datasets : `Dataset`, list of `Dataset` or `Datasets`
        The datasets; their names must be unique.
    """

    def __init__(self, datasets=None):
        if datasets is None:
            datasets = []
        elif isinstance(datasets, Datasets):
            datasets = list(datasets._datasets)
        elif isinstance(datasets, Dataset) or not isinstance(datasets, (list, tuple)):
            datasets = [datasets]
        self._datasets = []
        for dataset in datasets:
            self.append(dataset)

    # -- list protocol ----------------------------------------------------
    @property
    def names(self):
        """Dataset names."""
        return [d.name for d in self._datasets]

    def __len__(self):
        return len(self._datasets)

    def __iter__(self):
        return iter(self._datasets)

    def index(self, key):
        """Position of a dataset given by name, index or object."""
        if isinstance(key, (int, np.integer)):
            return int(key)
        if isinstance(key, str):
            try:
                return self.names.index(key)
            except ValueError:
                raise KeyError(f"No dataset named {key!r}; datasets are {self.names}") from None
        if isinstance(key, Dataset):
            for idx, dataset in enumerate(self._datasets):
                if dataset is key:
                    return idx
            raise KeyError(f"Dataset {key.name!r} is not in this Datasets")
        raise TypeError(f"Invalid dataset key {key!r}: expected int, str or Dataset")

    def __getitem__(self, key):
        if isinstance(key, slice):
            return self.__class__(self._datasets[key])
        if isinstance(key, (list, tuple, np.ndarray)):
            return self.__class__([self._datasets[self.index(k)] for k in key])
        return self._datasets[self.index(key)]

    def __setitem__(self, key, dataset):
        idx = self.index(key)
        self._check_new(dataset, ignore=idx)
        self._datasets[idx] = dataset

    def __delitem__(self, key):
        del self._datasets[self.index(key)]

    def __contains__(self, key):
        if isinstance(key, str):
            return key in self.names
        return any(d is key for d in self._datasets)

    def _check_new(self, dataset, ignore=None):
        if not isinstance(dataset, Dataset) and not hasattr(dataset, "stat_sum"):
            raise TypeError(f"Datasets: expected a dataset, got {type(dataset).__name__}")
        names = [n for i, n in enumerate(self.names) if i != ignore]
        if dataset.name in names:
            raise ValueError(
                f"Datasets: dataset names must be unique; {dataset.name!r} is already used"
            )

    def append(self, dataset):
        """Add a dataset at the end (its name must not be taken yet)."""
        self._check_new(dataset)
        self._datasets.append(dataset)

    def extend(self, datasets):
        for dataset in datasets:
            self.append(dataset)

    def insert(self, idx, dataset):
        self._check_new(dataset)
        self._datasets.insert(idx, dataset)

    def pop(self, key=-1):
        return self._datasets.pop(self.index(key))

    # -- models and parameters -------------------------------------------
    @property
    def models(self):
        """Unique models of all datasets (`~gammalike.modeling.models.DatasetModels`)."""
        seen = set()
        models = []
        for dataset in self._datasets:
            for model in dataset.models or []:
                if id(model) not in seen:
                    seen.add(id(model))
                    models.append(model)
        return DatasetModels(models)

    @models.setter
    def models(self, models):
        # every dataset keeps the models meant for it (datasets_names);
        # the objects are shared, so are their parameters
        models = _as_model_list(models) if models is not None else None
        for dataset in self._datasets:
            dataset._assign_models(models, warn=False)
        names = set(self.names)
        for model in models or []:
            wanted = getattr(model, "datasets_names", None)
            if wanted is not None and not names.intersection(wanted):
                log.warning("Model %r is meant for datasets %s, none of which is here (%s)",
                            getattr(model, "name", model), list(wanted), self.names)

    @property
    def parameters(self):
        """Unique parameters of all models."""
        return self.models.parameters.unique_parameters

    # -- statistic ------------------------------------------------------
    def stat_sum(self):
        """Total fit statistic (sum over datasets)."""
        total = 0.0
        for dataset in self._datasets:
            total += dataset.stat_sum()
        return total

    @property
    def is_all_same_type(self):
        return len({type(d) for d in self._datasets}) <= 1

    # -- stacking and info ------------------------------------------------
    def stack_reduce(self, name=None, **kwargs):
        """Stack all datasets into a new one.

        The first dataset is copied (data outside its safe mask set to zero)
        under ``name``; the others are stacked into it.
        """
        if not self._datasets:
            raise ValueError("Datasets.stack_reduce: no datasets to stack")
        if not self.is_all_same_type:
            raise ValueError(
                "Datasets.stack_reduce: datasets must all be of the same type, got "
                f"{sorted({type(d).__name__ for d in self._datasets})}"
            )
        stacked = self._datasets[0].to_masked(name=name)
        for dataset in self._datasets[1:]:
            stacked.stack(dataset, **kwargs)
        return stacked

    def slice_by_energy(self, energy_min=None, energy_max=None):
        """Datasets restricted to the reco-energy bins in ``[energy_min, energy_max]``.

        Each dataset keeps its name and its models.
        """
        sliced = []
        for dataset in self._datasets:
            new = dataset.slice_by_energy(energy_min, energy_max, name=dataset.name)
            new.models = dataset.models
            sliced.append(new)
        return self.__class__(sliced)

    def select_time(self, time_min, time_max, atol="1e-6 d"):
        """Datasets whose GTI lies inside ``[time_min, time_max]`` (within ``atol``).

        The datasets are not copied.  Datasets whose GTI straddles a bound are
        not selected (a reduced dataset cannot be split in time; see
        `Dataset.select_time`).

        Parameters
        ----------
        time_min, time_max : `~astropy.time.Time`
            Interval.
        atol : `~astropy.units.Quantity` or str
            Tolerance on the interval bounds.

        Raises
        ------
        ValueError
            If a dataset has no GTI.
        """
        lo, hi = _mjd_tt(time_min, "time_min"), _mjd_tt(time_max, "time_max")
        atol_d = u.Quantity(atol).to_value("d")
        selected = []
        for dataset in self._datasets:
            overlap = _time_overlap(getattr(dataset, "gti", None), lo, hi, atol_d)
            if overlap == "none":
                raise ValueError(f"Datasets.select_time: dataset {dataset.name!r} has no GTI")
            if overlap == "inside":
                selected.append(dataset)
        return self.__class__(selected)

    def info_table(self, cumulative=False):
        """Table with one `info_dict` row per dataset.

        Parameters
        ----------
        cumulative : bool
            Row ``i`` describes datasets ``0..i`` stacked together.
        """
        if not self._datasets:
            return Table()
        if not cumulative:
            rows = [d.info_dict() for d in self._datasets]
        else:
            stacked = self._datasets[0].to_masked(name="stacked")
            rows = [stacked.info_dict()]
            for dataset in self._datasets[1:]:
                stacked.stack(dataset)
                rows.append(stacked.info_dict())
        return _rows_to_table(rows)

    # -- copies and output -------------------------------------------------
    def copy(self):
        """Deep copy; models shared between datasets stay shared in the copy."""
        return copy.deepcopy(self)

    def __str__(self):
        lines = ["Datasets", "--------", ""]
        for idx, dataset in enumerate(self._datasets):
            models = dataset.models
            names = models.names if models is not None else []
            meta = getattr(dataset, "meta", None)
            instrument = meta.get("INSTRUME", "") if isinstance(meta, dict) else ""
            lines += [
                f"Dataset {idx}: ",
                "",
                f"  Type       : {dataset.tag}",
                f"  Name       : {dataset.name}",
                f"  Instrument : {instrument}",
                f"  Models     : {names}",
                "",
            ]
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return f"{self.__class__.__name__}({self.names})"

    # -- I/O ----------------------------------------------------------------
    def write(self, filename=None, filename_models=None, overwrite=False, write_covariance=True,
              path=None, prefix=None):
        """Write the datasets YAML, each dataset to its own file next to it, and the models.

        The older form ``write(path=folder, prefix="name")`` writes
        ``name_datasets.yaml`` and ``name_models.yaml`` in ``folder``.

        Parameters
        ----------
        filename : str or `~pathlib.Path`
            Datasets YAML (``datasets:`` list of name / type / filename).
        filename_models : str or `~pathlib.Path`, optional
            Models YAML.
        overwrite : bool
            Replace existing files.
        write_covariance : bool
            Also write the models' covariance.
        """
        if path is not None:
            folder = make_path(path)
            prefix = f"{prefix}_" if prefix else ""
            filename = folder / f"{prefix}datasets.yaml"
            filename_models = folder / f"{prefix}models.yaml"
        if filename is None:
            raise TypeError("Datasets.write: give filename (or path and prefix)")
        path = make_path(filename)
        folder = path.parent
        entries = [d.to_dict() for d in self._datasets]
        targets = [folder / e["filename"] for e in entries]
        if len(set(targets)) != len(targets):
            raise ValueError(f"Datasets.write: several datasets would be written to the same file: {targets}")
        if not overwrite:
            models = [make_path(filename_models)] if filename_models is not None else []
            for target in [path] + targets + models:
                if target.exists():
                    raise FileExistsError(f"{target} already exists: pass overwrite=True to replace it")
        for dataset, target in zip(self._datasets, targets):
            dataset.write(target, overwrite=overwrite)
        text = yaml.safe_dump({"datasets": entries}, sort_keys=False, default_flow_style=False)
        with write_atomic(path, overwrite=overwrite) as tmp:
            tmp.write_text(text)
        if filename_models is not None:
            self.models.write(filename_models, overwrite=overwrite, write_covariance=write_covariance)

    @classmethod
    def read(cls, filename, filename_models=None, lazy=True, cache=True, filedata=None, filemodel=None):
        """Read datasets from a datasets YAML (and models from a models YAML).

        ``Datasets.read(path, filedata="..._datasets.yaml", filemodel="..._models.yaml")``
        (older API: a folder and two file names) is also accepted.  Dataset
        file names are relative to the YAML's folder or contain ``$GAMMAPY_DATA``.
        """
        if filedata is not None:
            folder = make_path(filename)
            filename = folder / filedata
            if filemodel is not None:
                filename_models = folder / filemodel
        path = make_path(filename)
        if not path.exists():
            raise FileNotFoundError(f"Datasets.read: file not found: {path}")
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict) or "datasets" not in data:
            raise ValueError(f"{path}: expected a YAML mapping with a 'datasets' list")
        datasets = []
        for idx, entry in enumerate(data["datasets"]):
            for key in ("type", "filename"):
                if key not in entry:
                    raise ValueError(f"{path}: datasets[{idx}] has no {key!r} entry")
            dataset_cls = DATASET_REGISTRY.get_cls(entry["type"])
            file = make_path(entry["filename"])
            if not file.is_absolute():
                file = path.parent / file
            datasets.append(dataset_cls.read(file, name=entry.get("name")))
        datasets = cls(datasets)
        if filename_models is not None:
            datasets.models = Models.read(filename_models)
        return datasets


def _rows_to_table(rows):
    """Table from info dicts: Quantity values become unit-ful columns."""
    table = Table()
    for key in rows[0]:
        values = [row.get(key) for row in rows]
        if all(isinstance(v, u.Quantity) for v in values):
            unit = values[0].unit
            table[key] = u.Quantity([v.to_value(unit) for v in values], unit)
        elif all(isinstance(v, str) for v in values):
            table[key] = values
        else:
            table[key] = np.array([np.asarray(getattr(v, "value", v)) for v in values])
    return table
