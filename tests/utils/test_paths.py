"""Tests of gammalike.utils.paths (expected values: the definition of make_path)."""
from pathlib import Path

import pytest

from gammalike.utils import make_path
from gammalike.utils.paths import data_folder


def test_make_path_expands_both_data_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("GAMMALIKE_DATA", str(tmp_path))
    monkeypatch.delenv("GAMMAPY_DATA", raising=False)
    # The seeds' YAML names $GAMMAPY_DATA: it must resolve to GAMMALIKE_DATA.
    assert make_path("$GAMMAPY_DATA/a/b.fits") == tmp_path / "a" / "b.fits"
    assert make_path("$GAMMALIKE_DATA/x") == tmp_path / "x"
    assert make_path("${GAMMAPY_DATA}/x") == tmp_path / "x"


def test_make_path_gammapy_variable_alone(monkeypatch, tmp_path):
    monkeypatch.delenv("GAMMALIKE_DATA", raising=False)
    monkeypatch.setenv("GAMMAPY_DATA", str(tmp_path))
    assert make_path("$GAMMALIKE_DATA/x") == tmp_path / "x"
    assert data_folder() == tmp_path


def test_make_path_home_and_relative(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert make_path("~/file.fits") == tmp_path / "file.fits"
    assert make_path("rel/file.fits") == Path("rel/file.fits")
    assert make_path(Path("rel")) == Path("rel")


def test_make_path_unset_variable(monkeypatch):
    monkeypatch.delenv("GAMMALIKE_DATA", raising=False)
    monkeypatch.delenv("GAMMAPY_DATA", raising=False)
    with pytest.raises(OSError, match="GAMMALIKE_DATA"):
        make_path("$GAMMAPY_DATA/x")
    monkeypatch.delenv("SURELY_NOT_SET_VARIABLE", raising=False)
    with pytest.raises(OSError, match="SURELY_NOT_SET_VARIABLE"):
        make_path("$SURELY_NOT_SET_VARIABLE/x")
    with pytest.raises(TypeError):
        make_path(None)
