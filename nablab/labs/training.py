"""The labs' one training loop: call a step, record every k steps, stop when the loss is
no longer finite, show progress.

    def step(i):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        return loss

    history = train(step, p.epochs, ctx, "training", every=50)
    history.steps, history.values    # steps 0, 50, 100, ... and the loss at each

A step may return a Tensor, a float or an array (one loss per seed of a seed-batched model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """What was recorded: the step numbers, the values, and the step the loss stopped being
    finite at (None if it never did)."""

    steps: list[int] = field(default_factory=list)
    values: list = field(default_factory=list)
    diverged_at: int | None = None

    def array(self) -> np.ndarray:
        """The recorded values as one array: (records,) or (records, seeds)."""
        return np.asarray(self.values, dtype=float)


def train(
    step: Callable[[int], object],
    steps: int,
    ctx,
    description: str,
    every: int = 1,
    record: Callable[[int, np.ndarray], object] | None = None,
    stop_when_not_finite: bool = True,
) -> History:
    """Run ``step(i)`` for i = 0 … steps − 1 with a progress bar (``ctx.track``).

    At i = 0, every, 2·every, … and at the last step, append ``record(i, loss)`` (default: the
    loss itself) to the history. When the loss is NaN or ±∞ for every seed, record that step
    and stop (``diverged_at``), unless ``stop_when_not_finite`` is False.
    """
    history = History()
    for i in ctx.track(range(steps), steps, description):
        loss = step(i)
        value = np.asarray(getattr(loss, "array", loss), dtype=float)
        finite = bool(np.isfinite(value).any())
        if i % every == 0 or i == steps - 1 or not finite:
            history.steps.append(i)
            history.values.append(record(i, value) if record is not None else value)
        if not finite and history.diverged_at is None:
            history.diverged_at = i
            if stop_when_not_finite:
                break
    return history
