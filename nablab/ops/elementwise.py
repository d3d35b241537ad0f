"""Element-wise ops with NumPy broadcasting.

Notation: Z is the op's output, δ_X = ∂L/∂X the gradient of the final loss L with
respect to X. Broadcast inputs get δ summed back to their own shape (`unbroadcast`).
"""

import numpy as np

from .. import dtypes
from .base import Tensor, as_tensor_like, const, operands, record, shape_error, unbroadcast
from .registry import register


def _broadcast(fn, name, a, b):
    try:
        return fn(a.array, b.array)
    except ValueError:
        raise shape_error(name, a.array.shape, b.array.shape) from None


def floating(a):
    """A itself if it holds floats, else cast to the default float dtype: PyTorch's rule
    for ops with real-valued results (exp of an int tensor is float32, not int)."""
    return a if a.array.dtype.kind == "f" else a.to(dtypes.get_default_dtype())


@register
def add(a, b):
    """Z = A + B.   δ_A = δ_Z,  δ_B = δ_Z (each summed over its broadcast axes)."""
    a, b = operands(a, b)
    z = _broadcast(np.add, "add", a, b)
    sa, sb = a.array.shape, b.array.shape

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(g, sb)

    return record(z, (a, b), backward, "add")


@register
def sub(a, b):
    """Z = A − B.   δ_A = δ_Z,  δ_B = −δ_Z."""
    a, b = operands(a, b)
    z = _broadcast(np.subtract, "sub", a, b)
    sa, sb = a.array.shape, b.array.shape

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(-g, sb) if b.requires_grad else None

    return record(z, (a, b), backward, "sub")


@register(public=False)
def rsub(a, b):
    """Z = B − A for a Tensor A and a constant B."""
    b, a = operands(b, a)
    return sub(b, a)


@register
def mul(a, b):
    """Z = A ⊙ B.   δ_A = δ_Z ⊙ B,  δ_B = δ_Z ⊙ A."""
    a, b = operands(a, b)
    z = _broadcast(np.multiply, "mul", a, b)
    sa, sb = a.array.shape, b.array.shape
    A = a.array if b.requires_grad else None  # saved only where a gradient needs it
    B = b.array if a.requires_grad else None

    def backward(g):
        ga = None if B is None else unbroadcast(g * B, sa)
        gb = None if A is None else unbroadcast(g * A, sb)
        return ga, gb

    return record(z, (a, b), backward, "mul")


@register
def div(a, b):
    """Z = A / B.   δ_A = δ_Z / B,  δ_B = −δ_Z ⊙ Z / B."""
    a, b = operands(a, b)
    a, b = floating(a), floating(b)
    z = _broadcast(np.divide, "div", a, b)

    def backward(g):
        ga = g / b.array
        gb = unbroadcast(-ga * z, b.array.shape) if b.requires_grad else None
        return unbroadcast(ga, a.array.shape), gb

    return record(z, (a, b), backward, "div")


@register(public=False)
def rdiv(a, b):
    """Z = B / A for a Tensor A and a constant B."""
    b, a = operands(b, a)
    return div(b, a)


@register
def pow(a, p):
    """Z = A^p.  Number p: δ_A = δ_Z ⊙ p·A^(p−1).  Tensor p: also δ_p = δ_Z ⊙ Z ⊙ ln A.

    As in PyTorch, δ_A = 0 where p = 0 (A^0 is constant, even at A = 0), and δ_p = 0
    where A = 0 and p ≥ 0 (instead of 0·ln 0 = NaN).
    """
    if not isinstance(p, Tensor):
        if a.array.dtype.kind != "f" and isinstance(p, float):
            a = a.to(dtypes.get_default_dtype())
        exponent = np.asarray(p, dtype=a.array.dtype) if a.array.dtype.kind == "f" else p
        z = a.array**exponent

        def backward_const(g):
            if exponent == 0:
                return (np.zeros_like(g),)
            return (g * exponent * a.array ** (exponent - 1),)

        return record(z, (a,), backward_const, "pow")
    a, p = operands(a, p)
    z = _broadcast(np.power, "pow", a, p)

    def backward(g):
        x, e = a.array, p.array
        ga = gp = None
        if a.requires_grad:
            base = np.where(e == 0, 1, x)  # p = 0: p·1^(p−1) = 0, no 0^(−1)
            ga = unbroadcast(g * e * base ** (e - 1), x.shape)
        if p.requires_grad:
            base = np.where((x == 0) & (e >= 0), 1, x)  # ln 1 = 0 where Z is 0 or 1
            gp = unbroadcast(g * z * np.log(base), e.shape)
        return ga, gp

    return record(z, (a, p), backward, "pow")


