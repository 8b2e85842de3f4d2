"""Benchmark of the 3D data reduction (MapDatasetMaker + SafeMaskMaker + FoVBackgroundMaker).

Usage::

    python benchmarks/bench_reduction_3d.py             # seed 004: 3 CTA 1DC runs, serial and n_jobs=2
    python benchmarks/bench_reduction_3d.py --hess      # also all 105 H.E.S.S. DR1 runs
    python benchmarks/bench_reduction_3d.py --hess --memory   # ... and their peak memory
    python benchmarks/bench_reduction_3d.py --dask      # n_jobs=2 also on a 2-worker dask cluster

Every configuration runs in a fresh interpreter.

Seed 004 (issue 4): the reference implementation needs about 3.0 s; aim <= 1.0 s
serial.  Times are medians of ``--repeat`` runs (after one warm-up run), wall
clock; the CPU time of this process and of its workers is printed too, since
on a shared machine the wall time depends on the other jobs.

The H.E.S.S. DR1 part reduces every observation (full-enclosure IRFs) two ways:

* "per observation": each run on its own 2 x 2 deg map (0.02 deg, 10 energy
  bins 0.5-50 TeV) around its pointing, ``DatasetsMaker(stack_datasets=False)``:
  105 datasets come back (pickled from the workers with ``n_jobs=2``);
* "stacked per target": the runs grouped by target position, each group
  stacked on one map around the target, ``DatasetsMaker(stack_datasets=True)``:
  each worker stacks its share of a group and returns one partial stack
  (32 groups, most of 1-5 runs: a process pool per group);
* "PKS 2155-304 stacked": the 21 runs of that target on one 6 x 6 deg map.

Process pools pay for starting (forking) their workers, whose first use of
memory is slow (page faults; ~0.3 s per worker per reduction on a 2-vCPU
VM): a reduction of a few observations (seed 004) is faster serially.

``--dask`` adds n_jobs=2 on a two-worker dask.distributed cluster on this
machine.  It is the way to many machines, not a speed-up here: every input
(~3 MB: reference cut-out and observation) and result (~3 MB) goes through
TCP and is (de)serialised by the client, the scheduler and the workers, which
share the two cores with the work.  Measured (2 vCPUs, one run each): H.E.S.S.
per observation 8.9 s serial, 6.5 s process pool, 13.4 s dask; PKS 2155-304
stacked 4.1 / 2.6 / 5.2 s.

``--memory`` adds one more run of each H.E.S.S. variant under tracemalloc
(peak of the Python allocations in the main process; it slows allocations,
so it is not timed) and prints the maximum resident set size of the workers.
"""
import argparse
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
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


HESS_ENERGY = MapAxis.from_energy_bounds("0.5 TeV", "50 TeV", nbin=10, name="energy")
HESS_ENERGY_TRUE = MapAxis.from_energy_bounds("0.3 TeV", "100 TeV", nbin=20, name="energy_true")
HESS_OFFSET_MAX = 1.5 * u.deg
PKS2155 = SkyCoord(329.71667, -30.225555, unit="deg")


def _hess_makers():
    return [MapDatasetMaker(), SafeMaskMaker(methods=["offset-max"], offset_max=HESS_OFFSET_MAX),
            FoVBackgroundMaker()]


def _hess_observations():
    store = DataStore.from_dir("$GAMMAPY_DATA/hess-dl3-dr1")
    observations = store.get_observations(required_irf="full-enclosure", skip_missing=True)
    # pointings from the observation table: asking the observations would read every event list
    # in this process (and pickle the events to the workers)
    table = store.obs_table
    rows = {int(obs_id): i for i, obs_id in enumerate(table["OBS_ID"])}
    idx = [rows[int(obs.obs_id)] for obs in observations]
    pointing = SkyCoord(np.asarray(table["RA_PNT"])[idx], np.asarray(table["DEC_PNT"])[idx], unit="deg")
    target = SkyCoord(np.asarray(table["RA_OBJ"])[idx], np.asarray(table["DEC_OBJ"])[idx], unit="deg")
    return observations, pointing, target


def hess_per_observation(n_jobs):
    """Every observation reduced to its own 2 x 2 deg dataset (105 datasets returned)."""
    observations, pointing, _ = _hess_observations()
    inputs = []
    for obs, position in zip(observations, pointing):
        geom = WcsGeom.create(skydir=position, width=2, binsz=0.02, axes=[HESS_ENERGY])
        inputs.append((MapDataset.create(geom, energy_axis_true=HESS_ENERGY_TRUE, binsz_irf=0.2,
                                         name=str(obs.obs_id)), obs))
    maker = DatasetsMaker(_hess_makers(), stack_datasets=False, cutout_width=None)
    results = parallel.run_multiprocessing(maker.make_dataset, inputs, n_jobs=n_jobs, desc="H.E.S.S. DR1")
    return len(observations), results


def hess_stacked(n_jobs):
    """Observations grouped by target (0.1 deg), each group stacked on one map around its target."""
    observations, pointing, target = _hess_observations()
    keys = [(round(t.ra.deg, 1), round(t.dec.deg, 1)) for t in target]
    results = []
    for key in dict.fromkeys(keys):  # first-seen order
        members = [i for i, k in enumerate(keys) if k == key]
        center = target[members[0]]
        spread = max(float(center.separation(pointing[i]).deg) for i in members)
        width = min(2 * (spread + HESS_OFFSET_MAX.to_value("deg")), 8.0)
        geom = WcsGeom.create(skydir=center, width=width, binsz=0.02, axes=[HESS_ENERGY])
        reference = MapDataset.create(geom, energy_axis_true=HESS_ENERGY_TRUE, binsz_irf=0.2, name=f"{key}")
        maker = DatasetsMaker(_hess_makers(), stack_datasets=True, n_jobs=n_jobs)
        results.append(maker.run(reference, [observations[i] for i in members])[0])
    return len(observations), results


