"""Activation layers. The element-wise ones (ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus)
are made from the catalogue, nablab.activations: one class per entry, its parameters as
attributes and `activation` the entry. Softmax and LogSoftmax act along a `dim`."""

import inspect

from .. import activations
from . import functional as F
from .module import Module


def _layer(entry):
    """The nn.Module class of a catalogue entry: its params (and `inplace`) as arguments."""
    names = [*entry.params, *(["inplace"] if entry.inplace else [])]
    defaults = {**entry.params, "inplace": False}
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults[n])
            for n in names
        ]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Module.__init__(self)
        for n in names:
            setattr(self, n, bound.arguments[n])

    def forward(self, input):
        return entry.op(input, **{n: getattr(self, n) for n in entry.params})

    def extra_repr(self):
        shown = [f"{n}={getattr(self, n)}" for n in entry.params]
        return ", ".join(shown + (["inplace=True"] if getattr(self, "inplace", False) else []))

    __init__.__signature__ = signature
    body = {"__init__": __init__, "forward": forward, "extra_repr": extra_repr}
    body.update(__doc__=entry.formula, __module__=__name__, __qualname__=entry.module)
    return type(entry.module, (Module,), {**body, "activation": entry})


LAYERS = {e.module: _layer(e) for e in activations.CATALOGUE.values()}
globals().update(LAYERS)


class Softmax(Module):
    """Z_i = e^(X_i) / Σ_j e^(X_j) along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Z_i = X_i − ln Σ_j e^(X_j) along `dim`."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
