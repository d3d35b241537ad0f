"""Shared fixtures: torch as an optional oracle, and a clean engine state per test."""

import pytest

import nablab
from nablab.autograd.grad_mode import mode


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
