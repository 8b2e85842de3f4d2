"""Benchmark of the 3D data reduction (MapDatasetMaker + SafeMaskMaker + FoVBackgroundMaker).

Usage::

    python benchmarks/bench_reduction_3d.py            # seed 004: 3 CTA 1DC runs, median of 5
    python benchmarks/bench_reduction_3d.py --hess     # also all 105 H.E.S.S. DR1 runs, serial and n_jobs=2

Seed 004 (issue 4): the reference implementation needs about 3.0 s; aim <= 1.0 s.
The H.E.S.S. DR1 part reduces every observation to its own 3D dataset (2 x 2 deg
at 0.02 deg around the pointing, 10 energy bins 0.5-50 TeV) and prints the wall
time and the peak memory (tracemalloc in the main process, max RSS of the
workers from resource.getrusage).
"""
import argparse
import resource
import statistics
import time
import tracemalloc
import warnings

import astropy.units as u
from astropy.coordinates import SkyCoord

from gammalike.data import DataStore
from gammalike.datasets import MapDataset
from gammalike.makers import SafeMaskMaker
from gammalike.makers.background.fov import FoVBackgroundMaker
from gammalike.makers.map import MapDatasetMaker
from gammalike.makers.reduction import DatasetsMaker
from gammalike.maps import MapAxis, WcsGeom
from gammalike.utils import parallel

warnings.simplefilter("ignore")
parallel.SHOW_PROGRESS_BAR = False


def seed004(n_jobs=1):
    store = DataStore.from_dir("$GAMMAPY_DATA/cta-1dc/index/gps")
    observations = store.get_observations([110380, 111140, 111159])
    energy = MapAxis.from_energy_bounds("0.1 TeV", "10 TeV", nbin=1, name="energy")
    energy_true = MapAxis.from_energy_bounds("0.5 TeV", "20 TeV", nbin=16, name="energy_true")
    geom = WcsGeom.create(skydir=SkyCoord(0, 0, unit="deg", frame="galactic"), width=(8, 6), binsz=0.02,
                          frame="galactic", proj="CAR", axes=[energy])
    reference = MapDataset.create(geom, energy_axis_true=energy_true, binsz_irf=0.2 * u.deg, name="stacked")
    makers = [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=2.5 * u.deg),
              FoVBackgroundMaker()]
    return DatasetsMaker(makers, n_jobs=n_jobs).run(reference, observations)[0]


def hess_all(n_jobs):
    store = DataStore.from_dir("$GAMMAPY_DATA/hess-dl3-dr1")
    observations = store.get_observations(required_irf="full-enclosure", skip_missing=True)
    energy = MapAxis.from_energy_bounds("0.5 TeV", "50 TeV", nbin=10, name="energy")
    energy_true = MapAxis.from_energy_bounds("0.3 TeV", "100 TeV", nbin=20, name="energy_true")
    makers = [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=1.5 * u.deg),
              FoVBackgroundMaker()]
    datasets = []
    # one geometry per pointing: group the runs, reduce each on its own 2 x 2 deg map
    for obs in observations:
        geom = WcsGeom.create(skydir=obs.get_pointing_icrs(), width=2, binsz=0.02, axes=[energy])
        datasets.append((MapDataset.create(geom, energy_axis_true=energy_true, binsz_irf=0.2, name=str(obs.obs_id)),
                         obs))
    maker = DatasetsMaker(makers, stack_datasets=False, n_jobs=1, cutout_width=None)
    from gammalike.utils.parallel import run_multiprocessing

    results = run_multiprocessing(maker.make_dataset, datasets, n_jobs=n_jobs, desc="H.E.S.S. DR1")
    return len(observations), results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hess", action="store_true", help="also reduce all H.E.S.S. DR1 observations")
    parser.add_argument("--skip-seed004", action="store_true")
    args = parser.parse_args()

    times = []
    if not args.skip_seed004:
        seed004()  # warm-up: imports, file caches
    for _ in range(0 if args.skip_seed004 else args.repeat):
        t0 = time.perf_counter()
        stacked = seed004()
        times.append(time.perf_counter() - t0)
    if times:
        print(f"seed 004 reduction (3 obs): median {statistics.median(times):.3f} s over {args.repeat} "
              f"(min {min(times):.3f} s); total counts {stacked.counts.data[stacked.mask_safe.data].sum():.0f}; "
              "reference ~3.0 s, aim <= 1.0 s")

    if args.hess:
        for n_jobs in (1, 2):
            # timing without tracemalloc (it slows every allocation and the pickling of results)
            t0 = time.perf_counter()
            n_obs, results = hess_all(n_jobs)
            elapsed = time.perf_counter() - t0
            del results
            tracemalloc.start()
            n_obs, results = hess_all(n_jobs)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"H.E.S.S. DR1: {n_obs} observations, n_jobs={n_jobs}: {elapsed:.1f} s, "
                  f"peak traced memory (main process, separate run) {peak / 2**20:.0f} MiB, max RSS main {rss_self:.0f} MiB, "
                  f"workers {rss_children:.0f} MiB; {len(results)} datasets")


if __name__ == "__main__":
    main()
