"""Benchmark: seed-003 flux points (issue 5).

The four H.E.S.S. DR1 Crab datasets are built with the seed's own 1D
reduction (SpectrumDatasetMaker, ReflectedRegionsBackgroundMaker,
SafeMaskMaker), the ExpCutoffPowerLaw is fitted jointly, then the timed step:

    FluxPointsEstimator(energy_edges=geomspace(0.7, 30, 11) TeV, source="crab",
                        selection_optional="all").run(datasets)

The reference implementation needs about 17 s; the target is <= 1.7 s.
Prints the median wall time over ``n_runs`` (also for ``reoptimize=True``,
the full-fitter path, for comparison).

Usage: python benchmarks/bench_flux_points.py [n_runs]
"""
import sys
import time
from pathlib import Path

import numpy as np
import astropy.units as u

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reduction_1d import full_reduction, setup  # noqa: E402

from gammalike.estimators.points.sed import FluxPointsEstimator  # noqa: E402
from gammalike.modeling import Fit  # noqa: E402
from gammalike.modeling.models import ExpCutoffPowerLawSpectralModel, SkyModel  # noqa: E402


def seed003_datasets():
    datasets = full_reduction(*setup())
    spectral_model = ExpCutoffPowerLawSpectralModel(
        amplitude=1e-12 * u.Unit("cm-2 s-1 TeV-1"), index=2, lambda_=0.1 * u.Unit("TeV-1"),
        reference=1 * u.TeV,
    )
    datasets.models = [SkyModel(spectral_model=spectral_model, name="crab")]
    Fit().run(datasets=datasets)
    return datasets


def timed(func, n_runs):
    times = []
    for _ in range(n_runs):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(n_runs=5):
    datasets = seed003_datasets()
    edges = np.geomspace(0.7, 30, 11) * u.TeV

    def run(reoptimize=False):
        fpe = FluxPointsEstimator(energy_edges=edges, source="crab", selection_optional="all",
                                  reoptimize=reoptimize, progress_bar=False)
        return fpe.run(datasets)

    fast = timed(run, n_runs)
    print("datasets: seed-003 1D reduction of hess-dl3-dr1 (makers), joint ECPL fit")
    print(f"flux points seed 003 (all)           : median {fast:.4f} s over {n_runs} runs "
          "(reference ~17 s, target <= 1.7 s)")
    slow = timed(lambda: run(reoptimize=True), max(1, n_runs // 5))
    print(f"flux points seed 003 (reoptimize=True): median {slow:.2f} s (full fitter per bin)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
