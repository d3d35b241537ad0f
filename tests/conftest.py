"""Shared fixtures: torch as an optional oracle, and a clean engine state per test."""

import os

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
def quick_run(tmp_path_factory):
    """quick_run(name) → the LabResult of that lab's quick variant (default parameters,
    seed 0), run once per test session and shared by every test that asks for it."""
    import nablab.labs as labs

    results = {}

    def run(name):
        if name not in results:
            out = tmp_path_factory.mktemp(name)
            results[name] = labs.run(name, quick=True, out=out)
        return results[name]

    return run
