"""Norm penalties for a structured risk R = L + λ Ω(W) (seeds/000, exercise 4-7).

Only weights are penalised by default: a bias shifts every sample alike and adds no
curvature to the model, so penalising it does not fight overfitting and can cause
underfitting. The rule: a parameter is a bias when the last part of its dotted name
starts with "bias" (`bias`, `bias_ih_l0`, `bias_hh_l0_reverse`, ...); every other
parameter is a weight.
"""

from ..creation import zeros
from ..ops.elementwise import abs as _abs


def _penalised(model, include_bias):
    for name, param in model.named_parameters():
        if include_bias or not name.rsplit(".", 1)[-1].startswith("bias"):
            yield param


def _total(terms):
    total = None
    for term in terms:
        total = term if total is None else total + term
    return zeros(()) if total is None else total


def l1_penalty(model, include_bias=False):
    """Ω = Σ |W| over the model's weights (and biases with `include_bias=True`);
    differentiable: ∂Ω/∂W = sign(W)."""
    return _total(_abs(p).sum() for p in _penalised(model, include_bias))


def l2_penalty(model, include_bias=False):
    """Ω = Σ W² over the model's weights (and biases with `include_bias=True`);
    differentiable: ∂Ω/∂W = 2W. (Weight decay λ/2 · Ω adds λW to each gradient.)"""
    return _total((p * p).sum() for p in _penalised(model, include_bias))
