"""Normalisation: one fused op for batch and layer normalisation (NNDL §7.5).

Both standardise X over some axes and scale and shift the result:

    X̂ = (X − μ) / √(σ² + ε),    Z = γ ⊙ X̂ + β

with μ and σ² the mean and the biased variance (divided by the count M, not M − 1) over the
normalised axes. Batch normalisation takes them over the batch (and length) axes, one pair
per channel; layer normalisation over the trailing axes, one pair per example. Batch
normalisation in eval mode uses fixed running statistics instead, and Z is then an affine
function of X.
"""

import numpy as np

from .base import operands, record, unbroadcast


def normalize(x, axes, weight=None, bias=None, eps=1e-5, stats=None, view=None, op="normalize"):
    """Z = γ ⊙ (X − μ) / √(σ² + ε) + β, μ and σ² over `axes` of X (kept as size 1), or the
    fixed `stats` = (μ, σ²) when given (arrays broadcastable to X). γ and β broadcast to X,
    read as shape `view` when given (batch norm's (C,) as (1, C, 1)).

    With batch statistics, let δ_X̂ = δ_Z ⊙ γ and mean_a the mean over `axes`:
        δ_X = (δ_X̂ − mean_a(δ_X̂) − X̂ ⊙ mean_a(δ_X̂ ⊙ X̂)) / √(σ² + ε)
    (μ and σ² depend on X: the two means remove the parts of δ_X̂ that move them).
    With fixed statistics: δ_X = δ_X̂ / √(σ² + ε).
    δ_γ = Σ δ_Z ⊙ X̂,  δ_β = Σ δ_Z, each summed over the axes γ and β were broadcast along.

    Returns (Z, μ, σ²) with μ and σ² the statistics used (NumPy arrays, shape kept).
    """
    if weight is not None:
        x, weight = operands(x, weight)
    if bias is not None:
        x, bias = operands(x, bias)
    parents = (x, *(p for p in (weight, bias) if p is not None))
    xd = x.array
    if stats is None:
        mean = xd.mean(axis=axes, keepdims=True)
        centered = xd - mean
        var = np.mean(centered * centered, axis=axes, keepdims=True)
    else:
        mean, var = (np.asarray(s, dtype=xd.dtype) for s in stats)
        centered = xd - mean
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = centered * inv_std
    gamma = None if weight is None else _view(weight.array, view)
    z = xhat if gamma is None else xhat * gamma
    if bias is not None:
        z = z + _view(bias.array, view)
    batch_stats = stats is None

    def backward(g):
        grads = []
        if x.requires_grad:
            dxhat = g if gamma is None else g * gamma
            if batch_stats:
                dxhat = (
                    dxhat
                    - dxhat.mean(axis=axes, keepdims=True)
                    - xhat * np.mean(dxhat * xhat, axis=axes, keepdims=True)
                )
            grads.append(dxhat * inv_std)
        else:
            grads.append(None)
        if weight is not None:
            grads.append(_reduce(g * xhat, weight, view) if weight.requires_grad else None)
        if bias is not None:
            grads.append(_reduce(g, bias, view) if bias.requires_grad else None)
        return tuple(grads)

    return record(z, parents, backward, op), mean, var


def _view(array, shape):
    return array if shape is None else array.reshape(shape)


def _reduce(g, param, view):
    """δ of a parameter broadcast to g's shape (through `view`): g summed over those axes."""
    shape = param.array.shape
    return unbroadcast(g, shape if view is None else tuple(view)).reshape(shape)
