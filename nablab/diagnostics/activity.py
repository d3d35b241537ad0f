"""What the Monitor's sampled forward hooks keep of an activation layer's output.

ReLU layers: per unit, how many sampled inputs in a row gave exactly 0 (a dead unit never
leaves 0). Hidden sigmoid/tanh layers: per unit, how many sampled inputs fell in the flat
zone (|σ(z) − ½| > 0.49, |tanh z| > 0.99), where σ'(z) or tanh'(z) is near 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.activation import ReLU, Sigmoid, Tanh


@dataclass
class ActivationStats:
    """An activation layer's output over the sampled forwards: for ReLU layers per-unit
    zero streaks, for hidden sigmoid/tanh layers per-unit saturated counts."""

    zero_now: np.ndarray | None = None  # per unit: 0 on every row of the last sampled forward
    zero_streak: np.ndarray | None = None  # per unit: inputs of the sampled forwards since
    # the last one where it was not 0 on every row
    saturated: np.ndarray | None = None  # per unit, sampled inputs in the flat zone
    samples: int = 0  # sampled inputs seen since the unit count last changed


def activation_kind(module, is_output: bool) -> str | None:
    """ "relu", "sigmoid" or "tanh" for the layers whose units are judged; a sigmoid or tanh
    output layer is not (a confident output saturates by design)."""
    if isinstance(module, ReLU):
        return "relu"
    if isinstance(module, (Sigmoid, Tanh)) and not is_output:
        return "tanh" if isinstance(module, Tanh) else "sigmoid"
    return None


def record_output(stats: ActivationStats, data: np.ndarray, kind: str) -> None:
    """Add one sampled forward's output (units on the last axis) to ``stats``."""
    rows = data.reshape(-1, data.shape[-1] if data.ndim else 1)
    counts = stats.zero_streak if kind == "relu" else stats.saturated
    if counts is None or counts.shape[0] != rows.shape[1]:
        stats.samples, counts = 0, np.zeros(rows.shape[1], np.int64)
    if kind == "relu":
        stats.zero_now = ~rows.any(axis=0)
        stats.zero_streak = np.where(stats.zero_now, counts + len(rows), 0)
    else:
        centre = 0.0 if kind == "tanh" else 0.5
        flat = np.abs(rows - centre) > (0.99 if kind == "tanh" else 0.49)
        stats.saturated = counts + np.count_nonzero(flat, axis=0)
    stats.samples += len(rows)
