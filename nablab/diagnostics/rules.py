"""The Monitor's rules: one list, ``RULES``, run in order by ``Monitor.findings()``.

Each rule is a small function ``rule(record, found) -> list[Finding]`` of what a Monitor
recorded (a ``Record``: numbers only, no model, no hooks) and of the findings of the rules
before it (a later rule may stay quiet when an earlier one named the cause). The numeric
tests live in the *_rules.py files of each family; the entries here only pick their inputs
out of the record. A finding whose kind another finding explains (``EXPLAINED_BY``) is
dropped at the end.

To add a rule: a function in the family's file (gradient_rules, unit_rules, loss_rules,
setup_rules) returning Findings, an entry in ``RULES`` (and in ``EXPLAINED_BY`` if another
finding explains it), a rule test in tests/test_monitor_rules.py (the case it names and a
look-alike it must not name) and a labelled run in tests/test_monitor_runs.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activity import ActivationStats
from .findings import Finding
from .gradient_rules import (
    exploding_findings,
    update_findings,
    vanishing_findings,
    zero_gradient_findings,
)
from .loss_rules import (
    diverging_findings,
    oscillating_findings,
    overfitting_findings,
    plateau_findings,
)
from .setup_rules import accumulation_findings, probability_findings, unchanged_findings
from .unit_rules import dead_unit_findings, saturated_unit_findings, symmetric_unit_findings

# a forgotten zero_grad makes gradients grow and the loss swing: those follow from it
EXPLAINED_BY = {
    "zero-grad-forgotten": {"exploding-gradients", "loss-diverging", "loss-oscillating"}
}


@dataclass
class Record:
    """What a Monitor recorded, as the rules read it."""

    steps: int  # steps seen (calls to step())
    events: list[Finding]  # met while recording: NaN/Inf in the loss or a gradient
    parameters: list[str]  # every parameter's name, and per parameter:
    moved: list[bool]  # differs from its first recorded value
    largest_step: list[float]  # the largest ‖∇p‖/‖p‖ seen
    frozen: list[bool]  # requires_grad is False
    loss_falls: bool | None  # None: too few losses to say
    accumulated: dict[str, int]  # parameter: optimizer steps whose backward added into .grad
    pairs: int  # optimizer steps checked
    logits_loss: str  # a logits loss fed by the sigmoid/softmax it applies itself
    logits_input: str
    logits_count: int  # sampled steps where it was so
    logits_seen: int  # sampled steps with a logits loss
    matrices: list[str]  # per weight matrix (layer name) recorded:
    numel: np.ndarray  # its size
    grad_steps: list[int]  # the sampled steps, and at each, per matrix:
    grad: np.ndarray  # ‖∇W‖ (−1: no gradient)
    weight: np.ndarray  # ‖W‖
    updates: list[tuple[int, float, str]]  # per step checked: (step, largest ‖ΔW‖/‖W‖, layer)
    activations: list[tuple[str, ActivationStats]]  # (layer, its statistics)
    units: dict[str, tuple]  # layer: (weight, bias or None) arrays, rows are units
    loss_steps: list[int]
    losses: list[float]
    epochs: list[int]
    train: list[float]
    test: list[float]
    higher_is_better: bool
    dead_after: int
    dead_fraction: float
    saturated_fraction: float
    overfit_tolerance: float


def recorded_events(r: Record, found: list[Finding]) -> list[Finding]:
    return list(r.events)


def weights_unchanged(r: Record, found: list[Finding]) -> list[Finding]:
    args = r.parameters, r.moved, r.largest_step, r.frozen, r.steps, r.loss_falls
    return unchanged_findings(*args)


def zero_grad_forgotten(r: Record, found: list[Finding]) -> list[Finding]:
    return accumulation_findings(r.parameters, r.accumulated, r.pairs)


def probability_into_logits_loss(r: Record, found: list[Finding]) -> list[Finding]:
    return probability_findings(r.logits_loss, r.logits_input, r.logits_count, r.logits_seen)


def gradients(r: Record, found: list[Finding]) -> list[Finding]:
    """Zero, vanishing and exploding gradients of the matrices that had a gradient at every
    recorded step (a frozen or unused one has none to judge) and are not reported as
    unchanged (the gradient of a matrix no optimizer steps accumulates: its numbers mislead).
    Exploding: judged from the update sizes when they show it, else from the gradients."""
    if not r.grad_steps:
        return []
    unchanged = {
        name.removesuffix(".weight")
        for f in found
        if f.kind == "weights-unchanged"
        for name in f.evidence["parameters"]
    }
    keep = [i for i, n in enumerate(r.matrices) if (r.grad[:, i] >= 0).all() and n not in unchanged]
    if not keep:
        return []
    names = [r.matrices[i] for i in keep]
    grad, weight, numel = r.grad[:, keep], r.weight[:, keep], r.numel[keep]
    zero = zero_gradient_findings(names, r.grad_steps, grad)
    dead = set(zero[0].evidence["layers"]) if zero else set()
    live = [i for i, n in enumerate(names) if n not in dead]
    if not live:
        return zero
    args = [names[i] for i in live], r.grad_steps, grad[:, live], weight[:, live]
    blew_up = any(f.kind == "non-finite" for f in r.events)
    vanishing = vanishing_findings(*args, numel[live], r.loss_falls)
    return zero + vanishing + (update_findings(r.updates, blew_up) or exploding_findings(*args))


def dead_units(r: Record, found: list[Finding]) -> list[Finding]:
    return [
        finding
        for name, s in r.activations
        if s.dies and s.samples
        for finding in dead_unit_findings(
            name, s.zero_streak, s.samples, r.dead_after, r.dead_fraction
        )
    ]


def saturated_units(r: Record, found: list[Finding]) -> list[Finding]:
    return [
        finding
        for name, s in r.activations
        if not s.dies and s.samples
        for finding in saturated_unit_findings(
            name, s.activation, s.saturated, s.samples, r.saturated_fraction
        )
    ]


def symmetric_units(r: Record, found: list[Finding]) -> list[Finding]:
    return [
        finding
        for name, (weight, bias) in r.units.items()
        for finding in symmetric_unit_findings(name, weight, bias)
    ]


def loss_diverging(r: Record, found: list[Finding]) -> list[Finding]:
    return diverging_findings(r.loss_steps, r.losses)


def loss_oscillating(r: Record, found: list[Finding]) -> list[Finding]:
    return oscillating_findings(r.loss_steps, r.losses)


def loss_not_decreasing(r: Record, found: list[Finding]) -> list[Finding]:
    """A symptom: named only when no rule before found its cause."""
    return [] if found else plateau_findings(r.loss_steps, r.losses, r.updates)


def over_fitting(r: Record, found: list[Finding]) -> list[Finding]:
    args = r.train, r.test, r.higher_is_better, r.overfit_tolerance, r.epochs
    return overfitting_findings(*args)


# most basic first: NaN/Inf and loop mistakes, gradients, units, the loss, over-fitting
RULES = [
    recorded_events,
    weights_unchanged,
    zero_grad_forgotten,
    probability_into_logits_loss,
    gradients,
    dead_units,
    saturated_units,
    symmetric_units,
    loss_diverging,
    loss_oscillating,
    loss_not_decreasing,
    over_fitting,
]


def run_rules(record: Record, rules=RULES) -> list[Finding]:
    """Every rule in order, then the findings another finding explains dropped."""
    found: list[Finding] = []
    for rule in rules:
        found += rule(record, found)
    explained = {k for f in found for k in EXPLAINED_BY.get(f.kind, ())}
    return [f for f in found if f.kind not in explained]
