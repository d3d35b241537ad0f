"""Primitive differentiable ops, grouped by kind. Each op computes its output with
NumPy and records a closure mapping δ_Z to the gradients of its inputs.

Every op is registered where it is defined (`@register`, nablab.ops.registry); this
module exports the public ones and attaches the Tensor methods and operators of
nablab.ops.methods.TENSOR_METHODS, once.
"""

from ..autograd.tensor import Tensor
from .methods import TENSOR_METHODS
from .registry import OPS, PUBLIC

globals().update(OPS)
__all__ = list(PUBLIC)

for _name, _method in TENSOR_METHODS.items():
    setattr(Tensor, _name, _method)