@register(public=False)
def rpow(a, base):
    """Z = c^A for a constant c.   δ_A = δ_Z ⊙ Z ⊙ ln c."""
    return pow(as_tensor_like(base, a), a)


@register
def neg(a):
    """Z = −A.   δ_A = −δ_Z."""
    return record(-a.array, (a,), lambda g: (-g,), "neg")


@register
def exp(a):
    """Z = e^A.   δ_A = δ_Z ⊙ Z (the output is reused)."""
    a = floating(a)
    z = np.exp(a.array)
    return record(z, (a,), lambda g: (g * z,), "exp")


@register
def log(a):
    """Z = ln A.   δ_A = δ_Z / A."""
    a = floating(a)
    x = a.array
    return record(np.log(x), (a,), lambda g: (g / x,), "log")


@register
def sqrt(a):
    """Z = √A.   δ_A = δ_Z / (2Z)."""
    a = floating(a)
    z = np.sqrt(a.array)
    return record(z, (a,), lambda g: (g / (2 * z),), "sqrt")


@register
def sin(a):
    """Z = sin A.   δ_A = δ_Z ⊙ cos A."""
    a = floating(a)
    x = a.array
    return record(np.sin(x), (a,), lambda g: (g * np.cos(x),), "sin")


@register
def cos(a):
    """Z = cos A.   δ_A = −δ_Z ⊙ sin A."""
    a = floating(a)
    x = a.array
    return record(np.cos(x), (a,), lambda g: (-g * np.sin(x),), "cos")


@register
def sinh(a):
    """Z = sinh A.   δ_A = δ_Z ⊙ cosh A."""
    a = floating(a)
    x = a.array
    return record(np.sinh(x), (a,), lambda g: (g * np.cosh(x),), "sinh")


@register
def cosh(a):
    """Z = cosh A.   δ_A = δ_Z ⊙ sinh A."""
    a = floating(a)
    x = a.array
    return record(np.cosh(x), (a,), lambda g: (g * np.sinh(x),), "cosh")


@register
def log1p(a):
    """Z = ln(1 + A) (exact for small A).   δ_A = δ_Z / (1 + A)."""
    a = floating(a)
    x = a.array
    return record(np.log1p(x), (a,), lambda g: (g / (1 + x),), "log1p")


@register
def expm1(a):
    """Z = e^A − 1 (exact for small A).   δ_A = δ_Z ⊙ (Z + 1)."""
    a = floating(a)
    z = np.expm1(a.array)
    return record(z, (a,), lambda g: (g * (z + 1),), "expm1")


@register
def log2(a):
    """Z = log₂ A.   δ_A = δ_Z / (A ln 2)."""
    a = floating(a)
    x = a.array
    return record(np.log2(x), (a,), lambda g: (g / (x * np.log(2)),), "log2")


@register
def log10(a):
    """Z = log₁₀ A.   δ_A = δ_Z / (A ln 10)."""
    a = floating(a)
    x = a.array
    return record(np.log10(x), (a,), lambda g: (g / (x * np.log(10)),), "log10")


@register
def sign(a):
    """Z = sign A ∈ {−1, 0, 1}, A's dtype.   δ_A = 0 (piecewise constant, as PyTorch)."""
    return record(np.sign(a.array), (a,), lambda g: (np.zeros_like(g),), "sign")


