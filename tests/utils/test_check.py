"""Tests of gammalike.utils.check (the seeds' "Check setup" cell)."""
from gammalike import __version__
from gammalike.utils.check import check_tutorials_setup


def test_check_tutorials_setup_prints_versions(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GAMMALIKE_DATA", str(tmp_path))
    info = check_tutorials_setup()
    out = capsys.readouterr().out
    assert info["gammalike"]["version"] == __version__
    assert info["data"]["found"] and str(tmp_path) in out
    assert "numpy" in out and info["packages"]["numpy"] != "not installed"
