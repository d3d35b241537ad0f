"""The one catalogue of element-wise activations: a new activation is one `Activation` entry.

From each entry come its op's place in `nablab.nn.functional` (`F.relu`), its layer in
`nablab.nn` (`nn.ReLU`, with the entry as `nn.ReLU.activation`), its curve in
`nablab.viz.activation_plot`, and its row in the labs (`labs.recipes.activation(name)`,
the activations lab's closed forms). The op itself — forward and backward side by side —
lives in nablab.ops.activation.

Facts about the gradient, for the Monitor and the labs:
- `dies`: f' is exactly 0 on a whole half-line, so a unit whose pre-activations all
  fall there gets no gradient at all and never recovers (ReLU below 0).
- `saturates`: the side(s) where f' fades towards 0 as |x| grows ("both", "negative",
  ""); ReLU's negative side is dead, not saturated.
- `saturated(z, **params)`: a mask of the outputs within 1% of a bound of the range where
  f' vanishes (σ < 0.01 or > 0.99; |tanh| > 0.99; there f' is below 4% of its peak) —
  the units the Monitor calls saturated.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .ops import activation as ops


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@dataclass(frozen=True)
class Activation:
    name: str  # the op's name: nablab.<name>, F.<name>, the labs' key
    op: Callable  # the op on Tensors, nablab.ops.activation.<name>
    module: str  # the nn layer's class name
    label: str  # for plots and tables; may name params: "Leaky ReLU ({negative_slope:g})"
    formula: str  # Z = f(X), the layer's docstring
    value: Callable  # closed form f(x, **params) on NumPy arrays
    slope: Callable  # closed form f'(x, **params) (at a kink: PyTorch's x ≤ 0 side)
    params: dict = field(default_factory=dict)  # keyword parameters after the input, defaults
    inplace: bool = False  # accepts PyTorch's `inplace` (and computes out of place)
    dies: bool = False
    saturates: str = ""
    saturated: Callable | None = None

    def take(self, **params):
        """Those of `params` this entry has (a lab passes a slope and an α to every entry)."""
        return {k: v for k, v in params.items() if k in self.params}

    def bind(self, **params):
        """The op as a function of one Tensor, with those of `params` this entry takes."""
        given = self.take(**params)
        return (lambda x: self.op(x, **given)) if given else self.op

    def title(self, **params):
        """The label, with the entry's parameters (defaults where not given)."""
        return self.label.format(**{**self.params, **params})


CATALOGUE = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            ops.sigmoid,
            "Sigmoid",
            "sigmoid",
            "Z = 1 / (1 + e^(−X)).",
            value=_sigmoid,
            slope=lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
            saturates="both",
            saturated=lambda z: np.abs(z - 0.5) > 0.49,
        ),
        Activation(
            "tanh",
            ops.tanh,
            "Tanh",
            "tanh",
            "Z = tanh X.",
            value=np.tanh,
            slope=lambda x: 1 - np.tanh(x) ** 2,
            saturates="both",
            saturated=lambda z: np.abs(z) > 0.99,
        ),
        Activation(
            "relu",
            ops.relu,
            "ReLU",
            "ReLU",
            "Z = max(X, 0).",
            value=lambda x: np.maximum(x, 0),
            slope=lambda x: (x > 0).astype(float),
            inplace=True,
            dies=True,
        ),
        Activation(
            "leaky_relu",
            ops.leaky_relu,
            "LeakyReLU",
            "Leaky ReLU ({negative_slope:g})",
            "Z = X if X > 0 else negative_slope · X.",
            value=lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
            slope=lambda x, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope),
            params={"negative_slope": 0.01},
            inplace=True,
        ),
        Activation(
            "elu",
            ops.elu,
            "ELU",
            "ELU (α = {alpha:g})",
            "Z = X if X > 0 else α(e^X − 1).",
            value=lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(x)),
            slope=lambda x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(x)),
            params={"alpha": 1.0},
            inplace=True,
            saturates="negative",
            saturated=lambda z, alpha=1.0: z < -0.99 * alpha,
        ),
        Activation(
            "softplus",
            ops.softplus,
            "Softplus",
            "softplus",
            "Z = (1/β) ln(1 + e^(βX)), linear where βX > threshold.",
            value=lambda x, beta=1.0, threshold=20.0: np.where(
                beta * x > threshold, x, np.logaddexp(0, beta * x) / beta
            ),
            slope=lambda x, beta=1.0, threshold=20.0: np.where(
                beta * x > threshold, 1.0, _sigmoid(beta * x)
            ),
            params={"beta": 1.0, "threshold": 20.0},
            saturates="negative",
            saturated=lambda z, beta=1.0, threshold=20.0: z < 0.01 / beta,
        ),
    )
}
NAMES = tuple(CATALOGUE)


def of(layer):
    """The catalogue entry of an nn layer (`of(nn.ReLU())` is the relu entry), or None for a
    layer that is no catalogue activation. With `layer`'s parameters, e.g. the Monitor's
    saturated units: `entry.saturated(z, **entry.take(**vars(layer)))`."""
    entry = getattr(type(layer), "activation", None)
    return entry if isinstance(entry, Activation) else None


def get(name):
    """The entry `name`, or a ValueError listing the catalogue."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {', '.join(NAMES)}"
        ) from None
