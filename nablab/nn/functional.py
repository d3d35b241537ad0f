"""Functional forms of the layers and losses (`import nablab.nn.functional as F`).

Stateless: parameters are arguments. `inplace=True` is accepted for PyTorch
compatibility and computes out of place (the result is the same tensor values).
"""

import warnings

from .. import activations
from ..ops import nn as _nn
from ..ops.linalg import linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .embedding import embedding
from .normalization import batch_norm, layer_norm

one_hot = _nn.one_hot


def _functional(entry):
    """The catalogue entry's op; with `inplace` accepted (and ignored) where PyTorch has it."""
    if not entry.inplace:
        return entry.op
    params = len(entry.params)

    def fn(input, *args, inplace=False, **kwargs):
        if len(args) > params + 1:
            raise TypeError(f"{entry.name}() takes at most {params + 2} positional arguments")
        return entry.op(input, *args[:params], **kwargs)

    fn.__name__ = fn.__qualname__ = entry.name
    fn.__doc__ = entry.formula
    return fn


# sigmoid, tanh, relu, leaky_relu, elu, softplus: one per entry of nablab.activations
globals().update({e.name: _functional(e) for e in activations.CATALOGUE.values()})


def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    dim = 0 if ndim in (0, 1, 3) else 1
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        f"Change the call to include dim={dim} as an argument.",
        stacklevel=3,
    )
    return dim


def softmax(input, dim=None):
    """e^(x_i) / Σ_j e^(x_j) along `dim` (PyTorch's implicit choice, with a warning, if None)."""
    return _nn.softmax(input, _softmax_dim("softmax", input.ndim, dim))


def log_softmax(input, dim=None):
    """x_i − ln Σ_j e^(x_j) along `dim` (PyTorch's implicit choice, with a warning, if None)."""
    return _nn.log_softmax(input, _softmax_dim("log_softmax", input.ndim, dim))


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero each element with probability p, scale the rest by 1/(1 − p); identity if not
    training."""
    return _nn.dropout(input, p, training, generator)


__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "l1_loss",
    "layer_norm",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "softmax",
    *activations.CATALOGUE,
]
