"""The ``gammalike demo``: a complete 3D analysis of a simulated CTA-like observation, no download needed.

`run_demo` goes through every stage of an analysis on data it makes itself:

1. instrument: CTA-South-like IRFs from the gammalike parametrisation
   (`gammalike.irf.parametrisation.make_irfs`), an `Observation` of
   `LIVETIME` pointed 0.5 deg north of the Crab;
2. simulation: the IRF maps of a 4 deg x 4 deg field (`MapDatasetMaker`),
   the true sky (`truth_models`: a Crab-like log-parabola point source, a
   weaker Gaussian source of 0.2 deg and the instrument background) and an
   event list drawn from them with `MapDatasetEventSampler`;
3. reduction: the events binned by `MapDatasetMaker`, `SafeMaskMaker`
   (offset and effective-area cuts) and `FoVBackgroundMaker` (background norm
   outside the sources);
4. detection: a TS map (`TSMapEstimator`) and Li & Ma significance map;
5. fit of both sources and the background norm (`Fit`), started away from
   the truth;
6. flux points of the point source (`FluxPointsEstimator`);
7. products: the event list, the dataset, the best-fit models, the flux
   points, the maps and ``report.html`` in the output folder.

`simulate_spectrum_dataset` (a 1D ON/OFF simulation with the same kind of
instrument) is kept for the simulation tests.
"""
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from regions import CircleSkyRegion

from ..datasets import SpectrumDatasetOnOff
from ..irf import EDispKernel
from ..maps import MapAxis, RegionGeom
from ..modeling import Fit
from ..modeling.models import PowerLawSpectralModel, SkyModel

log = logging.getLogger(__name__)

__all__ = ["simulate_spectrum_dataset", "run_demo", "truth_models", "DemoResult", "pulls_table"]

#: Simulated truth of the 1D demo source (about half the Crab flux).
TRUE_INDEX = 2.5
TRUE_AMPLITUDE = 2e-11 * u.Unit("cm-2 s-1 TeV-1")

#: Position of the simulated point source (the Crab nebula) and of the pointing, 0.5 deg north of it.
SOURCE_POSITION = SkyCoord(83.633, 22.014, unit="deg", frame="icrs")
POINTING = SkyCoord(83.633, 22.514, unit="deg", frame="icrs")
#: Centre and width of the simulated Gaussian source.
EXTENDED_POSITION = SkyCoord(84.3, 22.9, unit="deg", frame="icrs")
EXTENDED_SIGMA = 0.2 * u.deg
#: Live time of the simulated observation.
LIVETIME = 1 * u.h
#: Map geometry: pixel size and width (deg) of the field, reco-energy bins per decade from 0.1 to 100 TeV.
BINSZ = 0.025
WIDTH = 4.0
BINS_PER_DECADE = 3
#: Name of the dataset (its background model is "<name>-bkg").
DATASET_NAME = "cta-demo"


# ----------------------------------------------------------------------------- 1D simulation
def _effective_area(energy_true):
    """CTA-like effective area in m2: threshold near 50 GeV, plateau ~ 4e5 m2."""
    energy = energy_true.to_value("TeV")
    return 4e5 * np.exp(-((0.05 / energy) ** 1.5)) * energy ** 0.1 / (1 + (energy / 100) ** 0.5)


