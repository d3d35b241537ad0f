"""Activation functions, each with its derivative beside it (seeds/001's overview).

Outputs are reused in the backward where the derivative is a function of the output
(sigmoid, tanh, elu): no second evaluation of an exponential.
"""

import numpy as np

from .base import record
from .elementwise import floating
from .registry import register


@register
def sigmoid(a):
    """Z = σ(A) = 1 / (1 + e^(−A)), as e^(−ln(1 + e^(−A))): finite for any A.

    δ_A = δ_Z ⊙ Z ⊙ (1 − Z).
    """
    a = floating(a)
    z = np.logaddexp(0, -a.array, out=np.empty_like(a.array))  # an array even when 0-d
    np.negative(z, out=z)
    np.exp(z, out=z)
    return record(z, (a,), lambda g: (g * z * (1 - z),), "sigmoid")


@register
def tanh(a):
    """Z = tanh A.   δ_A = δ_Z ⊙ (1 − Z²)."""
    a = floating(a)
    z = np.tanh(a.array)
    return record(z, (a,), lambda g: (g * (1 - z * z),), "tanh")


@register
def relu(a):
    """Z = max(A, 0).   δ_A = δ_Z ⊙ (A > 0), computed as δ_Z ⊙ sign(Z) (float × float is
    faster in NumPy than float × bool; sign(Z) is 1 where A > 0 and 0 elsewhere)."""
    z = np.maximum(a.array, 0)
    return record(z, (a,), lambda g: (g * np.sign(z),), "relu")


@register
def leaky_relu(a, negative_slope=0.01):
    """Z = A if A > 0 else s·A.   δ_A = δ_Z ⊙ (1 if A > 0 else s)."""
    x, s = a.array, negative_slope
    positive = x > 0
    z = np.where(positive, x, x * s)
    return record(z, (a,), lambda g: (np.where(positive, g, g * s),), "leaky_relu")


@register
def elu(a, alpha=1.0):
    """Z = A if A > 0 else α(e^A − 1).   δ_A = δ_Z ⊙ (1 if A > 0 else Z + α)."""
    x = a.array
    positive = x > 0
    z = np.where(positive, x, alpha * np.expm1(np.minimum(x, 0)))
    return record(z, (a,), lambda g: (np.where(positive, g, g * (z + alpha)),), "elu")


@register
def softplus(a, beta=1.0, threshold=20.0):
    """Z = (1/β) ln(1 + e^(βA)), and Z = A where βA > threshold (PyTorch's cut-off).

    δ_A = δ_Z ⊙ σ(βA)  (1 above the threshold).
    """
    x = a.array
    bx = beta * x
    linear = bx > threshold
    z = np.where(linear, x, np.logaddexp(0, bx) / beta)

    def backward(g):
        s = np.exp(-np.logaddexp(0, -bx))
        return (np.where(linear, g, g * s),)

    return record(z.astype(x.dtype, copy=False), (a,), backward, "softplus")
