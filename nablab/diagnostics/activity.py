"""What the Monitor's sampled forward hooks keep of an activation layer's output.

Which layers are watched, and how, comes from the activation catalogue (nablab.activations):
an activation that ``dies`` (ReLU: f' = 0 on a half-line) gets per-unit streaks of inputs
that gave exactly 0 (a dead unit never leaves 0); a bounded one that ``saturates`` on both
sides (sigmoid, tanh) gets per-unit counts of inputs in its flat zone (the entry's
``saturated`` mask: |σ(z) − ½| > 0.49, |tanh z| > 0.99), where f' is near 0. A saturating
output layer is not watched (a confident output saturates by design).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import activations


@dataclass
class ActivationStats:
    """An activation layer's output over the sampled forwards: for an activation that dies,
    per-unit zero streaks; for a saturating one, per-unit saturated counts."""

    activation: str = ""  # the catalogue's name: "relu", "sigmoid"…
    dies: bool = False  # judged for dead units (else for saturated ones)
    params: dict = field(default_factory=dict)  # the layer's parameters the entry takes
    zero_now: np.ndarray | None = None  # per unit: 0 on every row of the last sampled forward
    zero_streak: np.ndarray | None = None  # per unit: inputs of the sampled forwards since
    # the last one where it was not 0 on every row
    saturated: np.ndarray | None = None  # per unit, sampled inputs in the flat zone
    samples: int = 0  # sampled inputs seen since the unit count last changed


def watch(module, is_output: bool) -> ActivationStats | None:
    """Fresh statistics for an activation layer whose units are judged, else None."""
    entry = activations.of(module)
    if entry is None:
        return None
    if entry.dies:
        return ActivationStats(entry.name, dies=True)
    if entry.saturates == "both" and not is_output:
        return ActivationStats(entry.name, params=entry.take(**vars(module)))
    return None


def record_output(stats: ActivationStats, data: np.ndarray) -> None:
    """Add one sampled forward's output (units on the last axis) to ``stats``."""
    rows = data.reshape(-1, data.shape[-1] if data.ndim else 1)
    counts = stats.zero_streak if stats.dies else stats.saturated
    if counts is None or counts.shape[0] != rows.shape[1]:
        stats.samples, counts = 0, np.zeros(rows.shape[1], np.int64)
    if stats.dies:
        stats.zero_now = ~rows.any(axis=0)
        stats.zero_streak = np.where(stats.zero_now, counts + len(rows), 0)
    else:
        flat = activations.get(stats.activation).saturated(rows, **stats.params)
        stats.saturated = counts + np.count_nonzero(flat, axis=0)
    stats.samples += len(rows)
