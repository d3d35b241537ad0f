"""The one table of Tensor operators and methods: `x + y` is `TENSOR_METHODS["__add__"]`.

nablab.ops attaches every row to Tensor once, at import. An op is attached as it is
(no wrapper in between: `x * y` calls `mul` directly, the cheapest path per op).
"""

import numpy as np

from .. import devices, dtypes
from ..autograd.graph import retain_grad
from . import activation, elementwise, inplace, linalg, nn, reduce, shape
from .base import as_tensor_like, to_dtype


def _comparison(ufunc):
    def compare(self, other):
        return elementwise.compare(ufunc, self, other)

    compare.__name__ = ufunc.__name__
    return compare


def _rmatmul(self, other):
    return linalg.matmul(as_tensor_like(other, self), self)


def _cast(dtype):
    return lambda self: to_dtype(self, dtype)


def _to(self, *args, dtype=None, device=None, non_blocking=False):
    """torch's `.to(device)`, `.to(dtype)`, `.to(device, dtype)`, `.to(other)`: a cast, or
    self (the device is always the CPU)."""
    dtype = devices.to_arguments(args, dtype, device)
    return self if dtype is None else to_dtype(self, dtype)


def _type(self, dtype):
    return to_dtype(self, dtypes.as_dtype(dtype))


def _where(self, condition, other):
    return elementwise.where(condition, self, other)


_eq, _ne, _lt, _le, _gt, _ge = map(
    _comparison,
    (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal),
)

TENSOR_METHODS = {
    # operators
    "__add__": elementwise.add,
    "__radd__": elementwise.add,
    "__sub__": elementwise.sub,
    "__rsub__": elementwise.rsub,
    "__mul__": elementwise.mul,
    "__rmul__": elementwise.mul,
    "__truediv__": elementwise.div,
    "__rtruediv__": elementwise.rdiv,
    "__pow__": elementwise.pow,
    "__rpow__": elementwise.rpow,
    "__mod__": elementwise.remainder,
    "__rmod__": elementwise.rremainder,
    "__matmul__": linalg.matmul,
    "__rmatmul__": _rmatmul,
    "__neg__": elementwise.neg,
    "__abs__": elementwise.abs,
    "__getitem__": shape.getitem,
    "__eq__": _eq,
    "__ne__": _ne,
    "__lt__": _lt,
    "__le__": _le,
    "__gt__": _gt,
    "__ge__": _ge,
    # methods named like the ops: x.sum(dim=1) is sum(x, dim=1)
    "add": elementwise.add,
    "sub": elementwise.sub,
    "mul": elementwise.mul,
    "div": elementwise.div,
    "pow": elementwise.pow,
    "neg": elementwise.neg,
    "matmul": linalg.matmul,
    "mm": linalg.mm,
    "bmm": linalg.bmm,
    "eq": _eq,
    "ne": _ne,
    "lt": _lt,
    "le": _le,
    "gt": _gt,
    "ge": _ge,
    "abs": elementwise.abs,
    "clamp": elementwise.clamp,
    "cos": elementwise.cos,
    "exp": elementwise.exp,
    "log": elementwise.log,
    "sin": elementwise.sin,
    "sqrt": elementwise.sqrt,
    "sinh": elementwise.sinh,
    "cosh": elementwise.cosh,
    "log1p": elementwise.log1p,
    "expm1": elementwise.expm1,
    "log2": elementwise.log2,
    "log10": elementwise.log10,
    "sign": elementwise.sign,
    "remainder": elementwise.remainder,
    "isclose": elementwise.isclose,
    "allclose": elementwise.allclose,
    "maximum": elementwise.maximum,
    "minimum": elementwise.minimum,
    "masked_fill": elementwise.masked_fill,
    "clip": elementwise.clamp,
    "where": _where,
    "sigmoid": activation.sigmoid,
    "tanh": activation.tanh,
    "relu": activation.relu,
    "softmax": nn.softmax,
    "log_softmax": nn.log_softmax,
    "sum": reduce.sum,
    "mean": reduce.mean,
    "max": reduce.max,
    "min": reduce.min,
    "var": reduce.var,
    "std": reduce.std,
    "logsumexp": reduce.logsumexp,
    "argmax": reduce.argmax,
    "argmin": reduce.argmin,
    "all": reduce.all,
    "any": reduce.any,
    "prod": reduce.prod,
    "cumsum": reduce.cumsum,
    "norm": reduce.norm,
    "reshape": shape.reshape,
    "flatten": shape.flatten,
    "permute": shape.permute,
    "transpose": shape.transpose,
    "swapaxes": shape.swapaxes,
    "tril": shape.tril,
    "triu": shape.triu,
    "repeat_interleave": shape.repeat_interleave,
    "scatter_": shape.scatter_,
    "contiguous": lambda self, memory_format=None: self,
    "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze,
    "expand": shape.expand,
    "expand_as": shape.expand_as,
    "split": shape.split,
    "chunk": shape.chunk,
    "unbind": shape.unbind,
    "gather": shape.gather,
    "view": shape.reshape,
    "T": property(lambda self: shape.permute(self, tuple(range(self.array.ndim - 1, -1, -1)))),
    "mT": property(lambda self: shape.transpose(self, -2, -1)),
    # dtype
    "to": _to,
    "type": _type,
    "type_as": lambda self, other: to_dtype(self, other.dtype),
    "float": _cast(dtypes.float32),
    "double": _cast(dtypes.float64),
    "long": _cast(dtypes.int64),
    "int": _cast(dtypes.int32),
    "bool": _cast(dtypes.bool_),
    "clone": elementwise.clone,
    # autograd
    "retain_grad": retain_grad,
    # in place: x += y, x[i] = v, x.zero_() (nablab.ops.inplace)
    **inplace.METHODS,
}
