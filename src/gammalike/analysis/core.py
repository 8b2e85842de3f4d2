"""`Analysis`: the config-driven workflow (observations -> datasets -> fit -> estimators -> products).

Every step reads its settings from an `AnalysisConfig`; the objects it makes
are kept on the instance (``analysis.datasets``, ``analysis.models``,
``analysis.fit_result``, ``analysis.flux_points``, ``analysis.excess_map``,
``analysis.light_curve``) and `Analysis.write` puts them into
``general.outdir``.  `Analysis.run` chains named steps (`Analysis.STEPS`); a
later step (such as an HTML report) registers itself with `Analysis.add_step`.
"""
import logging
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from regions import CircleSkyRegion, PointSkyRegion

from ..data import DataStore
from ..datasets import Datasets, MapDataset, SpectrumDataset
from ..maps import Map, MapAxis, RegionGeom, WcsGeom
from ..modeling import Fit
from ..modeling.models import DatasetModels, FoVBackgroundModel, Models
from ..utils.paths import make_path
from .config import AnalysisConfig, ConfigError
from .products import write_products
from .reduction import reduce_observations

__all__ = ["Analysis"]

log = logging.getLogger(__name__)


def _energy_axis(settings, field, name="energy"):
    """`MapAxis` with ``nbins`` log bins from ``min`` to ``max`` (field names the config entry)."""
    missing = [key for key in ("min", "max", "nbins") if getattr(settings, key) is None]
    if missing:
        raise ConfigError(f"{field}: {', '.join(missing)} not set (give min, max and nbins)")
    if not settings.min < settings.max:
        raise ConfigError(f"{field}: min ({settings.min}) must be below max ({settings.max})")
    return MapAxis.from_energy_bounds(settings.min, settings.max, nbin=settings.nbins, name=name)


def _skycoord(settings, field):
    if settings.lon is None or settings.lat is None:
        raise ConfigError(f"{field}: lon and lat must be set")
    return SkyCoord(settings.lon, settings.lat, frame=settings.frame or "icrs")


