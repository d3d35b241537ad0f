"""Adam and AdamW: gradient steps scaled by running estimates of the gradient's moments.

One step t = 1, 2, ... with learning rate α, betas (β₁, β₂), gradient g of θ
(PyTorch's algorithm):

    g ← g + λθ                        Adam's weight decay (coupled, an L2 penalty)
    θ ← (1 − αλ)θ                     AdamW's weight decay (decoupled), instead
    m ← β₁m + (1 − β₁)g               first moment
    v ← β₂v + (1 − β₂)g²              second moment
    v̂ ← max(v̂, v)                     amsgrad only; then v̂ replaces v below
    θ ← θ − α/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

The last line is the bias-corrected m̂ / (√v̂ + ε) with the corrections folded into
the step size, as PyTorch computes it (ε sits outside the square root).
"""

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    _decoupled = False

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        *,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        for name in ("lr", "eps", "weight_decay"):
            self._check_number(group, name)
        betas = group["betas"]
        self._check(
            len(betas) == 2 and all(0.0 <= b < 1.0 for b in betas),
            "betas",
            betas,
            "two numbers in [0, 1)",
        )

    def _init_state(self, param, group):
        state = {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        state["step"] += 1
        step = state["step"]
        if weight_decay != 0:
            if self._decoupled:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(exp_avg_sq) / (1 - beta2**step) ** 0.5 + group["eps"]
        param -= step_size * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay θ ← (1 − αλ)θ (Loshchilov & Hutter), λ = 1e-2 default."""

    _decoupled = True

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
