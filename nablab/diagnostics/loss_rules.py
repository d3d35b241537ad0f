"""Loss rules: a loss that does not decrease, oscillates or diverges; over-fitting.

They read the training loss per step (noisy under mini-batches, so levels are medians of
windows) and the train/test metric per epoch.
"""

from __future__ import annotations

import numpy as np

from .findings import Finding

MIN_STEPS = 20  # fewer recorded losses say nothing about a trend


def windows(losses: np.ndarray, parts: int) -> np.ndarray:
    """Medians of ``parts`` consecutive windows of equal size (the last takes the rest)."""
    size = max(len(losses) // parts, 1)
    ends = [(i + 1) * size for i in range(parts - 1)] + [len(losses)]
    return np.array([np.median(losses[i * size : end]) for i, end in enumerate(ends)])


def plateau_findings(steps, losses) -> list[Finding]:
    """loss-not-decreasing: over ≥ MIN_STEPS steps, the median of the last fifth is not 1 %
    below the first loss (a run that converges early has its first fifth at the minimum
    already, so the start is the first loss itself)."""
    losses = np.asarray(losses, dtype=float)
    if len(losses) < MIN_STEPS or not np.isfinite(losses).all():
        return []
    first, last = losses[0], windows(losses, 5)[-1]
    if first - last >= 0.01 * abs(first) or abs(first) < 1e-8:
        return []
    return [
        Finding(
            "loss-not-decreasing",
            "(model)",
            f"the loss went from {first:.4g} (first step) to {last:.4g} (median of the "
            f"last fifth) over {int(steps[-1]) + 1} steps: training makes no progress",
            {"loss_start": float(first), "loss_end": float(last), "steps": int(steps[-1]) + 1},
            "error",
            "a learning rate far too small, or the optimizer is not updating what the loss "
            "depends on",
            "raise the learning rate tenfold and check that optimizer.step() updates the model",
        )
    ]


def diverging_findings(steps, losses) -> list[Finding]:
    """loss-diverging: the median of the last fifth of the losses is above twice the best
    window's and above where the run started (NaN/Inf losses count as infinitely high)."""
    losses = np.asarray(losses, dtype=float)
    if len(losses) < MIN_STEPS:
        return []
    levels = windows(np.where(np.isfinite(losses), losses, np.inf), 5)
    best, last = levels.min(), levels[-1]
    if not (last > 2 * best and last > levels[0]) or best < 0:
        return []
    return [
        Finding(
            "loss-diverging",
            "(model)",
            f"the loss fell to {best:.4g} and ends at {last:.4g} (medians of fifths of "
            f"{len(losses)} steps): each step makes it worse",
            {"loss_best": float(best), "loss_end": float(last), "loss_start": float(levels[0])},
            "error",
            "a learning rate too large: each step overshoots the minimum by more than it gains",
            "divide the learning rate by 10 (or clip the gradient norm)",
        )
    ]


def oscillating_findings(steps, losses) -> list[Finding]:
    """loss-oscillating: over the last half, ≥ 85 % of successive changes flip sign (the
    loss jumps up and down in turn; i.i.d. mini-batch noise flips two thirds of them), the
    typical swing is ≥ 10 % of the level, and the last quarter is not 10 % below the quarter
    before."""
    losses = np.asarray(losses, dtype=float)
    if len(losses) < MIN_STEPS or not np.isfinite(losses).all():
        return []
    half = losses[len(losses) // 2 :]
    change = np.diff(half)
    flips = float(np.mean(change[1:] * change[:-1] < 0))
    swing, level = float(np.median(np.abs(change))), float(np.median(np.abs(half)))
    third, fourth = windows(half, 2)
    if flips < 0.85 or swing < 0.1 * level or fourth < 0.9 * third:
        return []
    return [
        Finding(
            "loss-oscillating",
            "(model)",
            f"over the last {len(half)} steps the loss flips direction at {flips:.0%} of "
            f"steps with a typical swing of {swing:.3g} around {level:.3g}, without settling",
            {"flips": flips, "swing": swing, "level": level},
            "warning",
            "a learning rate too large: the steps jump across the valley instead of down it",
            "halve the learning rate until the loss decreases smoothly (or use momentum/Adam)",
        )
    ]


def overfitting_findings(
    train: list[float],
    test: list[float],
    higher_is_better: bool,
    tolerance: float,
    epochs: list[int] | None = None,
) -> list[Finding]:
    """The train/test gap grows while the train metric improves. With b the first epoch
    whose test metric is within ``tolerance`` (relative) of the best (at least two epochs
    before the last: test stopped improving there), since b train improved, the gap at least
    doubled, and it grew by more than ``tolerance`` of the best test value. A test metric
    that stays flat counts: the model learns the training set only. ``epochs`` numbers the
    entries (default 0, 1, …)."""
    if len(test) < 4:
        return []
    sign = -1.0 if higher_is_better else 1.0
    bad_train, bad_test = sign * np.asarray(train, float), sign * np.asarray(test, float)
    margin = tolerance * max(abs(bad_test.min()), 1e-12)
    best = int(np.flatnonzero(bad_test <= bad_test.min() + margin)[0])
    gap = bad_test - bad_train
    grew = gap[-1] - gap[best]
    if best > len(test) - 3 or bad_train[-1] >= bad_train[best]:
        return []
    if grew <= margin or gap[-1] < 2 * max(gap[best], 0):
        return []
    epoch = epochs[best] if epochs is not None else best
    metric = "accuracy" if higher_is_better else "loss"
    return [
        Finding(
            "over-fitting",
            "(model)",
            f"the test {metric} stopped improving at epoch {epoch} ({test[best]:.4g}; now "
            f"{test[-1]:.4g}) while the train {metric} kept improving ({train[best]:.4g} → "
            f"{train[-1]:.4g}): the train/test gap grew from {gap[best]:.3g} to {gap[-1]:.3g}",
            {"best_epoch": epoch, "epochs": len(test), "test_best": test[best],
             "test_now": test[-1], "train_at_best": train[best], "train_now": train[-1],
             "gap_at_best": float(gap[best]), "gap_now": float(gap[-1])},
            "warning",
            "the model has capacity to memorise the training set and nothing stops it",
            f"stop at epoch {epoch} (early stopping), add weight decay or dropout, or get "
            "more data",
        )
    ]  # fmt: skip
