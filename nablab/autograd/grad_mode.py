"""Switches of the engine: gradient recording and anomaly detection.

`no_grad()` stops recording (inference, parameter updates); `enable_grad()` turns it
back on inside a `no_grad` block; `detect_anomaly()` checks every op's forward and
backward output and raises `AnomalyError` naming the first op that produced NaN/Inf.
All three work as context managers and as decorators.
"""

import contextlib


class _Mode:
    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False


mode = _Mode()


class AnomalyError(RuntimeError):
    """Raised under `detect_anomaly()`; `.op` names the op, `.phase` is forward or backward."""

    def __init__(self, op, phase, detail=""):
        self.op, self.phase = op, phase
        super().__init__(f"detect_anomaly: the {phase} of '{op}' produced NaN or Inf{detail}")


class _Switch(contextlib.ContextDecorator):
    """Set one field of `mode` for the duration of a block, then restore it."""

    field, value = "", False

    def __enter__(self):
        self._saved = getattr(mode, self.field)
        setattr(mode, self.field, self.value)
        return self

    def __exit__(self, *exc):
        setattr(mode, self.field, self._saved)
        return False


class no_grad(_Switch):
    """Ops inside the block record no graph: their outputs have requires_grad=False."""

    field, value = "grad_enabled", False


class enable_grad(_Switch):
    """Turn recording back on, e.g. inside a `no_grad` block."""

    field, value = "grad_enabled", True


class detect_anomaly(_Switch):
    """Raise AnomalyError at the first op whose forward or backward yields NaN/Inf."""

    field, value = "anomaly", True


def is_grad_enabled():
    return mode.grad_enabled


def set_grad_enabled(enabled):
    mode.grad_enabled = bool(enabled)


__all__ = [
    "AnomalyError",
    "detect_anomaly",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