def hess_pks2155(n_jobs):
    """The 21 PKS 2155-304 runs stacked on one 6 x 6 deg map around the target."""
    observations, pointing, target = _hess_observations()
    members = [i for i, t in enumerate(target) if t.separation(PKS2155).deg < 0.1]
    geom = WcsGeom.create(skydir=PKS2155, width=6, binsz=0.02, axes=[HESS_ENERGY])
    reference = MapDataset.create(geom, energy_axis_true=HESS_ENERGY_TRUE, binsz_irf=0.2, name="pks2155")
    maker = DatasetsMaker(_hess_makers(), stack_datasets=True, n_jobs=n_jobs)
    return len(members), [maker.run(reference, [observations[i] for i in members])[0]]



def _timed(func, *args):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = func(*args)
    wall = time.perf_counter() - t0
    usage2 = resource.getrusage(resource.RUSAGE_SELF)
    children2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_main = usage2.ru_utime - usage.ru_utime + usage2.ru_stime - usage.ru_stime
    cpu_workers = children2.ru_utime - children.ru_utime + children2.ru_stime - children.ru_stime
    return wall, cpu_main, cpu_workers, result


def _report(label, runs):
    wall = [r[0] for r in runs]
    cpu_main = statistics.median(r[1] for r in runs)
    cpu_workers = statistics.median(r[2] for r in runs)
    return (f"{label}: median {statistics.median(wall):.3f} s over {len(runs)} (min {min(wall):.3f} s); "
            f"CPU main {cpu_main:.2f} s, workers {cpu_workers:.2f} s")


VARIANTS = {
    "seed004": ("seed 004 reduction", lambda n_jobs: (3, [seed004(n_jobs)])),
    "hess-per-obs": ("H.E.S.S. DR1 per observation", hess_per_observation),
    "hess-stacked": ("H.E.S.S. DR1 stacked per target", hess_stacked),
    "hess-pks2155": ("H.E.S.S. DR1 PKS 2155-304 stacked", hess_pks2155),
}


def run_variant(name, n_jobs, repeat, memory):
    """Time one variant in this (fresh) process: a warm-up run, then ``repeat`` timed runs."""
    label, func = VARIANTS[name]
    if name == "seed004":
        func(n_jobs)  # warm-up: imports, file caches (the H.E.S.S. runs are long enough without)
    runs = [_timed(func, n_jobs) for _ in range(repeat)]
    n_obs, results = runs[-1][3]
    line = _report(f"{label}, {n_obs} obs, n_jobs={n_jobs}", runs) + f"; {len(results)} datasets"
    if name == "seed004":
        stacked = results[0]
        line += (f"; total counts {stacked.counts.data[stacked.mask_safe.data].sum():.0f} (85625); "
                 "reference ~3.0 s, aim <= 1.0 s serial")
    print(line, flush=True)
    del runs, results
    if memory:
        tracemalloc.start()
        func(n_jobs)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"    peak traced memory (main process) {peak / 2**20:.0f} MiB; max RSS main {rss_self:.0f} MiB, "
              f"largest worker {rss_children:.0f} MiB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per seed-004 timing (default 5)")
    parser.add_argument("--hess", action="store_true", help="also reduce all H.E.S.S. DR1 observations")
    parser.add_argument("--hess-repeat", type=int, default=3, help="runs per H.E.S.S. timing (default 3)")
    parser.add_argument("--memory", action="store_true", help="peak memory of the H.E.S.S. reductions")
    parser.add_argument("--skip-seed004", action="store_true")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--n-jobs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--dask", action="store_true",
                        help="also n_jobs=2 on a local two-worker dask.distributed cluster (started untimed, "
                             "as a running cluster would be)")
    parser.add_argument("--backend", default="multiprocessing", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.variant:
        repeat = args.repeat if args.variant == "seed004" else args.hess_repeat
        if args.backend == "dask":
            from distributed import Client, LocalCluster

            parallel.BACKEND_DEFAULT = "dask"
            with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
                    Client(cluster):
                print("  on a 2-worker dask cluster:", end=" ", flush=True)
                run_variant(args.variant, args.n_jobs, repeat, False)
            return
        run_variant(args.variant, args.n_jobs, repeat, args.memory and args.variant != "seed004")
        return
    # every configuration in a fresh interpreter: workers are forked from the main process, so
    # its size (results of earlier configurations) would change their cost
    names = ([] if args.skip_seed004 else ["seed004"]) + (
        ["hess-per-obs", "hess-stacked", "hess-pks2155"] if args.hess else [])
    for name in names:
        configurations = [(1, "multiprocessing"), (2, "multiprocessing")] + ([(2, "dask")] if args.dask else [])
        for n_jobs, backend in configurations:
            command = [sys.executable, __file__, "--variant", name, "--n-jobs", str(n_jobs),
                       "--repeat", str(args.repeat), "--hess-repeat", str(args.hess_repeat), "--backend", backend]
            subprocess.run(command + (["--memory"] if args.memory else []), check=True)


if __name__ == "__main__":
    main()
