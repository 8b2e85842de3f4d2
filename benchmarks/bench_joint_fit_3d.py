"""Benchmark: seed-000 joint fit (Fermi-LAT 3D + H.E.S.S. + HAWC + LHAASO) per spectral model.

Reads crab-3datasets/crab_10GeV_100TeV_datasets.yaml and the Fermi-LAT
background model, adds the Crab as a frozen point source with each of the
four spectral models the seed offers (magic_lp, hess_pl, hess_ecpl and the
smooth broken power law), and prints the median wall time of ``Fit().run``
(MIGRAD + HESSE) over several runs.  Each run starts from fresh models on
freshly read datasets, so PSF kernels and cut-outs are prepared inside the
timed fit.  The reference implementation needs 0.5-2.8 s for these fits;
the target is five times less.

Usage: python benchmarks/bench_joint_fit_3d.py [n_runs]
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
from astropy import units as u

from gammalike.datasets import Datasets
from gammalike.modeling.fit import Fit
from gammalike.modeling.models import (
    Models,
    PointSpatialModel,
    SkyModel,
    SmoothBrokenPowerLawSpectralModel,
    create_crab_spectral_model,
)


def data_folder():
    for name in ("GAMMALIKE_DATA", "GAMMAPY_DATA"):
        if os.environ.get(name):
            return Path(os.environ[name])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def spectral_model(kind):
    if kind == "sbpl":
        return SmoothBrokenPowerLawSpectralModel(
            amplitude="1.5879e-10 cm-2 s-1 TeV-1", reference="1 TeV", index1=1.74, index2=2.84,
            ebreak=0.39 * u.TeV, beta=1,
        )
    return create_crab_spectral_model(kind)


def make_datasets(kind):
    folder = data_folder() / "crab-3datasets"
    datasets = Datasets.read(folder / "crab_10GeV_100TeV_datasets.yaml")
    crab = SkyModel(
        spatial_model=PointSpatialModel(lon_0="184.55 deg", lat_0="-5.78 deg", frame="galactic"),
        spectral_model=spectral_model(kind),
        name="Crab",
    )
    crab.spatial_model.parameters.freeze_all()
    models = Models.read(folder / "Fermi-LAT-3FHL_models.yaml")
    models.append(crab)
    datasets.models = models
    return datasets


def time_fit(kind, n_runs):
    times, stats = [], []
    for _ in range(n_runs):
        datasets = make_datasets(kind)
        start = time.perf_counter()
        result = Fit().run(datasets=datasets)
        times.append(time.perf_counter() - start)
        stats.append(result.total_stat if hasattr(result, "total_stat") else datasets.stat_sum())
    return float(np.median(times)), float(stats[-1])


def main(n_runs=5):
    make_datasets("magic_lp")  # warm-up: imports and file caches
    Fit().run(datasets=make_datasets("magic_lp"))
    print(f"seed-000 joint fit (median of {n_runs} runs; reference 0.5-2.8 s, target 5x less)")
    for kind in ("magic_lp", "hess_pl", "hess_ecpl", "sbpl"):
        median, stat = time_fit(kind, n_runs)
        print(f"  {kind:<10s}: {median:7.3f} s   total stat {stat:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
