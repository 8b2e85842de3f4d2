"""Benchmark: seed-003 1D ON/OFF data reduction of four H.E.S.S. DR1 Crab runs.

The seed's loop (SpectrumDatasetMaker with containment correction,
ReflectedRegionsBackgroundMaker with the exclusion mask, SafeMaskMaker
aeff-max 10 %) over observations 23523, 23526, 23559, 23592.  Prints the
median wall time of

* "reduction": data store, observations (events and IRFs read from the files)
  and the makers' loop -- the reference implementation takes about 1.5 s;
  target <= 0.5 s;
* "makers only": the loop on observations already in memory.

Usage: python benchmarks/bench_reduction_1d.py [n_runs]
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
import astropy.units as u
from astropy.coordinates import Angle, SkyCoord
from regions import CircleSkyRegion

from gammalike.data import DataStore
from gammalike.datasets import Datasets, SpectrumDataset
from gammalike.makers import ReflectedRegionsBackgroundMaker, SafeMaskMaker, SpectrumDatasetMaker
from gammalike.maps import MapAxis, RegionGeom, WcsGeom

OBS_IDS = [23523, 23526, 23559, 23592]


def data_folder():
    for name in ("GAMMALIKE_DATA", "GAMMAPY_DATA"):
        if os.environ.get(name):
            return Path(os.environ[name])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def setup():
    """Geometry, empty dataset and makers of the seed."""
    target_position = SkyCoord(ra=83.63, dec=22.01, unit="deg", frame="icrs")
    on_region = CircleSkyRegion(center=target_position, radius=Angle("0.11 deg"))
    exclusion_region = CircleSkyRegion(
        center=SkyCoord(183.604, -8.708, unit="deg", frame="galactic"), radius=0.5 * u.deg
    )
    geom = WcsGeom.create(npix=(150, 150), binsz=0.05, skydir=target_position.galactic, proj="TAN", frame="icrs")
    exclusion_mask = ~geom.region_mask([exclusion_region])
    energy_axis = MapAxis.from_energy_bounds(0.1, 40, nbin=10, per_decade=True, unit="TeV", name="energy")
    energy_axis_true = MapAxis.from_energy_bounds(
        0.05, 100, nbin=20, per_decade=True, unit="TeV", name="energy_true"
    )
    geom = RegionGeom.create(region=on_region, axes=[energy_axis])
    dataset_empty = SpectrumDataset.create(geom=geom, energy_axis_true=energy_axis_true)
    makers = (
        SpectrumDatasetMaker(containment_correction=True, selection=["counts", "exposure", "edisp"]),
        ReflectedRegionsBackgroundMaker(exclusion_mask=exclusion_mask),
        SafeMaskMaker(methods=["aeff-max"], aeff_percent=10),
    )
    return dataset_empty, makers


def reduce(observations, dataset_empty, makers):
    dataset_maker, bkg_maker, safe_mask_maker = makers
    datasets = Datasets()
    for obs_id, observation in zip(OBS_IDS, observations):
        dataset = dataset_maker.run(dataset_empty.copy(name=str(obs_id)), observation)
        dataset = bkg_maker.run(dataset, observation)
        dataset = safe_mask_maker.run(dataset, observation)
        datasets.append(dataset)
    return datasets


def full_reduction(dataset_empty, makers):
    datastore = DataStore.from_dir(data_folder() / "hess-dl3-dr1")
    observations = datastore.get_observations(OBS_IDS)
    return reduce(observations, dataset_empty, makers)


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def main(n_runs=7):
    dataset_empty, makers = setup()
    first, datasets = timed(full_reduction, dataset_empty, makers)
    full = [timed(full_reduction, dataset_empty, makers)[0] for _ in range(n_runs)]
    observations = DataStore.from_dir(data_folder() / "hess-dl3-dr1").get_observations(OBS_IDS)
    reduce(observations, dataset_empty, makers)  # loads events and IRFs
    makers_only = [timed(reduce, observations, dataset_empty, makers)[0] for _ in range(n_runs)]

    table = datasets.info_table(cumulative=True)
    print(f"seed-003 reduction of {len(OBS_IDS)} H.E.S.S. DR1 observations")
    print(f"  counts     : {table['counts'].tolist()}  (expected [149, 303, 439, 550])")
    print(f"  counts_off : {table['counts_off'].tolist()}  (expected [117, 267, 594, 869])")
    print(f"  first run (cold file cache)    : {first:.3f} s")
    print(f"  reduction, median of {n_runs}        : {np.median(full):.3f} s  (reference ~1.5 s, target <= 0.5 s)")
    print(f"  makers only, median of {n_runs}      : {np.median(makers_only):.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
