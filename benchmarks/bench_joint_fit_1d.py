"""Benchmark: joint fit of the four H.E.S.S. Crab ON/OFF spectra (seed 003).

Reads joint-crab/spectra/hess/pha_obs{23523,23526,23559,23592}.fits, fits an
ExpCutoffPowerLaw (MIGRAD + HESSE) and prints the median wall time of the fit
over several runs.  Target: <= 0.24 s (the reference implementation takes
about 1.2 s).

Usage: python benchmarks/bench_joint_fit_1d.py [n_runs]
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
from astropy import units as u

from gammalike.datasets import Datasets, SpectrumDatasetOnOff
from gammalike.modeling.fit import Fit
from gammalike.modeling.models import ExpCutoffPowerLawSpectralModel, SkyModel

OBS_IDS = [23523, 23526, 23559, 23592]


def data_folder():
    for name in ("GAMMALIKE_DATA", "GAMMAPY_DATA"):
        if os.environ.get(name):
            return Path(os.environ[name])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def make_datasets():
    folder = data_folder() / "joint-crab" / "spectra" / "hess"
    return Datasets([SpectrumDatasetOnOff.read(folder / f"pha_obs{obs_id}.fits") for obs_id in OBS_IDS])


def run_fit(datasets):
    spectral_model = ExpCutoffPowerLawSpectralModel(
        amplitude=1e-12 * u.Unit("cm-2 s-1 TeV-1"),
        index=2,
        lambda_=0.1 * u.Unit("TeV-1"),
        reference=1 * u.TeV,
    )
    datasets.models = [SkyModel(spectral_model=spectral_model, name="crab")]
    start = time.perf_counter()
    result = Fit().run(datasets=datasets)
    elapsed = time.perf_counter() - start
    return elapsed, result


def main(n_runs=10):
    datasets = make_datasets()
    run_fit(datasets)  # warm-up (imports, caches of the unit conversions)
    times = []
    for _ in range(n_runs):
        elapsed, result = run_fit(datasets)
        times.append(elapsed)
    print(f"joint fit of {len(OBS_IDS)} H.E.S.S. spectra (ECPL, migrad + hesse)")
    print(f"  total stat : {result.total_stat:.4f}  (expected 150.5735)")
    print(f"  nfev       : {result.optimize_result.nfev if hasattr(result, 'optimize_result') else '?'}")
    print(f"  runs       : {n_runs}")
    print(f"  median     : {np.median(times):.4f} s  (target <= 0.24 s)")
    print(f"  min / max  : {min(times):.4f} / {max(times):.4f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
