"""activations — seeds/001's overview: activation functions and their derivatives.

Every curve and every derivative comes from the library: the op computes f(x), and
autograd computes f'(x) as the gradient of Σ f(x) (an elementwise f makes each output
depend on its own input only). The lab checks both against the closed forms

    σ(x) = 1/(1 + e⁻ˣ),            σ' = σ(1 − σ)
    tanh x,                        tanh' = 1 − tanh²
    ReLU(x) = max(x, 0),           ReLU' = [x > 0]
    LeakyReLU(x) = x or 0.01x,     LeakyReLU' = 1 if x > 0 else 0.01
    ELU(x) = x or eˣ − 1,          ELU' = 1 if x > 0 else eˣ
    softplus(x) = ln(1 + eˣ),      softplus' = σ(x)

At the kink x = 0 the derivative is a convention; nablab takes PyTorch's (the x ≤ 0 side).

Nothing is trained, so the lab ignores ``config.iterations``.
"""

from __future__ import annotations

import numpy as np

from .. import elu, float64, leaky_relu, relu, sigmoid, softplus, tanh, tensor
from ..viz import activation_plot
from .base import LabConfig, LabResult, Table, register


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


SLOPE = 0.01
ACTIVATIONS = {
    "sigmoid": (sigmoid, _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "ReLU": (relu, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    f"Leaky ReLU ({SLOPE})": (
        lambda t: leaky_relu(t, SLOPE),
        lambda x: np.where(x > 0, x, SLOPE * x),
        lambda x: np.where(x > 0, 1.0, SLOPE),
    ),
    "ELU (α = 1)": (
        elu,
        lambda x: np.where(x > 0, x, np.expm1(x)),
        lambda x: np.where(x > 0, 1.0, np.exp(x)),
    ),
    "softplus": (softplus, lambda x: np.log1p(np.exp(x)), _sigmoid),
}
POINTS = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
SEED_SAYS = {
    "sigmoid": "has the vanishing-gradient problem",
    "tanh": "derivative in (0, 1): no exploding gradients",
    "ReLU": "effective derivative 1: 'perfectly avoids' vanishing and exploding gradients",
}


def value_and_slope(fn, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), f'(x)) in float64: the op's output, and the gradient of Σ f(x) from backward."""
    x = tensor(xs, dtype=float64, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.data, x.grad.data


@register(
    "activations",
    summary="Activation functions and their derivatives, from the library's ops and autograd",
    source="seeds/001",
)
def run(config: LabConfig) -> LabResult:
    points = 101 if config.quick else 401
    grid = np.linspace(-5, 5, points)
    point_rows, range_rows, value_gap, slope_gap = [], [], {}, {}
    for name, (fn, closed, closed_slope) in ACTIVATIONS.items():
        value, slope = value_and_slope(fn, POINTS)
        for x, v, s, cv, cs in zip(POINTS, value, slope, closed(POINTS), closed_slope(POINTS)):
            point_rows.append([name, x, v, cv, s, cs])
        grid_value, grid_slope = value_and_slope(fn, grid)
        value_gap[name] = float(np.abs(grid_value - closed(grid)).max())
        slope_gap[name] = float(np.abs(grid_slope - closed_slope(grid)).max())
        range_rows.append(
            [
                name,
                float(grid_slope.min()),
                float(grid_slope.max()),
                value_gap[name],
                slope_gap[name],
                SEED_SAYS.get(name),
            ]
        )
    tanh_value = value_and_slope(tanh, grid)[0]
    tanh_as_sigmoid = float(
        np.abs(tanh_value - (2 * value_and_slope(sigmoid, 2 * grid)[0] - 1)).max()
    )
    stretched_only = float(np.abs(tanh_value - (2 * value_and_slope(sigmoid, grid)[0] - 1)).max())

    figure = activation_plot(
        {name: fn for name, (fn, _, _) in ACTIVATIONS.items()},
        config.out / "activations.png",
        points=points,
        title="f (solid) and f' (dashed, from autograd) of nablab's activations",
    )
    worst = max(max(value_gap.values()), max(slope_gap.values()))
    sig_max = range_rows[0][2]
    tanh_max = range_rows[1][2]
    answer = (
        f"On {points} points of [−5, 5] the library's values and autograd's derivatives match "
        f"the closed forms to {worst:.1e}. The sigmoid's derivative never exceeds "
        f"{sig_max:.4f} (1/4 at 0): each sigmoid layer shrinks a back-propagated gradient at "
        f"least 4-fold unless its weight is large. tanh's reaches {tanh_max:.4f} at 0 and "
        "decays to 0 in both tails, so it too vanishes when saturated. ReLU's is exactly 0 or "
        "1, Leaky ReLU's 0.01 or 1, ELU's e^x on the left (never 0), softplus's σ(x)."
    )
    return LabResult(
        question="What do the common activations and their derivatives look like, and does "
        "the library's autograd give the textbook derivatives?",
        setting=(
            "sigmoid, tanh, ReLU, Leaky ReLU (slope 0.01, PyTorch's default and the seed's), "
            "ELU (α = 1) and softplus as nablab ops on float64 tensors; f' is x.grad after "
            f"f(x).sum().backward(). Plot on {points} points of [−5, 5]; table at "
            f"x = {', '.join(f'{p:g}' for p in POINTS)}."
        ),
        tables=[
            Table(
                "Values and derivatives: library (op + autograd) vs closed form",
                ["activation", "x", "f(x)", "closed form f", "f'(x) (autograd)", "closed form f'"],
                point_rows,
            ),
            Table(
                f"Derivative range and largest gap to the closed forms, {points} points of [−5, 5]",
                ["activation", "min f'", "max f'", "max |f − closed|", "max |f' − closed|", "seed"],
                range_rows,
            ),
        ],
        figures=[figure],
        answer=answer,
        metrics={
            "max_value_error": value_gap,
            "max_derivative_error": slope_gap,
            "sigmoid_max_derivative": sig_max,
            "tanh_max_derivative": tanh_max,
            "tanh_vs_2sigmoid_2x_minus_1": tanh_as_sigmoid,
            "tanh_vs_2sigmoid_x_minus_1": stretched_only,
        },
        notes=[
            "The seed calls tanh the sigmoid 'stretched vertically by two'. The identity is "
            f"tanh(x) = 2σ(2x) − 1 (here to {tanh_as_sigmoid:.0e}): stretched by 2 vertically, "
            f"shifted down by 1 and squeezed by 2 horizontally; 2σ(x) − 1 is off by up to "
            f"{stretched_only:.2f}.",
            "The seed says tanh's derivative lies in (0, 1) so it cannot explode: it lies in "
            "(0, 1], and the gradient of a deep tanh net can still explode through large "
            "weights (see gradient-explosion), or vanish in the tails as the table shows.",
            "The seed says ReLU 'perfectly avoids' vanishing and exploding gradients: its "
            "derivative is 0 for every negative input, which is how units die (vanishing-chain, "
            "dead-relu).",
            "At x = 0 ReLU' = 0, Leaky ReLU' = 0.01 and ELU' = 1 are conventions (PyTorch's); "
            "the one-sided derivatives differ there except for ELU with α = 1.",
        ],
    )
