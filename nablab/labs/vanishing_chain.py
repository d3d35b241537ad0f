"""vanishing-chain — seeds/001: gradients along a chain of one-unit layers.

The seed's chain of 10 one-unit layers, on the scalar engine:

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

Nothing is trained (the gradients are taken at the initial weights), so the lab ignores
``config.iterations``.
"""

from __future__ import annotations

import numpy as np

from ..scalar import Value, gradients, leaky_relu, relu, sigmoid
from ..viz import grad_norm_bars
from .base import LabConfig, LabResult, Table, register, track

LAYERS = 10
SEEDS = 10
X, TARGET = 1.0, 3.0
ACTIVATIONS = {
    "sigmoid": sigmoid,
    "ReLU": relu,
    "Leaky ReLU (0.01)": lambda v: leaky_relu(v, 0.01),
}


def chain_gradients(weights: np.ndarray, activation) -> tuple[np.ndarray, float]:
    """(dC/dw_i for every i, y₁₀) for the chain y_{i+1} = act(w_i y_i), y₀ = 1, C = (3 − y₁₀)²."""
    w = [Value(v, label=f"w{i}") for i, v in enumerate(weights)]
    y = Value(X, label="x")
    for w_i in w:
        y = activation(w_i * y)
    cost = (TARGET - y) * (TARGET - y)
    grads = gradients(cost)
    return np.array([grads.get(w_i, 0.0) for w_i in w]), y.data


@register(
    "vanishing-chain",
    summary="Gradients along a chain of 10 one-unit sigmoid / ReLU / Leaky ReLU layers",
    source="seeds/001",
)
def run(config: LabConfig) -> LabResult:
    draws = [np.random.default_rng([config.seed, s]).standard_normal(LAYERS) for s in range(SEEDS)]
    grads = {name: np.empty((SEEDS, LAYERS)) for name in ACTIVATIONS}
    outputs = {name: np.empty(SEEDS) for name in ACTIVATIONS}
    for s in track(range(SEEDS), SEEDS, "seeds", config):
        for name, activation in ACTIVATIONS.items():
            grads[name][s], outputs[name][s] = chain_gradients(draws[s], activation)
    magnitude = {name: np.abs(g) for name, g in grads.items()}
    median = {name: np.median(m, axis=0) for name, m in magnitude.items()}
    zeros = {name: (m == 0).sum(axis=0) for name, m in magnitude.items()}
    relu_dead_seeds = int((magnitude["ReLU"] == 0).all(axis=1).sum())
    negative_weight_seeds = int((np.array(draws) < 0).any(axis=1).sum())
    leaky_out = outputs["Leaky ReLU (0.01)"][:, None]
    homogeneous = -2 * (TARGET - leaky_out) * leaky_out / np.array(draws)
    leaky_closed_form_gap = float(
        np.abs(grads["Leaky ReLU (0.01)"] - homogeneous).max() / np.abs(homogeneous).max()
    )

    layers = [f"w{i}" for i in range(LAYERS)]
    figure = grad_norm_bars(
        {name: dict(zip(layers, median[name])) for name in ACTIVATIONS},
        config.out / "vanishing_chain_gradients.png",
        ylabel=f"median |dC/dw_i| over {SEEDS} seeds",
        title="Chain of 10 one-unit layers: gradient per layer (input side left)",
    )
    first_rows = [
        [layers[i], draws[0][i], *(grads[name][0, i] for name in ACTIVATIONS)]
        for i in range(LAYERS)
    ]
    median_rows = [
        [layers[i], *(median[name][i] for name in ACTIVATIONS), int(zeros["ReLU"][i])]
        for i in range(LAYERS)
    ]
    sig = median["sigmoid"]
    leaky = median["Leaky ReLU (0.01)"]
    answer = (
        f"Sigmoid: the median |dC/dw| falls from {sig[-1]:.2e} at the last layer to "
        f"{sig[0]:.2e} at the first ({sig[-1] / sig[0]:.1e} times smaller): each layer "
        "between a weight and the output multiplies its gradient by σ'(z)·w, with σ' ≤ 1/4. "
        f"ReLU: in {relu_dead_seeds} of {SEEDS} seeds every gradient is exactly 0 — each of "
        f"those draws has a negative weight ({negative_weight_seeds} of {SEEDS} draws do), "
        "which makes a pre-activation negative and zeroes the rest of the chain, output "
        "included. Leaky ReLU: no gradient is 0 and they do not shrink toward the input "
        f"(medians {leaky[0]:.2e} at the first layer, {leaky[-1]:.2e} at the last), but all "
        "are as small as the output: ∂C/∂w_i = ∂C/∂y₁₀ · y₁₀ / w_i (relative gap "
        f"{leaky_closed_form_gap:.0e}), and y₁₀ carries a factor 0.01 per negative "
        f"pre-activation (median |y₁₀| = {np.median(np.abs(leaky_out)):.1e})."
    )
    return LabResult(
        question=(
            "How do the gradients of a deep chain of one-unit layers depend on the layer and "
            "on the activation (sigmoid, ReLU, Leaky ReLU)?"
        ),
        setting=(
            f"The seed's chain: y₀ = x = {X:g}, y_(i+1) = act(w_i·y_i) for i = 0…{LAYERS - 1}, "
            f"cost C = ({TARGET:g} − y_{LAYERS})², weights w_i ~ N(0, 1) drawn once per seed "
            f"({SEEDS} seeds, the same weights for the three activations); dC/dw_i by "
            "back-propagation on the scalar engine (nablab.scalar). No training: the "
            "gradients at the initial weights."
        ),
        tables=[
            Table(
                "dC/dw_i for the first seed (the seed prints one such list)",
                ["weight", "w_i", *ACTIVATIONS],
                first_rows,
            ),
            Table(
                f"Median |dC/dw_i| over {SEEDS} seeds",
                ["weight", *ACTIVATIONS, "seeds with ReLU gradient exactly 0"],
                median_rows,
            ),
        ],
        figures=[figure],
        answer=answer,
        metrics={
            "median_abs_gradient": {name: median[name] for name in ACTIVATIONS},
            "zero_gradient_seeds": {name: zeros[name] for name in ACTIVATIONS},
            "relu_all_zero_seeds": relu_dead_seeds,
            "seeds_with_a_negative_weight": negative_weight_seeds,
            "sigmoid_last_over_first": float(sig[-1] / sig[0]),
            "leaky_relu_closed_form_gap": leaky_closed_form_gap,
            "median_abs_output": {name: np.median(np.abs(o)) for name, o in outputs.items()},
            "seeds": SEEDS,
        },
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
        ],
    )
