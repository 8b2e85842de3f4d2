"""Tests of the gammalike command (click runner, no subprocess)."""
import re

import pytest
from click.testing import CliRunner

from gammalike.cli import cli


def test_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output and "info" in result.output


def test_info_reports_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GAMMALIKE_DATA", str(tmp_path))
    result = CliRunner().invoke(cli, ["info"])
    assert result.exit_code == 0
    assert f"Data folder: {tmp_path} (found)" in result.output
    assert "iminuit" in result.output


@pytest.mark.slow
def test_demo_recovers_truth(tmp_path):
    # issue 6 check: `gammalike demo` with no data folder exits 0, the fitted point source lies
    # within 3 sigma of the simulated truth, report.html embeds >= 5 figures, the wall time is printed.
    outdir = tmp_path / "demo"
    env = {"GAMMALIKE_DATA": str(tmp_path / "no-data"), "GAMMAPY_DATA": str(tmp_path / "no-data")}
    result = CliRunner().invoke(cli, ["--quiet", "demo", "--outdir", str(outdir), "--seed", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "Optimization terminated successfully." in result.output
    # the pulls table: "model parameter unit true fitted error pull", one row per free parameter
    rows = [line.split() for line in result.output.splitlines() if line.strip().startswith("point ")]
    pulls = {row[1]: float(row[-1]) for row in rows}
    assert set(pulls) == {"amplitude", "alpha", "beta", "lon_0", "lat_0"}
    assert all(abs(p) < 3 for p in pulls.values()), pulls
    assert re.search(r"Wall time: \d+\.\d s", result.output)
    report = outdir / "report.html"
    text = report.read_text()
    assert text.count('<img src="data:image/png;base64,') >= 5
    for name in ("events.fits.gz", "dataset.fits.gz", "models.yaml", "flux_points.fits", "ts_map.fits"):
        assert (outdir / name).is_file()
    # a second run replaces the demo's own products
    again = CliRunner().invoke(cli, ["--quiet", "demo", "--outdir", str(outdir), "--livetime", "0.1 h"], env=env)
    assert again.exit_code == 0, again.output


def test_demo_rejects_bad_livetime(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--outdir", str(tmp_path), "--livetime", "2 TeV"])
    assert result.exit_code != 0
    assert "--livetime" in result.output
