"""Tests of the gammalike command (click runner, no subprocess)."""
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


def test_demo_recovers_truth():
    result = CliRunner().invoke(cli, ["--quiet", "demo", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "Optimization terminated successfully." in result.output
    # Each fitted parameter is printed with its pull against the simulated truth.
    pulls = [float(line.rsplit("pull", 1)[1].strip(" )")) for line in result.output.splitlines()
             if "pull" in line]
    assert len(pulls) == 2
    assert all(abs(p) < 3 for p in pulls)
