"""Tensor factories with PyTorch's names: `tensor`, `zeros`, `randn`, ...

Float factories give the default dtype (float32 unless `set_default_dtype`); random
ones draw from the library's generator (`manual_seed`) or a given `generator`.
"""

import numpy as np

from . import devices, dtypes, random
from .autograd.tensor import Tensor, as_array, from_numpy


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf Tensor holding a copy of `data` (nested lists, scalars, ndarrays, Tensors)."""
    devices.cpu(device)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` as a Tensor, without a copy where it already is one of the right dtype."""
    devices.cpu(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    return Tensor(data, dtype=dtype)


def _make(array, requires_grad, device):
    devices.cpu(device)
    t = from_numpy(array)
    return t.requires_grad_() if requires_grad else t


def _float(dtype):
    return dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"sizes must be non-negative integers, got {size}")
    return tuple(int(n) for n in size)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.zeros(_shape(size), _float(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.ones(_shape(size), _float(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.empty(_shape(size), _float(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _make(
        np.full(_shape((size,)), fill_value, dtypes.as_dtype(dtype)), requires_grad, device
    )


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Integers (int64) unless an argument or `dtype` is floating, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    return _make(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _make(np.linspace(start, end, steps, dtype=_float(dtype)), requires_grad, device)


def _rng(generator):
    return generator if generator is not None else random.default_generator()


def rand(*size, dtype=None, generator=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    return _make(_rng(generator).random(_shape(size)).astype(_float(dtype)), requires_grad, device)


def randn(*size, dtype=None, generator=None, device=None, requires_grad=False):
    """Standard normal N(0, 1)."""
    return _make(
        _rng(generator).standard_normal(_shape(size)).astype(_float(dtype)), requires_grad, device
    )


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    """Draws from N(mean, std²), as torch.normal: numbers `mean` and `std` with a `size`,
    or Tensors (either or both) giving one draw per element of their broadcast shape."""
    devices.cpu(device)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal: size is only for numbers mean and std, not Tensors")
        dtype = tensors[0].dtype if dtype is None else dtype
        m, s = as_array(mean), as_array(std)
        shape = np.broadcast_shapes(m.shape, s.shape)
    else:
        if size is None:
            raise TypeError("normal: numbers mean and std need a size, e.g. normal(0, 1, (2, 3))")
        m, s, shape = mean, std, _shape((size,))
    dtype = _float(dtype)
    if dtype.kind != "f":
        raise TypeError(f"normal: expected a floating point dtype, got {dtype}")
    draw = _rng(generator).standard_normal(shape)
    return from_numpy(np.asarray(m + s * draw, dtype))


def randint(low, high=None, size=(), dtype=None, generator=None, device=None):
    """Integers uniform on [low, high) (int64); `randint(high, size)` as in PyTorch."""
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    devices.cpu(device)
    arr = _rng(generator).integers(low, high, size=_shape((size,)))
    return from_numpy(np.asarray(arr, dtype=dtypes.as_dtype(dtype or dtypes.int64)))


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return _make(np.zeros(t.shape, dtype or t.dtype), requires_grad, device)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return _make(np.ones(t.shape, dtype or t.dtype), requires_grad, device)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return _make(np.full(t.shape, fill_value, dtype or t.dtype), requires_grad, device)


def rand_like(t, dtype=None, generator=None, device=None, requires_grad=False):
    return rand(
        t.shape,
        dtype=dtype or t.dtype,
        generator=generator,
        device=device,
        requires_grad=requires_grad,
    )


def randn_like(t, dtype=None, generator=None, device=None, requires_grad=False):
    return randn(
        t.shape,
        dtype=dtype or t.dtype,
        generator=generator,
        device=device,
        requires_grad=requires_grad,
    )
