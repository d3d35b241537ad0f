"""Gradient clipping and flat parameter vectors (`nablab.nn.utils`), as in PyTorch."""

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..creation import from_numpy
from ..ops.shape import cat, reshape


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Rescale gradients in place so that their joint norm is at most `max_norm`.

    total = ‖(‖g₁‖_p, ‖g₂‖_p, ...)‖_p (p = norm_type, 'inf' for the max |g|); if
    total > max_norm every g is multiplied by max_norm / (total + 10⁻⁶).
    Returns the total norm before clipping, as a Tensor.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    dtype = grads[0].array.dtype
    if math.isinf(norm_type):
        norms = [np.abs(g.array).max(initial=0) for g in grads]
        total = np.asarray(max(norms), dtype)
    else:
        norms = [np.linalg.norm(g.array.ravel(), norm_type) for g in grads]
        total = np.asarray(np.linalg.norm(np.array(norms, dtype), norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g.array *= coef.astype(g.array.dtype)
    return from_numpy(total)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g.array, -clip_value, clip_value, out=g.array)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D Tensor (differentiable)."""
    return cat([reshape(p, -1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D `vec` into the parameters' data, in place."""
    data = vec.array if isinstance(vec, Tensor) else np.asarray(vec)
    start = 0
    for p in parameters:
        n = p.array.size
        if start + n > data.size:
            raise ValueError(f"vector_to_parameters: vec has {data.size} elements, too few")
        p.array[...] = data[start : start + n].reshape(p.array.shape)
        start += n
    if start != data.size:
        raise ValueError(
            f"vector_to_parameters: vec has {data.size} elements, the parameters {start}"
        )
