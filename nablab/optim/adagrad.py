"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far.

One step t = 1, 2, ... with learning rate α, gradient g of θ (PyTorch's algorithm):

    g ← g + λθ                        weight decay (coupled)
    α_t = α / (1 + (t − 1)·η)         η = lr_decay
    G ← G + g²                        G starts at initial_accumulator_value
    θ ← θ − α_t · g / (√G + ε)

ε is added outside the square root (NNDL's variant puts it inside).
"""

import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._check_number(group, name)

    def _init_state(self, param, group):
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])
