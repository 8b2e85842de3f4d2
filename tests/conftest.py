"""Shared test fixtures: the data folder and matplotlib set-up."""
import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

_DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def _find_data():
    for name in ("GAMMALIKE_DATA", "GAMMAPY_DATA"):
        value = os.environ.get(name)
        if value:
            return Path(value).expanduser()
    if _DEFAULT_DATA.is_dir():
        return _DEFAULT_DATA.resolve()
    return None


DATA = _find_data()
HAS_DATA = DATA is not None and DATA.is_dir()

if HAS_DATA:
    # The seeds' files name $GAMMAPY_DATA; both variables point at the same folder.
    os.environ.setdefault("GAMMALIKE_DATA", str(DATA))
    os.environ.setdefault("GAMMAPY_DATA", str(DATA))


def pytest_configure(config):
    config.addinivalue_line("markers", "requires_data: needs the data folder")


def pytest_collection_modifyitems(config, items):
    if HAS_DATA:
        return
    reason = (
        "data folder not found: set GAMMALIKE_DATA to the shared data folder "
        f"(looked at $GAMMALIKE_DATA, $GAMMAPY_DATA and {_DEFAULT_DATA})"
    )
    if os.environ.get("GAMMALIKE_REQUIRE_DATA") == "1":
        # CI: the data tests must run, never be skipped.
        raise pytest.UsageError(reason)
    for item in items:
        if "requires_data" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def data_path():
    """Path to the data folder (tests using it must be marked requires_data)."""
    if not HAS_DATA:
        pytest.skip("data folder not found: set GAMMALIKE_DATA")
    return DATA


@pytest.fixture(params=["multiprocessing", "dask"])
def parallel_backend(request, monkeypatch):
    """Both parallel backends; dask as its local process scheduler (whatever client
    another test may have left active), skipped without dask."""
    if request.param == "dask":
        pytest.importorskip("dask")
        from gammalike.utils import parallel

        monkeypatch.setattr(parallel, "_dask_client", lambda: None)
    return request.param


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the pyplot figures a test leaves open (memory; tests counting figures)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
