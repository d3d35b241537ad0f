"""Affine layers: Linear (Z = X Wᵀ + b) and Identity."""

import math

import numpy as np

from .. import devices, dtypes
from ..ops.linalg import linear
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Z = X (a placeholder that accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Z = X Wᵀ + b with W of shape (out_features, in_features), as in PyTorch.

    Default init (PyTorch's): W by kaiming_uniform_(a=√5), i.e. W ~ U(−1/√in, 1/√in),
    and b ~ U(−1/√in, 1/√in). `generator` seeds that init instead of `manual_seed`.
    """

    def __init__(
        self, in_features, out_features, bias=True, dtype=None, generator=None, device=None
    ):
        devices.cpu(device)
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class LazyLinear(Linear):
    """A Linear whose in_features is read from its first input: `LazyLinear(out_features)`.

    Until that first call its weight and bias are empty Parameters (shape (0,)): an
    optimizer may be built on them before it, as in PyTorch. The first call fills them in
    place (the same Parameter objects) with Linear's init, and the module becomes a
    Linear (PyTorch's `cls_to_become`).
    """

    def __init__(self, out_features, bias=True, dtype=None, generator=None, device=None):
        devices.cpu(device)
        Module.__init__(self)
        self.in_features, self.out_features = 0, out_features
        self._generator = generator
        dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.weight = Parameter(np.empty(0, dtype))
        if bias:
            self.bias = Parameter(np.empty(0, dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        self.in_features = input.shape[-1]
        dtype = self.weight.dtype
        self.weight.array = np.empty((self.out_features, self.in_features), dtype)
        if self.bias is not None:
            self.bias.array = np.empty(self.out_features, dtype)
        self.reset_parameters(self.__dict__.pop("_generator"))
        object.__setattr__(self, "__class__", Linear)  # Module.__setattr__ would store it
        return self.forward(input)
