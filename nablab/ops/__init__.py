"""Primitive differentiable ops, grouped by kind. Each op computes its output with
NumPy and records a closure mapping δ_Z to the gradients of its inputs."""

from ..autograd.tensor import Tensor
from .activation import elu, leaky_relu, relu, sigmoid, softplus, tanh
from .base import as_tensor_like, to_dtype
from .elementwise import (
    abs,
    add,
    clamp,
    clone,
    compare,
    cos,
    div,
    exp,
    log,
    masked_fill,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    rdiv,
    rpow,
    rsub,
    sin,
    sqrt,
    sub,
    where,
)
from .linalg import linear, matmul
from .nn import dropout, log_softmax, one_hot, softmax
from .reduce import argmax, argmin, logsumexp, max, mean, min, std, sum, var
from .shape import (
    as_index,
    cat,
    chunk,
    expand,
    expand_as,
    flatten,
    gather,
    getitem,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
    view,
)

# Tensor methods named like the ops: x.sum(dim=1) is sum(x, dim=1).
METHODS = {
    f.__name__: f
    for f in (
        abs, clamp, cos, exp, log, masked_fill, maximum, minimum, sin, sqrt,
        sigmoid, tanh, relu, softmax, log_softmax,
        sum, mean, max, min, var, std, logsumexp, argmax, argmin,
        reshape, flatten, permute, transpose, squeeze, unsqueeze, expand, expand_as,
        split, chunk, unbind, gather,
    )
}  # fmt: skip
METHODS.update(
    view=view, clip=clamp, where=lambda self, condition, other: where(condition, self, other)
)

for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
