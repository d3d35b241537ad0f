"""Finite-difference check of analytic gradients.

For a function f of tensors and a fixed random weight R of f's output shape, compare
∂⟨R, f(x)⟩/∂x from `backward()` with central differences
(⟨R, f(x + εe_k)⟩ − ⟨R, f(x − εe_k)⟩) / 2ε, element by element, in float64.
"""

import numpy as np

from .grad_mode import enable_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numeric gradients differ; the message says where."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True if every input's analytic gradient matches central differences, else raise.

    `inputs`: a Tensor or tuple of Tensors (and other arguments passed through). Tensors
    that require grad are checked; they are copied to float64 first.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    args = [
        Tensor(a.array, dtype=np.float64, requires_grad=a.requires_grad)
        if isinstance(a, Tensor) and a.array.dtype.kind == "f"
        else a
        for a in inputs
    ]
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, nothing to check")
    with enable_grad():
        out = _first_tensor(fn(*args))
    weight = np.random.default_rng(seed).standard_normal(out.shape)

    def objective():
        return float(np.sum(_first_tensor(fn(*args)).array * weight))

    with enable_grad():
        out.backward(weight)
    for i in checked:
        x = args[i].array
        analytic = np.zeros_like(x) if args[i].grad is None else args[i].grad.array
        numeric = np.zeros_like(x)
        for k in np.ndindex(x.shape):
            orig = x[k]
            x[k] = orig + eps
            plus = objective()
            x[k] = orig - eps
            minus = objective()
            x[k] = orig
            numeric[k] = (plus - minus) / (2 * eps)
        bad = ~np.isclose(analytic, numeric, rtol=rtol, atol=atol)
        if bad.any():
            k = tuple(int(j) for j in np.argwhere(bad)[0])
            raise GradcheckError(
                f"gradcheck: gradient of input {i} differs at element {k}: "
                f"analytic {analytic[k]!r}, numeric {numeric[k]!r} "
                f"({int(bad.sum())} of {bad.size} elements differ; atol={atol}, rtol={rtol})"
            )
    return True


def _first_tensor(out):
    return out[0] if isinstance(out, (tuple, list)) else out
