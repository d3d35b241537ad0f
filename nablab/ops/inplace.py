"""In-place ops: `x += y`, `x.add_(y)`, `x[i] = v`, `x.zero_()`, with PyTorch's rules.

Each is its out-of-place op (`x.mul_(y)` is `mul(x, y)`) written back into the tensor's
own memory, so views of it see the change, and counted as a new version of that memory
(nablab.autograd.version: backward refuses a saved value changed since). Three cases:

- No gradient is involved (under `no_grad`, or no input requires grad): the result is
  written into the memory. This is d2l's `param -= lr * param.grad` under `no_grad`.
- A leaf that requires grad, with autograd on: refused, as in PyTorch (its `.grad` would
  be the gradient of a value it no longer holds).
- Otherwise (a non-leaf, or a tensor getting a value that requires grad): the op is
  recorded on a copy of the old value, the result is written into the memory, and the
  tensor becomes the op's node: after `y *= w`, `y.grad_fn` is MulBackward with
  inputs (old y, w). A view of a tensor that requires grad is refused instead: its
  base's history would have to be rewritten too (PyTorch's CopySlices).

Writing through `.data` (or into `.array`) is not counted: that is what `.data` is for.
"""

import numpy as np

from .. import random
from ..autograd.grad_mode import mode, no_grad
from ..autograd.tensor import Tensor
from ..autograd.version import bump
from . import elementwise, shape
from .base import as_tensor_like

LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)


def _inplace(out_of_place):
    """The in-place method of `out_of_place(x, *args)`: x ← out_of_place(x, *args)."""

    def method(self, *args, **kwargs):
        tracked = mode.grad_enabled and (
            self.requires_grad or any(_requires_grad(a) for a in (*args, *kwargs.values()))
        )
        if not tracked:
            with no_grad():
                _write(self, out_of_place(self, *args, **kwargs).array)
            return self
        _check_recordable(self)
        result = out_of_place(_old_value(self), *args, **kwargs)
        _write(self, result.array)
        self.requires_grad, self._parents, self._backward = True, result._parents, result._backward
        self._op, self._seq = result._op, result._seq
        return self

    method.__name__ = out_of_place.__name__ + "_"
    method.__doc__ = f"In place: x ← {out_of_place.__name__}(x, …) (see nablab.ops.inplace)."
    return method


def _requires_grad(value):
    return isinstance(value, Tensor) and value.requires_grad


def _check_recordable(t):
    if not t.requires_grad:
        return
    if t.is_leaf:
        raise RuntimeError(LEAF)
    for p in t._parents or ():
        if np.may_share_memory(t.array, p.array):
            raise RuntimeError(
                VIEW_OF_LEAF
                if p.is_leaf
                else f"in-place {t._op} view of a tensor that requires grad: nablab does not "
                "rewrite the base's history; change a clone() of it, or do it under no_grad()"
            )


def _old_value(t):
    """A Tensor holding a copy of t's values and t's place in the graph."""
    old = Tensor._wrap(t.array.copy())
    old.requires_grad, old._parents, old._backward = t.requires_grad, t._parents, t._backward
    old._op, old._seq = t._op, t._seq
    return old


def _write(t, array):
    target = t.array
    if array.shape != target.shape:
        raise RuntimeError(
            f"output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(array.shape)}"
        )
    if not np.can_cast(array.dtype, target.dtype, "same_kind"):
        raise RuntimeError(
            f"result type {array.dtype} can't be cast to the desired output type {target.dtype}"
        )
    target[...] = array
    if t._tracked:
        bump(target)


def _scaled(op):
    def scaled(a, b, alpha=1):
        return op(a, b if alpha == 1 else elementwise.mul(as_tensor_like(b, a), alpha))

    scaled.__name__ = op.__name__
    return scaled


def fill(a, value):
    """Z = value everywhere (δ_A = 0, δ_value = Σ δ_Z when value is a Tensor)."""
    value = as_tensor_like(value, a)
    if value.array.ndim:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value.array.ndim} dimensions"
        )
    nowhere = np.zeros(a.array.shape, dtype=bool)
    return elementwise.where(nowhere, a, shape.expand(value.to(a.dtype), *a.array.shape))


def zero(a):
    return fill(a, 0)


def copy(a, src):
    """Z = src broadcast to A's shape, cast to A's dtype (δ_A = 0, δ_src = δ_Z summed back)."""
    src = as_tensor_like(src, a)
    try:
        spread = shape.expand(src.to(a.dtype), *a.array.shape)
    except ValueError:
        raise RuntimeError(
            f"copy_: the source's shape {list(src.array.shape)} cannot be broadcast to "
            f"{list(a.array.shape)}"
        ) from None
    return elementwise.where(np.zeros(a.array.shape, dtype=bool), a, spread)


def normal(a, mean=0.0, std=1.0, *, generator=None):
    """Z ~ N(mean, std²) of A's shape, the draws of nn.init.normal_ (no gradient)."""
    draws = (generator or random.default_generator()).normal(mean, std, a.array.shape)
    return Tensor._wrap(draws.astype(a.array.dtype))


def uniform(a, from_=0.0, to=1.0, *, generator=None):
    """Z ~ U[from_, to) of A's shape, the draws of nn.init.uniform_ (no gradient)."""
    draws = (generator or random.default_generator()).uniform(from_, to, a.array.shape)
    return Tensor._wrap(draws.astype(a.array.dtype))


def setitem(self, index, value):
    """`x[index] = value`: x ← index_put(x, index, value), in place."""
    _inplace(lambda a, v: shape.index_put(a, index, v))(self, value)


def detach_(self):
    """Cut this tensor from the graph in place (it becomes a leaf that needs no grad)."""
    self.requires_grad, self._parents, self._backward, self._op, self._seq = (
        False,
        (),
        None,
        "",
        0,
    )
    return self


METHODS = {
    "__iadd__": _inplace(elementwise.add),
    "__isub__": _inplace(elementwise.sub),
    "__imul__": _inplace(elementwise.mul),
    "__itruediv__": _inplace(elementwise.div),
    "__setitem__": setitem,
    "add_": _inplace(_scaled(elementwise.add)),
    "sub_": _inplace(_scaled(elementwise.sub)),
    "mul_": _inplace(elementwise.mul),
    "div_": _inplace(elementwise.div),
    "clamp_": _inplace(elementwise.clamp),
    "clip_": _inplace(elementwise.clamp),
    "fill_": _inplace(fill),
    "zero_": _inplace(zero),
    "copy_": _inplace(copy),
    "normal_": _inplace(normal),
    "uniform_": _inplace(uniform),
    "detach_": detach_,
}
