"""Stochastic gradient descent, with momentum, Nesterov, and two kinds of weight decay.

One step, with learning rate α, gradient g of parameter θ (PyTorch's algorithm):

    g ← −g                          if maximize
    g ← g + λθ                      weight decay, coupled (the default: λ = weight_decay)
    v ← g                           first step with momentum μ > 0
    v ← μv + (1 − τ)g               later steps (τ = dampening)
    g ← g + μv  if nesterov, else  g ← v
    θ ← θ − αg

Two forms of weight decay, both with `weight_decay`:
- coupled (PyTorch's, `decoupled=False`): λθ is added to the gradient, so it passes
  through momentum; plain SGD then does θ ← (1 − αλ)θ − αg (the L2 penalty λ/2·‖θ‖²).
- decoupled (the seeds', `decoupled=True`, NNDL's BatchGD, seeds/002):
  θ ← (1 − β)θ − αg with β = weight_decay: the parameter shrinks by the factor (1 − β)
  before the gradient step, independent of α and untouched by momentum. With β = αλ it
  equals the coupled form for plain SGD.
"""

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        *,
        maximize=False,
        decoupled=False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            decoupled=decoupled,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        for name in ("lr", "momentum", "weight_decay"):
            self._check_number(group, name)
        decoupled, weight_decay = group["decoupled"], group["weight_decay"]
        self._check(
            not decoupled or weight_decay < 1, "weight_decay", weight_decay, "β < 1 (decoupled)"
        )
        if group["nesterov"]:
            self._check(
                group["momentum"] > 0 and group["dampening"] == 0,
                "nesterov",
                True,
                "a momentum > 0 and zero dampening (Nesterov momentum needs both)",
            )

    def _update(self, param, grad, state, group):
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if weight_decay != 0 and not group["decoupled"]:
            grad = grad + weight_decay * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        if weight_decay != 0 and group["decoupled"]:
            param *= 1 - weight_decay
        param -= lr * grad
