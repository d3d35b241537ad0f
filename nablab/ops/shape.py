"""Ops that move elements without changing them: views, joins, indexing.

Their backward moves δ back the same way: a reshape reshapes δ, a transpose transposes
it, an index scatters δ into zeros (adding where an index repeats).
"""

import numpy as np

from .base import Tensor, operands, record, reduce_axes, shape_error, unbroadcast
from .registry import register


def _sizes(args):
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


@register
def reshape(a, *shape):
    """Z = A with a new shape, same elements in the same order.   δ_A = reshape(δ_Z)."""
    shape, src = _sizes(shape), a.array.shape
    try:
        z = a.array.reshape(shape)
    except ValueError:
        raise shape_error("reshape", src, shape, why="differ in size") from None
    return record(z, (a,), lambda g: (g.reshape(src),), "reshape")


view = reshape


@register
def flatten(a, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    shape = a.array.shape
    if not shape:
        return reshape(a, 1)
    s, e = reduce_axes(len(shape), (start_dim, end_dim))
    return reshape(a, shape[:s] + (-1,) + shape[e + 1 :])


@register
def permute(a, *dims):
    """Z = A with its axes reordered.   δ_A = δ_Z with the inverse order."""
    dims = reduce_axes(a.array.ndim, _sizes(dims))
    if sorted(dims) != list(range(a.array.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {a.array.ndim} dims")
    inverse = tuple(np.argsort(dims))
    return record(a.array.transpose(dims), (a,), lambda g: (g.transpose(inverse),), "permute")


@register
def transpose(a, dim0, dim1):
    """Swap two axes.   δ_A = δ_Z with the same two axes swapped."""
    d0, d1 = reduce_axes(a.array.ndim, (dim0, dim1))
    return record(
        np.swapaxes(a.array, d0, d1), (a,), lambda g: (np.swapaxes(g, d0, d1),), "transpose"
    )


@register
def squeeze(a, dim=None):
    """Drop axes of size 1 (only `dim`, if given and of size 1)."""
    shape = a.array.shape
    if dim is None:
        return reshape(a, tuple(n for n in shape if n != 1))
    dims = reduce_axes(len(shape), dim)
    return reshape(a, tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1)))


@register
def unsqueeze(a, dim):
    """Insert an axis of size 1 at `dim` (−1 appends)."""
    shape = a.array.shape
    (d,) = reduce_axes(len(shape) + 1, dim)
    return reshape(a, shape[:d] + (1,) + shape[d:])


@register(public=False)
def expand(a, *sizes):
    """Broadcast size-1 axes to `sizes` (−1 keeps a size).   δ_A = δ_Z summed back."""
    sizes, src = _sizes(sizes), a.array.shape
    lead = len(sizes) - len(src)
    if lead < 0:
        raise shape_error("expand", src, sizes, why="cannot be expanded: too few sizes")
    target = tuple(src[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    try:
        z = np.broadcast_to(a.array, target)
    except ValueError:
        raise shape_error("expand", src, sizes, why="cannot be expanded") from None
    return record(z, (a,), lambda g: (unbroadcast(g, src),), "expand")


@register(public=False)
def expand_as(a, other):
    return expand(a, other.shape)


@register
def cat(tensors, dim=0):
    """Join along an existing axis.   δ of each input = its slice of δ_Z."""
    tensors = _check_join("cat", tensors)
    (d,) = reduce_axes(tensors[0].array.ndim, dim)
    try:
        z = np.concatenate([t.array for t in tensors], axis=d)
    except ValueError:
        raise shape_error(
            "cat", *(t.array.shape for t in tensors), why=f"differ off dim {d}"
        ) from None
    bounds = np.cumsum([t.array.shape[d] for t in tensors])[:-1]
    return record(z, tuple(tensors), lambda g: tuple(np.split(g, bounds, axis=d)), "cat")


@register
def stack(tensors, dim=0):
    """Join along a new axis.   δ of input i = δ_Z[..., i, ...]."""
    tensors = _check_join("stack", tensors)
    (d,) = reduce_axes(tensors[0].array.ndim + 1, dim)
    try:
        z = np.stack([t.array for t in tensors], axis=d)
    except ValueError:
        raise shape_error("stack", *(t.array.shape for t in tensors), why="must be equal") from None
    n = len(tensors)
    return record(z, tuple(tensors), lambda g: tuple(np.moveaxis(g, d, 0)[:n]), "stack")


def _check_join(name, tensors):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    if any(not isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{name}: expected a sequence of Tensors")
    dtype = tensors[0]
    for t in tensors[1:]:
        dtype = operands(dtype, t)[0]
    return [t if t.array.dtype == dtype.array.dtype else t.to(dtype.array.dtype) for t in tensors]


@register
def split(a, split_size_or_sections, dim=0):
    """Pieces of `split_size` along `dim` (the last may be shorter), or the given sizes."""
    (d,) = reduce_axes(a.array.ndim, dim)
    n = a.array.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the length of dim {d}")
    lead = (slice(None),) * d
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(getitem(a, lead + (slice(s, s + k),)) for s, k in zip(starts, sizes))


@register
def chunk(a, chunks, dim=0):
    """`chunks` pieces of equal size ceil(n / chunks) along `dim` (the last may be shorter)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    (d,) = reduce_axes(a.array.ndim, dim)
    return split(a, -(-a.array.shape[d] // chunks) or 1, d)


@register
def unbind(a, dim=0):
    """The slices along `dim`, each without that axis."""
    (d,) = reduce_axes(a.array.ndim, dim)
    lead = (slice(None),) * d
    return tuple(getitem(a, lead + (i,)) for i in range(a.array.shape[d]))


def as_index(index):
    """An index with Tensors replaced by their arrays (integer or bool)."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


@register(public=False)
def getitem(a, index):
    """Z = A[index] (basic and integer/bool array indexing).

    δ_A = zeros with δ_Z scattered to the indexed places; with integer arrays an element
    picked k times receives the sum of its k gradients (scatter-add, `np.add.at`).
    """
    index = as_index(index)
    basic = _is_basic(index)
    try:
        z = a.array[_as_view(index) if basic else index]
    except IndexError as e:
        raise IndexError(
            f"index {_describe(index)} is out of range for shape {a.array.shape}: {e}"
        ) from None
    shape, dtype = a.array.shape, a.array.dtype

    def backward(g):
        gx = np.zeros(shape, dtype)
        if basic:
            gx[index] = g
        else:
            np.add.at(gx, index, g)
        return (gx,)

    return record(z, (a,), backward, "getitem")


@register(public=False)
def index_put(a, index, values):
    """Z = A with Z[index] = V (what `x[index] = v` writes).

    δ_A = δ_Z with zeros at the written places,  δ_V = δ_Z[index] summed back to V's shape.
    """
    a, v = operands(a, values)
    index = as_index(index)
    z = a.array.copy()
    try:
        z[index] = v.array
    except IndexError as e:
        raise IndexError(
            f"index {_describe(index)} is out of range for shape {a.array.shape}: {e}"
        ) from None
    except ValueError:
        raise shape_error("setitem", v.array.shape, z[index].shape) from None
    sv = v.array.shape

    def backward(g):
        ga = g.copy()
        ga[index] = 0
        return ga, unbroadcast(g[index], sv) if v.requires_grad else None

    return record(z, (a, v), backward, "index_put")


def _as_view(index):
    """A basic index that gives a view even where it picks one element (x[0] of a vector):
    NumPy returns a copied scalar for `x[0]` but a 0-d view for `x[0, ...]`, and in-place
    writes through `x[0]` must reach x, as in PyTorch."""
    parts = index if isinstance(index, tuple) else (index,)
    return parts if Ellipsis in parts else (*parts, Ellipsis)


def _describe(index):
    if isinstance(index, np.ndarray):
        return f"array(shape={index.shape})" if index.size > 8 else repr(index.tolist())
    return repr(index)


@register
def gather(a, dim, index):
    """Z[i][j] = A[i][index[i][j]] for dim=1 (PyTorch's gather).   δ_A: scatter-add of δ_Z."""
    grid, _ = _along(a, dim, index, "gather")
    return getitem(a, grid)


def _along(a, dim, index, op):
    """gather's and scatter_'s index: (the full index into A that `index` makes along `dim`,
    the region of the index's shape)."""
    idx = index.array if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim != a.array.ndim:
        raise ValueError(
            f"{op}: index must have as many dims as the input ({a.array.ndim}), got {idx.ndim}"
        )
    (d,) = reduce_axes(a.array.ndim, dim)
    region = tuple(slice(n) for n in idx.shape)
    grid = list(np.ogrid[region])
    grid[d] = idx
    return tuple(grid), region


@register
def swapaxes(a, axis0, axis1):
    """NumPy's name of `transpose(a, dim0, dim1)` (PyTorch has both)."""
    return transpose(a, axis0, axis1)


@register
def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-D tensors of lengths n₁, n₂, ...: Z_k has shape (n₁, n₂, ...)
    and holds A_k along axis k ('ij', PyTorch's default); 'xy' swaps the first two axes
    (Z_k of shape (n₂, n₁, ...)).   δ_A_k = δ_Z_k summed over every other axis."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(not isinstance(t, Tensor) or t.array.ndim > 1 for t in tensors):
        raise TypeError("meshgrid: expected 0-D or 1-D Tensors")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for k, t in zip(axes, tensors):
        shape[k] = t.array.size
    grids = []
    for k, t in zip(axes, tensors):
        one = [1] * len(tensors)
        one[k] = t.array.size
        grids.append(expand(reshape(t, tuple(one)), tuple(shape)))
    return tuple(grids)


@register
def tril(a, diagonal=0):
    """Z = A below and on the `diagonal`-th diagonal of its last two dims, 0 above.
    δ_A = δ_Z ⊙ M, M the same lower-triangular mask."""
    return _triangle(a, diagonal, np.tril, "tril")


@register
def triu(a, diagonal=0):
    """Z = A above and on the `diagonal`-th diagonal, 0 below.   δ_A = δ_Z ⊙ M."""
    return _triangle(a, diagonal, np.triu, "triu")


def _triangle(a, diagonal, fn, name):
    if a.array.ndim < 2:
        raise RuntimeError(f"{name}: expected a tensor of 2 or more dims, got {a.shape}")
    return record(fn(a.array, diagonal), (a,), lambda g: (fn(g, diagonal),), name)


@register
def repeat_interleave(a, repeats, dim=None):
    """Each element repeated `repeats` times along `dim` (of the flattened tensor when dim is
    None): [a, b] → [a, a, b, b].   δ_A = δ_Z summed over each element's repeats."""
    if not isinstance(repeats, (int, np.integer)) or repeats < 0:
        raise TypeError(f"repeat_interleave: repeats must be a non-negative int, got {repeats!r}")
    if dim is None:
        a, d = reshape(a, -1), 0
    else:
        (d,) = reduce_axes(a.array.ndim, dim)
    shape = a.array.shape

    def backward(g):
        grouped = g.reshape(shape[:d] + (shape[d], repeats) + shape[d + 1 :])
        return (grouped.sum(axis=d + 1),)

    return record(np.repeat(a.array, repeats, axis=d), (a,), backward, "repeat_interleave")


@register(public=False, differentiable=False)
def scatter_(a, dim, index, src=None, *, value=None):
    """In place: A[i][index[i][j]] = src[i][j] for dim=1 (a number `src` or `value`: the
    same everywhere), PyTorch's scatter_; the one-hot idiom
    `zeros(n, k).scatter_(1, y.view(-1, 1), 1)`. Written as `A[grid] = src`, so it follows
    the rules of every in-place write (nablab.ops.inplace)."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter_: expected src (a Tensor) or value (a number)")
    grid, region = _along(a, dim, index, "scatter_")
    a[grid] = src[region] if isinstance(src, Tensor) else src
    return a
