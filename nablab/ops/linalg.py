"""Matrix products. BLAS does the work; the backward reuses it with transposed views
(no copies), and skips the product for an input that needs no gradient."""

import string

import numpy as np

from .base import operands, record, reduce_axes, shape_error, sum_rows, unbroadcast
from .einsum import einsum
from .registry import register


@register
def matmul(a, b):
    """Z = A @ B (batched, broadcast over leading dims; 1-D operands as in NumPy).

    δ_A = δ_Z @ Bᵀ,  δ_B = Aᵀ @ δ_Z (summed over broadcast batch dims).
    """
    a, b = operands(a, b)
    x, w = a.array, b.array
    if x.ndim == 0 or w.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dim, got shapes {x.shape} and {w.shape}"
        )
    try:
        z = x @ w
    except ValueError:
        raise shape_error("matmul", x.shape, w.shape, why="cannot be multiplied") from None
    if x.ndim == 2 and w.ndim == 2:
        x_saved = x if b.requires_grad else None  # saved only where a gradient needs it
        w_saved = w if a.requires_grad else None

        def backward2d(g):
            return (
                None if w_saved is None else g @ w_saved.T,
                None if x_saved is None else x_saved.T @ g,
            )

        return record(z, (a, b), backward2d, "matmul")

    def backward(g):
        xm = x[None, :] if x.ndim == 1 else x
        wm = w[:, None] if w.ndim == 1 else w
        gm = g
        if w.ndim == 1:
            gm = np.expand_dims(gm, -1)
        if x.ndim == 1:
            gm = np.expand_dims(gm, -2)
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(gm @ np.swapaxes(wm, -1, -2), xm.shape).reshape(x.shape)
        if b.requires_grad:
            gb = unbroadcast(np.swapaxes(xm, -1, -2) @ gm, wm.shape).reshape(w.shape)
        return ga, gb

    return record(z, (a, b), backward, "matmul")


@register
def linear(x, weight, bias=None):
    """Z = X Wᵀ + b, W of shape (out, in) as in PyTorch: one node instead of three.

    δ_X = δ_Z W,  δ_W = δ_Zᵀ X,  δ_b = Σ_rows δ_Z  (rows = every leading dim of X).
    """
    x, weight = operands(x, weight)
    xd, wd = x.array, weight.array
    if wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1]:
        raise shape_error(
            "linear", xd.shape, wd.shape, why="do not fit: need (..., in) and (out, in)"
        )
    z = xd @ wd.T
    if bias is not None:
        x, bias = operands(x, bias)
        if bias.array.shape != (wd.shape[0],):
            why = "differ: the bias must have shape (out,)"
            raise shape_error("linear", bias.array.shape, (wd.shape[0],), why=why)
        z += bias.array
    parents = (x, weight) if bias is None else (x, weight, bias)

    rows = (xd if xd.ndim == 2 else xd.reshape(-1, xd.shape[-1])) if weight.requires_grad else None
    w_saved = wd if x.requires_grad else None  # saved only where a gradient needs it
    with_bias, bias_grad = bias is not None, bias is not None and bias.requires_grad

    def backward(g):
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        gx = None if w_saved is None else g @ w_saved
        gw = None if rows is None else g2.T @ rows
        if not with_bias:
            return gx, gw
        return gx, gw, sum_rows(g2) if bias_grad else None

    return record(z, parents, backward, "linear")


@register
def mm(a, b):
    """Z = A @ B for two matrices, (n, m) @ (m, p).   δ_A = δ_Z Bᵀ,  δ_B = Aᵀ δ_Z."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected two 2-D tensors, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


@register
def bmm(a, b):
    """Z_i = A_i @ B_i for batches (b, n, m) and (b, m, p), no broadcasting (as PyTorch)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"bmm: expected two 3-D tensors with the same batch size, got shapes {a.shape} "
            f"and {b.shape}"
        )
    return matmul(a, b)


@register
def tensordot(a, b, dims=2):
    """Z = Σ over the paired dims of A ⊗ B: `dims=n` pairs A's last n dims with B's first n,
    `dims=([i, ...], [j, ...])` pairs A's dim i with B's dim j. An einsum, so δ is one too."""
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} does not fit shapes {a.shape}, {b.shape}")
        pairs = list(zip(range(a.ndim - dims, a.ndim), range(dims)))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(f"tensordot: dims {dims} pair {len(da)} dims with {len(db)}")
        pairs = list(zip(reduce_axes(a.ndim, da), reduce_axes(b.ndim, db)))
    for i, j in pairs:
        if a.shape[i] != b.shape[j]:
            raise shape_error(
                "tensordot", a.shape, b.shape, why=f"differ in paired dims {i} and {j}"
            )
        sb[j] = sa[i]
    paired = {i for i, _ in pairs}, {j for _, j in pairs}
    out = [c for i, c in enumerate(sa) if i not in paired[0]]
    out += [c for j, c in enumerate(sb) if j not in paired[1]]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)
