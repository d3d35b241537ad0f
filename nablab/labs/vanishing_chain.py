"""vanishing-chain — seeds/001: gradients along a chain of one-unit layers.

The seed's chain of 10 one-unit layers:

    y₀ = x = 1,   y_{i+1} = act(w_i · y_i)  (i = 0…9),   C = (Y − y₁₀)²,  Y = 3,  w_i ~ N(0, 1)

By the chain rule

    ∂C/∂w_i = ∂C/∂y₁₀ · [Π_{j>i} act'(z_j) · w_j] · act'(z_i) · y_i,    z_j = w_j · y_j,

so the gradient of an early weight carries one factor act'(z_j)·w_j per later layer.
For the sigmoid act' ≤ 1/4, and the factors shrink the gradient toward the input. For
ReLU act' is 0 or 1: one negative pre-activation zeroes y from there on and the factor
0 cuts every path, so every gradient is 0. Leaky ReLU (slope 0.01) keeps the factor
non-zero. Both ReLUs are positively homogeneous, act(w·y) = a·w·y with a ∈ {1, slope},
so y₁₀ = x·Π a_j w_j and ∂C/∂w_i = ∂C/∂y₁₀ · y₁₀ / w_i: no layer is favoured, and every
gradient is as small as the output.

Nothing is trained: the gradients are those at the initial weights. The seeds form one
batch: w_i holds the i-th weight of every seed, and C = Σ_s C_s, so each seed's weights
get exactly the gradient of that seed's own cost.
"""

from __future__ import annotations

import numpy as np

from .. import float64, tensor
from ..viz import grad_norm_bars, save
from .base import Table
from .declaration import Claim, Outcome, lab
from .params import Param
from .recipes import ACTIVATION_NAMES, activation
from .runner import Context

LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU ({:g})", "elu": "ELU"}


def label(name: str, slope: float) -> str:
    return LABELS.get(name, name).format(slope)


def chain_gradients(weights: np.ndarray, act, x: float, target: float):
    """(∂C/∂w, y_L) of the chain y_{i+1} = act(w_i y_i), y₀ = x, C = (target − y_L)², for a
    batch of weight draws ``weights`` (seeds × layers): both per seed."""
    w = [tensor(column, dtype=float64, requires_grad=True) for column in weights.T]
    y = tensor(np.full(len(weights), x), dtype=float64)
    for w_i in w:
        y = act(w_i * y)
    ((target - y) ** 2).sum().backward()
    return np.stack([w_i.grad.array for w_i in w], axis=1), y.array


def _sigmoid_shrinks(m, p):
    if "sigmoid" not in m["median_abs_gradient"]:
        return None
    sig = np.array(m["median_abs_gradient"]["sigmoid"])
    ratio = m["sigmoid_last_over_first"]
    return bool(np.all(np.diff(sig) > 0) and ratio > 1e3), {"last / first": ratio}


def _relu_dies(m, p):
    if "relu" not in m["median_abs_gradient"]:
        return None
    dead, negative = m["relu_all_zero_seeds"], m["seeds_with_a_negative_weight"]
    return dead == negative > 0, {"all-zero seeds": dead, "seeds with a negative w": negative}


def _leaky_closed_form(m, p):
    if "leaky_relu" not in m["median_abs_gradient"]:
        return None
    zeros, gap = sum(m["zero_gradient_seeds"]["leaky_relu"]), m["leaky_relu_closed_form_gap"]
    return zeros == 0 and gap < 1e-12, {"zero gradients": zeros, "relative gap": gap}


def answer(m: dict, p) -> str:
    medians = m["median_abs_gradient"]
    parts = [
        f"{label(name, p.slope)}: median |dC/dw| {g[0]:.2e} at the first layer, {g[-1]:.2e} "
        f"at the last, median |y_{p.layers}| = {m['median_abs_output'][name]:.1e}"
        for name, g in medians.items()
    ]
    return (
        "; ".join(parts) + f". Over {p.seeds} seeds, {m['seeds_with_a_negative_weight']} draws "
        "have a negative weight. Each layer between a weight and the output multiplies its "
        "gradient by act'(z)·w: at most |w|/4 for the sigmoid, 0 after a negative ReLU "
        "pre-activation, and a factor slope per negative Leaky ReLU pre-activation."
    )