class Analysis:
    """Config-driven high-level analysis.

    Parameters
    ----------
    config : `AnalysisConfig`, dict, or str
        Configuration (a YAML string or the name of a YAML file is read).

    Examples
    --------
    >>> analysis = Analysis(AnalysisConfig.read("config.yaml"))  # doctest: +SKIP
    >>> analysis.get_observations()  # doctest: +SKIP
    >>> analysis.get_datasets()  # doctest: +SKIP
    >>> analysis.set_models("models.yaml")  # doctest: +SKIP
    >>> analysis.run_fit()  # doctest: +SKIP
    """

    #: Steps of `run`, in order: step name -> method name.
    STEPS = {
        "observations": "get_observations",
        "datasets": "get_datasets",
        "fit": "run_fit",
        "flux-points": "get_flux_points",
        "excess-map": "get_excess_map",
        "light-curve": "get_light_curve",
        "write": "write",
    }

    def __init__(self, config):
        self.config = config
        self.config.set_logging()
        self.datastore = None
        self.observations = None
        self.datasets = None
        self._models = None
        self.fit = Fit()
        self.fit_result = None
        self.flux_points = None
        self.excess_map = None
        self.light_curve = None
        #: Files written by `write`: product name -> path (for reports and summaries).
        self.products = {}

    # ------------------------------------------------------------------ configuration
    @property
    def config(self):
        """The `AnalysisConfig` (a dict, YAML string or file name is converted on assignment)."""
        return self._config

    @config.setter
    def config(self, value):
        if isinstance(value, AnalysisConfig):
            self._config = value
        elif isinstance(value, dict):
            self._config = AnalysisConfig(**value)
        elif isinstance(value, (str, Path)):
            text = str(value)
            if "\n" not in text and make_path(text).is_file():
                self._config = AnalysisConfig.read(text)
            else:
                self._config = AnalysisConfig.from_yaml(text)
        else:
            raise TypeError(f"Analysis: config must be an AnalysisConfig, dict or YAML, got {type(value).__name__}")

    def update_config(self, config):
        """Update the configuration with ``config`` (dict, YAML string or `AnalysisConfig`)."""
        self.config = self.config.update(config=config)

    @classmethod
    def add_step(cls, name, method_name, function=None):
        """Register a step for `run` (e.g. an HTML report), optionally with its function.

        ``function(analysis)`` is attached as method ``method_name``.
        """
        if function is not None:
            setattr(cls, method_name, function)
        steps = dict(cls.STEPS)
        steps[name] = method_name
        cls.STEPS = steps

    # ------------------------------------------------------------------ observations
    def _datastore(self):
        path = make_path(self.config.observations.datastore)
        if path.is_dir():
            return DataStore.from_dir(path)
        if path.is_file():
            return DataStore.from_file(path)
        raise FileNotFoundError(f"observations.datastore: {path} does not exist")

    def _requested_ids(self, datastore):
        settings = self.config.observations
        ids = [int(i) for i in settings.obs_ids]
        if settings.obs_file is not None:
            ids += _read_obs_file(make_path(settings.obs_file))
        if not ids:
            ids = datastore.obs_ids
        return list(dict.fromkeys(ids))

    def get_observations(self):
        """Select observations from the data store (ids, sky cone, time range, required IRFs)."""
        log.info("Fetching observations.")
        settings = self.config.observations
        self.datastore = datastore = self._datastore()
        ids = self._requested_ids(datastore)
        selected = ids
        cone = settings.obs_cone
        if cone.lon is not None or cone.radius is not None:
            if cone.radius is None:
                raise ConfigError("observations.obs_cone: radius must be set with lon and lat")
            center = _skycoord(cone, "observations.obs_cone")
            if datastore.obs_table is None:
                raise ValueError(f"observations.obs_cone: the data store {settings.datastore} has no "
                                 "observation index table to select pointings from")
            table = datastore.obs_table.select_sky_circle(center, cone.radius)
            inside = set(int(i) for i in table.obs_id)
            selected = [i for i in selected if i in inside]
        log.info(f"Observations selected: {len(selected)} out of {len(ids)}.")
        observations = datastore.get_observations(selected, skip_missing=False,
                                                  required_irf=list(settings.required_irf))
        time = settings.obs_time
        if time.start is not None or time.stop is not None:
            if time.start is None or time.stop is None:
                raise ConfigError("observations.obs_time: give both start and stop")
            observations = observations.select_time([[time.start, time.stop]])
        log.info(f"Number of selected observations: {len(observations)}")
        self.observations = observations
        return observations

    # ------------------------------------------------------------------ datasets
    def get_datasets(self):
        """Reduce the observations to datasets (1D spectra or 3D maps), or read ``general.datasets_file``."""
        if self.config.general.datasets_file is not None:
            self.read_datasets()
            return self.datasets
        if self.observations is None:
            self.get_observations()
        if len(self.observations) == 0:
            raise ValueError("Analysis.get_datasets: no observation selected (check the observations section)")
        if self.config.datasets.type == "1d":
            self.datasets = self._spectrum_extraction()
        else:
            self.datasets = self._map_making()
        if self._models is not None:
            self.set_models(self._models)
        return self.datasets

    def read_datasets(self, filename=None):
        """Read datasets from a datasets YAML (default ``general.datasets_file``)."""
        filename = filename or self.config.general.datasets_file
        log.info(f"Reading datasets from {filename}.")
        self.datasets = Datasets.read(make_path(filename))
        return self.datasets

    def _energy_axes(self):
        axes = self.config.datasets.geom.axes
        energy = _energy_axis(axes.energy, "datasets.geom.axes.energy")
        energy_true = _energy_axis(axes.energy_true, "datasets.geom.axes.energy_true", name="energy_true")
        return energy, energy_true

    def _safe_mask_maker(self):
        from ..makers import SafeMaskMaker

        settings = self.config.datasets.safe_mask
        try:
            return SafeMaskMaker(methods=list(settings.methods), **settings.parameters)
        except TypeError as exc:
            raise ConfigError(f"datasets.safe_mask.parameters: {exc}") from None

    def _exclusion_mask(self, geom):
        """Exclusion mask (True = usable) from a map file or from regions, on ``geom`` for regions."""
        exclusion = self.config.datasets.background.exclusion
        if exclusion is None:
            return None
        if isinstance(exclusion, Path):
            path = make_path(exclusion)
            if not path.is_file():
                raise FileNotFoundError(f"datasets.background.exclusion: {path} does not exist")
            mask = Map.read(path)
            return mask.copy(data=np.asarray(mask.data, dtype=bool))
        regions = []
        for item in exclusion:
            if isinstance(item, str):
                from regions import Regions

                regions.extend(Regions.parse(item, format="ds9"))
            else:
                center = _skycoord(item, "datasets.background.exclusion")
                regions.append(CircleSkyRegion(center=center, radius=item.radius))
        return ~geom.to_image().region_mask(regions)

    def _wcs_geom(self, axes=None, skydir=None):
        wcs = self.config.datasets.geom.wcs
        if wcs.skydir.lon is not None:
            skydir = _skycoord(wcs.skydir, "datasets.geom.wcs.skydir")
        if skydir is None:
            raise ConfigError("datasets.geom.wcs.skydir: lon and lat must be set")
        frame = wcs.skydir.frame or ("galactic" if skydir.frame.name == "galactic" else "icrs")
        width = (wcs.width.width.to_value("deg"), wcs.width.height.to_value("deg"))
        return WcsGeom.create(skydir=skydir, binsz=wcs.binsize.to_value("deg"), width=width,
                              frame=frame, proj="CAR", axes=axes)

    def _on_region(self):
        on = self.config.datasets.on_region
        center = _skycoord(on, "datasets.on_region")
        if on.radius is None or on.radius.to_value("deg") == 0:
            return PointSkyRegion(center)
        return CircleSkyRegion(center=center, radius=on.radius)

    def _spectrum_extraction(self, observations=None, stack=None):
        from ..makers import ReflectedRegionsBackgroundMaker, SpectrumDatasetMaker

        settings = self.config.datasets
        observations = self.observations if observations is None else observations
        stack = settings.stack if stack is None else stack
        log.info("Creating reference dataset and makers.")
        on_region = self._on_region()
        energy_axis, energy_axis_true = self._energy_axes()
        geom = RegionGeom.create(region=on_region, axes=[energy_axis])
        reference = SpectrumDataset.create(geom=geom, energy_axis_true=energy_axis_true, name="stacked")
        selection = [s for s in settings.map_selection if s in SpectrumDatasetMaker.available_selection]
        dataset_maker = SpectrumDatasetMaker(selection=selection,
                                             containment_correction=settings.containment_correction)
        safe_mask_maker = self._safe_mask_maker()
        log.info("Creating the background Maker.")
        method = settings.background.method
        bkg_maker = None
        if method == "reflected":
            center = on_region.center
            exclusion = self._exclusion_mask(self._wcs_geom(skydir=center)) if settings.background.exclusion \
                is not None else None
            try:
                bkg_maker = ReflectedRegionsBackgroundMaker(exclusion_mask=exclusion,
                                                            **settings.background.parameters)
            except TypeError as exc:
                raise ConfigError(f"datasets.background.parameters: {exc}") from None
        elif method is not None:
            raise ConfigError(f"datasets.background.method: {method!r} is a 3D method; a 1D analysis uses "
                              "'reflected'")
        else:
            log.warning("No background maker set for the 1D analysis: check datasets.background.method")
        makers = [m for m in (dataset_maker, safe_mask_maker, bkg_maker) if m is not None]
        log.info("Start the data reduction loop.")
        datasets = reduce_observations(reference, observations, makers, stack=False,
                                       n_jobs=self.config.general.n_jobs)
        if stack:
            return Datasets([datasets.stack_reduce(name="stacked")])
        return datasets

    def _background_maker_3d(self, geom):
        from ..makers import background as background_makers

        settings = self.config.datasets.background
        method = settings.method
        if method is None:
            return None
        exclusion = self._exclusion_mask(geom)
        parameters = dict(settings.parameters)
        try:
            if method == "fov_background":
                if not hasattr(background_makers, "FoVBackgroundMaker"):
                    raise NotImplementedError("FoVBackgroundMaker is not available in this installation")
                return background_makers.FoVBackgroundMaker(exclusion_mask=exclusion, **parameters)
            if method == "ring":
                if not hasattr(background_makers, "RingBackgroundMaker"):
                    raise NotImplementedError("RingBackgroundMaker is not available in this installation")
                missing = [key for key in ("r_in", "width") if key not in parameters]
                if missing:
                    raise ConfigError(f"datasets.background.parameters: the ring method needs {missing}")
                return background_makers.RingBackgroundMaker(exclusion_mask=exclusion, **parameters)
        except TypeError as exc:
            raise ConfigError(f"datasets.background.parameters: {exc}") from None
        raise ConfigError(f"datasets.background.method: {method!r} is a 1D method; a 3D analysis uses "
                          "'fov_background' or 'ring'")

    def _map_making(self, observations=None, stack=None):
        from ..makers import MapDatasetMaker

        settings = self.config.datasets
        observations = self.observations if observations is None else observations
        stack = settings.stack if stack is None else stack
        log.info("Creating reference dataset and makers.")
        energy_axis, energy_axis_true = self._energy_axes()
        skydir = None
        if settings.geom.wcs.skydir.lon is None:
            skydir = observations[0].get_pointing_icrs(observations[0].tmid)
            log.info(f"No datasets.geom.wcs.skydir: centring the maps on the first pointing {skydir}")
        geom = self._wcs_geom(axes=[energy_axis], skydir=skydir)
        name = "stacked" if stack else None
        # a ring background makes ON/OFF datasets: stack them into an ON/OFF reference
        dataset_cls = MapDataset
        if settings.background.method == "ring" and stack:
            from ..datasets import MapDatasetOnOff as dataset_cls
        reference = dataset_cls.create(geom=geom, energy_axis_true=energy_axis_true,
                                      binsz_irf=settings.geom.wcs.binsize_irf, name=name or "reference")
        dataset_maker = MapDatasetMaker(selection=list(settings.map_selection))
        safe_mask_maker = self._safe_mask_maker()
        log.info("Creating the background Maker.")
        bkg_maker = self._background_maker_3d(geom)
        makers = [m for m in (dataset_maker, safe_mask_maker, bkg_maker) if m is not None]
        offset_max = settings.geom.selection.offset_max
        log.info("Start the data reduction loop.")
        return reduce_observations(reference, observations, makers, stack=stack,
                                   n_jobs=self.config.general.n_jobs, cutout_width=2 * offset_max)

    # ------------------------------------------------------------------ models
    @property
    def models(self):
        """The models (`~gammalike.modeling.models.Models`); assigning calls `set_models`."""
        return self._models

    @models.setter
    def models(self, models):
        self.set_models(models)

    def set_models(self, models, extend=False):
        """Set the models of the datasets.

        Parameters
        ----------
        models : str, `~pathlib.Path`, `Models` or list of models
            A models YAML string, the name of a models YAML file, or models.
        extend : bool
            Add to the current models instead of replacing them.

        For 3D datasets with a background, each `MapDataset` without a
        background model gets a `FoVBackgroundModel` (named ``"<dataset>-bkg"``).
        """
        if self.datasets is None or len(self.datasets) == 0:
            raise RuntimeError("Analysis.set_models: no datasets, run get_datasets() first")
        if isinstance(models, (str, Path)):
            text = str(models)
            if "\n" not in text and make_path(text).is_file():
                log.info(f"Reading models from {text}.")
                models = Models.read(text)
            else:
                log.info("Reading model.")
                models = Models.from_yaml(text)
        elif isinstance(models, DatasetModels):
            models = Models(list(models))
        else:
            models = Models(models)
        if extend and self._models is not None:
            models = Models(list(self._models) + list(models))
        for dataset in self.datasets:
            if dataset.tag != "MapDataset" or getattr(dataset, "background", None) is None:
                continue
            has_bkg = any(isinstance(m, FoVBackgroundModel) and m.datasets_names is not None
                          and dataset.name in m.datasets_names for m in models)
            if not has_bkg:
                models.append(FoVBackgroundModel(dataset_name=dataset.name))
        self._models = models
        self.datasets.models = models
        log.info(str(models))
        return models

    def read_models(self, path, extend=True):
        """Read models from a YAML file and set them (added to the current ones if ``extend``)."""
        return self.set_models(Models.read(path), extend=extend)

    def write_models(self, filename=None, overwrite=False, write_covariance=True):
        """Write the models YAML (default ``<outdir>/models.yaml``)."""
        filename = make_path(filename or Path(self.config.general.outdir) / "models.yaml")
        self.models.write(filename, overwrite=overwrite, write_covariance=write_covariance)
        return filename

    def write_datasets(self, filename=None, overwrite=False, filename_models=None):
        """Write the datasets (default ``<outdir>/datasets/datasets.yaml`` and one file per dataset)."""
        filename = make_path(filename or Path(self.config.general.outdir) / "datasets" / "datasets.yaml")
        filename.parent.mkdir(parents=True, exist_ok=True)
        self.datasets.write(filename, filename_models=filename_models, overwrite=overwrite)
        return filename

    def _models_for_step(self, step):
        if self.datasets is None:
            raise RuntimeError(f"Analysis.{step}: no datasets, run get_datasets() first")
        if self._models is None and self.config.general.models_file is not None:
            self.set_models(make_path(self.config.general.models_file))
        if self._models is None:
            raise RuntimeError(f"Analysis.{step}: no models, call set_models() or set general.models_file")

    # ------------------------------------------------------------------ fit and estimators
    def run_fit(self):
        """Fit the models to the datasets in ``fit.fit_range`` (sets the datasets' ``mask_fit``)."""
        self._models_for_step("run_fit")
        fit_range = self.config.fit.fit_range
        if fit_range.min is not None or fit_range.max is not None:
            for dataset in self.datasets:
                geom = dataset.counts.geom
                dataset.mask_fit = geom.energy_mask(fit_range.min, fit_range.max)
        log.info("Fitting datasets.")
        self.fit_result = self.fit.run(datasets=self.datasets)
        log.info(str(self.fit_result))
        return self.fit_result

    def get_flux_points(self):
        """Flux points of ``flux_points.source`` in the ``flux_points.energy`` bins (a `FluxPointsDataset`)."""
        from ..datasets.flux_points import FluxPointsDataset
        from ..estimators.points.sed import FluxPointsEstimator

        self._models_for_step("get_flux_points")
        settings = self.config.flux_points
        if settings.source not in self._models.names:
            raise ConfigError(f"flux_points.source: no model named {settings.source!r} "
                              f"(models: {self._models.names})")
        energy_edges = _energy_axis(settings.energy, "flux_points.energy").edges
        log.info("Calculating flux points.")
        try:
            estimator = FluxPointsEstimator(energy_edges=energy_edges, source=settings.source,
                                            **settings.parameters)
        except TypeError as exc:
            raise ConfigError(f"flux_points.parameters: {exc}") from None
        flux_points = estimator.run(datasets=self.datasets)
        self.flux_points = FluxPointsDataset(data=flux_points, models=self._models[settings.source])
        table = flux_points.to_table(sed_type="dnde", formatted=True)
        columns = [c for c in ("e_ref", "dnde", "dnde_ul", "dnde_err", "sqrt_ts") if c in table.colnames]
        log.info("\n{}".format(table[columns]))
        return self.flux_points

    def _stacked_map_dataset(self, step):
        if self.datasets is None:
            raise RuntimeError(f"Analysis.{step}: no datasets, run get_datasets() first")
        if len(self.datasets) == 1:
            return self.datasets[0]
        return self.datasets.stack_reduce(name="stacked")

    def get_excess_map(self):
        """Excess and significance maps of the (stacked) 3D dataset (`ExcessMapEstimator`)."""
        from ..estimators.map.excess import ExcessMapEstimator

        if self.config.datasets.type != "3d":
            raise ConfigError("excess_map: needs a 3D analysis (datasets.type: 3d)")
        settings = self.config.excess_map
        log.info("Computing excess maps.")
        kwargs = dict(settings.parameters)
        if settings.energy_edges.min is not None:
            kwargs["energy_edges"] = _energy_axis(settings.energy_edges, "excess_map.energy_edges").edges
        try:
            estimator = ExcessMapEstimator(correlation_radius=settings.correlation_radius, **kwargs)
        except TypeError as exc:
            raise ConfigError(f"excess_map.parameters: {exc}") from None
        self.excess_map = estimator.run(self._stacked_map_dataset("get_excess_map"))
        return self.excess_map

    def get_light_curve(self):
        """Light curve of ``light_curve.source`` in ``light_curve.time_intervals`` (`LightCurveEstimator`)."""
        from ..estimators.points.lightcurve import LightCurveEstimator

        self._models_for_step("get_light_curve")
        settings = self.config.light_curve
        intervals = settings.time_intervals
        kwargs = dict(settings.parameters)
        if intervals.start is not None or intervals.stop is not None:
            if intervals.start is None or intervals.stop is None:
                raise ConfigError("light_curve.time_intervals: give both start and stop")
            starts, stops = np.atleast_1d(intervals.start), np.atleast_1d(intervals.stop)
            if len(starts) != len(stops):
                raise ConfigError(f"light_curve.time_intervals: {len(starts)} start times but "
                                  f"{len(stops)} stop times")
            kwargs["time_intervals"] = [[start, stop] for start, stop in zip(starts, stops)]
        if settings.energy_edges.min is not None:
            kwargs["energy_edges"] = _energy_axis(settings.energy_edges, "light_curve.energy_edges").edges
        try:
            estimator = LightCurveEstimator(source=settings.source, **kwargs)
        except TypeError as exc:
            raise ConfigError(f"light_curve.parameters: {exc}") from None
        datasets = self.datasets
        if "time_intervals" in kwargs and self.observations is not None \
                and _straddles(datasets, kwargs["time_intervals"]):
            datasets = self._datasets_per_interval(kwargs["time_intervals"])
        log.info("Computing light curve.")
        self.light_curve = estimator.run(datasets)
        return self.light_curve

    def _datasets_per_interval(self, intervals):
        """One dataset per observation and time interval (named ``"<obs_id>_<interval>"``).

        A light curve needs datasets that each fall inside one time interval;
        the observations are cut at the interval bounds and reduced again
        (the datasets of the analysis are left as they are).
        """
        log.info(f"Reducing the observations again in {len(intervals)} light-curve time intervals.")
        reduce = self._spectrum_extraction if self.config.datasets.type == "1d" else self._map_making
        datasets = Datasets()
        for idx, interval in enumerate(intervals):
            observations = self.observations.select_time([interval])
            if len(observations) == 0:
                continue
            for dataset in reduce(observations=observations, stack=False):
                datasets.append(dataset.copy(name=f"{dataset.name}_{idx}"))
        datasets.models = self._models
        return datasets

    # ------------------------------------------------------------------ workflow and output
    def run(self, steps=None, overwrite=False):
        """Run steps in order (default: every step whose inputs the configuration provides).

        Parameters
        ----------
        steps : list of str, optional
            Names from `STEPS` ("observations", "datasets", "fit", "flux-points",
            "excess-map", "light-curve", "write"; "data" means observations and datasets).
        overwrite : bool
            Passed to `write`.
        """
        steps = self.default_steps() if steps is None else _expand_steps(steps, self.STEPS)
        for step in steps:
            method = getattr(self, self.STEPS[step])
            if step == "write":
                method(overwrite=overwrite)
            else:
                method()
        return steps

    def default_steps(self):
        """The steps `run` takes without an explicit list."""
        steps = ["observations", "datasets"]
        has_models = self._models is not None or self.config.general.models_file is not None
        if has_models:
            steps.append("fit")
            if self.config.flux_points.energy.min is not None:
                steps.append("flux-points")
            if self.config.light_curve.time_intervals.start is not None:
                steps.append("light-curve")
        if self.config.datasets.type == "3d" and _has_module("gammalike.estimators.map.excess"):
            steps.append("excess-map")
        order = list(self.STEPS)
        return sorted(steps, key=order.index) + ["write"]

    def write(self, outdir=None, overwrite=False):
        """Write the configuration, datasets, models, fit result and estimator products to ``outdir``.

        Returns
        -------
        products : dict
            Product name -> path (also kept in `products`).
        """
        outdir = make_path(outdir or self.config.general.outdir)
        self.products.update(write_products(self, outdir, overwrite=overwrite))
        return self.products

    def __str__(self):
        lines = ["Analysis", "--------", ""]
        lines.append(f"  type          : {self.config.datasets.type}")
        lines.append(f"  observations  : {None if self.observations is None else len(self.observations)}")
        lines.append(f"  datasets      : {None if self.datasets is None else self.datasets.names}")
        lines.append(f"  models        : {None if self._models is None else self._models.names}")
        fit = None if self.fit_result is None else f"success={self.fit_result.success}"
        lines.append(f"  fit           : {fit}")
        return "\n".join(lines) + "\n"


