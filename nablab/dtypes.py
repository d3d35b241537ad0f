"""Data types: NumPy dtypes under PyTorch's names, the default float, and promotion.

PyTorch's promotion between two tensors: float beats integer beats bool, and the wider
of two floats wins (float32 + float64 -> float64). A Python number adopts the tensor's
dtype unless it is a float meeting an integer tensor (then the default float).
"""

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {dtype}")
    _default[0] = dtype


def promote(a, b):
    """Result dtype of a binary op between tensors of dtypes a and b (PyTorch's rule)."""
    if a is b or a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa != fb:
        return a if fa else b
    return np.promote_types(a, b)


def scalar_dtype(value, tensor_dtype):
    """Dtype a Python/NumPy scalar takes when combined with a tensor of `tensor_dtype`."""
    if isinstance(value, (bool, np.bool_)):
        return tensor_dtype
    if isinstance(value, (float, np.floating)) and tensor_dtype.kind != "f":
        return _default[0]
    if isinstance(value, (complex, np.complexfloating)):
        raise TypeError("nablab tensors do not support complex numbers")
    return tensor_dtype


def as_dtype(dtype):
    """A NumPy dtype from a dtype, a NumPy type, a name ('float32') or a Python type."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as nablab.float32, got {dtype!r}") from None
