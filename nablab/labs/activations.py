"""activations — seeds/001's overview: activation functions and their derivatives.

Every curve and every derivative comes from the library: the op computes f(x), and
autograd computes f'(x) as the gradient of Σ f(x) (an elementwise f makes each output
depend on its own input only). The lab checks both against the closed forms

    σ(x) = 1/(1 + e⁻ˣ),            σ' = σ(1 − σ)
    tanh x,                        tanh' = 1 − tanh²
    ReLU(x) = max(x, 0),           ReLU' = [x > 0]
    LeakyReLU(x) = x or s·x,       LeakyReLU' = 1 if x > 0 else s     (slope s, default 0.01)
    ELU(x) = x or α(eˣ − 1),       ELU' = 1 if x > 0 else α·eˣ        (default α = 1)
    softplus(x) = ln(1 + eˣ),      softplus' = σ(x)

At the kink x = 0 the derivative is a convention; nablab takes PyTorch's (the x ≤ 0 side).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import float64, tensor
from ..activations import CATALOGUE, get
from ..viz import activation_plot, save
from .base import Table
from .declaration import Claim, Outcome, Published, lab
from .params import Param
from .recipes import ACTIVATION_NAMES

POINTS = [-2.0, -0.5, 0.0, 0.5, 2.0]


def _params(slope, alpha):
    return {"negative_slope": slope, "alpha": alpha}


def closed_forms(slope=0.01, alpha=1.0) -> dict:
    """The catalogue's activation name → (f, f') in closed form, on NumPy arrays."""
    forms = {}
    for name, entry in CATALOGUE.items():
        given = entry.take(**_params(slope, alpha))
        forms[name] = (partial(entry.value, **given), partial(entry.slope, **given))
    return forms


def op(name, slope=0.01, alpha=1.0):
    """The library's op ``name`` from the catalogue (nablab.activations), with the Leaky
    ReLU slope and the ELU α."""
    return get(name).bind(**_params(slope, alpha))


def label(name, slope=0.01, alpha=1.0) -> str:
    return get(name).title(**_params(slope, alpha))


def value_and_slope(fn, xs) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), f'(x)) in float64: the op's output, and the gradient of Σ f(x) from backward."""
    x = tensor(np.asarray(xs, dtype=float), dtype=float64, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.array, x.grad.array


def answer(m, p) -> str:
    d = m["derivative_range"]
    return (
        f"On {p.grid} points of [−{p.xmax:g}, {p.xmax:g}] the library's values and autograd's "
        f"derivatives match the closed forms to {m['worst_error']:.1e}. The sigmoid's "
        f"derivative never exceeds {m['sigmoid_max_derivative']:.4f} (1/4 at 0): each sigmoid "
        "layer shrinks a back-propagated gradient at least 4-fold unless its weight is large. "
        f"tanh's reaches {m['tanh_max_derivative']:.4f} at 0 and falls to "
        f"{m['tanh_tail_derivative']:.1e} at ±{p.xmax:g}, so it too vanishes when saturated. "
        f"ReLU's is exactly 0 or 1, Leaky ReLU's {p.slope:g} or 1, ELU's α·eˣ on the left "
        f"(from {d['elu'][0]:.3g}, never 0), softplus's σ(x)."
    )


def _only(m, name, values):
    found = sorted(m["derivative_values"][name])
    return found == sorted(set(values)), {"values of f'": found}


@lab(
    "activations",
    summary="Activation functions and their derivatives, from the library's ops and autograd",
    source="seeds/001",
    question=(
        "What do the common activations and their derivatives look like, and does the "
        "library's autograd give the textbook derivatives?"
    ),
    setting=(
        "sigmoid, tanh, ReLU, Leaky ReLU (slope {slope:g}; 0.01 is PyTorch's default and the "
        "seed's), ELU (α = {alpha:g}) and softplus as nablab ops on float64 tensors; f' is "
        "x.grad after f(x).sum().backward(). Plot and ranges on {grid} points of "
        "[−{xmax:g}, {xmax:g}]; table at x = {points:g}."
    ),
    params=[
        Param("slope", 0.01, "Leaky ReLU's slope s for x < 0", min=0, max=1),
        Param("alpha", 1.0, "ELU's α: ELU(x) = α(eˣ − 1) for x ≤ 0", min=0, min_open=True),
        Param("points", POINTS, "the points x of the values-and-derivatives table"),
        Param(
            "grid",
            401,
            "number of evenly spaced points of the plot and ranges",
            quick=101,
            min=3,
            max=100_001,
        ),  # fmt: skip
        Param(
            "xmax", 5.0, "the plot and ranges cover [−xmax, xmax]", min=0, min_open=True, max=20
        ),  # fmt: skip
    ],
    claims=[
        Claim(
            "The library's values and autograd's derivatives are the closed forms (to "
            "{worst_error:.1e}) on every point",
            lambda m, p: m["worst_error"] < 1e-12,
        ),
        Claim(
            "The sigmoid's derivative never exceeds 1/4",
            lambda m, p: (
                m["sigmoid_max_derivative"] <= 0.25,
                {"max σ'": m["sigmoid_max_derivative"]},
            ),
        ),
        Claim(
            "tanh's derivative is at most 1 and vanishes in the tails (< 0.01 at ±{xmax:g})",
            lambda m, p: (
                m["tanh_max_derivative"] <= 1 and m["tanh_tail_derivative"] < 0.01,
                {"max tanh'": m["tanh_max_derivative"], "tanh'(±xmax)": m["tanh_tail_derivative"]},
            ),
        ),
        Claim("ReLU's derivative is exactly 0 or 1", lambda m, p: _only(m, "relu", [0.0, 1.0])),
        Claim(
            "Leaky ReLU's derivative is exactly {slope:g} or 1",
            lambda m, p: _only(m, "leaky_relu", [p.slope, 1.0]),
        ),
        Claim(
            "ELU's derivative α·eˣ on the left is never 0",
            lambda m, p: (
                m["derivative_range"]["elu"][0] > 0,
                {"min ELU'": m["derivative_range"]["elu"][0]},
            ),
        ),
        Claim(
            "tanh(x) = 2σ(2x) − 1, while 2σ(x) − 1 ('stretched vertically by two') is not tanh",
            lambda m, p: (
                m["tanh_vs_2sigmoid_2x_minus_1"] < 1e-12 and m["tanh_vs_2sigmoid_x_minus_1"] > 0.1,
                {
                    "max |tanh − (2σ(2x) − 1)|": m["tanh_vs_2sigmoid_2x_minus_1"],
                    "max |tanh − (2σ(x) − 1)|": m["tanh_vs_2sigmoid_x_minus_1"],
                },
            ),
        ),  # fmt: skip
        Claim(
            "At the kink x = 0 the derivatives are PyTorch's (the x ≤ 0 side): ReLU' = 0, "
            "Leaky ReLU' = {slope:g}, ELU' = α = {alpha:g}",
            lambda m, p: (
                m["at_zero"] == {"relu": 0.0, "leaky_relu": p.slope, "elu": p.alpha},
                m["at_zero"],
            ),
        ),
    ],
    published=[
        Published(says, "seeds/001", "seed", row=row, table="ranges")
        for row, says in [
            ("sigmoid", "has the vanishing-gradient problem"),
            ("tanh", "derivative in (0, 1): no exploding gradients"),
            ("ReLU", "effective derivative 1: 'perfectly avoids' vanishing and exploding"),
        ]
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    grid = np.linspace(-p.xmax, p.xmax, p.grid)
    forms = closed_forms(p.slope, p.alpha)
    point_rows, range_rows, gaps, ranges, values = [], [], [], {}, {}
    for name in ACTIVATION_NAMES:
        fn, (closed, closed_slope) = op(name, p.slope, p.alpha), forms[name]
        shown = label(name, p.slope, p.alpha)
        xs = np.asarray(p.points)
        value, slope = value_and_slope(fn, xs)
        for row in zip(xs, value, closed(xs), slope, closed_slope(xs)):
            point_rows.append([shown, *row])
        grid_value, grid_slope = value_and_slope(fn, grid)
        value_gap = float(np.abs(grid_value - closed(grid)).max())
        slope_gap = float(np.abs(grid_slope - closed_slope(grid)).max())
        gaps += [value_gap, slope_gap]
        ranges[name] = [float(grid_slope.min()), float(grid_slope.max())]
        values[name] = sorted({float(v) for v in grid_slope})[:3]
        range_rows.append([shown, *ranges[name], value_gap, slope_gap])

    sigmoid, tanh = op("sigmoid"), op("tanh")
    tanh_value = value_and_slope(tanh, grid)[0]
    tanh_as_sigmoid = float(
        np.abs(tanh_value - (2 * value_and_slope(sigmoid, 2 * grid)[0] - 1)).max()
    )
    stretched_only = float(np.abs(tanh_value - (2 * value_and_slope(sigmoid, grid)[0] - 1)).max())
    at_zero = {
        name: float(value_and_slope(op(name, p.slope, p.alpha), [0.0])[1][0])
        for name in ("relu", "leaky_relu", "elu")
    }
    figure = save(
        activation_plot(
            {label(n, p.slope, p.alpha): op(n, p.slope, p.alpha) for n in ACTIVATION_NAMES},
            xlim=(-p.xmax, p.xmax),
            points=p.grid,
            title="f (solid) and f' (dashed, from autograd) of nablab's activations",
        ),
        ctx.out / "activations.png",
    )
    return Outcome(
        tables=[
            Table(
                "Values and derivatives: library (op + autograd) vs closed form",
                ["activation", "x", "f(x)", "closed form f", "f'(x) (autograd)", "closed form f'"],
                point_rows,
            ),
            Table(
                f"Derivative range and largest gap to the closed forms, {p.grid} points of "
                f"[−{p.xmax:g}, {p.xmax:g}]",
                ["activation", "min f'", "max f'", "max |f − closed|", "max |f' − closed|"],
                range_rows,
                name="ranges",
            ),
        ],
        figures=[figure],
        metrics={
            "worst_error": max(gaps),
            "derivative_range": ranges,
            "derivative_values": {n: values[n] for n in ("relu", "leaky_relu")},
            "sigmoid_max_derivative": ranges["sigmoid"][1],
            "tanh_max_derivative": ranges["tanh"][1],
            "tanh_tail_derivative": float(value_and_slope(tanh, [p.xmax])[1][0]),
            "tanh_vs_2sigmoid_2x_minus_1": tanh_as_sigmoid,
            "tanh_vs_2sigmoid_x_minus_1": stretched_only,
            "at_zero": at_zero,
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
            f"At x = 0 ReLU' = 0, Leaky ReLU' = {p.slope:g} and ELU' = α = {p.alpha:g} are "
            "conventions (PyTorch's); the one-sided derivatives differ there except for ELU "
            "with α = 1.",
        ],
    )
