"""Loss rules: a loss that does not decrease, oscillates or diverges; over-fitting.

They read the training loss per step (noisy under mini-batches, so levels are medians of
windows) and the train/test metric per epoch.
"""

from __future__ import annotations

import numpy as np

from .findings import Finding

MIN_STEPS = 20  # fewer recorded losses say nothing about a trend
TINY_UPDATE = 1e-5  # ‖ΔW‖/‖W‖ per step: 100 times below the ~1e-3 of a healthy run
LONG_PLATEAU = 1000  # steps: flat this long with ordinary updates is no slow start


def windows(losses: np.ndarray, parts: int) -> np.ndarray:
    """Medians of ``parts`` consecutive windows of equal size (the last takes the rest)."""
    size = max(len(losses) // parts, 1)
    ends = [(i + 1) * size for i in range(parts - 1)] + [len(losses)]
    return np.array([np.median(losses[i * size : end]) for i, end in enumerate(ends)])


def loss_is_flat(losses) -> bool | None:
    """Over ≥ MIN_STEPS steps, the median of the last fifth is not 1 % below the first loss
    (a run that converges early has its first fifth at the minimum already, so the start is
    the first loss itself). None: too few losses, or not all finite."""
    losses = np.asarray(losses, dtype=float)
    if len(losses) < MIN_STEPS or not np.isfinite(losses).all():
        return None
    first, last = losses[0], windows(losses, 5)[-1]
    return not (first - last >= 0.01 * abs(first) or abs(first) < 1e-8)


def plateau_findings(steps, losses, updates=()) -> list[Finding]:
    """loss-not-decreasing: the loss is flat (``loss_is_flat``) and either every update
    checked was tiny (‖ΔW‖/‖W‖ < TINY_UPDATE: the steps cannot move the loss) or the run is
    past LONG_PLATEAU steps. A short flat start with ordinary updates is the slow first
    phase of many healthy runs, not a finding. ``updates``: (step, largest ‖ΔW‖/‖W‖,
    layer) per optimizer step checked."""
    if not loss_is_flat(losses):
        return []
    count = int(steps[-1]) + 1
    largest = max((u[1] for u in updates), default=None)
    tiny = largest is not None and largest < TINY_UPDATE
    if not tiny and count < LONG_PLATEAU:
        return []
    first, last = float(losses[0]), float(windows(np.asarray(losses, float), 5)[-1])
    moved = f", with updates of at most {largest:.2g} of the weights" if tiny else ""
    return [
        Finding(
            "loss-not-decreasing",
            "(model)",
            f"the loss went from {first:.4g} (first step) to {last:.4g} (median of the "
            f"last fifth) over {count} steps{moved}: training makes no progress",
            {"loss_start": first, "loss_end": last, "steps": count, "largest_update": largest},
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
    whose test metric is within ``tolerance`` (relative) of the best (before the last
    fifth, at least 3 epochs: test stopped improving there), and "now" the medians over that
    last fifth (so one noisy epoch decides nothing), since b train improved, the gap at least
    doubled, and it grew by more than ``tolerance`` of the best test value. A test metric
    that stays flat counts: the model learns the training set only. ``epochs`` numbers the
    entries (default 0, 1, …)."""
    if len(test) < 6:
        return []
    sign = -1.0 if higher_is_better else 1.0
    bad_train, bad_test = sign * np.asarray(train, float), sign * np.asarray(test, float)
    tail = max(3, len(test) // 5)  # "now": medians of the last epochs, not one noisy value
    margin = tolerance * max(abs(bad_test.min()), 1e-12)
    best = int(np.flatnonzero(bad_test <= bad_test.min() + margin)[0])
    gap = bad_test - bad_train
    train_now, test_now, gap_now = (float(np.median(a[-tail:])) for a in (bad_train, bad_test, gap))
    if best >= len(test) - tail or train_now >= bad_train[best]:
        return []
    if gap_now - gap[best] <= margin or gap_now < 2 * max(gap[best], 0):
        return []
    epoch = epochs[best] if epochs is not None else best
    metric = "accuracy" if higher_is_better else "loss"
    return [
        Finding(
            "over-fitting",
            "(model)",
            f"the test {metric} stopped improving at epoch {epoch} ({test[best]:.4g}; "
            f"{sign * test_now:.4g} over the last {tail} epochs) while the train {metric} "
            f"kept improving ({train[best]:.4g} → {sign * train_now:.4g}): the train/test "
            f"gap grew from {gap[best]:.3g} to {gap_now:.3g}",
            {"best_epoch": epoch, "epochs": len(test), "test_best": test[best],
             "test_now": sign * test_now, "train_at_best": train[best],
             "train_now": sign * train_now, "gap_at_best": float(gap[best]),
             "gap_now": gap_now},
            "warning",
            "the model has capacity to memorise the training set and nothing stops it",
            f"stop at epoch {epoch} (early stopping), add weight decay or dropout, or get "
            "more data",
        )
    ]  # fmt: skip
