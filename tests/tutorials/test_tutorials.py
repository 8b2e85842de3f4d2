"""Run each tutorial script of docs/tutorials headless and check its numbers and figures.

Each script is run once (module-scoped fixture) in a subprocess with matplotlib's
Agg backend, writing into a temporary folder; the tests then parse its stdout
and inspect the PNG files it saved.  Expected numbers come from the issues
(issue 3, 4 and 7) and the seeds in ../shared/seeds/.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"

pytestmark = [pytest.mark.requires_data, pytest.mark.slow]

# Figures each script must save (names without ".png").
FIGURES = {
    "spectral_analysis_1d": [
        "spectral_analysis_1d_01_exclusion_mask",
        "spectral_analysis_1d_02_off_regions",
        "spectral_analysis_1d_03_excess",
        "spectral_analysis_1d_03_sqrt_ts",
        "spectral_analysis_1d_04_plot_fit",
        "spectral_analysis_1d_05_flux_points_ts_profiles",
        "spectral_analysis_1d_06_flux_points_fit",
        "spectral_analysis_1d_07_sed_comparison",
    ],
    "map_fitting_2d": ["map_fitting_2d_01_counts"],
    "joint_modeling_serialization": ["joint_modeling_serialization_01_sed"],
    "multi_instrument_joint_fit": [
        "multi_instrument_joint_fit_01_hess_peek",
        "multi_instrument_joint_fit_02_fermi_peek",
        "multi_instrument_joint_fit_03_models",
        "multi_instrument_joint_fit_04_sed",
        "multi_instrument_joint_fit_05_fermi_residuals",
        "multi_instrument_joint_fit_06_hess_residuals",
        "multi_instrument_joint_fit_07_hawc_residuals",
        "multi_instrument_joint_fit_08_lhaaso_residuals",
    ],
    "two_sources_3d": [
        "two_sources_3d_01_observation_peek",
        "two_sources_3d_02_dataset_peek",
        "two_sources_3d_03_counts",
        "two_sources_3d_04_exposure",
        "two_sources_3d_05_background",
        "two_sources_3d_06_excess",
        "two_sources_3d_07_significance_excess",
        "two_sources_3d_08_significance_distribution",
        "two_sources_3d_09_ts_maps",
        "two_sources_3d_10_residuals_spatial",
        "two_sources_3d_11_residuals",
        "two_sources_3d_12_residual_significance_grid",
        "two_sources_3d_13_sed",
    ],
}

_RUNS = {}


def _run(name, tmp_path_factory):
    """Run docs/tutorials/<name>.py once; return (stdout, output folder)."""
    if name not in _RUNS:
        from tests.conftest import DATA

        outdir = tmp_path_factory.mktemp(name)
        env = dict(os.environ, MPLBACKEND="Agg", GAMMALIKE_DATA=str(DATA))
        env.pop("GAMMALIKE_TUTORIAL_NAIMA_FIT", None)  # the 3-hour Naima fit stays off
        proc = subprocess.run(
            [sys.executable, str(TUTORIALS / f"{name}.py"), str(outdir)],
            cwd=outdir, env=env, capture_output=True, text=True, timeout=1800,
        )
        assert proc.returncode == 0, (
            f"{name}.py failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
        _RUNS[name] = proc.stdout, outdir
    return _RUNS[name]


def _number(pattern, text, index=0):
    """The float captured by ``pattern`` (its first group) at match number ``index``."""
    matches = re.findall(pattern, text)
    assert matches, f"pattern {pattern!r} not found in the tutorial output"
    return float(matches[index])


def _check_figures(name, outdir):
    import matplotlib.image as mimage

    for figure in FIGURES[name]:
        path = outdir / f"{figure}.png"
        assert path.is_file(), f"figure {path.name} was not saved"
        # a figure with axes, labels and data is well above 10 kB; an empty canvas is not
        assert path.stat().st_size > 10_000, f"{path.name}: only {path.stat().st_size} bytes"
        image = mimage.imread(path)
        colours = np.unique(image.reshape(-1, image.shape[-1]), axis=0)
        assert len(colours) > 1, f"{path.name} is blank (a single colour)"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_tutorial_figures(name, tmp_path_factory):
    _, outdir = _run(name, tmp_path_factory)
    _check_figures(name, outdir)


def test_spectral_analysis_1d_numbers(tmp_path_factory):
    stdout, _ = _run("spectral_analysis_1d", tmp_path_factory)
    # seed 003: joint fit total stat 86.12, stacked fit 8.16
    assert _number(r"total stat\s*:\s*([-\d.]+)", stdout, 0) == pytest.approx(86.12, abs=0.02)
    assert _number(r"total stat\s*:\s*([-\d.]+)", stdout, 1) == pytest.approx(8.16, abs=0.02)


def test_joint_modeling_serialization_numbers(tmp_path_factory):
    stdout, outdir = _run("joint_modeling_serialization", tmp_path_factory)
    # issue 3: seed-001 joint fit total stat -12697.23 (current reference release)
    assert _number(r"total stat\s*:\s*([-\d.]+)", stdout) == pytest.approx(-12697.23, abs=0.1)
    # the serialization step wrote the datasets and models
    assert (outdir / "crab-3datasets" / "crab_10GeV_100TeV_datasets.yaml").is_file()
    assert (outdir / "crab-3datasets" / "crab_10GeV_100TeV_models.yaml").is_file()


def test_multi_instrument_joint_fit_numbers(tmp_path_factory):
    stdout, _ = _run("multi_instrument_joint_fit", tmp_path_factory)
    # issue 3: seed-000 LogParabola joint fit total stat -12644.42
    assert _number(r"total stat\s*:\s*([-\d.]+)", stdout) == pytest.approx(-12644.42, abs=0.05)


def test_two_sources_3d_numbers(tmp_path_factory):
    stdout, _ = _run("two_sources_3d", tmp_path_factory)
    # issue 4: background norms 1.2391, 1.2493, 1.1999; src1 (Sgr A*) index 2.4901 within 0.5 %
    norms = [float(x) for x in re.findall(r"background norm = ([-\d.]+)", stdout)]
    np.testing.assert_allclose(norms, [1.2391, 1.2493, 1.1999], atol=2e-3)
    assert _number(r"src1: index = ([-\d.]+)", stdout) == pytest.approx(2.4901, rel=5e-3, abs=0)
    assert _number(r"src2: index = ([-\d.]+)", stdout) == pytest.approx(2.3203, rel=5e-3, abs=0)


def test_map_fitting_2d_counts(tmp_path_factory):
    stdout, _ = _run("map_fitting_2d", tmp_path_factory)
    # seed 004: total counts of the stacked dataset 85625 (exact)
    assert _number(r"Total counts\s*:\s*([\d.]+)", stdout) == 85625


def test_map_fitting_2d_amplitude(tmp_path_factory):
    stdout, _ = _run("map_fitting_2d", tmp_path_factory)
    # Seed 004's own printout (amplitude 4.1789e-11, lon_0 -0.05477, lat_0 -0.05362, stat 170089.04):
    # the likelihood has several local minima and from the seed's start we reach the one the seed
    # prints; the 4.147e-11 / -0.04761 / -0.05357 is the current release's, reproduced when
    # the fit starts there (tests/makers/test_reduction.py::test_seed004_fit_reference_minimum).
    # (abs=0: pytest.approx's default absolute tolerance 1e-12 would swallow a 1e-11 amplitude)
    assert _number(r"GC-1 amplitude = ([-\d.e+]+)", stdout) == pytest.approx(4.1789e-11, rel=5e-3, abs=0)
    assert _number(r"GC-1 lon_0 = ([-\d.e+]+)", stdout) == pytest.approx(-0.05477, abs=2e-4)
    assert _number(r"GC-1 lat_0 = ([-\d.e+]+)", stdout) == pytest.approx(-0.05362, abs=2e-4)
