"""einsum: Z = Σ over the summed letters of the product of the operands, by np.einsum.

The gradient of operand k is itself an einsum: δ_Z times every other operand, summed over
every letter that operand k lacks. Two cases need more than one np.einsum call: a letter
of operand k found nowhere else (ij-> sums j away: δ is broadcast back along j), and a
letter repeated in operand k (ii->i reads the diagonal: δ is written back to it).
"""

import string

import numpy as np

from .base import Tensor, operands, record
from .registry import register


@register
def einsum(equation, *tensors):
    """Z = einsum(equation, A, B, ...), as torch.einsum (also `einsum(eq, [A, B])`); "..."
    stands for the same leading dims in every operand, broadcast as in NumPy.

    δ_A = einsum(δ_Z, B, ... → A's letters), broadcast along A's letters found only in A,
    scattered onto A's diagonal for a repeated letter.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors or any(not isinstance(t, Tensor) for t in tensors):
        raise TypeError("einsum: expected an equation and one or more Tensors")
    first = tensors[0]
    tensors = tuple(operands(first, t)[1] for t in tensors)
    inputs, output = _parse(equation, [t.array.ndim for t in tensors])
    arrays = [t.array for t in tensors]
    spec = ",".join(inputs) + "->" + output
    try:
        z = np.einsum(spec, *arrays)
    except ValueError as e:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(
            f"einsum {equation!r}: operands of shapes {shapes} do not fit: {e}"
        ) from None

    def backward(g):
        return tuple(
            _operand_grad(g, output, inputs, arrays, k) if t.requires_grad else None
            for k, t in enumerate(tensors)
        )

    return record(np.asarray(z), tensors, backward, "einsum")


def _parse(equation, ndims):
    """(input subscripts, output subscripts), explicit, '...' replaced by spare letters."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(
            f"einsum {equation!r}: {len(inputs)} operands in the equation, {len(ndims)} given"
        )
    spare = [c for c in string.ascii_letters if c not in equation]
    n_ellipsis = 0
    for i, (sub, ndim) in enumerate(zip(inputs, ndims)):
        if "..." in sub:
            n = ndim - (len(sub) - 3)
            n_ellipsis = max(n_ellipsis, n)
        elif len(sub) != ndim:
            raise ValueError(
                f"einsum {equation!r}: operand {i} has {ndim} dims but subscripts {sub!r}"
            )
    dots = "".join(spare[:n_ellipsis])
    inputs = [
        sub.replace("...", dots[n_ellipsis - (nd - (len(sub) - 3)) :]) if "..." in sub else sub
        for sub, nd in zip(inputs, ndims)
    ]
    if not arrow:
        letters = "".join(inputs)
        rhs = dots + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in dots)
        )
    else:
        rhs = rhs.replace("...", dots)
    return inputs, rhs


def _operand_grad(g, output, inputs, arrays, k):
    sub, x = inputs[k], arrays[k]
    unique = "".join(dict.fromkeys(sub))
    others = [i for i in range(len(inputs)) if i != k]
    elsewhere = set(output).union(*(inputs[i] for i in others))
    found = "".join(c for c in unique if c in elsewhere)
    spec = ",".join([output] + [inputs[i] for i in others]) + "->" + found
    part = np.einsum(spec, g, *(arrays[i] for i in others))
    size = {c: n for c, n in zip(sub, x.shape)}
    broadcast = [c for c in found if size[c] == 1 and part.shape[found.index(c)] != 1]
    if broadcast:  # a size-1 dim of this operand, broadcast by '...' against the others
        part = np.sum(part, axis=tuple(found.index(c) for c in broadcast), keepdims=True)
    part = part.reshape(tuple(size[c] if c in found else 1 for c in unique))
    full = np.broadcast_to(part, tuple(size[c] for c in unique))
    if len(unique) == len(sub):
        return np.array(full)  # a copy of the broadcast view, owned
    grad = np.zeros(x.shape, g.dtype)  # a repeated letter: only the diagonal was read
    grid = np.indices(full.shape, sparse=True)
    grad[tuple(grid[unique.index(c)] for c in sub)] = full
    return grad
