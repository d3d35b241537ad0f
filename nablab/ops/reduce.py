"""Reductions over dimensions: `dim` (int or tuple, None = all) and `keepdim`; NumPy's
`axis`/`keepdims` are accepted as aliases. The backward of a reduction spreads δ_Z back
over the reduced axes (`_spread`)."""

from collections import namedtuple

import numpy as np

from .. import dtypes
from .base import Tensor, keep, record, reduce_axes
from .elementwise import clone
from .registry import register

MinMax = namedtuple("MinMax", ["values", "indices"])


def _kept(shape, axes):
    """The output shape with keepdim=True: the reduced axes kept with size 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, kept, shape):
    """δ_Z re-inserted along the reduced axes (`kept` shape) and broadcast to `shape`."""
    out = np.empty(shape, g.dtype)
    out[...] = g.reshape(kept)
    return out


@register
def sum(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Z = Σ_axes A.   δ_A = δ_Z broadcast over the summed axes."""
    axes, shape = reduce_axes(a.array.ndim, dim, axis), a.array.shape
    x = a.array if a.array.dtype.kind in "fc" else a.array.astype(np.int64)
    z = np.add.reduce(x, axis=axes, keepdims=keep(keepdim, keepdims))
    kept = _kept(shape, axes)
    return record(np.asarray(z), (a,), lambda g: (_spread(g, kept, shape),), "sum")


