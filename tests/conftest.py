"""Shared fixtures: torch as an optional oracle, and a clean engine state per test."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch, imported later by the tests: one thread

import nablab
from nablab.autograd.grad_mode import mode


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """Tests multiply small matrices, two xdist workers share two cores: one BLAS thread each."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def torch():
    """PyTorch, or skip the test where it is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _engine_state():
    """Undo what a failing test may leave behind: default dtype, grad and anomaly modes."""
    yield
    nablab.set_default_dtype(nablab.float32)
    mode.grad_enabled, mode.anomaly = True, False


@pytest.fixture(scope="session")
def book_dir():
    """The folder holding d2l's timemachine.txt: $NABLAB_DATA_DIR, else ../shared/data
    beside the checkout (as on the development and CI machines), else None."""
    from nablab.data import text

    for candidate in (
        os.environ.get(text.DATA_DIR_ENV),
        Path(__file__).resolve().parents[2] / "shared" / "data",
    ):
        if candidate and (Path(candidate) / text.TIME_MACHINE_FILE).is_file():
            return Path(candidate)
    return None


@pytest.fixture
def time_machine_dir(book_dir, monkeypatch):
    """Point $NABLAB_DATA_DIR at a local copy of The Time Machine, or skip (never download)."""
    from nablab.data import text

    found = book_dir
    if found is None:
        pytest.skip("timemachine.txt not available locally ($NABLAB_DATA_DIR or ../shared/data)")
    monkeypatch.setenv(text.DATA_DIR_ENV, str(found))
    return found
