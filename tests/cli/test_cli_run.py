"""``gammalike run`` and ``gammalike config``: the issue-6 checks through the command line.

Expected numbers: issue 6 (see tests/analysis/test_core.py for their origin).
"""
import logging

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from gammalike.analysis import AnalysisConfig
from gammalike.cli import cli

from ..analysis.test_core import CRAB_DNDE, CRAB_SQRT_TS, SEED004_MODELS, check_seed004_parameters, \
    seed004_yaml_config

# the seed freezes the background tilt after set_models; in a config run the models file says so
SEED004_BACKGROUND = """- type: FoVBackgroundModel
  datasets_names: [stacked]
  spectral:
    type: PowerLawNormSpectralModel
    parameters:
    - {name: norm, value: 1.0}
    - {name: tilt, value: 0.0, frozen: true}
    - {name: reference, value: 1.0, unit: TeV, frozen: true}
"""


def invoke(*args):
    # a run configures the gammalike logger (AnalysisConfig.set_logging): restore it for other tests
    logger = logging.getLogger("gammalike")
    level = logger.level
    try:
        return CliRunner().invoke(cli, list(map(str, args)))
    finally:
        logger.setLevel(level)


def error_lines(result):
    """Lines of the error output (click >= 8.2 keeps stderr apart; older versions mix it in)."""
    text = result.stderr if hasattr(result, "stderr") else result.output
    return [line for line in text.splitlines() if line.strip()]