@register
def remainder(a, b):
    """Z = A − B ⊙ ⌊A/B⌋: the sign of B, as Python's % (and PyTorch's).
    δ_A = δ_Z,  δ_B = −δ_Z ⊙ ⌊A/B⌋."""
    a, b = operands(a, b)
    z = _broadcast(np.remainder, "remainder", a, b)

    def backward(g):
        gb = None
        if b.requires_grad:
            gb = unbroadcast(-g * np.floor_divide(a.array, b.array), b.array.shape)
        return unbroadcast(g, a.array.shape), gb

    return record(z, (a, b), backward, "remainder")


@register(public=False)
def rremainder(a, b):
    """Z = B mod A for a Tensor A and a constant B (`5 % x`)."""
    b, a = operands(b, a)
    return remainder(b, a)


@register
def abs(a):
    """Z = |A|.   δ_A = δ_Z ⊙ sign(A)  (0 at A = 0, as PyTorch)."""
    x = a.array
    return record(np.abs(x), (a,), lambda g: (g * np.sign(x),), "abs")


@register
def clamp(a, min=None, max=None):
    """Z = min(max(A, lo), hi).   δ_A = δ_Z ⊙ (lo ≤ A ≤ hi)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, float) or isinstance(max, float):
        a = floating(a)  # ints clamped to 0.5 are floats, as in PyTorch, not rounded
    x = a.array
    z = np.clip(x, min, max)
    if z.dtype != x.dtype:
        z = z.astype(x.dtype)

    def backward(g):
        inside = np.ones(x.shape, dtype=bool)
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        return (g * inside,)

    return record(z, (a,), backward, "clamp")


@register
def maximum(a, b):
    """Z = max(A, B) element-wise.   δ goes to the larger input; split in half at ties."""
    return _select(np.maximum, np.greater, "maximum", a, b)


@register
def minimum(a, b):
    """Z = min(A, B) element-wise.   δ goes to the smaller input; split in half at ties."""
    return _select(np.minimum, np.less, "minimum", a, b)


def _select(fn, wins, name, a, b):
    a, b = operands(a, b)
    z = _broadcast(fn, name, a, b)

    def backward(g):
        share = np.where(wins(a.array, b.array), 1.0, np.where(a.array == b.array, 0.5, 0.0))
        share = share.astype(g.dtype)
        return unbroadcast(g * share, a.array.shape), unbroadcast(g * (1 - share), b.array.shape)

    return record(z, (a, b), backward, name)


@register
def where(condition, a, b):
    """Z = A where C else B.   δ_A = δ_Z ⊙ C,  δ_B = δ_Z ⊙ ¬C."""
    c = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if c.dtype != np.bool_:
        c = c.astype(bool)
    a, b = operands(a, b) if isinstance(a, Tensor) else operands(b, a)[::-1]
    try:
        z = np.where(c, a.array, b.array)
    except ValueError:
        raise shape_error("where", c.shape, a.array.shape, b.array.shape) from None

    def backward(g):
        zero = np.zeros((), g.dtype)
        return unbroadcast(np.where(c, g, zero), a.array.shape), unbroadcast(
            np.where(c, zero, g), b.array.shape
        )

    return record(z, (a, b), backward, "where")


@register
def masked_fill(a, mask, value):
    """Z = value where mask else A."""
    return where(mask, const(value, a.array.dtype), a)


@register
def clone(a):
    """Z = a copy of A.   δ_A = δ_Z."""
    return record(a.array.copy(), (a,), lambda g: (g,), "clone")


@register(public=False, differentiable=False)
def compare(fn, a, b):
    """A comparison: a bool tensor, outside the graph (no gradient)."""
    a, b = operands(a, b)
    return Tensor._wrap(_broadcast(fn, fn.__name__, a, b))


@register(differentiable=False)
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|A − B| ≤ atol + rtol·|B| element-wise (PyTorch's defaults): a bool tensor."""
    a, b = operands(a, b)
    try:
        close = np.isclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError:
        raise shape_error("isclose", a.array.shape, b.array.shape) from None
    return Tensor._wrap(close)


@register(differentiable=False)
def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether isclose holds everywhere: a Python bool."""
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())
