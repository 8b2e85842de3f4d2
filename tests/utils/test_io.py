"""Tests of gammalike.utils.io: writes never lose what is on disk."""
import pytest

from gammalike.utils.io import write_atomic


def test_write_atomic_refuses_overwrite(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        with write_atomic(path) as tmp:
            tmp.write_text("new")
    assert path.read_text() == "old"


def test_write_atomic_replaces_and_cleans_up(tmp_path):
    path = tmp_path / "file.fits.gz"
    path.write_text("old")
    with write_atomic(path, overwrite=True) as tmp:
        assert tmp.name.endswith(".fits.gz")  # writers pick compression from the suffix
        tmp.write_text("new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.fits.gz"]


def test_write_atomic_failure_keeps_old_file(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with write_atomic(path, overwrite=True) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("writer failed")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
