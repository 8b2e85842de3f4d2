"""n_jobs of FluxPointsEstimator and LightCurveEstimator on real data (issue 5), on both parallel backends.

Seed-003 datasets (four H.E.S.S. DR1 Crab runs, reduced and fitted with the
ExpCutoffPowerLaw as in tests/makers/test_seed003.py): the process pool
splits the energy bins / time intervals, every bin is computed the same way,
so the results must be bit-identical to the serial run.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.time import Time

from gammalike.estimators.points.lightcurve import LightCurveEstimator
from gammalike.estimators.points.sed import FluxPointsEstimator

TESTS = Path(__file__).resolve().parents[1]
KEYS = ("norm", "norm_err", "norm_errn", "norm_errp", "norm_ul", "ts", "stat_scan", "npred", "success")


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seed003_fitted():
    from tests.conftest import DATA, HAS_DATA

    if not HAS_DATA:
        pytest.skip("data folder not found")
    from gammalike.modeling import Fit

    seed = _load(TESTS / "makers" / "test_seed003.py", "_seed003_n_jobs")
    datasets, _, _ = seed.reduce_seed003(DATA)
    datasets.models = [seed.ecpl_model()]
    assert Fit().run(datasets=datasets).success
    return datasets


def _assert_identical(serial, parallel, keys=KEYS):
    for key in keys:
        a, b = np.asarray(getattr(serial, key)), np.asarray(getattr(parallel, key))
        assert a.shape == b.shape, key
        assert np.array_equal(a, b, equal_nan=True), key


@pytest.mark.requires_data
def test_flux_points_n_jobs_identical_seed003(seed003_fitted, parallel_backend):
    kwargs = dict(energy_edges=np.geomspace(0.7, 30, 7) * u.TeV, source="crab", selection_optional="all",
                  progress_bar=False)
    serial = FluxPointsEstimator(n_jobs=1, **kwargs).run(seed003_fitted)
    parallel = FluxPointsEstimator(n_jobs=2, parallel_backend=parallel_backend, **kwargs).run(seed003_fitted)
    assert serial.nbin == 6
    assert np.all(serial.ts[:4] > 25)  # real detections, not empty bins
    _assert_identical(serial, parallel)
    assert np.array_equal(serial.dnde.value, parallel.dnde.value, equal_nan=True)


@pytest.mark.requires_data
def test_light_curve_n_jobs_identical_seed003(seed003_fitted, parallel_backend):
    # one time bin per run (their GTIs), two energy bins
    starts = Time([d.gti.time_start[0] for d in seed003_fitted])
    stops = Time([d.gti.time_stop[-1] for d in seed003_fitted])
    intervals = [Time([a, b]) for a, b in zip(starts, stops)]
    kwargs = dict(energy_edges=[0.7, 3, 30] * u.TeV, time_intervals=intervals, source="crab",
                  selection_optional=["errn-errp", "ul"], progress_bar=False)
    serial = LightCurveEstimator(n_jobs=1, **kwargs).run(seed003_fitted)
    parallel = LightCurveEstimator(n_jobs=2, parallel_backend=parallel_backend, **kwargs).run(seed003_fitted)
    assert serial.norm.shape[:2] == (2, 4)
    assert np.all(serial.success)
    _assert_identical(serial, parallel, [key for key in KEYS if key != "stat_scan"])


@pytest.mark.requires_data
def test_flux_points_reoptimize_n_jobs_identical_seed003(seed003_fitted, parallel_backend):
    # the fitter path (reoptimize=True: one Fit per flux point instead of the norm kernel): pool over bins
    kwargs = dict(energy_edges=np.geomspace(0.7, 30, 4) * u.TeV, source="crab", reoptimize=True,
                  selection_optional=None, progress_bar=False)
    serial = FluxPointsEstimator(n_jobs=1, **kwargs).run(seed003_fitted)
    parallel = FluxPointsEstimator(n_jobs=2, parallel_backend=parallel_backend, **kwargs).run(seed003_fitted)
    assert serial.nbin == 3 and np.all(serial.success)
    _assert_identical(serial, parallel, ("norm", "norm_err", "ts", "npred", "success"))