def simulate_spectrum_dataset(livetime=2 * u.h, alpha=0.2, random_state=0):
    """Simulate a CTA-like ON/OFF spectrum of a power-law source.

    Parameters
    ----------
    livetime : `~astropy.units.Quantity`
        Observation live time.
    alpha : float
        ON/OFF acceptance ratio.
    random_state : int or `~numpy.random.Generator`
        Seed of the Poisson draws.

    Returns
    -------
    dataset : `~gammalike.datasets.SpectrumDatasetOnOff`
        The simulated dataset (no models attached).
    """
    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=6, per_decade=True)
    energy_axis_true = MapAxis.from_energy_bounds(
        "0.03 TeV", "300 TeV", nbin=10, per_decade=True, name="energy_true"
    )
    region = CircleSkyRegion(SkyCoord(83.63, 22.01, unit="deg"), radius=0.1 * u.deg)
    geom = RegionGeom.create(region=region, axes=[energy_axis])
    dataset = SpectrumDatasetOnOff.create(geom=geom, energy_axis_true=energy_axis_true, name="demo")

    aeff = _effective_area(energy_axis_true.center) * u.m**2
    dataset.exposure = dataset.exposure.copy(data=(aeff * livetime).to_value("m2 s").reshape(-1, 1, 1))
    dataset.edisp = EDispKernel.from_gauss(
        energy_axis_true=energy_axis_true, energy_axis=energy_axis, sigma=0.1, bias=0
    )
    dataset.mask_safe = np.ones(geom.data_shape, dtype=bool)
    dataset.acceptance = 1
    dataset.acceptance_off = 1 / alpha

    # Background rate in the ON region: a steep power law in reco energy.
    edges = energy_axis.edges.to_value("TeV")
    rate = 2e-3 * (edges[:-1] ** -1.7 - edges[1:] ** -1.7) / 1.7  # counts per second
    npred_background = rate * livetime.to_value("s")

    truth = SkyModel(
        spectral_model=PowerLawSpectralModel(index=TRUE_INDEX, amplitude=TRUE_AMPLITUDE), name="source"
    )
    dataset.models = truth
    dataset.fake(npred_background=npred_background, random_state=random_state)
    dataset.models = None
    return dataset


