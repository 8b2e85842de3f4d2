"""Benchmark: light curve of PKS 2155-304 from H.E.S.S. DR1 (issue 5).

The issue's analysis: observations within 2 deg of PKS 2155-304, split
into 34 intervals of 10 min from 2006-07-29T20:30 UTC
(``observations.select_time``), one 1D ON/OFF dataset per (observation,
interval) -- 44 datasets -- with a 0.11 deg ON region, reflected
background, containment correction and aeff-max 0.1 %; a power law of
index 3.4 (frozen).  The timed step:

    LightCurveEstimator(energy_edges=[0.7, 20] TeV, time_intervals=..., source="pks2155").run(datasets)

The reference implementation needs about 3 s; the target is <= 0.3 s.
Prints the median wall time over ``n_runs`` (default selection and
selection_optional="all", and with the tqdm progress bar drawn), and the
reduction time separately.

Usage: python benchmarks/bench_lightcurve.py [n_runs]
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.time import Time
from regions import CircleSkyRegion

from gammalike.data import DataStore
from gammalike.datasets import Datasets, SpectrumDataset
from gammalike.estimators import LightCurveEstimator
from gammalike.makers import ReflectedRegionsBackgroundMaker, SafeMaskMaker, SpectrumDatasetMaker
from gammalike.maps import MapAxis, RegionGeom
from gammalike.modeling.models import PowerLawSpectralModel, SkyModel

TARGET = SkyCoord(329.71694, -30.22559, unit="deg", frame="icrs")
# issue 5: integral flux 0.7 - 20 TeV (cm-2 s-1) of the first six intervals, the peak and the last
EXPECTED = {0: 1.1258e-10, 1: 1.9081e-10, 2: 2.2864e-10, 3: 2.1537e-10, 4: 2.9416e-10, 5: 2.3265e-10,
            6: 3.4607e-10, 33: 7.5301e-11}


def data_folder():
    for name in ("GAMMALIKE_DATA", "GAMMAPY_DATA"):
        if os.environ.get(name):
            return Path(os.environ[name])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def time_intervals():
    t0 = Time("2006-07-29T20:30", scale="utc")
    duration = 10 * u.min
    return [Time([t0 + i * duration, t0 + (i + 1) * duration]) for i in range(34)]


def reduce(intervals):
    """Data store to datasets: the issue's reduction per (observation, interval)."""
    datastore = DataStore.from_dir(data_folder() / "hess-dl3-dr1")
    obs_ids = datastore.obs_table.select_sky_circle(TARGET, 2 * u.deg)["OBS_ID"]
    observations = datastore.get_observations(obs_ids).select_time(intervals)
    energy_axis = MapAxis.from_energy_bounds("0.4 TeV", "20 TeV", nbin=10)
    energy_axis_true = MapAxis.from_energy_bounds("0.1 TeV", "40 TeV", nbin=20, name="energy_true")
    on_region = CircleSkyRegion(center=TARGET, radius=Angle("0.11 deg"))
    geom = RegionGeom.create(region=on_region, axes=[energy_axis])
    empty = SpectrumDataset.create(geom=geom, energy_axis_true=energy_axis_true)
    dataset_maker = SpectrumDatasetMaker(containment_correction=True, selection=["counts", "exposure", "edisp"])
    bkg_maker = ReflectedRegionsBackgroundMaker()
    safe_mask_maker = SafeMaskMaker(methods=["aeff-max"], aeff_percent=0.1)
    datasets = Datasets()
    for observation in observations:
        dataset = dataset_maker.run(empty.copy(), observation)
        dataset = bkg_maker.run(dataset, observation)
        datasets.append(safe_mask_maker.run(dataset, observation))
    spectral_model = PowerLawSpectralModel(index=3.4, amplitude=2e-11 * u.Unit("cm-2 s-1 TeV-1"),
                                           reference=1 * u.TeV)
    spectral_model.index.frozen = True
    datasets.models = [SkyModel(spectral_model=spectral_model, name="pks2155")]
    return datasets


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def main(n_runs=7):
    intervals = time_intervals()
    t_reduce, datasets = timed(reduce, intervals)
    estimator = LightCurveEstimator(energy_edges=[0.7, 20] * u.TeV, time_intervals=intervals,
                                    source="pks2155", progress_bar=False)
    estimator_all = LightCurveEstimator(energy_edges=[0.7, 20] * u.TeV, time_intervals=intervals,
                                        source="pks2155", selection_optional="all", progress_bar=False)
    light_curve = estimator.run(datasets)  # warm-up (imports, model caches)
    times = [timed(estimator.run, datasets)[0] for _ in range(n_runs)]
    times_all = [timed(estimator_all.run, datasets)[0] for _ in range(n_runs)]
    with_bar = LightCurveEstimator(energy_edges=[0.7, 20] * u.TeV, time_intervals=intervals,
                                   source="pks2155", progress_bar=True)
    times_bar = [timed(with_bar.run, datasets)[0] for _ in range(n_runs)]

    flux = light_curve.flux.to_value("cm-2 s-1")[0]
    print(f"PKS 2155-304 light curve: {len(datasets)} datasets, {len(intervals)} intervals of 10 min")
    for idx, expected in EXPECTED.items():
        print(f"  interval {idx:2d}: flux {flux[idx]:.4e} cm-2 s-1  (expected {expected:.4e}, "
              f"{100 * (flux[idx] / expected - 1):+.2f} %)")
    print(f"  reduction (data store to datasets)        : {t_reduce:.3f} s")
    print(f"  light curve, median of {n_runs}                : {np.median(times):.3f} s  "
          "(reference ~3 s, target <= 0.3 s)")
    print(f"  light curve, selection 'all', median of {n_runs}: {np.median(times_all):.3f} s")
    print(f"  light curve with progress bar, median of {n_runs}: {np.median(times_bar):.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