def _straddles(datasets, intervals):
    """True if a dataset's time range crosses the bound of one of the intervals."""
    for dataset in datasets:
        gti = getattr(dataset, "gti", None)
        if gti is None or len(gti) == 0:
            continue
        start, stop = gti.time_start.min(), gti.time_stop.max()
        for lo, hi in intervals:
            for bound in (lo, hi):
                if start < bound < stop:
                    return True
    return False


def _has_module(name):
    from importlib.util import find_spec

    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _expand_steps(steps, known):
    if isinstance(steps, str):
        steps = [s.strip() for s in steps.split(",") if s.strip()]
    expanded = []
    for step in steps:
        step = step.replace("_", "-")
        names = ["observations", "datasets"] if step == "data" else [step]
        for name in names:
            if name not in known:
                raise ValueError(f"unknown step {step!r}; steps are data, {', '.join(known)}")
            if name not in expanded:
                expanded.append(name)
    order = list(known)
    return sorted(expanded, key=order.index)


def _read_obs_file(path):
    """Observation IDs from a table file (column OBS_ID) or a text file (one ID per line)."""
    if not path.is_file():
        raise FileNotFoundError(f"observations.obs_file: {path} does not exist")
    name = path.name.lower()
    if name.endswith((".fits", ".fits.gz", ".ecsv", ".csv")):
        table = Table.read(path)
        for column in ("OBS_ID", "obs_id"):
            if column in table.colnames:
                return [int(i) for i in table[column]]
        raise ValueError(f"observations.obs_file: {path} has no OBS_ID column")
    ids = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#")[0].strip()
        if not text:
            continue
        for item in text.replace(",", " ").split():
            try:
                ids.append(int(item))
            except ValueError:
                raise ValueError(f"observations.obs_file: {path} line {number}: {item!r} is not an "
                                 "observation ID") from None
    return ids