# ----------------------------------------------------------------------------- 3D demo: models
def truth_models():
    """The simulated sky: a Crab-like point source and a weaker Gaussian source.

    The point source has the MAGIC (2015) log-parabola spectrum of the Crab
    (3.23e-11 cm-2 s-1 TeV-1 at 1 TeV, alpha 2.47, beta 0.24 / ln 10); the
    Gaussian source (sigma 0.2 deg, 0.8 deg from the pointing) is a power law of
    index 2.2 with 12 % of the Crab's flux at 1 TeV.

    Returns
    -------
    models : `~gammalike.modeling.models.Models`
        "point" and "extended" (no background model).
    """
    from ..modeling.models import (
        GaussianSpatialModel,
        LogParabolaSpectralModel,
        Models,
        PointSpatialModel,
    )

    point = SkyModel(
        spectral_model=LogParabolaSpectralModel(amplitude="3.23e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                                alpha=2.47, beta=0.24 / np.log(10)),
        spatial_model=PointSpatialModel(lon_0=SOURCE_POSITION.ra, lat_0=SOURCE_POSITION.dec, frame="icrs"),
        name="point",
    )
    extended = SkyModel(
        spectral_model=PowerLawSpectralModel(index=2.2, amplitude="4e-12 cm-2 s-1 TeV-1", reference="1 TeV"),
        spatial_model=GaussianSpatialModel(lon_0=EXTENDED_POSITION.ra, lat_0=EXTENDED_POSITION.dec,
                                           sigma=EXTENDED_SIGMA, frame="icrs"),
        name="extended",
    )
    return Models([point, extended])


def _start_models(point_position):
    """The models fitted: same shapes as the truth, started from round guesses."""
    from ..modeling.models import (
        FoVBackgroundModel,
        GaussianSpatialModel,
        LogParabolaSpectralModel,
        Models,
        PointSpatialModel,
    )

    point = SkyModel(
        spectral_model=LogParabolaSpectralModel(amplitude="1e-11 cm-2 s-1 TeV-1", reference="1 TeV",
                                                alpha=2.0, beta=0.05),
        spatial_model=PointSpatialModel(lon_0=point_position.ra, lat_0=point_position.dec, frame="icrs"),
        name="point",
    )
    extended = SkyModel(
        spectral_model=PowerLawSpectralModel(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV"),
        spatial_model=GaussianSpatialModel(lon_0="84.25 deg", lat_0="22.85 deg", sigma="0.3 deg", frame="icrs"),
        name="extended",
    )
    point.spatial_model.lon_0.min, point.spatial_model.lon_0.max = 83.0, 84.3
    point.spatial_model.lat_0.min, point.spatial_model.lat_0.max = 21.5, 22.5
    extended.spatial_model.sigma.min, extended.spatial_model.sigma.max = 0.02, 1.0
    background = FoVBackgroundModel(dataset_name=DATASET_NAME)
    return Models([point, extended, background])


# ----------------------------------------------------------------------------- 3D demo: steps
@dataclass
class DemoResult:
    """What `run_demo` made (also written to ``outdir``)."""

    dataset: object
    fit_result: object
    truth: object
    flux_points: object
    ts_map: object
    maps: dict
    events: object
    timings: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    report: object = None
    wall_time: float = 0.0


class _Steps:
    """A tqdm bar over the demo's steps that also logs and times each step."""

    def __init__(self, names, progress):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=len(names), desc="gammalike demo", disable=not progress, leave=False,
                        bar_format="{desc}: step {n}/{total} |{bar}| {elapsed} {postfix}")
        self.timings = {}
        self._name = None
        self._start = None

    def start(self, name, message):
        self.stop()
        log.info(message)
        self._name, self._start = name, time.perf_counter()
        if hasattr(self.bar, "set_postfix_str"):
            self.bar.set_postfix_str(name)

    def stop(self):
        if self._name is not None:
            self.timings[self._name] = time.perf_counter() - self._start
            self.bar.update(1)
            self._name = None

    def close(self):
        self.stop()
        self.bar.close()


class _CountedStatistic:
    """The dataset as `Fit` sees it (``models``, ``stat_sum``), counting evaluations on a tqdm bar."""

    def __init__(self, dataset, bar):
        self.models = dataset.models
        self._stat_sum = dataset.stat_sum
        self._bar = bar

    def stat_sum(self):
        self._bar.update(1)
        return self._stat_sum()


def _geometry():
    from ..maps import WcsGeom

    energy_axis = MapAxis.from_energy_bounds("0.1 TeV", "100 TeV", nbin=BINS_PER_DECADE, per_decade=True)
    energy_axis_true = MapAxis.from_energy_bounds("0.05 TeV", "200 TeV", nbin=4, per_decade=True,
                                                  name="energy_true")
    geom = WcsGeom.create(skydir=POINTING, binsz=BINSZ, width=(WIDTH, WIDTH), frame="icrs", axes=[energy_axis])
    return geom, energy_axis_true


def _exclusion_mask(geom):
    """False around the two sources (the FoV background norm is taken elsewhere)."""
    regions = [CircleSkyRegion(SOURCE_POSITION, 0.4 * u.deg),
               CircleSkyRegion(EXTENDED_POSITION, 3 * EXTENDED_SIGMA)]
    return geom.to_image().region_mask(regions, inside=False)


def _peak_position(sqrt_ts_map):
    """Sky position of the maximum of a TS / significance image."""
    data = np.nan_to_num(np.asarray(sqrt_ts_map.data, dtype=float).reshape(sqrt_ts_map.data.shape[-2:]),
                         nan=-np.inf)
    iy, ix = np.unravel_index(np.argmax(data), data.shape)
    image = sqrt_ts_map.geom.to_image()
    return image.wcs.pixel_to_world(ix, iy), float(data[iy, ix])


def pulls_table(models, truth, background_norm=1.0):
    """Fitted versus true values of every free parameter with a known truth.

    Parameters
    ----------
    models : `~gammalike.modeling.models.Models`
        Fitted models (with errors).
    truth : `~gammalike.modeling.models.Models`
        The simulated models (matched by model and parameter name).
    background_norm : float
        True norm of the background models.

    Returns
    -------
    table : `~astropy.table.Table`
        model, parameter, unit, true, fitted, error, pull = (fitted - true) / error.
    """
    rows = []
    truth_by_name = {m.name: m for m in truth}
    for model in models:
        reference = truth_by_name.get(model.name)
        for par in model.parameters:
            if par.frozen:
                continue
            if reference is not None:
                true_value = reference.parameters[par.name].quantity.to_value(par.unit)
            elif type(model).__name__ == "FoVBackgroundModel" and par.name == "norm":
                true_value = background_norm
            else:
                continue
            error = float(par.error)
            pull = (par.value - true_value) / error if error > 0 else np.nan
            rows.append([model.name, par.name, par.unit.to_string(), true_value, par.value, error, pull])
    table = Table(rows=rows, names=["model", "parameter", "unit", "true", "fitted", "error", "pull"],
                  dtype=[str, str, str, float, float, float, float])
    for name in ("true", "fitted", "error"):
        table[name].format = ".5g"
    table["pull"].format = "+.2f"
    return table


def run_demo(outdir="gammalike-demo", random_state=0, livetime=LIVETIME, progress=None, overwrite=True):
    """Simulate, reduce, fit and report a CTA-like observation of two sources (see the module docstring).

    Parameters
    ----------
    outdir : str or `~pathlib.Path`
        Output folder (created); the demo's own files in it are replaced
        when ``overwrite`` is True.
    random_state : int
        Seed of the event simulation.
    livetime : `~astropy.units.Quantity`
        Live time of the observation.
    progress : bool, optional
        Show tqdm progress bars (None: only on terminals).
    overwrite : bool
        Replace existing products in ``outdir``.

    Returns
    -------
    result : `DemoResult`
    """
    from ..utils import parallel

    if progress is None:
        import sys

        progress = sys.stderr.isatty()
    # the estimators' own bars follow the global switch: silence them with ours
    show_bars = parallel.SHOW_PROGRESS_BAR
    parallel.SHOW_PROGRESS_BAR = bool(progress) and show_bars
    try:
        if not progress:
            return _run_demo(outdir, random_state, livetime, progress, overwrite)
        # log lines through tqdm.write, so that they do not break the bars
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm():
            return _run_demo(outdir, random_state, livetime, progress, overwrite)
    finally:
        parallel.SHOW_PROGRESS_BAR = show_bars


def _run_demo(outdir, random_state, livetime, progress, overwrite):
    from ..data import Observation
    from ..datasets import MapDataset
    from ..datasets.simulate import MapDatasetEventSampler
    from ..estimators import FluxPointsEstimator
    from ..estimators.map import TSMapEstimator
    from ..irf.parametrisation import make_irfs
    from ..makers import FoVBackgroundMaker, MapDatasetMaker, SafeMaskMaker
    from ..modeling.models import FoVBackgroundModel, Models
    from ..utils.parallel import progress_bar
    from ..utils.paths import make_path
    from ..visualization.report_figures import dataset_images

    start = time.perf_counter()
    outdir = make_path(outdir)
    livetime = u.Quantity(livetime, "h")
    steps = _Steps(["setup", "simulation", "reduction", "detection", "fit", "flux points", "products"],
                   progress)

    # 1. instrument, observation, geometry
    steps.start("setup", f"Building CTA-South-like IRFs and a {livetime:.3g} observation "
                         f"pointed 0.5 deg from the source (no download).")
    irfs = make_irfs("south")
    observation = Observation.create(POINTING, livetime=livetime, irfs=irfs, obs_id=1)
    geom, energy_axis_true = _geometry()
    empty = MapDataset.create(geom, energy_axis_true=energy_axis_true, binsz_irf=0.2, name=DATASET_NAME)

    # 2. simulation: IRF maps, the true sky, events
    steps.start("simulation", "Simulating the events of a Crab-like point source, a Gaussian source "
                              "and the background.")
    irf_dataset = MapDatasetMaker(selection=["exposure", "background", "psf", "edisp"]).run(empty, observation)
    truth = truth_models()
    simulated = [m.copy(name=m.name) for m in truth] + [FoVBackgroundModel(dataset_name=DATASET_NAME)]
    irf_dataset.models = Models(simulated)
    events = MapDatasetEventSampler(random_state=random_state).run(irf_dataset, observation)
    observation.events = events
    log.info(f"Simulated {len(events.table)} events "
             f"({int(np.sum(np.asarray(events.table['MC_ID']) == 0))} background).")

    # 3. reduction
    steps.start("reduction", "Reducing the events: MapDatasetMaker, SafeMaskMaker, FoVBackgroundMaker.")
    dataset = MapDatasetMaker().run(empty, observation)
    dataset = SafeMaskMaker(methods=["offset-max", "aeff-max"], offset_max="2 deg", aeff_percent=10).run(
        dataset, observation)
    dataset = FoVBackgroundMaker(method="scale", exclusion_mask=_exclusion_mask(geom)).run(dataset)
    norm = dataset.models[f"{DATASET_NAME}-bkg"].spectral_model.norm.value
    log.info(f"Counts {int(dataset.counts.data.sum())}, background norm from the FoV outside the sources "
             f"{norm:.3f}.")

    # 4. detection: TS map and significance of the excess over the background model
    steps.start("detection", "TS map of a point-like test source and Li & Ma significance map.")
    ts_map = TSMapEstimator(kernel_width="0.5 deg", downsampling_factor=2, selection_optional=[]).run(dataset)
    maps = dataset_images(dataset)
    peak, peak_sqrt_ts = _peak_position(ts_map["sqrt_ts"])
    log.info(f"TS map maximum: sqrt(TS) = {peak_sqrt_ts:.1f} at RA {peak.ra.deg:.3f}, "
             f"Dec {peak.dec.deg:.3f} deg.")

    # 5. fit of both sources and the background norm, from guesses (the point source at the TS peak)
    steps.start("fit", "Fitting the two sources and the background norm.")
    dataset.models = _start_models(peak)
    bar = progress_bar(desc="Fit (likelihood evaluations)", disable=not progress)
    try:
        fit_result = Fit().run(_CountedStatistic(dataset, bar))
    finally:
        bar.close()
    log.info(f"Fit: {fit_result.message} ({fit_result.nfev} evaluations).")

    # 6. flux points of the point source in the reco bins
    steps.start("flux points", "Flux points of the point source.")
    edges = geom.axes["energy"].edges
    flux_points = FluxPointsEstimator(energy_edges=edges, source="point", selection_optional=["ul"],
                                      progress_bar=progress).run([dataset])

    # 7. products and report
    steps.start("products", f"Writing the products and the report to {outdir}.")
    products = _write_products(outdir, events, dataset, flux_points, ts_map, maps, overwrite)
    result = DemoResult(dataset=dataset, fit_result=fit_result, truth=truth, flux_points=flux_points,
                        ts_map=ts_map, maps=maps, events=events, timings=steps.timings, products=products)
    result.report = _write_report(outdir / "report.html", result, livetime, random_state, overwrite)
    products["report"] = result.report
    steps.close()
    result.wall_time = time.perf_counter() - start
    log.info(f"Done in {result.wall_time:.1f} s.")
    return result


def _write_products(outdir, events, dataset, flux_points, ts_map, maps, overwrite):
    from ..utils.io import check_overwrite

    outdir.mkdir(parents=True, exist_ok=True)
    products = {}
    writers = {
        "events": ("events.fits.gz", lambda p: events.write(p, overwrite=overwrite)),
        "dataset": ("dataset.fits.gz", lambda p: dataset.write(p, overwrite=overwrite)),
        "models": ("models.yaml", lambda p: dataset.models.write(p, overwrite=overwrite)),
        "flux_points": ("flux_points.fits", lambda p: flux_points.write(p, overwrite=overwrite)),
        "ts_map": ("ts_map.fits", lambda p: ts_map.write(p, overwrite=overwrite)),
        "significance_map": ("significance_map.fits",
                             lambda p: maps["significance"].write(p, overwrite=overwrite)),
    }
    for name, (filename, write) in writers.items():
        path = outdir / filename
        check_overwrite(path, overwrite)
        write(path)
        products[name] = path
    covariance = outdir / "models_covariance.dat"  # written next to the models
    if covariance.is_file():
        products["models_covariance"] = covariance
    return products


def _write_report(path, result, livetime, random_state, overwrite):
    from ..visualization.report import write_report

    table = pulls_table(result.dataset.models, result.truth)
    config = {
        "simulation": {
            "instrument": "CTA South (gammalike parametrisation of Prod5)",
            "livetime": f"{livetime:.3g}",
            "pointing": f"RA {POINTING.ra.deg:.3f} deg, Dec {POINTING.dec.deg:.3f} deg (icrs)",
            "seed": random_state,
            "sources": [
                "point: log-parabola (Crab, MAGIC 2015) at RA 83.633, Dec 22.014",
                f"extended: power law index 2.2, Gaussian sigma {EXTENDED_SIGMA:.2g} "
                f"at RA {EXTENDED_POSITION.ra.deg}, Dec {EXTENDED_POSITION.dec.deg}",
                "background: the IRF background model (norm 1)",
            ],
        },
        "geometry": {"binsz": f"{BINSZ} deg", "width": f"{WIDTH} deg",
                     "energy": f"0.1 - 100 TeV, {BINS_PER_DECADE} bins per decade"},
        "reduction": {"safe_mask": "offset-max 2 deg, aeff-max 10 %",
                      "background": "FoVBackgroundMaker (scale), sources excluded"},
        "fit": "both sources (all shape parameters) and the background norm, iminuit",
        "estimators": {"ts_map": "point source, index 2, kernel 0.5 deg, downsampling 2",
                       "flux_points": "point source, one point per reco bin"},
    }
    obs_table = Table(
        rows=[[1, POINTING.ra.deg, POINTING.dec.deg, livetime.to_value("s"), len(result.events.table)]],
        names=["OBS_ID", "RA_PNT", "DEC_PNT", "LIVETIME", "N_EVENTS"],
    )
    obs_table["RA_PNT"].unit = obs_table["DEC_PNT"].unit = "deg"
    obs_table["LIVETIME"].unit = "s"
    maps = {
        "counts": {"map": result.maps["counts"], "smooth": "0.05 deg",
                   "caption": "Counts (safe energy bins), smoothed with a 0.05° Gaussian.",
                   "label": "Counts per pixel (smoothed)"},
        "excess": {"map": result.maps["excess"], "smooth": "0.05 deg",
                   "caption": "Excess over the background model, smoothed with a 0.05° Gaussian.",
                   "label": "Excess counts per pixel (smoothed)"},
        "significance": {"map": result.maps["significance"],
                         "caption": "Li & Ma significance of the counts in 0.1° circles "
                                    "over the background model."},
        "TS map": {"map": result.ts_map["sqrt_ts"],
                   "caption": "√TS of a point source (power law, index 2) fitted at every position."},
    }
    truth = {m.name: m.spectral_model for m in result.truth}
    return write_report(
        path, title="gammalike demo: simulated CTA-like observation of two sources",
        config=config, observations=obs_table, datasets=result.dataset, fit_result=result.fit_result,
        models=result.dataset.models, flux_points={"point": result.flux_points}, maps=maps,
        summary=table, overwrite=overwrite, sed_truth=truth,
        products={name: str(path) for name, path in result.products.items()},
    )
