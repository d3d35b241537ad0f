"""RMSprop: divide the gradient by a running root-mean-square of its recent values.

One step with learning rate α, smoothing constant a (`alpha`), gradient g of θ
(PyTorch's algorithm):

    g ← g + λθ                        weight decay (coupled)
    v ← a·v + (1 − a)g²               running mean of g²
    ḡ ← a·ḡ + (1 − a)g                centered only: running mean of g
    s ← √(v − ḡ²) + ε  if centered,  else  s ← √v + ε
    b ← μb + g/s,  θ ← θ − αb         with momentum μ > 0
    θ ← θ − α·g/s                     without

ε is added outside the square root (NNDL's variant puts it inside).
"""

import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        *,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            self._check_number(group, name)

    def _init_state(self, param, group):
        state = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        lr, alpha, momentum = group["lr"], group["alpha"], group["momentum"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            param -= lr * grad / avg
