"""The named problems a Monitor can find, each decided by one small function of the evidence.

Every detector takes recorded numbers (no model, no hooks) and returns a list of Findings,
so each rule can be read, and tested, on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Finding:
    """A named problem: ``kind`` (e.g. "dead-units"), the ``layer`` it concerns, a sentence
    saying what is wrong and why it matters, and the numbers that show it."""

    kind: str
    layer: str
    message: str
    evidence: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.layer}: {self.message}"


def gradient_findings(
    norms: dict[str, float], vanishing_ratio: float, exploding_norm: float
) -> list[Finding]:
    """Zero, vanishing or exploding weight gradients, from one step's norms (input layer first).

    zero-gradients: a layer's weight gradient is exactly 0 (no signal reaches it at all).
    vanishing-gradients: ‖∇W_first‖ / ‖∇W_last‖ < vanishing_ratio, both non-zero.
    exploding-gradients: some ‖∇W‖ > exploding_norm, or the ratio above > 1/vanishing_ratio.
    """
    found = []
    zero = [name for name, n in norms.items() if n == 0]
    if zero:
        found.append(
            Finding(
                "zero-gradients",
                ", ".join(zero),
                f"the weight gradient of {len(zero)} of {len(norms)} layers is exactly 0: no "
                "signal reaches them (dead ReLU units on the way, or zero weights downstream), "
                "so gradient descent cannot change them",
                {"layers": zero, "norms": dict(norms)},
            )
        )
    names = list(norms)
    if len(names) < 2:
        return found
    first, last = names[0], names[-1]
    a, b = norms[first], norms[last]
    ratio = a / b if a > 0 and b > 0 else None
    evidence = {
        "first": first,
        "last": last,
        "first_norm": a,
        "last_norm": b,
        "ratio": ratio,
        "norms": dict(norms),
    }
    if ratio is not None and ratio < vanishing_ratio:
        found.append(
            Finding(
                "vanishing-gradients",
                first,
                f"the weight gradient of {first} ({a:.2g}) is {1 / ratio:.1g} times smaller than "
                f"that of {last} ({b:.2g}): the layers near the input barely learn",
                evidence,
            )
        )
    largest = max(names, key=lambda name: norms[name])
    if norms[largest] > exploding_norm:
        found.append(
            Finding(
                "exploding-gradients",
                largest,
                f"the weight gradient of {largest} has norm {norms[largest]:.3g} > "
                f"{exploding_norm:g}: a step of this size throws the weights far away",
                evidence,
            )
        )
    elif ratio is not None and ratio > 1 / vanishing_ratio:
        found.append(
            Finding(
                "exploding-gradients",
                first,
                f"the weight gradient grows {ratio:.1g} times from {last} ({b:.2g}) back to "
                f"{first} ({a:.2g}): the layers near the input take huge steps",
                evidence,
            )
        )
    return found


def dead_unit_findings(
    layer: str, zero_streak: np.ndarray, samples_seen: int, dead_after: int, min_fraction: float
) -> list[Finding]:
    """ReLU units whose output was exactly 0 on each of the last min(dead_after, seen) inputs,
    reported when they are at least ``min_fraction`` of the layer's units.

    Such a unit passes no gradient (δ_A = δ_Z ⊙ (A > 0) = 0), so its incoming weights never
    change again: it is dead. A few dead units are the ordinary cost of ReLU (a
    Kaiming-initialised MLP on 2-D data often has 5–20 % in a layer); a large share is lost
    capacity.
    """
    needed = min(dead_after, samples_seen)
    if needed == 0:
        return []
    dead = np.flatnonzero(zero_streak >= needed)
    if dead.size == 0 or dead.size < min_fraction * zero_streak.size:
        return []
    streak = int(zero_streak[dead].min())
    return [
        Finding(
            "dead-units",
            layer,
            f"{dead.size} of {zero_streak.size} units output exactly 0 on every one of the last "
            f"{streak} inputs, so no gradient flows through them and they cannot recover",
            {
                "units": dead.tolist(),
                "dead": int(dead.size),
                "of": int(zero_streak.size),
                "fraction": dead.size / zero_streak.size,
                "inputs": streak,
            },
        )
    ]


def symmetric_unit_findings(layer: str, weight: np.ndarray, bias: np.ndarray | None):
    """Groups of units whose incoming weights and bias are equal (to 1e-5 of the layer's
    largest magnitude, a margin for float32 rounding).

    Identical units compute the same output and receive the same gradient, so they stay
    identical: the layer works as if it had one unit per group (zero or constant init).
    """
    rows = weight.reshape(weight.shape[0], -1).astype(np.float64)
    if bias is not None:
        rows = np.concatenate([rows, bias.reshape(-1, 1).astype(np.float64)], axis=1)
    if rows.shape[0] < 2 or not np.all(np.isfinite(rows)):
        return []
    groups = equal_row_groups(rows, tol=1e-5 * np.abs(rows).max())
    if not groups:
        return []
    distinct = rows.shape[0] - sum(len(g) - 1 for g in groups)
    return [
        Finding(
            "symmetric-units",
            layer,
            f"{sum(map(len, groups))} of {rows.shape[0]} units have identical incoming weights "
            f"and bias (in {len(groups)} group(s)): they get identical gradients and stay "
            f"identical, so the layer acts like {distinct} unit(s)",
            {"groups": groups, "distinct_units": distinct, "units": rows.shape[0]},
        )
    ]


def equal_row_groups(rows: np.ndarray, tol: float) -> list[list[int]]:
    """Groups (of 2 or more row indices) of rows within ``tol`` of a group's first row in
    every entry. Rows are sorted by their first entry, so only near neighbours are compared."""
    order = np.argsort(rows[:, 0], kind="stable")
    ordered, first = rows[order], rows[order, 0]
    taken = np.zeros(len(rows), dtype=bool)
    groups = []
    for a in range(len(rows)):
        if taken[a]:
            continue
        end = np.searchsorted(first, first[a] + tol, side="right")
        candidates = np.arange(a + 1, end)
        candidates = candidates[~taken[candidates]]
        close = candidates[np.abs(ordered[candidates] - ordered[a]).max(axis=1) <= tol]
        if close.size:
            taken[close] = True
            groups.append(sorted(order[np.concatenate([[a], close])].tolist()))
    return sorted(groups)


def overfitting_findings(
    train: list[float], test: list[float], higher_is_better: bool, tolerance: float
) -> list[Finding]:
    """The train/test gap is growing: since the best test epoch, test got worse (by more than
    ``tolerance`` of its best value) while train kept improving."""
    if len(test) < 3:
        return []
    sign = -1.0 if higher_is_better else 1.0
    bad_train, bad_test = sign * np.asarray(train), sign * np.asarray(test)
    best = int(np.argmin(bad_test))
    worse_test = bad_test[-1] - bad_test[best]
    if best == len(test) - 1 or worse_test <= tolerance * max(abs(test[best]), 1e-12):
        return []
    if bad_train[-1] >= bad_train[best]:
        return []
    gap_then, gap_now = bad_test[best] - bad_train[best], bad_test[-1] - bad_train[-1]
    metric = "accuracy" if higher_is_better else "loss"
    return [
        Finding(
            "over-fitting",
            "(model)",
            f"the test {metric} was best at epoch {best} ({test[best]:.4g}) and is now "
            f"{test[-1]:.4g} while the train {metric} kept improving ({train[best]:.4g} → "
            f"{train[-1]:.4g}): the train/test gap grew from {gap_then:.3g} to {gap_now:.3g}",
            {
                "best_epoch": best,
                "epochs": len(test),
                "test_best": test[best],
                "test_now": test[-1],
                "train_at_best": train[best],
                "train_now": train[-1],
                "gap_at_best": float(gap_then),
                "gap_now": float(gap_now),
            },
        )
    ]