@register
def mean(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Z = (1/n) Σ_axes A.   δ_A = δ_Z / n broadcast over the averaged axes (NaN for n = 0)."""
    if a.array.dtype.kind != "f":
        raise TypeError(f"mean needs a floating point tensor, got dtype {a.array.dtype}")
    axes, shape = reduce_axes(a.array.ndim, dim, axis), a.array.shape
    n = int(np.prod([shape[i] for i in axes]))
    inverse = 1 / n if n else np.nan  # the mean of nothing is NaN (as PyTorch)
    z = np.asarray(np.add.reduce(a.array, axis=axes, keepdims=keep(keepdim, keepdims)) * inverse)
    kept = _kept(shape, axes)
    return record(z, (a,), lambda g: (_spread(g * inverse, kept, shape),), "mean")


@register
def var(a, dim=None, keepdim=False, *, correction=None, unbiased=None, axis=None, keepdims=None):
    """Z = Σ (A − Ā)² / dof, dof = max(n − c, 0), c = 1 by default (Bessel).
    δ_A = δ_Z ⊙ 2(A − Ā)/dof.   dof = 0 (one element, or none) gives NaN, as PyTorch."""
    axes, kd, dof, centred = _moments_args(a, dim, axis, keepdim, keepdims, correction, unbiased)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.asarray(np.sum(centred * centred, axis=axes, keepdims=kd) / dof)

    kept = _kept(a.array.shape, axes)
    two_over_dof = 2 / dof if dof else np.inf

    def backward(g):
        with np.errstate(invalid="ignore"):
            return (g.reshape(kept) * centred * two_over_dof,)

    return record(z, (a,), backward, "var")


@register
def std(a, dim=None, keepdim=False, *, correction=None, unbiased=None, axis=None, keepdims=None):
    """Z = √var(A).   δ_A = δ_Z ⊙ (A − Ā) / (dof·Z),  0 where Z = 0 (as PyTorch)."""
    axes, kd, dof, centred = _moments_args(a, dim, axis, keepdim, keepdims, correction, unbiased)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.asarray(np.sqrt(np.sum(centred * centred, axis=axes, keepdims=kd) / dof))

    kept = _kept(a.array.shape, axes)

    def backward(g):
        zk = z.reshape(kept)
        divisor = np.where(zk == 0, np.inf, dof * zk)  # constant slice: A − Ā = 0
        return (g.reshape(kept) * centred / divisor,)

    return record(z, (a,), backward, "std")


def _moments_args(a, dim, axis, keepdim, keepdims, correction, unbiased):
    """(axes, keepdim, dof = max(n − c, 0), A − Ā); with no elements A − Ā is empty."""
    if correction is None:
        correction = 1 if unbiased is None else int(bool(unbiased))
    axes = reduce_axes(a.array.ndim, dim, axis)
    n = int(np.prod([a.array.shape[i] for i in axes]))
    centred = a.array - (a.array.mean(axis=axes, keepdims=True) if n else np.nan)
    return axes, keep(keepdim, keepdims), n - correction if n > correction else 0, centred


@register
def max(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Z = max A.  Without dim: δ shared evenly among the maxima (the NaNs, if any: the max is
    NaN).  With dim: returns (values, indices) as PyTorch does, δ goes to the index taken (the
    first NaN, if any); a dim of size 0 is an IndexError, as in PyTorch."""
    return _extreme(a, dim, axis, keep(keepdim, keepdims), np.argmax, "max")


@register
def min(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Z = min A; see `max`."""
    return _extreme(a, dim, axis, keep(keepdim, keepdims), np.argmin, "min")


def _extreme(a, dim, axis, kd, arg, name):
    x = a.array
    if dim is None and axis is None:
        if kd:
            raise TypeError(
                f"{name}(): keepdim=True needs a dim, as in PyTorch: {name}(dim, keepdim=True) "
                f"gives (values, indices) along dim; {name}() takes no keepdim"
            )
        if x.size == 0:
            raise RuntimeError(
                f"{name}(): cannot reduce an empty tensor of shape {x.shape} without a dim"
            )
        z = np.asarray(x.flat[arg(x)])

        def backward_all(g):
            hits = (x == z) | (np.isnan(x) & np.isnan(z))  # a NaN extreme: the NaNs share δ
            return (g * hits / np.count_nonzero(hits),)

        return record(z, (a,), backward_all, name)
    if x.ndim == 0:
        reduce_axes(0, dim, axis)
        return MinMax(clone(a), Tensor._wrap(np.zeros((), np.int64)))
    (d,) = reduce_axes(x.ndim, dim, axis)
    if x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    idx = np.expand_dims(arg(x, axis=d), d)
    z = np.take_along_axis(x, idx, axis=d)

    def backward(g):
        gx = np.zeros_like(x)
        np.put_along_axis(gx, idx, g if kd else np.expand_dims(g, d), axis=d)
        return (gx,)

    values = record(z if kd else np.squeeze(z, d), (a,), backward, name)
    return MinMax(values, Tensor._wrap(idx if kd else np.squeeze(idx, d)))


@register(differentiable=False)
def argmax(a, dim=None, keepdim=False, *, axis=None):
    """Index of the largest value (of the flattened tensor when dim is None; keepdim then
    gives shape (1, 1, ...), as in PyTorch); no gradient."""
    return _arg(np.argmax, a, dim, axis, keepdim)


@register(differentiable=False)
def argmin(a, dim=None, keepdim=False, *, axis=None):
    """Index of the smallest value; see `argmax`."""
    return _arg(np.argmin, a, dim, axis, keepdim)


def _arg(fn, a, dim, axis, keepdim):
    x = a.array
    if dim is None and axis is None:
        shape = (1,) * x.ndim if keepdim else ()
        return Tensor._wrap(np.asarray(fn(x), dtype=np.int64).reshape(shape))
    (d,) = reduce_axes(x.ndim, dim, axis)
    return Tensor._wrap(fn(x, axis=d, keepdims=keepdim).astype(np.int64))


@register(differentiable=False)
def all(a, dim=None, keepdim=False):
    """Whether every element (along `dim`) is nonzero: a bool tensor."""
    axes = reduce_axes(a.array.ndim, dim)
    return Tensor._wrap(np.asarray(np.all(a.array, axis=axes, keepdims=keepdim)))


@register(differentiable=False)
def any(a, dim=None, keepdim=False):
    """Whether some element (along `dim`) is nonzero: a bool tensor."""
    axes = reduce_axes(a.array.ndim, dim)
    return Tensor._wrap(np.asarray(np.any(a.array, axis=axes, keepdims=keepdim)))


@register
def prod(a, dim=None, keepdim=False):
    """Z = Π_axes A.   δ_A_i = δ_Z ⊙ Π_(j≠i) A_j: the product of the elements before i times
    the product of those after it (exclusive cumulative products), exact where A has zeros."""
    x, axes = a.array, reduce_axes(a.array.ndim, dim)
    if x.dtype.kind not in "fc":
        x = x.astype(np.int64)
    z = np.asarray(np.multiply.reduce(x, axis=axes, keepdims=keepdim))
    kept = _kept(x.shape, axes)
    rest = tuple(i for i in range(x.ndim) if i not in axes)

    def backward(g):
        rows = np.transpose(x, rest + axes).reshape(-1, int(np.prod([x.shape[i] for i in axes])))
        before = np.ones_like(rows)
        after = np.ones_like(rows)
        np.cumprod(rows[:, :-1], axis=1, out=before[:, 1:])
        np.cumprod(rows[:, :0:-1], axis=1, out=after[:, -2::-1])
        others = (before * after).reshape([x.shape[i] for i in rest + axes])
        return (g.reshape(kept) * np.transpose(others, np.argsort(rest + axes)),)

    return record(z, (a,), backward, "prod")


@register
def cumsum(a, dim):
    """Z_k = Σ_(i≤k) A_i along `dim`.   δ_A_i = Σ_(k≥i) δ_Z_k: δ_Z summed from the end."""
    x = a.array
    (d,) = reduce_axes(x.ndim, dim)
    if x.dtype.kind not in "fc":
        x = x.astype(np.int64)
    z = np.cumsum(x, axis=d) if x.ndim else x.copy()

    def backward(g):
        if not g.ndim:
            return (g,)
        return (np.flip(np.cumsum(np.flip(g, d), axis=d), d),)

    return record(z, (a,), backward, "cumsum")


@register
def norm(a, p="fro", dim=None, keepdim=False):
    """Z = (Σ_axes |A|^p)^(1/p); p = 2 = 'fro' by default, p = inf: max |A|, p = 0: the count
    of nonzeros.   δ_A = δ_Z ⊙ sign(A) ⊙ |A|^(p−1) / Z^(p−1): for p = 2, δ_Z ⊙ A / Z (0 where
    Z = 0), for p = 1, δ_Z ⊙ sign A; for p = ±inf δ_Z ⊙ sign A shared evenly among the
    elements where |A| = Z; for p = 0 zero."""
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p must be a number, inf or 'fro', got {p!r}")
    x = a.array
    if x.dtype.kind != "f":
        raise RuntimeError(f"norm: expected a floating point tensor, got dtype {x.dtype}")
    axes = reduce_axes(x.ndim, dim)
    ax = np.abs(x)
    if p == np.inf or p == -np.inf:
        zk = (np.max if p > 0 else np.min)(ax, axis=axes, keepdims=True)
    elif p == 0:
        zk = np.sum(x != 0, axis=axes, keepdims=True).astype(x.dtype)
    elif p == 1:
        zk = np.sum(ax, axis=axes, keepdims=True)
    elif p == 2:
        zk = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    else:
        zk = np.sum(ax**p, axis=axes, keepdims=True) ** (1 / p)

    def backward(g):
        g = g.reshape(zk.shape)
        if p == 0:
            return (np.zeros_like(x),)
        if p == 1:
            return (g * np.sign(x),)
        if p == np.inf or p == -np.inf:
            hits = ax == zk
            return (g * np.sign(x) * hits / np.sum(hits, axis=axes, keepdims=True),)
        safe = np.where(zk == 0, 1, zk)
        if p == 2:
            return (g * x / safe,)
        return (g * np.sign(x) * ax ** (p - 1) / safe ** (p - 1) * (zk != 0),)

    return record(zk if keepdim else np.squeeze(zk, axes), (a,), backward, "norm")


@register
def logsumexp(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Z = m + ln Σ e^(A − m), m = max A (so it never overflows).   δ_A = δ_Z ⊙ e^(A − Z).
    Of no elements: −∞; an integer A is computed in the default float dtype (as PyTorch)."""
    axes, kd, x = reduce_axes(a.array.ndim, dim, axis), keep(keepdim, keepdims), a.array
    if x.dtype.kind != "f":
        x = x.astype(dtypes.get_default_dtype())
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):  # an all −∞ slice gives −∞, as it should
        zk = m + np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True))

    def backward(g):
        return (g.reshape(zk.shape) * np.exp(x - zk),)

    return record(zk if kd else np.squeeze(zk, axes), (a,), backward, "logsumexp")
