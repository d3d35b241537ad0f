"""Unit rules: dead ReLU units, saturated sigmoid/tanh units, symmetric (identical) units.

Severity follows the share of the layer lost: a few dead units are the ordinary cost of ReLU
(a Kaiming-initialised MLP on 2-D data often has 5–25 % in a layer) and stay unreported; the
Monitor reports a layer from half of it on (its ``dead_fraction``).
"""

from __future__ import annotations

import numpy as np

from .findings import Finding

SATURATED_ON = 0.9  # a unit is saturated when in its flat zone on this share of inputs


def dead_unit_findings(
    layer: str, zero_streak: np.ndarray, samples_seen: int, dead_after: int, min_fraction: float
) -> list[Finding]:
    """ReLU units whose output was exactly 0 on each of the last min(dead_after, seen) inputs
    (of the sampled forwards), reported when they are at least ``min_fraction`` of the layer.

    Such a unit passes no gradient (δ_A = δ_Z ⊙ (A > 0) = 0), so its incoming weights never
    change again: it is dead. Error when at least 90 % of the layer is dead.
    """
    needed = min(dead_after, samples_seen)
    if needed == 0:
        return []
    dead = np.flatnonzero(zero_streak >= needed)
    if dead.size == 0 or dead.size < min_fraction * zero_streak.size:
        return []
    streak = int(zero_streak[dead].min())
    fraction = dead.size / zero_streak.size
    return [
        Finding(
            "dead-units",
            layer,
            f"{dead.size} of {zero_streak.size} units output exactly 0 on every one of the last "
            f"{streak} inputs, so no gradient flows through them and they cannot recover",
            {"dead": int(dead.size), "of": int(zero_streak.size), "fraction": fraction,
             "inputs": streak, "units": dead.tolist()},
            "error" if fraction >= 0.9 else "warning",
            "their pre-activations are negative on every input: biases initialised too "
            "negative, or a learning rate so large that one step pushed them there",
            "initialise biases at 0 (Kaiming init for the weights), lower the learning rate, "
            "or use Leaky ReLU",
            dead.tolist(),
        )
    ]  # fmt: skip


def saturated_unit_findings(
    layer: str, activation: str, saturated: np.ndarray, samples: int, min_fraction: float
) -> list[Finding]:
    """Sigmoid/tanh units in their flat zone (σ < 0.01 or > 0.99; |tanh| > 0.99, where the
    derivative is below 0.02) on at least SATURATED_ON of the sampled inputs, reported when
    they are at least ``min_fraction`` of the layer: δ_A = δ_Z ⊙ σ'(A) ≈ 0 through them."""
    if samples == 0:
        return []
    share = saturated / samples
    units = np.flatnonzero(share >= SATURATED_ON)
    if units.size == 0 or units.size < min_fraction * share.size:
        return []
    fraction = units.size / share.size
    return [
        Finding(
            "saturated-units",
            layer,
            f"{units.size} of {share.size} {activation} units sit in their flat zone on "
            f"{float(share[units].min()):.0%} or more of {samples} inputs, where the "
            "derivative is below 0.02: almost no gradient passes through them",
            {"saturated": int(units.size), "of": int(share.size), "fraction": fraction,
             "inputs": int(samples), "units": units.tolist()},
            "error" if fraction >= 0.9 else "warning",
            "pre-activations far from 0: inputs not standardised, or weights/biases "
            "initialised too large",
            "standardise the inputs and use Xavier init (or ReLU with Kaiming init)",
            units.tolist(),
        )
    ]  # fmt: skip


def symmetric_unit_findings(layer: str, weight: np.ndarray, bias: np.ndarray | None):
    """Groups of units whose incoming weights and bias are equal, to 1e-5 of the larger of the
    two units' own largest magnitudes (a margin for float32 rounding; all-zero rows are
    equal only exactly).

    Identical units compute the same output and receive the same gradient, so they stay
    identical: the layer works as if it had one unit per group (zero or constant init).
    """
    rows = weight.reshape(weight.shape[0], -1).astype(np.float64)
    if bias is not None:
        rows = np.concatenate([rows, bias.reshape(-1, 1).astype(np.float64)], axis=1)
    if rows.shape[0] < 2 or not np.all(np.isfinite(rows)):
        return []
    groups = equal_row_groups(rows, rtol=1e-5)
    if not groups:
        return []
    distinct = rows.shape[0] - sum(len(g) - 1 for g in groups)
    grouped = sorted(i for g in groups for i in g)
    return [
        Finding(
            "symmetric-units",
            layer,
            f"{len(grouped)} of {rows.shape[0]} units have identical incoming weights "
            f"and bias (in {len(groups)} group(s)): they get identical gradients and stay "
            f"identical, so the layer acts like {distinct} unit(s)",
            {"groups": groups, "distinct_units": distinct, "units": rows.shape[0]},
            "error" if distinct == 1 else "warning",
            "the weights were initialised to one constant (zeros, or nn.init.constant_), so "
            "nothing tells the units apart",
            "initialise weights randomly (Xavier or Kaiming), never to a constant",
            grouped,
        )
    ]


def equal_row_groups(rows: np.ndarray, rtol: float) -> list[list[int]]:
    """Groups (of 2 or more row indices) of rows within rtol · max(‖a‖∞, ‖b‖∞) of a group's
    first row a in every entry. Rows are sorted by their first entry, so only near neighbours
    (within the largest tolerance) are compared."""
    scale = np.abs(rows).max(axis=1)
    order = np.argsort(rows[:, 0], kind="stable")
    ordered, first, scale = rows[order], rows[order, 0], scale[order]
    widest = rtol * scale.max()
    taken = np.zeros(len(rows), dtype=bool)
    groups = []
    for a in range(len(rows)):
        if taken[a]:
            continue
        end = np.searchsorted(first, first[a] + widest, side="right")
        candidates = np.arange(a + 1, end)
        candidates = candidates[~taken[candidates]]
        tol = rtol * np.maximum(scale[candidates], scale[a])
        close = candidates[np.abs(ordered[candidates] - ordered[a]).max(axis=1) <= tol]
        if close.size:
            taken[close] = True
            groups.append(sorted(order[np.concatenate([[a], close])].tolist()))
    return sorted(groups)