@lab(
    "vanishing-chain",
    summary="Gradients along a chain of 10 one-unit sigmoid / ReLU / Leaky ReLU layers",
    source="seeds/001",
    question=(
        "How do the gradients of a deep chain of one-unit layers depend on the layer and "
        "on the activation (sigmoid, ReLU, Leaky ReLU)?"
    ),
    setting=lambda m, p: (
        f"The seed's chain: y₀ = x = {p.x:g}, y_(i+1) = act(w_i·y_i) for i = 0…{p.layers - 1}, "
        f"cost C = ({p.target:g} − y_{p.layers})², weights w_i ~ N(0, 1) drawn once per seed "
        f"({p.seeds} seeds, the same weights for "
        f"{', '.join(label(a, p.slope) for a in p.activations)}); dC/dw_i by "
        "back-propagation in float64, all seeds as one batch. No training: the gradients at "
        "the initial weights."
    ),
    params=[
        Param("layers", 10, "one-unit layers in the chain", min=1, max=1000),
        Param("seeds", 10, "weight draws (seeds)", min=1, max=10_000),
        Param(
            "activations", ["sigmoid", "relu", "leaky_relu"], "compared", choices=ACTIVATION_NAMES
        ),
        Param("slope", 0.01, "Leaky ReLU's negative slope", min=0, max=1),
        Param("x", 1.0, "the input y₀"),
        Param("target", 3.0, "the target Y of C = (Y − y_L)²"),
    ],
    claims=[
        Claim(
            "Sigmoid: the median |dC/dw_i| rises at every layer from the input to the output, "
            "the last layer's over 1000 times the first's",
            _sigmoid_shrinks,
        ),
        Claim(
            "ReLU: every gradient is exactly 0 on exactly the seeds that draw a negative "
            "weight (one negative pre-activation zeroes the rest of the chain)",
            _relu_dies,
        ),
        Claim(
            "Leaky ReLU: no gradient is 0, and ∂C/∂w_i = ∂C/∂y_L · y_L / w_i exactly "
            "(positive homogeneity): every gradient is as small as the output",
            _leaky_closed_form,
        ),
    ],
    answer=answer,
)
def experiment(p, ctx) -> Outcome:
    seeds = ctx.seeds(p.seeds)
    draws = np.stack(
        [np.random.default_rng(Context.streams(s)[1]).standard_normal(p.layers) for s in seeds]
    )
    grads, outputs = {}, {}
    for name in ctx.track(p.activations, len(p.activations), "activations"):
        grads[name], outputs[name] = chain_gradients(
            draws, activation(name, p.slope), p.x, p.target
        )
    median = {name: np.median(np.abs(g), axis=0) for name, g in grads.items()}
    zeros = {name: (g == 0).sum(axis=0) for name, g in grads.items()}
    metrics = {
        "median_abs_gradient": median,
        "zero_gradient_seeds": zeros,
        "median_abs_output": {name: np.median(np.abs(o)) for name, o in outputs.items()},
        "seeds_with_a_negative_weight": int((draws < 0).any(axis=1).sum()),
    }
    if "sigmoid" in grads:
        metrics["sigmoid_last_over_first"] = float(median["sigmoid"][-1] / median["sigmoid"][0])
    if "relu" in grads:
        metrics["relu_all_zero_seeds"] = int((grads["relu"] == 0).all(axis=1).sum())
    if "leaky_relu" in grads:
        out = outputs["leaky_relu"][:, None]
        closed_form = -2 * (p.target - out) * out / draws
        gap = np.abs(grads["leaky_relu"] - closed_form).max() / np.abs(closed_form).max()
        metrics["leaky_relu_closed_form_gap"] = float(gap)

    layers = [f"w{i}" for i in range(p.layers)]
    labels = [label(name, p.slope) for name in p.activations]
    relu = ["seeds with ReLU gradient exactly 0"] if "relu" in grads else []
    figure = save(
        grad_norm_bars(
            {label(n, p.slope): dict(zip(layers, median[n])) for n in p.activations},
            ylabel=f"median |dC/dw_i| over {p.seeds} seeds",
            title=f"Chain of {p.layers} one-unit layers: gradient per layer (input side left)",
        ),
        ctx.out / "vanishing_chain_gradients.png",
    )
    tables = [
        Table("dC/dw_i for the first seed (the seed prints one such list)",
              ["weight", "w_i", *labels],
              [[w, draws[0, i], *(grads[n][0, i] for n in p.activations)]
               for i, w in enumerate(layers)]),
        Table(f"Median |dC/dw_i| over {p.seeds} seeds", ["weight", *labels, *relu],
              [[w, *(median[n][i] for n in p.activations), *(int(zeros["relu"][i]) for _ in relu)]
               for i, w in enumerate(layers)]),
    ]  # fmt: skip
    return Outcome(
        tables=tables,
        figures=[figure],
        metrics=metrics,
        notes=[
            "The seed's loop starts with y = sigmoid(w[1]*x) and then applies all ten "
            "weights, so w1 is used twice and the chain has 11 layers; the lab uses "
            "y₀ = x and each weight once.",
            "The target Y = 3 is outside the sigmoid's range (0, 1). The seed argues that "
            "∂C/∂y tends to 0 because y approaches 3; it cannot: ∂C/∂y = −2(3 − y) stays "
            "between −6 and −4. The small gradients come from the factors σ'(z)·w "
            "(σ' ≤ 1/4), not from the cost.",
            "The seed's LReLu changes x.value in place and returns the same node without "
            "recording the local gradient 0.01, so its backward treats the negative branch "
            "as slope 1; its Leaky ReLU experiment also switches to a different net (two "
            "hidden layers of three units) that calls an undefined ReLu. The lab keeps the "
            "chain and swaps only the activation, written as graph ops with their local "
            "gradients.",
            "The seed says ReLU 'perfectly avoids vanishing and exploding gradients'. In "
            "this chain ReLU's gradients are a product of weights when every weight is "
            "positive, and exactly 0 otherwise — the 'dead' case the seed then observed.",
            "The seed runs the chain on its scalar engine; the lab runs it on the tensor "
            "engine with the activations every lab shares (the same gradients as "
            "nablab.scalar, which the tests check).",
        ],
    )
