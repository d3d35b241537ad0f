"""A Finding: one named problem with the evidence, the likely cause and the fix.

The rules that produce them are small functions of recorded numbers (no model, no hooks):
gradient_rules (zero, vanishing, exploding), unit_rules (dead, saturated, symmetric),
loss_rules (not decreasing, oscillating, diverging, over-fitting) and setup_rules (weights
that never change, a forgotten zero_grad, a probability fed to a logits loss), run in order
by the one list rules.RULES.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .display import findings_html

SEVERITIES = ("warning", "error")  # error: training is broken; warning: it is held back


@dataclass
class Finding:
    """A named problem: a stable ``kind`` (e.g. "dead-units"), the ``layer`` it concerns
    (and its ``units``), a sentence saying what is wrong, the numbers that show it, a
    ``severity`` ("warning" or "error"), the likely ``cause`` and the ``fix``."""

    kind: str
    layer: str
    message: str
    evidence: dict = field(default_factory=dict)
    severity: str = "warning"
    cause: str = ""
    fix: str = ""
    units: list = field(default_factory=list)

    def _repr_html_(self) -> str:
        return findings_html([self])

    def __str__(self) -> str:
        text = f"[{self.kind}] {self.layer}: {self.message}"
        if self.cause:
            text += f". Cause: {self.cause}"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


def persistent(mask: np.ndarray) -> bool:
    """A condition over recorded steps holds on at least half of them, the last included."""
    mask = np.asarray(mask, dtype=bool)
    return mask.size > 0 and bool(mask[-1]) and mask.mean() >= 0.5


def span(steps: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """(first, last) recorded step where ``mask`` holds."""
    where = np.flatnonzero(mask)
    return int(steps[where[0]]), int(steps[where[-1]])


def steps_text(first: int, last: int) -> str:
    return f"at step {first}" if first == last else f"from step {first} to step {last}"
