"""Ops of neural-network heads: softmax, log-softmax, one-hot, dropout."""

import numpy as np

from .. import random
from .base import Tensor, record, reduce_axes
from .registry import register


@register
def softmax(a, dim=-1):
    """Z_i = e^(A_i − m) / Σ_j e^(A_j − m) along `dim`.   δ_A = Z ⊙ (δ_Z − Σ_j δ_Z,j Z_j)."""
    (d,) = reduce_axes(a.array.ndim, dim)
    _check_float(a, "softmax")
    e = np.exp(a.array - a.array.max(axis=d, keepdims=True, initial=-np.inf))  # initial: dim of 0
    z = e / e.sum(axis=d, keepdims=True)

    def backward(g):
        return (z * (g - (g * z).sum(axis=d, keepdims=True)),)

    return record(z, (a,), backward, "softmax")


@register
def log_softmax(a, dim=-1):
    """Z = A − m − ln Σ_j e^(A_j − m) along `dim`.   δ_A = δ_Z − e^Z Σ_j δ_Z,j."""
    (d,) = reduce_axes(a.array.ndim, dim)
    _check_float(a, "log_softmax")
    shifted = a.array - a.array.max(axis=d, keepdims=True, initial=-np.inf)
    with np.errstate(divide="ignore"):  # a dim of size 0: ln 0, broadcast to nothing
        z = shifted - np.log(np.exp(shifted).sum(axis=d, keepdims=True))

    def backward(g):
        return (g - np.exp(z) * g.sum(axis=d, keepdims=True),)

    return record(z, (a,), backward, "log_softmax")


def _check_float(a, name):
    """PyTorch has no softmax of integers either (it asks for a dtype=)."""
    if a.array.dtype.kind != "f":
        raise TypeError(f"{name} needs a floating point tensor, got dtype {a.array.dtype}")


@register(differentiable=False)
def one_hot(a, num_classes=-1):
    """Int64 tensor with a 1 at each index of `a` along a new last axis (no gradient)."""
    idx = a.array if isinstance(a, Tensor) else np.asarray(a)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects an integer tensor, got dtype {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes - 1}], got "
            f"[{idx.min()}, {idx.max()}]"
        )
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[idx])


@register
def dropout(a, p=0.5, training=True, generator=None):
    """Inverted dropout: Z = A ⊙ M / (1 − p), M_i ~ Bernoulli(1 − p), a fresh M per call.

    δ_A = δ_Z ⊙ M / (1 − p) (the same mask). Identity when not training or p = 0.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return a
    rng = generator if generator is not None else random.default_generator()
    if p == 1:
        scale = np.zeros_like(a.array)
    else:
        draw = np.float32 if a.array.dtype == np.float32 else np.float64  # float32 draws: faster
        scale = (rng.random(a.array.shape, dtype=draw) >= p).astype(a.array.dtype)
        scale *= 1 / (1 - p)
    return record(a.array * scale, (a,), lambda g: (g * scale,), "dropout")
