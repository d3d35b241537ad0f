"""What every op shares: turning operands into Tensors, the one unbroadcast helper,
dimension arguments, and error messages that name the op and the shapes."""

import functools

import numpy as np

from .. import dtypes
from ..autograd.tensor import Tensor, as_array, record
from .registry import register


def const(value, dtype):
    """A constant leaf (no gradient) holding `value` as `dtype`."""
    return Tensor._wrap(np.asarray(value, dtype=dtype))


def as_tensor_like(value, like):
    """`value` as a Tensor; a Python or NumPy scalar takes the dtype PyTorch would give it."""
    if isinstance(value, Tensor):
        return value
    kind = type(value)
    if kind is float or kind is int:  # the common case, e.g. x * 0.5
        dtype = like.array.dtype
        if kind is float and dtype.kind != "f":
            dtype = dtypes.get_default_dtype()
        return Tensor._wrap(np.array(value, dtype))
    if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return const(value, dtypes.scalar_dtype(value, like.array.dtype))
    return Tensor._wrap(as_array(value))


def operands(a, b):
    """(a, b) as Tensors of one dtype under PyTorch's promotion rules."""
    if not isinstance(b, Tensor):
        b = as_tensor_like(b, a)
    elif not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    da, db = a.array.dtype, b.array.dtype
    if da is not db and da != db:
        common = dtypes.promote(da, db)
        if da != common:
            a = to_dtype(a, common)
        if db != common:
            b = to_dtype(b, common)
    return a, b


@register(public=False)
def to_dtype(a, dtype):
    """Z = A cast to `dtype`.  δ_A = δ_Z cast back to A's dtype (floats only)."""
    if a.array.dtype == dtype:
        return a
    src = a.array.dtype

    def backward(g):
        return (g.astype(src),)

    out = record(a.array.astype(dtype), (a,) if dtype.kind == "f" else (), backward, "to")
    return out


def unbroadcast(g, shape):
    """Sum δ over the axes NumPy broadcast, so it has `shape` again.

    If Z = A + B broadcast A from `shape`, each element of A fed every Z element along
    the broadcast axes, so δ_A sums δ_Z over them (leading axes, and axes of size 1).
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    rows = g.ndim - 2
    if rows in axes and g.dtype.kind == "f":
        g = sum_rows(g)[..., None, :]
        axes = tuple(a for a in axes if a != rows)
    return np.add.reduce(g, axis=axes).reshape(shape)


def sum_rows(g):
    """Σ over the rows (axis −2) of a float array as 1ᵀ g: (..., n, k) → (..., k). BLAS's
    matrix-vector product is 3-9x NumPy's reduction along that axis."""
    ones = _ones(g.shape[-2], g.dtype)
    return ones @ g if g.ndim == 2 else (ones[None] @ g)[..., 0, :]


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def shape_error(op, *shapes, why="cannot be broadcast together"):
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ValueError(f"{op}: shapes {listed} {why}")


def reduce_axes(ndim, dim, axis=None):
    """Normalise a `dim` argument (int, tuple or None; `axis` is an alias) to a tuple."""
    if axis is not None:
        if dim is not None:
            raise TypeError("pass either dim or axis, not both")
        dim = axis
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"dimension out of range (expected to be in range of "
                f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})"
            )
        out.append(d % ndim if ndim else None)
    return tuple(d for d in out if d is not None)


def keep(keepdim, keepdims):
    """`keepdim` with NumPy's `keepdims` accepted as an alias."""
    return bool(keepdims) if keepdims is not None else bool(keepdim)