def write_config(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ help and templates
@pytest.mark.parametrize("command", ["run", "config", "check"])
def test_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output and command in result.output


@pytest.mark.parametrize("kind", ["1d", "3d"])
def test_config_template_printed(kind):
    result = invoke("config", "--template", kind)
    assert result.exit_code == 0
    config = AnalysisConfig.from_yaml(result.output)
    assert config.datasets.type == kind


def test_config_template_written(tmp_path):
    path = tmp_path / "config.yaml"
    assert invoke("config", "--template", "3d", "--filename", path).exit_code == 0
    assert AnalysisConfig.read(path).datasets.background.method == "fov_background"
    result = invoke("config", "--filename", path)
    assert result.exit_code == 1
    assert "already exists" in error_lines(result)[-1]
    assert invoke("config", "--filename", path, "--overwrite").exit_code == 0
    assert AnalysisConfig.read(path).datasets.type == "1d"


def test_config_validate(tmp_path):
    good = write_config(tmp_path, "datasets: {type: 3d}\n", "good.yaml")
    result = invoke("config", "--validate", good)
    assert result.exit_code == 0
    assert AnalysisConfig.from_yaml(result.stdout).datasets.type == "3d"
    bad = write_config(tmp_path, "datasets: {typ: 3d}\n", "bad.yaml")
    result = invoke("config", "--validate", bad)
    assert result.exit_code == 1
    assert "datasets.typ: unknown key (did you mean 'type'?)" in result.output


# ------------------------------------------------------------------ bad input: one line, exit != 0
@pytest.mark.parametrize("text, expected", [
    ("datasets:\n  geom:\n    axis: {energy: {min: 1 TeV}}\n", "datasets.geom.axis: unknown key"),
    ("datasets:\n  geom:\n    wcs: {binsize: -0.02 deg}\n",
     "datasets.geom.wcs.binsize: must be a positive angle, got -0.02 deg"),
    ("datasets:\n  geom:\n    axes:\n      energy: {min: '0.1', max: 10 TeV}\n",
     "datasets.geom.axes.energy.min: '0.1' has no unit"),
    ("observations: {datastore: /no/such/datastore, obs_ids: [1]}\n",
     "observations.datastore: /no/such/datastore does not exist"),
])
def test_run_bad_input(tmp_path, text, expected):
    path = write_config(tmp_path, text)
    result = invoke("run", path, "--outdir", tmp_path / "out")
    assert result.exit_code != 0
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_run_missing_config(tmp_path):
    result = invoke("run", tmp_path / "nope.yaml")
    assert result.exit_code != 0
    assert "nope.yaml: configuration file not found" in error_lines(result)[-1]


def test_run_bad_step(tmp_path):
    path = write_config(tmp_path, "datasets: {type: 1d}\n")
    result = invoke("run", path, "--steps", "data,fitt")
    assert result.exit_code != 0
    assert "unknown step 'fitt'" in error_lines(result)[-1]


# ------------------------------------------------------------------ the checks
@pytest.mark.requires_data
@pytest.mark.slow
def test_run_crab_hess_fp(data_path, tmp_path):
    """Issue 6: the crab_hess_fp config runs unchanged through ``gammalike run``."""
    folder = data_path / "estimators" / "crab_hess_fp"
    outdir = tmp_path / "out"
    result = invoke("run", folder / "config.yaml", "--models", folder / "models.yaml", "--outdir", outdir)
    assert result.exit_code == 0, result.output
    assert "Flux points:" in result.stdout and "sqrt_ts" in result.stdout
    from gammalike.estimators import FluxPoints

    table = FluxPoints.read(outdir / "flux_points.fits").to_table(sed_type="dnde")
    dnde = np.asarray(table["dnde"].quantity.to_value("cm-2 s-1 TeV-1"))
    assert len(dnde) == 10 and np.isnan(dnde[[0, 1, 9]]).all()
    assert dnde[2:9] == pytest.approx(CRAB_DNDE, rel=1e-2, abs=0)
    assert np.asarray(table["sqrt_ts"])[2:9] == pytest.approx(CRAB_SQRT_TS, abs=0.01)
    for name in ("config.yaml", "models.yaml", "fit_result.yaml", "fit_parameters.ecsv",
                 "datasets/datasets.yaml", "flux_points.ecsv", "report.html"):
        assert (outdir / name).is_file(), name
    # 1D report: counts and excess spectra, fit, SED with flux points
    assert (outdir / "report.html").read_text().count('<img src="data:image/png;base64,') >= 3
    # a second run refuses to replace the products unless asked to
    again = invoke("run", folder / "config.yaml", "--models", folder / "models.yaml", "--outdir", outdir,
                   "--steps", "data")
    assert again.exit_code == 1 and "already exists" in error_lines(again)[-1]


@pytest.fixture(scope="module")
def seed004_run(tmp_path_factory):
    """``gammalike run seed004.yaml --steps data,fit``: the seed's config and models as files."""
    from tests.conftest import HAS_DATA

    if not HAS_DATA:
        pytest.skip("data folder not found")
    tmp_path = tmp_path_factory.mktemp("seed004_cli")
    models = tmp_path / "models.yaml"
    models.write_text(SEED004_MODELS + SEED004_BACKGROUND)
    config = seed004_yaml_config()
    config.general.models_file = str(models)
    config.general.outdir = str(tmp_path / "out")
    path = tmp_path / "seed004.yaml"
    config.write(path)
    result = invoke("run", path, "--steps", "data,fit")
    printed = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 6 and words[0] in ("GC-1", "stacked-bkg"):
            printed[(words[0], words[2])] = (float(words[3]), float(words[-2]))
    return result, printed, tmp_path / "out"


@pytest.mark.requires_data
@pytest.mark.slow
def test_run_seed004(seed004_run):
    """Issue 6: seed 004 as a YAML file through ``gammalike run``: prints and writes the fit,
    writes datasets and models."""
    result, printed, outdir = seed004_run
    assert result.exit_code == 0, result.output
    assert "OptimizeResult" in result.stdout and "success    : True" in result.stdout
    assert set(printed) >= {("GC-1", "amplitude"), ("GC-1", "lon_0"), ("GC-1", "lat_0"), ("stacked-bkg", "norm")}
    fit_result = yaml.safe_load((outdir / "fit_result.yaml").read_text())
    assert fit_result["optimize_result"]["success"]
    written = {(p["model"], p["name"]): (p["value"], p["error"]) for p in fit_result["parameters"]}
    for key, (value, error) in printed.items():
        # printed with 6 significant digits (value) and 4 (error)
        assert written[key][0] == pytest.approx(value, rel=1e-5, abs=1e-12)
        assert written[key][1] == pytest.approx(error, rel=1e-3, abs=1e-12)
    assert written[("stacked-bkg", "tilt")][0] == 0  # frozen by the models file
    for name in ("datasets/datasets.yaml", "models.yaml", "config.yaml", "fit_parameters.ecsv",
                 "report.html"):
        assert (outdir / name).is_file(), name
    # 3D report: counts / excess / significance maps and residuals
    assert (outdir / "report.html").read_text().count('<img src="data:image/png;base64,') >= 4


@pytest.mark.requires_data
@pytest.mark.slow
def test_run_seed004_numbers(seed004_run):
    # the seed printout's minimum, see SEED004_PRINTOUT in tests/analysis/test_core.py
    result, printed, outdir = seed004_run
    check_seed004_parameters(printed)
    fit_result = yaml.safe_load((outdir / "fit_result.yaml").read_text())
    check_seed004_parameters({(p["model"], p["name"]): (p["value"], p["error"])
                              for p in fit_result["parameters"]})


# ------------------------------------------------------------------ parallel backends
def _reduced_counts(outdir):
    from gammalike.datasets import Datasets

    datasets = Datasets.read(outdir / "datasets" / "datasets.yaml")
    return [(d.name, d.counts.data.copy(), d.counts_off.data.copy()) for d in datasets]


@pytest.mark.requires_data
@pytest.mark.slow
def test_run_on_a_dask_cluster(data_path, tmp_path):
    """``--scheduler ADDRESS``: the reduction runs on the workers of that dask cluster (here a
    two-worker local one) and writes the datasets of the serial run."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    config = data_path / "estimators" / "crab_hess_fp" / "config.yaml"
    serial = invoke("run", config, "--steps", "data", "--outdir", tmp_path / "serial")
    assert serial.exit_code == 0, serial.output
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = invoke("run", config, "--steps", "data", "--outdir", tmp_path / "dask",
                        "--scheduler", cluster.scheduler_address)
        ran_on_cluster = set(cluster.scheduler.task_prefixes)
    assert result.exit_code == 0, result.output
    assert "call_star" in ran_on_cluster  # the reduction tasks of run_multiprocessing (_call_star)
    # --n-jobs defaulted to the cluster's two worker threads
    assert AnalysisConfig.read(tmp_path / "dask" / "config.yaml").general.n_jobs == 2
    expected, got = _reduced_counts(tmp_path / "serial"), _reduced_counts(tmp_path / "dask")
    assert [name for name, *_ in got] == [name for name, *_ in expected]
    for (_, counts, off), (_, counts_dask, off_dask) in zip(expected, got):
        assert np.array_equal(counts, counts_dask) and np.array_equal(off, off_dask)


def test_run_scheduler_errors(tmp_path, monkeypatch):
    path = write_config(tmp_path, "general: {outdir: out}\n")
    result = invoke("run", path, "--scheduler", "tcp://127.0.0.1:1", "--parallel-backend", "multiprocessing")
    assert result.exit_code == 2 and "cannot go with --parallel-backend multiprocessing" in result.output
    distributed = pytest.importorskip("distributed")

    def unreachable(address, timeout=None):
        raise OSError(f"Timed out trying to connect to {address} after {timeout}")

    monkeypatch.setattr(distributed, "Client", unreachable)
    result = invoke("run", path, "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 1
    assert error_lines(result)[-1].startswith(
        "Error: --scheduler: cannot connect to a dask scheduler at 'tcp://127.0.0.1:1': Timed out")
